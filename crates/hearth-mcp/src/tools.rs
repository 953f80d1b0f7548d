//! A server's tools as `hearth_core::Tool`s named `<server>__<tool>`: its
//! description and input schema as the server gives them; the result's
//! text, or `ToolError::Failed` when the server flags it `isError`. With
//! `expose_resources` / `expose_prompts`, the tools of `extra.rs` join them.
//!
//! Every call runs within the server's `call_timeout_secs` and stops when
//! the context is cancelled; either way rmcp drops the request, which sends
//! `notifications/cancelled` to the server.

use std::future::Future;
use std::sync::Arc;

use async_trait::async_trait;
use hearth_core::{Tool, ToolContext, ToolError, ToolResult, ToolSpec};
use rmcp::model::CallToolRequestParams;
use rmcp::{Peer, RoleClient, ServiceError};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::client::{MAX_TOOLS_PER_SERVER, SessionInfo, list_paged};
use crate::config::McpServerConfig;
use crate::connection::Link;
use crate::extra::{Extra, ExtraTool};
use crate::names::NameTable;
use crate::render;

/// The longest tool description passed on. Descriptions go into every
/// model request; a server's essay would crowd out the conversation.
const MAX_DESCRIPTION: usize = 2048;
/// The largest input schema accepted, serialized; a tool with a larger one
/// is left out.
const MAX_SCHEMA_BYTES: usize = 64 * 1024;

/// Lists the server's tools and builds every tool the agent may see.
pub(crate) async fn build(
    config: &McpServerConfig,
    link: &Arc<Link>,
    peer: &Peer<RoleClient>,
    info: &SessionInfo,
) -> Result<Vec<Arc<dyn Tool>>, String> {
    let server = &config.name;
    let mut names = NameTable::default();
    let mut tools: Vec<Arc<dyn Tool>> = Vec::new();
    let mut extra = |kind: Extra, names: &mut NameTable| {
        if let Some(name) = names.assign(server, kind.suffix()) {
            tools.push(Arc::new(ExtraTool {
                link: link.clone(),
                name,
                kind,
            }));
        }
    };
    // The built-in names first, so a server tool called `list_resources`
    // is the one renamed.
    if config.expose_resources && info.has_resources {
        extra(Extra::ListResources, &mut names);
        extra(Extra::ReadResource, &mut names);
    }
    if config.expose_prompts && info.has_prompts {
        extra(Extra::ListPrompts, &mut names);
        extra(Extra::GetPrompt, &mut names);
    }
    if !info.has_tools {
        return Ok(tools);
    }
    let (listed, truncated) = list_paged(MAX_TOOLS_PER_SERVER, link.call_timeout, |p| {
        peer.list_tools(p)
    })
    .await?;
    if truncated {
        tracing::warn!(
            server,
            "more than {MAX_TOOLS_PER_SERVER} tools; the rest are left out"
        );
    }
    let offered: std::collections::HashSet<String> =
        listed.iter().map(|t| t.name.to_string()).collect();
    for tool in listed {
        let remote = tool.name.to_string();
        if !config.allows(&remote) {
            continue;
        }
        let mut parameters = Value::Object((*tool.input_schema).clone());
        if let Some(object) = parameters.as_object_mut() {
            object
                .entry("type")
                .or_insert_with(|| Value::String("object".into()));
        }
        if parameters.to_string().len() > MAX_SCHEMA_BYTES {
            tracing::warn!(
                server,
                tool = remote,
                "input schema over 64 KiB; tool left out"
            );
            continue;
        }
        let Some(name) = names.assign(server, &remote) else {
            tracing::warn!(server, tool = remote, "no unique name; tool left out");
            continue;
        };
        let description = tool
            .description
            .as_deref()
            .or(tool.title.as_deref())
            .unwrap_or("")
            .to_owned();
        tools.push(Arc::new(McpTool {
            link: link.clone(),
            spec: ToolSpec {
                name,
                description: cut(description, MAX_DESCRIPTION),
                parameters,
            },
            remote,
        }));
    }
    if let Some(allow) = &config.allow {
        for missing in allow.iter().filter(|a| !offered.contains(*a)) {
            tracing::warn!(server, tool = %missing, "allowed tool not offered by the server");
        }
    }
    Ok(tools)
}

fn cut(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut at = max;
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        text.truncate(at);
        text.push('…');
    }
    text
}

/// Runs one request within the server's call timeout and the context's
/// cancellation, mapping rmcp's errors to the agent's.
pub(crate) async fn request<T, F, Fut>(
    link: &Link,
    context: &ToolContext,
    make: F,
) -> Result<T, ToolError>
where
    F: FnOnce(Peer<RoleClient>) -> Fut,
    Fut: Future<Output = Result<T, ServiceError>>,
{
    let timeout = link.call_timeout;
    let call = async {
        let peer = link.peer().await?;
        make(peer).await.map_err(|e| service_error(link, e))
    };
    tokio::select! {
        biased;
        _ = context.cancel.cancelled() => Err(ToolError::Cancelled),
        result = tokio::time::timeout(timeout, call) => {
            result.unwrap_or_else(|_| {
                // A slow tool, or a connection that swallows requests: the
                // connection pings to tell which.
                link.suspect();
                Err(ToolError::TimedOut(timeout.as_secs()))
            })
        }
    }
}

fn service_error(link: &Link, error: ServiceError) -> ToolError {
    match error {
        ServiceError::McpError(error) => {
            if error.code == rmcp::model::ErrorCode::INVALID_PARAMS {
                ToolError::InvalidArguments(error.message.to_string())
            } else {
                ToolError::Failed(error.message.to_string())
            }
        }
        ServiceError::Timeout { timeout } => ToolError::TimedOut(timeout.as_secs()),
        ServiceError::Cancelled { .. } => ToolError::Cancelled,
        ServiceError::TransportClosed | ServiceError::TransportSend(_) => {
            link.suspect();
            ToolError::Failed(format!(
                "lost the connection to MCP server {}; it is reconnecting",
                link.server
            ))
        }
        other => ToolError::Failed(crate::client::describe(&other)),
    }
}

/// Arguments that arrive as JSON, into a request's params type: the spec's
/// JSON shape is the stable interface, the SDK's constructors are not.
pub(crate) fn params<T: DeserializeOwned>(value: Value) -> Result<T, ToolError> {
    serde_json::from_value(value).map_err(|e| ToolError::InvalidArguments(e.to_string()))
}

/// One tool of the server.
#[derive(Debug)]
struct McpTool {
    link: Arc<Link>,
    spec: ToolSpec,
    /// The server's own name for it.
    remote: String,
}

#[async_trait]
impl Tool for McpTool {
    fn spec(&self) -> ToolSpec {
        self.spec.clone()
    }

    async fn call(&self, context: &ToolContext, arguments: Value) -> ToolResult {
        let arguments = match arguments {
            Value::Null => json!({}),
            Value::Object(_) => arguments,
            _ => return Err(ToolError::InvalidArguments("expected an object".into())),
        };
        let params: CallToolRequestParams =
            params(json!({"name": self.remote, "arguments": arguments}))?;
        let result = request(&self.link, context, |peer| async move {
            peer.call_tool(params).await
        })
        .await?;
        let value = serde_json::to_value(&result).map_err(|e| ToolError::Failed(e.to_string()))?;
        let (text, is_error) = render::call_result(&value);
        let text = render::capped(text);
        if is_error {
            Err(ToolError::Failed(text))
        } else {
            Ok(text)
        }
    }
}
