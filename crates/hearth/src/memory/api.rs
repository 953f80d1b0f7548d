//! The `memory.*` control methods: parameters parsed with the gateway's
//! published types (unknown fields are refused), each call answered as JSON. The gateway checks scopes and
//! audits; this file only translates to `hearth-memory` calls.

use std::sync::Arc;
use std::time::Duration;

use hearth_core::AgentId;
use hearth_gateway::protocol::memory::{
    MemoryAdd, MemoryAgent, MemoryById, MemoryList, MemorySearch, WorkingMemory,
};
use hearth_gateway::{MemoryAction, MemoryApi, MemoryApiError};
use hearth_memory::MemoryError;
use hearth_memory::long_term::{
    ChunkOptions, Filter, NewMemory, Progress, SearchMode, SearchOptions, import_markdown,
};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::MemoryService;

pub(super) fn invalid(message: impl Into<String>) -> MemoryApiError {
    MemoryApiError {
        invalid: true,
        message: message.into(),
    }
}

pub(super) fn failed(error: MemoryError) -> MemoryApiError {
    MemoryApiError {
        invalid: error.is_invalid(),
        message: error.to_string(),
    }
}

pub(super) fn params<T: DeserializeOwned>(
    method: &str,
    params: Value,
) -> Result<T, MemoryApiError> {
    serde_json::from_value(params).map_err(|e| invalid(format!("invalid params for {method}: {e}")))
}

impl MemoryService {
    /// The agent a call names, or the default agent; it must exist.
    pub(super) fn agent(&self, named: Option<String>) -> Result<AgentId, MemoryApiError> {
        let id = match named {
            Some(name) => AgentId::new(&name).map_err(|e| invalid(e.to_string()))?,
            None => self.agents.default_agent().clone(),
        };
        if self.agents.get(&id).is_none() {
            return Err(invalid(format!("unknown agent id {:?}", id.as_str())));
        }
        Ok(id)
    }

    #[allow(clippy::too_many_arguments)]
    fn filter(
        &self,
        agent: Option<String>,
        user: Option<String>,
        channel: Option<String>,
        session: Option<String>,
        tags: Vec<String>,
        kinds: Vec<String>,
        since_ms: Option<i64>,
        until_ms: Option<i64>,
    ) -> Result<Filter, MemoryApiError> {
        Ok(Filter {
            agent: self.agent(agent)?.as_str().to_owned(),
            user,
            channel,
            session,
            tags,
            kinds,
            since_ms,
            until_ms,
        })
    }

