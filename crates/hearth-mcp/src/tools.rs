//! A server's tools, resources and prompts as `hearth_core::Tool`s named
//! `<server>__<name>`.
//!
//! - each allowed MCP tool: its description and input schema as the server
//!   gives them; the result's text, or `ToolError::Failed` when the server
//!   flags it `isError`;
//! - with `expose_resources`: `<server>__list_resources` and
//!   `<server>__read_resource {uri}`;
//! - with `expose_prompts`: `<server>__list_prompts` and
//!   `<server>__get_prompt {name, arguments}`.
//!
//! Every call runs within the server's `call_timeout_secs` and stops when
//! the context is cancelled; either way rmcp drops the request, which sends
//! `notifications/cancelled` to the server.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

use async_trait::async_trait;
use hearth_core::{Tool, ToolContext, ToolError, ToolResult, ToolSpec, schema_for};
use rmcp::model::{CallToolRequestParams, GetPromptRequestParams, ReadResourceRequestParams};
use rmcp::{Peer, RoleClient, ServiceError};
use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::client::{MAX_TOOLS_PER_SERVER, SessionInfo, list_paged};
use crate::config::McpServerConfig;
use crate::connection::Link;
use crate::names::NameTable;
use crate::render;

/// The longest tool description passed on. Descriptions go into every
/// model request; a server's essay would crowd out the conversation.
const MAX_DESCRIPTION: usize = 2048;
/// The largest input schema accepted, serialized; a tool with a larger one
/// is left out.
const MAX_SCHEMA_BYTES: usize = 64 * 1024;
/// The most resources, templates or prompts one listing shows.
const MAX_LISTED: usize = 256;

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
        for missing in allow.iter().filter(|a| !tools_named(&tools, server, a)) {
            tracing::warn!(server, tool = %missing, "allowed tool not offered by the server");
        }
    }
    Ok(tools)
}

fn tools_named(tools: &[Arc<dyn Tool>], server: &str, remote: &str) -> bool {
    let name = crate::names::exposed_name(server, remote);
    tools.iter().any(|t| t.spec().name == name)
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
async fn request<T, F, Fut>(link: &Link, context: &ToolContext, make: F) -> Result<T, ToolError>
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
        other => ToolError::Failed(other.to_string()),
    }
}

