//! A server's resources and prompts as four tools:
//! `<server>__list_resources`, `<server>__read_resource {uri}`,
//! `<server>__list_prompts` and `<server>__get_prompt {name, arguments}`.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use hearth_core::{Tool, ToolContext, ToolResult, ToolSpec, schema_for};
use rmcp::ServiceError;
use rmcp::model::{GetPromptRequestParams, ReadResourceRequestParams};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::client::list_paged;
use crate::connection::Link;
use crate::render;
use crate::tools::{params, request};

/// The most resources, templates or prompts one listing shows.
const MAX_LISTED: usize = 256;

/// The tools made from resources and prompts.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Extra {
    ListResources,
    ReadResource,
    ListPrompts,
    GetPrompt,
}

impl Extra {
    pub(crate) fn suffix(self) -> &'static str {
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
pub(crate) struct ExtraTool {
    pub(crate) link: Arc<Link>,
    pub(crate) name: String,
    pub(crate) kind: Extra,
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
