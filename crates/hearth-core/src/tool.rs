//! The [`Tool`] contract: something the agent can call, the context a call
//! runs with, and the ways a call fails.
//!
//! A tool declares its arguments as a JSON Schema. Built-in tools derive it
//! from a Rust type ([`TypedTool`]), so the schema the model sees and the
//! type the tool deserializes can never disagree; tools from elsewhere (MCP
//! servers, plugins) bring their own schema. Either way the agent validates
//! the model's arguments against the schema before [`Tool::call`] runs, and
//! every failure goes back to the model as a tool result, never to the user.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use tokio_util::sync::CancellationToken;

use crate::{AgentId, Origin, SessionKey, ToolSpec};

/// Who and what a tool call runs for.
#[derive(Debug, Clone)]
pub struct ToolContext {
    pub agent_id: AgentId,
    pub session_key: SessionKey,
    /// The run (inbound message id) the call belongs to.
    pub run_id: String,
    /// The call's id, as the model gave it.
    pub call_id: String,
    /// The channel the run's message came through (`gateway`, `irc`, ...).
    pub channel: String,
    /// The person on a chat platform who asked; `None` for gateway clients.
    pub origin: Option<Origin>,
    /// Cancelled when the run is aborted, the daemon shuts down or the
    /// call's time is up. Tools that wait must watch it.
    pub cancel: CancellationToken,
}

impl ToolContext {
    /// Who asked, for audit and approval prompts: `channel:sender` on a
    /// chat platform, the channel alone otherwise.
    pub fn caller(&self) -> String {
        match &self.origin {
            Some(origin) => format!("{}:{}", self.channel, origin.sender.id),
            None => self.channel.clone(),
        }
    }
}

/// Why a call did not produce a result. The agent turns each into a tool
/// result the model reads (`error: ...`) and can react to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ToolError {
    /// The arguments do not match the tool's schema or make no sense.
    #[error("invalid arguments: {0}")]
    InvalidArguments(String),
    /// Policy refused the call (a denied command, a path outside the
    /// workspace, an approval refused or expired).
    #[error("refused: {0}")]
    Denied(String),
    /// The call ran and failed.
    #[error("{0}")]
    Failed(String),
    /// The call ran out of time.
    #[error("timed out after {0} s")]
    TimedOut(u64),
    /// The run was aborted or the daemon is stopping.
    #[error("cancelled")]
    Cancelled,
}

/// A tool's result text, as the model will read it.
pub type ToolResult = Result<String, ToolError>;

/// Something the agent can call.
///
/// Implementations must be cheap to share (`Arc<dyn Tool>`) and safe to
/// call concurrently: the model may ask for several calls at once.
#[async_trait]
pub trait Tool: Send + Sync + std::fmt::Debug {
    /// Name, description and argument schema, as offered to the model.
    fn spec(&self) -> ToolSpec;

    /// Runs the call. `arguments` has already been validated against
    /// [`Tool::spec`]'s schema.
    async fn call(&self, context: &ToolContext, arguments: serde_json::Value) -> ToolResult;

    /// How long a call may take, when the agent's default limit does not
    /// fit (a command that waits for an operator's approval first).
    fn max_duration(&self) -> Option<Duration> {
        None
    }
}

/// A tool whose arguments are a Rust type: the schema is generated from it
/// and the JSON is deserialized into it. Implement this and wrap it with
/// [`typed`] to get a [`Tool`].
#[async_trait]
pub trait TypedTool: Send + Sync + std::fmt::Debug + 'static {
    type Args: JsonSchema + DeserializeOwned + Send + 'static;
    const NAME: &'static str;
    /// What the tool does, written for the model.
    fn description(&self) -> String;
    async fn run(&self, context: &ToolContext, args: Self::Args) -> ToolResult;

    /// See [`Tool::max_duration`].
    fn max_duration(&self) -> Option<Duration> {
        None
    }
}

/// What a tool asks an operator to allow: a shell command, for now.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalRequest {
    /// The tool asking (`exec`).
    pub tool: String,
    /// What would run, exactly as it would run.
    pub command: String,
    /// Where it would run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    pub agent_id: AgentId,
    pub session_key: SessionKey,
    /// Who asked the agent ([`ToolContext::caller`]).
    pub caller: String,
}

/// An operator's answer, or the lack of one.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum ApprovalDecision {
    Approved {
        by: String,
    },
    Denied {
        by: String,
    },
    /// Nobody answered in time.
    Expired,
    /// The run ended (aborted, shutdown) while waiting.
    Cancelled,
}

