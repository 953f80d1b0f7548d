//! The memory tools: search, remember and forget in long-term memory, and
//! upsert and query the knowledge graph. Each goes through the memory
//! service's own `memory.*` methods (the same validation as the control
//! protocol), scoped to the calling agent: a model can never reach another
//! agent's memories.

use std::sync::Arc;

use async_trait::async_trait;
use hearth_core::{Tool, ToolContext, ToolError, ToolResult, TypedTool, typed};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::memory::MemoryService;

/// Results of one search shown to the model: enough to answer, few enough
/// to leave room in a small context.
const MAX_HITS: usize = 8;

pub fn memory_tools(service: Arc<MemoryService>) -> Vec<Arc<dyn Tool>> {
    vec![
        typed(MemorySearch(service.clone())),
        typed(MemoryRemember(service.clone())),
        typed(MemoryForget(service.clone())),
        typed(GraphUpsert(service.clone())),
        typed(GraphQuery(service)),
    ]
}

async fn call(
    service: &Arc<MemoryService>,
    method: &str,
    params: Value,
) -> Result<Value, ToolError> {
    service.clone().dispatch(method, params).await.map_err(|e| {
        if e.invalid {
            ToolError::InvalidArguments(e.message)
        } else {
            ToolError::Failed(e.message)
        }
    })
}

#[derive(Debug)]
struct MemorySearch(Arc<MemoryService>);

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct SearchArgs {
    /// What to look for, in plain words.
    query: String,
    /// How many results, 1 to 8 (default 5).
    #[serde(default)]
    limit: Option<usize>,
}

#[async_trait]
impl TypedTool for MemorySearch {
    type Args = SearchArgs;
    const NAME: &'static str = "memory_search";
    fn description(&self) -> String {
        "Searches your long-term memory for facts, notes and past conversations. Returns the best matches with their ids.".into()
    }
    async fn run(&self, context: &ToolContext, args: SearchArgs) -> ToolResult {
        let limit = args.limit.unwrap_or(5).clamp(1, MAX_HITS);
        let found = call(
            &self.0,
            "memory.search",
            json!({ "query": args.query, "agentId": context.agent_id.as_str(), "limit": limit }),
        )
        .await?;
        let hits = found["hits"].as_array().cloned().unwrap_or_default();
        if hits.is_empty() {
            return Ok("No memories match.".into());
        }
        let lines: Vec<String> = hits
            .iter()
            .map(|hit| {
                let item = if hit["item"].is_object() {
                    &hit["item"]
                } else {
                    hit
                };
                format!(
                    "#{} {}",
                    item["id"].as_i64().unwrap_or_default(),
                    item["text"].as_str().unwrap_or_default()
                )
            })
            .collect();
        Ok(lines.join("\n"))
    }
}

#[derive(Debug)]
struct MemoryRemember(Arc<MemoryService>);

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RememberArgs {
    /// The fact or note to keep, as one self-contained sentence.
    text: String,
    /// Short labels to find it by later.
    #[serde(default)]
    tags: Vec<String>,
    /// How much it matters, 0.0 to 1.0 (default 0.5).
    #[serde(default)]
    importance: Option<f32>,
}

#[async_trait]
impl TypedTool for MemoryRemember {
    type Args = RememberArgs;
    const NAME: &'static str = "memory_remember";
    fn description(&self) -> String {
        "Saves a fact or note to your long-term memory, so you can recall it in later conversations.".into()
    }
    async fn run(&self, context: &ToolContext, args: RememberArgs) -> ToolResult {
        let user = context.origin.as_ref().map(|o| o.sender.id.clone());
        let added = call(
            &self.0,
            "memory.add",
            json!({
                "text": args.text,
                "agentId": context.agent_id.as_str(),
                "tags": args.tags,
                "importance": args.importance,
                "user": user,
                "channel": context.channel,
                "session": context.session_key.as_str(),
                "source": "tool",
            }),
        )
        .await?;
        Ok(format!("Remembered as #{}.", added["ids"][0]))
    }
}

#[derive(Debug)]
struct MemoryForget(Arc<MemoryService>);

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ForgetArgs {
    /// The memory's id, as memory_search shows it (without the `#`).
    id: i64,
}

#[async_trait]
impl TypedTool for MemoryForget {
    type Args = ForgetArgs;
    const NAME: &'static str = "memory_forget";
    fn description(&self) -> String {
        "Deletes one memory by its id, when it is wrong or the person asks you to forget it.".into()
    }
    async fn run(&self, context: &ToolContext, args: ForgetArgs) -> ToolResult {
        call(
            &self.0,
            "memory.remove",
            json!({ "id": args.id, "agentId": context.agent_id.as_str() }),
        )
        .await?;
        Ok(format!("Forgot #{}.", args.id))
    }
}

#[derive(Debug)]
struct GraphUpsert(Arc<MemoryService>);

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct UpsertArgs {
    /// The entity type, as defined in the agent's schemas (e.g. `person`).
    #[serde(rename = "type")]
    type_name: String,
    /// The entity's properties, which must match the type's schema; its key
    /// properties identify it, so the same key updates the same entity.
    props: Value,
}

#[async_trait]
impl TypedTool for GraphUpsert {
    type Args = UpsertArgs;
    const NAME: &'static str = "graph_upsert";
    fn description(&self) -> String {
        "Creates or updates an entity (a person, a place, a project...) in your knowledge graph."
            .into()
    }
    async fn run(&self, context: &ToolContext, args: UpsertArgs) -> ToolResult {
        let done = call(
            &self.0,
            "memory.graph.upsert",
            json!({ "type": args.type_name, "props": args.props, "agentId": context.agent_id.as_str() }),
        )
        .await?;
        Ok(done.to_string())
    }
}

#[derive(Debug)]
struct GraphQuery(Arc<MemoryService>);

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct QueryArgs {
    /// The entity type (e.g. `person`).
    #[serde(rename = "type")]
    type_name: String,
    /// The entity's key. Leave it out to list entities of the type.
    #[serde(default)]
    key: Option<Value>,
    /// Only relations of this type.
    #[serde(default)]
    relation: Option<String>,
}

#[async_trait]
impl TypedTool for GraphQuery {
    type Args = QueryArgs;
    const NAME: &'static str = "graph_query";
    fn description(&self) -> String {
        "Looks up your knowledge graph: with a key, an entity and what it is related to; without, the entities of a type.".into()
    }
    async fn run(&self, context: &ToolContext, args: QueryArgs) -> ToolResult {
        let agent = context.agent_id.as_str();
        let found = match args.key {
            Some(key) => {
                let entity = call(
                    &self.0,
                    "memory.graph.get",
                    json!({ "type": args.type_name, "key": key, "agentId": agent }),
                )
                .await?;
                let neighbours = call(
                    &self.0,
                    "memory.graph.neighbours",
                    json!({ "type": args.type_name, "key": key, "relation": args.relation, "agentId": agent, "limit": 50 }),
                )
                .await?;
                json!({ "entity": entity, "related": neighbours["neighbours"] })
            }
            None => {
                call(
                    &self.0,
                    "memory.graph.list",
                    json!({ "type": args.type_name, "agentId": agent, "limit": 50 }),
                )
                .await?
            }
        };
        Ok(found.to_string())
    }
}
