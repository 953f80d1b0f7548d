//! Typed parameters of the supported methods. Field names follow OpenClaw's
//! schemas (camelCase). Optional OpenClaw fields Hearth does not act on
//! (thinking levels, attachments, UI hints) are accepted and ignored, so
//! newer clients keep working; required fields and wrong types are errors.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Empty {}

/// `chat.send`: queue a message on a session; the answer streams as `chat`
/// and `agent` events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChatSend {
    pub session_key: String,
    pub message: String,
    #[serde(default)]
    pub agent_id: Option<String>,
    /// Makes a retry safe: the same key is recognised and not run twice.
    /// It becomes the run id.
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

/// `chat.history`: the session's transcript, newest last.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChatHistory {
    pub session_key: String,
    #[serde(default)]
    pub limit: Option<u32>,
}

/// `chat.abort`: stop the session's running turn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChatAbort {
    pub session_key: String,
    #[serde(default)]
    pub run_id: Option<String>,
}

/// `agent`: run a turn and answer twice — `accepted`, then the result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AgentRun {
    pub message: String,
    #[serde(default)]
    pub agent_id: Option<String>,
    /// Defaults to the agent's main session, `agent:<id>:main`.
    #[serde(default)]
    pub session_key: Option<String>,
    #[serde(default)]
    pub idempotency_key: Option<String>,
    /// Seconds to wait for the result before answering `timeout`.
    #[serde(default)]
    pub timeout: Option<u64>,
}

/// `agent.wait`: wait for a run to finish.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AgentWait {
    pub run_id: String,
    #[serde(default)]
    pub timeout_ms: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionsList {
    #[serde(default)]
    pub limit: Option<u32>,
    #[serde(default)]
    pub agent_id: Option<String>,
}

/// `sessions.get`, `sessions.reset`, `sessions.delete`: one session by key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionByKey {
    pub key: String,
    /// If given, the call fails unless the session's current id matches
    /// (guards against acting on a session that was reset meanwhile).
    #[serde(default)]
    pub expected_session_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionsCreate {
    /// Defaults to `agent:<agentId>:<random>`.
    #[serde(default)]
    pub key: Option<String>,
    #[serde(default)]
    pub agent_id: Option<String>,
    #[serde(default)]
    pub label: Option<String>,
    /// A first message to send at once.
    #[serde(default)]
    pub message: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionsSend {
    pub key: String,
    pub message: String,
    #[serde(default)]
    pub agent_id: Option<String>,
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionsAbort {
    #[serde(default)]
    pub key: Option<String>,
    #[serde(default)]
    pub run_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AgentsCreate {
    pub name: String,
    #[serde(default)]
    pub workspace: Option<String>,
    /// A model name from the config's `[models]`; defaults to the default
    /// agent's model.
    #[serde(default)]
    pub model: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AgentsUpdate {
    pub agent_id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub workspace: Option<String>,
    #[serde(default)]
    pub model: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AgentsDelete {
    pub agent_id: String,
}

/// `models.load` / `models.unload`: a `[models.<name>]` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ModelByName {
    pub name: String,
}

/// `exec.approval.resolve`: an operator's answer to a waiting request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApprovalResolve {
    /// The request's id, from `exec.approval.requested` or
    /// `exec.approval.list`.
    pub id: String,
    pub decision: ApprovalChoice,
}

/// OpenClaw's decision names. `allow-always` is not offered: a lasting
/// grant belongs in `[tools.exec] allowlist`, where it is visible and
/// survives a restart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ApprovalChoice {
    AllowOnce,
    Deny,
}