/// Where tools send approval requests: the daemon's broker, which shows
/// them to operators (control protocol, `hearth approvals`).
#[async_trait]
pub trait Approver: Send + Sync + std::fmt::Debug {
    /// Waits for a decision. Returns [`ApprovalDecision::Expired`] after
    /// the broker's time limit and [`ApprovalDecision::Cancelled`] when
    /// `cancel` fires first.
    async fn approve(
        &self,
        request: ApprovalRequest,
        cancel: &CancellationToken,
    ) -> ApprovalDecision;

    /// The longest [`Approver::approve`] can wait, so the tool's own time
    /// limit can include it.
    fn timeout(&self) -> Duration;
}

/// A [`TypedTool`] as a shareable [`Tool`].
pub fn typed<T: TypedTool>(tool: T) -> Arc<dyn Tool> {
    Arc::new(Typed(tool))
}

#[derive(Debug)]
struct Typed<T>(T);

#[async_trait]
impl<T: TypedTool> Tool for Typed<T> {
    fn spec(&self) -> ToolSpec {
        ToolSpec {
            name: T::NAME.to_owned(),
            description: self.0.description(),
            parameters: cached_schema::<T::Args>(),
        }
    }

    async fn call(&self, context: &ToolContext, arguments: serde_json::Value) -> ToolResult {
        // The schema was checked first; this catches what a schema cannot
        // say (and keeps a tool safe if called without the check).
        let args = serde_json::from_value::<T::Args>(arguments)
            .map_err(|e| ToolError::InvalidArguments(e.to_string()))?;
        self.0.run(context, args).await
    }

    fn max_duration(&self) -> Option<Duration> {
        self.0.max_duration()
    }
}

/// [`schema_for`], generated once per type: a turn asks every tool for its
/// spec, and generating a schema costs far more than cloning it. Bounded by
/// the number of argument types in the program.
fn cached_schema<T: JsonSchema + 'static>() -> serde_json::Value {
    use std::any::TypeId;
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static CACHE: OnceLock<Mutex<HashMap<TypeId, serde_json::Value>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Mutex::default);
    if let Some(schema) = cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&TypeId::of::<T>())
    {
        return schema.clone();
    }
    let schema = schema_for::<T>();
    cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(TypeId::of::<T>(), schema.clone());
    schema
}

/// The JSON Schema of `T`, inlined (no `$ref`s into `$defs` where it can be
/// avoided) and without the `$schema`/`title` noise small models trip on.
pub fn schema_for<T: JsonSchema>() -> serde_json::Value {
    let settings = schemars::generate::SchemaSettings::draft2020_12().with(|s| {
        s.inline_subschemas = true;
    });
    let schema = settings.into_generator().into_root_schema_for::<T>();
    let mut value = schema.to_value();
    if let Some(object) = value.as_object_mut() {
        object.remove("$schema");
        object.remove("title");
        // A tool without arguments still takes an object.
        if !object.contains_key("type") && !object.contains_key("properties") {
            object.insert("type".into(), "object".into());
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Args {
        /// The path to read.
        path: String,
        #[serde(default)]
        limit: Option<u32>,
        mode: Mode,
    }

    #[derive(Debug, Deserialize, JsonSchema)]
    #[serde(rename_all = "lowercase")]
    enum Mode {
        Text,
        Bytes,
    }

    #[test]
    fn a_cached_schema_is_the_generated_one() {
        assert_eq!(cached_schema::<Args>(), schema_for::<Args>());
        assert_eq!(cached_schema::<Args>(), schema_for::<Args>());
        assert_ne!(cached_schema::<Mode>(), cached_schema::<Args>());
    }

    #[test]
    fn generated_schemas_are_inline_objects_with_descriptions() {
        let schema = schema_for::<Args>();
        assert_eq!(schema["type"], "object");
        assert!(schema.get("$schema").is_none());
        assert!(schema.get("$defs").is_none(), "{schema}");
        assert_eq!(
            schema["properties"]["path"]["description"],
            "The path to read."
        );
        assert_eq!(schema["required"], serde_json::json!(["path", "mode"]));
        assert_eq!(schema["additionalProperties"], false);
        assert_eq!(
            schema["properties"]["mode"]["enum"],
            serde_json::json!(["text", "bytes"])
        );
    }
}