    pub(crate) async fn dispatch(
        self: Arc<Self>,
        method: &str,
        raw: Value,
    ) -> Result<Value, MemoryApiError> {
        if let Some(graph) = method.strip_prefix("memory.graph.") {
            return self.graph_call(graph, raw).await;
        }
        match method {
            "memory.search" => {
                let p: MemorySearch = params(method, raw)?;
                let mode: SearchMode = match p.mode {
                    None => SearchMode::default(),
                    Some(mode) => serde_json::from_value(json!(mode)).map_err(|_| {
                        invalid(format!("mode {mode:?} is not hybrid, vector or text"))
                    })?,
                };
                let defaults = SearchOptions::default();
                let options = SearchOptions {
                    limit: p.limit.unwrap_or(defaults.limit),
                    mode,
                    min_score: p.min_score.unwrap_or(0.0),
                    ..defaults
                };
                let filter = self.filter(
                    p.agent_id, p.user, p.channel, p.session, p.tags, p.kinds, p.since_ms,
                    p.until_ms,
                )?;
                let hits = self
                    .long_term
                    .search(&p.query, &filter, &options)
                    .await
                    .map_err(failed)?;
                Ok(json!({ "hits": hits }))
            }
            "memory.list" => {
                let p: MemoryList = params(method, raw)?;
                let filter = self.filter(
                    p.agent_id, p.user, p.channel, p.session, p.tags, p.kinds, p.since_ms,
                    p.until_ms,
                )?;
                let items = self
                    .long_term
                    .list(&filter, p.limit.unwrap_or(50), p.before_id)
                    .await
                    .map_err(failed)?;
                Ok(json!({ "items": items }))
            }
            "memory.get" => {
                let p: MemoryById = params(method, raw)?;
                let agent = self.agent(p.agent_id)?;
                match self
                    .long_term
                    .get(agent.as_str(), p.id)
                    .await
                    .map_err(failed)?
                {
                    Some(item) => Ok(json!({ "item": item })),
                    None => Err(invalid(format!(
                        "no memory {} for agent {}",
                        p.id,
                        agent.as_str()
                    ))),
                }
            }
            "memory.add" => {
                let p: MemoryAdd = params(method, raw)?;
                let memory = NewMemory {
                    text: p.text,
                    kind: p.kind.unwrap_or_default(),
                    agent: self.agent(p.agent_id)?.as_str().to_owned(),
                    user: p.user,
                    channel: p.channel,
                    session: p.session,
                    source: p.source,
                    tags: p.tags,
                    importance: p.importance,
                    created_ms: None,
                };
                if p.document {
                    let ids = self
                        .long_term
                        .add_document(memory, ChunkOptions::default(), false)
                        .await
                        .map_err(failed)?;
                    Ok(json!({ "ids": ids }))
                } else {
                    let item = self.long_term.add(memory).await.map_err(failed)?;
                    Ok(json!({ "ids": [item.id], "item": item }))
                }
            }
            "memory.remove" => {
                let p: MemoryById = params(method, raw)?;
                let agent = self.agent(p.agent_id)?;
                let removed = self
                    .long_term
                    .remove(agent.as_str(), p.id)
                    .await
                    .map_err(failed)?;
                if !removed {
                    return Err(invalid(format!(
                        "no memory {} for agent {}",
                        p.id,
                        agent.as_str()
                    )));
                }
                Ok(json!({ "ok": true, "id": p.id }))
            }
            "memory.stats" => {
                let _: MemoryAgent = params(method, raw)?;
                let stats = self.long_term.stats().await.map_err(failed)?;
                Ok(json!({ "longTerm": stats, "workingBackend": self.working.backend() }))
            }
            "memory.import" => {
                let p: MemoryAgent = params(method, raw)?;
                let agent = self.agent(p.agent_id)?;
                let workspace = self
                    .workspace(&agent)
                    .ok_or_else(|| invalid("agent has no workspace"))?;
                let report = import_markdown(&self.long_term, agent.as_str(), &workspace)
                    .await
                    .map_err(failed)?;
                Ok(json!({ "report": report, "workspace": workspace }))
            }
            "memory.reindex" => {
                let _: MemoryAgent = params(method, raw)?;
                let progress = Arc::new(|p: Progress| tracing::info!(?p, "memory reindex"));
                let items = self.long_term.reindex(progress).await.map_err(failed)?;
                Ok(json!({ "ok": true, "items": items }))
            }
            "memory.working.list" => {
                let p: WorkingMemory = params(method, raw)?;
                let entries = self
                    .working
                    .list(&p.session_key)
                    .await
                    .map_err(|e| invalid(e.to_string()))?;
                Ok(json!({ "entries": entries }))
            }
            "memory.working.set" => {
                let p: WorkingMemory = params(method, raw)?;
                let (Some(key), Some(value)) = (p.key, p.value) else {
                    return Err(invalid("memory.working.set needs key and value"));
                };
                self.working
                    .put(
                        &p.session_key,
                        &key,
                        &value,
                        p.ttl_secs.map(Duration::from_secs),
                    )
                    .await
                    .map_err(|e| invalid(e.to_string()))?;
                Ok(json!({ "ok": true }))
            }
            "memory.working.remove" => {
                let p: WorkingMemory = params(method, raw)?;
                let key = p
                    .key
                    .ok_or_else(|| invalid("memory.working.remove needs key"))?;
                let removed = self
                    .working
                    .remove(&p.session_key, &key)
                    .await
                    .map_err(|e| invalid(e.to_string()))?;
                Ok(json!({ "ok": true, "removed": removed }))
            }
            other => Err(invalid(format!("unknown method: {other}"))),
        }
    }
}

/// The gateway holds the service through this handle.
#[derive(Debug, Clone)]
pub struct MemoryHandle(pub Arc<MemoryService>);

impl MemoryApi for MemoryHandle {
    fn call(&self, method: &str, params: Value) -> MemoryAction {
        let service = self.0.clone();
        let method = method.to_owned();
        Box::pin(async move { service.dispatch(&method, params).await })
    }
}