/// Arguments that arrive as JSON, into a request's params type: the spec's
/// JSON shape is the stable interface, the SDK's constructors are not.
fn params<T: DeserializeOwned>(value: Value) -> Result<T, ToolError> {
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

/// The tools made from resources and prompts.
#[derive(Debug, Clone, Copy)]
enum Extra {
    ListResources,
    ReadResource,
    ListPrompts,
    GetPrompt,
}

impl Extra {
    fn suffix(self) -> &'static str {
        match self {
            Extra::ListResources => "list_resources",
            Extra::ReadResource => "read_resource",
            Extra::ListPrompts => "list_prompts",
            Extra::GetPrompt => "get_prompt",
        }
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct NoArgs {}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ReadResourceArgs {
    /// The resource's URI, as listed or built from a URI template.
    uri: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct GetPromptArgs {
    /// The prompt's name, as listed.
    name: String,
    /// The prompt's arguments, by name.
    #[serde(default)]
    arguments: BTreeMap<String, String>,
}

#[derive(Debug)]
struct ExtraTool {
    link: Arc<Link>,
    name: String,
    kind: Extra,
}

#[async_trait]
impl Tool for ExtraTool {
    fn spec(&self) -> ToolSpec {
        let server = &self.link.server;
        let (description, parameters) = match self.kind {
            Extra::ListResources => (
                format!("Lists the resources (and URI templates) of the MCP server {server}."),
                schema_for::<NoArgs>(),
            ),
            Extra::ReadResource => (
                format!("Reads a resource of the MCP server {server} by its URI."),
                schema_for::<ReadResourceArgs>(),
            ),
            Extra::ListPrompts => (
                format!("Lists the prompts of the MCP server {server} and their arguments."),
                schema_for::<NoArgs>(),
            ),
            Extra::GetPrompt => (
                format!("Gets a prompt of the MCP server {server}, filled with arguments."),
                schema_for::<GetPromptArgs>(),
            ),
        };
        ToolSpec {
            name: self.name.clone(),
            description,
            parameters,
        }
    }

    async fn call(&self, context: &ToolContext, arguments: Value) -> ToolResult {
        let arguments = if arguments.is_null() {
            json!({})
        } else {
            arguments
        };
        let timeout = self.link.call_timeout;
        let text = match self.kind {
            Extra::ListResources => {
                let _: NoArgs = params(arguments)?;
                request(&self.link, context, |peer| async move {
                    let (resources, more) =
                        list_paged(MAX_LISTED, timeout, |p| peer.list_resources(p))
                            .await
                            .map_err(to_service_error)?;
                    let (templates, more_templates) =
                        list_paged(MAX_LISTED, timeout, |p| peer.list_resource_templates(p))
                            .await
                            // Templates are optional for a server.
                            .unwrap_or_default();
                    Ok(render_resources(
                        &resources,
                        more,
                        &templates,
                        more_templates,
                    ))
                })
                .await?
            }
            Extra::ReadResource => {
                let args: ReadResourceArgs = params(arguments)?;
                let params: ReadResourceRequestParams = params(json!({"uri": args.uri}))?;
                let result = request(&self.link, context, |peer| async move {
                    peer.read_resource(params).await
                })
                .await?;
                let value = serde_json::to_value(&result).unwrap_or_default();
                let contents = value["contents"].as_array().cloned().unwrap_or_default();
                let parts: Vec<String> = contents.iter().map(render::resource_contents).collect();
                parts.join("\n")
            }
            Extra::ListPrompts => {
                let _: NoArgs = params(arguments)?;
                request(&self.link, context, |peer| async move {
                    let (prompts, more) = list_paged(MAX_LISTED, timeout, |p| peer.list_prompts(p))
                        .await
                        .map_err(to_service_error)?;
                    Ok(render_prompts(&prompts, more))
                })
                .await?
            }
            Extra::GetPrompt => {
                let args: GetPromptArgs = params(arguments)?;
                let params: GetPromptRequestParams =
                    params(json!({"name": args.name, "arguments": args.arguments}))?;
                let result = request(&self.link, context, |peer| async move {
                    peer.get_prompt(params).await
                })
                .await?;
                let value = serde_json::to_value(&result).unwrap_or_default();
                render_prompt(&value)
            }
        };
        Ok(render::capped(text))
    }
}

/// A listing error inside a request: the server's words, as an MCP error.
fn to_service_error(message: String) -> ServiceError {
    ServiceError::McpError(rmcp::ErrorData::internal_error(message, None))
}

fn render_resources(
    resources: &[rmcp::model::Resource],
    more: bool,
    templates: &[rmcp::model::ResourceTemplate],
    more_templates: bool,
) -> String {
    let mut out = Vec::new();
    for resource in resources {
        let v = serde_json::to_value(resource).unwrap_or_default();
        out.push(entry(&v, "uri"));
    }
    if more {
        out.push(format!("[only the first {MAX_LISTED} resources are shown]"));
    }
    if resources.is_empty() {
        out.push("No resources.".into());
    }
    if !templates.is_empty() {
        out.push("URI templates:".into());
        for template in templates {
            let v = serde_json::to_value(template).unwrap_or_default();
            out.push(entry(&v, "uriTemplate"));
        }
        if more_templates {
            out.push(format!("[only the first {MAX_LISTED} templates are shown]"));
        }
    }
    out.join("\n")
}

/// `- <uri> (name, mime): description`
fn entry(v: &Value, key: &str) -> String {
    let mut line = format!("- {}", v[key].as_str().unwrap_or("?"));
    let details: Vec<&str> = ["name", "mimeType"]
        .iter()
        .filter_map(|k| v[*k].as_str())
        .collect();
    if !details.is_empty() {
        line.push_str(&format!(" ({})", details.join(", ")));
    }
    if let Some(description) = v["description"].as_str() {
        line.push_str(&format!(": {description}"));
    }
    line
}

fn render_prompts(prompts: &[rmcp::model::Prompt], more: bool) -> String {
    let mut out = Vec::new();
    for prompt in prompts {
        let mut line = format!("- {}", prompt.name);
        let args: Vec<String> = prompt
            .arguments
            .iter()
            .flatten()
            .map(|a| {
                let required = if a.required == Some(true) {
                    ", required"
                } else {
                    ""
                };
                match &a.description {
                    Some(d) => format!("{} ({d}{required})", a.name),
                    None if required.is_empty() => a.name.clone(),
                    None => format!("{} (required)", a.name),
                }
            })
            .collect();
        if let Some(description) = &prompt.description {
            line.push_str(&format!(": {description}"));
        }
        if !args.is_empty() {
            line.push_str(&format!(" [arguments: {}]", args.join("; ")));
        }
        out.push(line);
    }
    if more {
        out.push(format!("[only the first {MAX_LISTED} prompts are shown]"));
    }
    if prompts.is_empty() {
        out.push("No prompts.".into());
    }
    out.join("\n")
}

/// A `prompts/get` result: its description, then `role: content` per
/// message.
fn render_prompt(result: &Value) -> String {
    let mut out = Vec::new();
    if let Some(description) = result["description"].as_str() {
        out.push(description.to_owned());
    }
    for message in result["messages"].as_array().into_iter().flatten() {
        let role = message["role"].as_str().unwrap_or("?");
        let content = match &message["content"] {
            Value::Array(blocks) => render::content_blocks(blocks),
            block => render::content_blocks(std::slice::from_ref(block)),
        };
        out.push(format!("{role}: {content}"));
    }
    out.join("\n")
}
