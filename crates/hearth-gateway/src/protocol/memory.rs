//! Typed parameters of the `memory.*` methods: Hearth's own, not
//! OpenClaw's, so unknown fields are refused (a misspelt filter must not
//! silently widen a search or a delete). The gateway only routes these
//! methods; the memory service parses them with these types, so the
//! published schema and the parser are one definition.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `memory.search`: hybrid search of an agent's long-term memory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MemorySearch {
    pub query: String,
    /// Default: the default agent.
    #[serde(default)]
    pub agent_id: Option<String>,
    /// 1..=100, default 10.
    #[serde(default)]
    pub limit: Option<usize>,
    /// `hybrid` (default), `vector` or `text`.
    #[serde(default)]
    pub mode: Option<String>,
    /// 0.0..=1.0.
    #[serde(default)]
    pub min_score: Option<f32>,
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub channel: Option<String>,
    #[serde(default)]
    pub session: Option<String>,
    /// Every tag listed must be on the memory.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Any of these kinds.
    #[serde(default)]
    pub kinds: Vec<String>,
    /// Created at or after (ms since the epoch).
    #[serde(default)]
    pub since_ms: Option<i64>,
    /// Created before (ms since the epoch).
    #[serde(default)]
    pub until_ms: Option<i64>,
}

/// `memory.list`: newest memories first, with the filters of a search.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MemoryList {
    #[serde(default)]
    pub agent_id: Option<String>,
    /// Default 50, at most 1000.
    #[serde(default)]
    pub limit: Option<usize>,
    /// Pages backwards from this id.
    #[serde(default)]
    pub before_id: Option<i64>,
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub channel: Option<String>,
    #[serde(default)]
    pub session: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub kinds: Vec<String>,
    #[serde(default)]
    pub since_ms: Option<i64>,
    #[serde(default)]
    pub until_ms: Option<i64>,
}

/// `memory.add`: remember a text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MemoryAdd {
    pub text: String,
    #[serde(default)]
    pub agent_id: Option<String>,
    /// `fact` (default), `note`, ... a short lowercase word.
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// 0.0..=1.0, default 0.5.
    #[serde(default)]
    pub importance: Option<f32>,
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub channel: Option<String>,
    #[serde(default)]
    pub session: Option<String>,
    #[serde(default)]
    pub source: Option<String>,
    /// Chunk a long text into several memories.
    #[serde(default)]
    pub document: bool,
}

/// `memory.get` / `memory.remove`: one memory by id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MemoryById {
    pub id: i64,
    #[serde(default)]
    pub agent_id: Option<String>,
}

/// `memory.stats`, `memory.import`, `memory.reindex`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MemoryAgent {
    #[serde(default)]
    pub agent_id: Option<String>,
}

/// `memory.working.*`: a session's working memory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WorkingMemory {
    pub session_key: String,
    /// Required by `set` and `remove`.
    #[serde(default)]
    pub key: Option<String>,
    /// Required by `set`.
    #[serde(default)]
    pub value: Option<String>,
    /// `set` only; default and cap from `[memory.short_term.limits]`.
    #[serde(default)]
    pub ttl_secs: Option<u64>,
}

/// An entity by type and key (the key's value, or an object of its fields).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GraphEntityRef {
    #[serde(rename = "type")]
    pub type_name: String,
    pub key: Value,
}

/// `memory.graph.upsert`: create or update an entity, validated against
/// its type's JSON Schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GraphUpsert {
    #[serde(rename = "type")]
    pub type_name: String,
    pub props: Value,
    #[serde(default)]
    pub agent_id: Option<String>,
}

/// `memory.graph.relate`: create or update a relation between two entities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GraphRelate {
    #[serde(rename = "type")]
    pub type_name: String,
    pub from: GraphEntityRef,
    pub to: GraphEntityRef,
    #[serde(default)]
    pub props: Option<Value>,
    #[serde(default)]
    pub agent_id: Option<String>,
}

/// `memory.graph.get`, `list`, `neighbours`, `history`, `delete`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GraphByKey {
    #[serde(default, rename = "type")]
    pub type_name: Option<String>,
    #[serde(default)]
    pub key: Option<Value>,
    /// `neighbours`: only this relation type.
    #[serde(default)]
    pub relation: Option<String>,
    /// `neighbours`: `out`, `in` or `both` (default).
    #[serde(default)]
    pub direction: Option<String>,
    #[serde(default)]
    pub limit: Option<usize>,
    #[serde(default)]
    pub agent_id: Option<String>,
}

/// `memory.graph.paths`: paths between two entities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GraphPaths {
    pub from: GraphEntityRef,
    pub to: GraphEntityRef,
    /// 1..=6, default 3.
    #[serde(default)]
    pub max_depth: Option<usize>,
    /// `out` (default), `in` or `both`.
    #[serde(default)]
    pub direction: Option<String>,
    #[serde(default)]
    pub limit: Option<usize>,
    #[serde(default)]
    pub agent_id: Option<String>,
}
