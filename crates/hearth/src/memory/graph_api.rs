//! `memory.graph.*`: the knowledge graph over the control protocol. Types
//! come from `<agent workspace>/schemas/*.json`, read at each write so an
//! edited schema applies without a restart (and a broken one is reported
//! by the write that needs it).

use std::sync::Arc;

use hearth_gateway::MemoryApiError;
use hearth_gateway::protocol::memory::{
    GraphByKey, GraphEntityRef, GraphPaths, GraphRelate, GraphUpsert,
};
use hearth_memory::graph::{Direction, EntityRef, GraphError, Schemas};
use serde_json::{Value, json};

use super::MemoryService;
use super::api::{invalid, params};

fn graph_error(error: GraphError) -> MemoryApiError {
    let internal = matches!(error, GraphError::Storage(_) | GraphError::Open { .. });
    MemoryApiError {
        invalid: !internal,
        message: error.to_string(),
    }
}

fn entity(p: &GraphByKey) -> Result<EntityRef, MemoryApiError> {
    match (&p.type_name, &p.key) {
        (Some(t), Some(k)) => Ok(EntityRef::new(t.clone(), k.clone())),
        _ => Err(invalid("type and key name the entity")),
    }
}

fn entity_ref(r: GraphEntityRef) -> EntityRef {
    EntityRef::new(r.type_name, r.key)
}

fn direction(value: Option<String>, default: Direction) -> Result<Direction, MemoryApiError> {
    match value {
        None => Ok(default),
        Some(d) => serde_json::from_value(json!(d))
            .map_err(|_| invalid(format!("direction {d:?} is not out, in or both"))),
    }
}

impl MemoryService {
    fn schemas(&self, agent: &hearth_core::AgentId) -> Result<Schemas, MemoryApiError> {
        let workspace = self
            .workspace(agent)
            .ok_or_else(|| invalid("agent has no workspace"))?;
        Schemas::load(&workspace.join("schemas")).map_err(graph_error)
    }

    pub(super) async fn graph_call(
        self: Arc<Self>,
        method: &str,
        raw: Value,
    ) -> Result<Value, MemoryApiError> {
        let name = format!("memory.graph.{method}");
        let method = method.to_owned();
        let service = self.clone();
        let work = move || -> Result<Value, MemoryApiError> {
            let graph = &service.graph;
            match method.as_str() {
                "upsert" => {
                    let p: GraphUpsert = params(&name, raw)?;
                    let agent = service.agent(p.agent_id)?;
                    let schemas = service.schemas(&agent)?;
                    let done = graph
                        .upsert_entity(agent.as_str(), &schemas, &p.type_name, p.props)
                        .map_err(graph_error)?;
                    Ok(json!(done))
                }
                "relate" => {
                    let p: GraphRelate = params(&name, raw)?;
                    let agent = service.agent(p.agent_id)?;
                    let schemas = service.schemas(&agent)?;
                    let props = p.props.unwrap_or_else(|| json!({}));
                    let (from, to) = (entity_ref(p.from), entity_ref(p.to));
                    let done = graph
                        .relate(agent.as_str(), &schemas, &p.type_name, &from, &to, props)
                        .map_err(graph_error)?;
                    Ok(json!(done))
                }
                "get" => {
                    let p: GraphByKey = params(&name, raw)?;
                    let agent = service.agent(p.agent_id.clone())?;
                    let entity = entity(&p)?;
                    match graph
                        .get_entity(agent.as_str(), &entity.type_name, &entity.key)
                        .map_err(graph_error)?
                    {
                        Some(found) => Ok(json!({ "entity": found })),
                        None => Err(invalid(format!("entity {entity} does not exist"))),
                    }
                }
                "list" => {
                    let p: GraphByKey = params(&name, raw)?;
                    let agent = service.agent(p.agent_id)?;
                    let entities = graph
                        .list_entities(
                            agent.as_str(),
                            p.type_name.as_deref(),
                            p.limit.unwrap_or(100),
                        )
                        .map_err(graph_error)?;
                    Ok(json!({ "entities": entities }))
                }
                "neighbours" => {
                    let p: GraphByKey = params(&name, raw)?;
                    let agent = service.agent(p.agent_id.clone())?;
                    let found = graph
                        .neighbours(
                            agent.as_str(),
                            &entity(&p)?,
                            p.relation.as_deref(),
                            direction(p.direction.clone(), Direction::Both)?,
                            p.limit.unwrap_or(100),
                        )
                        .map_err(graph_error)?;
                    Ok(json!({ "neighbours": found }))
                }
                "paths" => {
                    let p: GraphPaths = params(&name, raw)?;
                    let agent = service.agent(p.agent_id)?;
                    let found = graph
                        .paths(
                            agent.as_str(),
                            &entity_ref(p.from),
                            &entity_ref(p.to),
                            p.max_depth.unwrap_or(3),
                            direction(p.direction, Direction::Out)?,
                            p.limit.unwrap_or(20),
                        )
                        .map_err(graph_error)?;
                    Ok(json!({ "paths": found }))
                }
                "history" => {
                    let p: GraphByKey = params(&name, raw)?;
                    let agent = service.agent(p.agent_id.clone())?;
                    let target = match (&p.type_name, &p.key) {
                        (None, None) => None,
                        _ => Some(entity(&p)?),
                    };
                    let changes = graph
                        .history(agent.as_str(), target.as_ref(), p.limit.unwrap_or(100))
                        .map_err(graph_error)?;
                    Ok(json!({ "changes": changes }))
                }
                "delete" => {
                    let p: GraphByKey = params(&name, raw)?;
                    let agent = service.agent(p.agent_id.clone())?;
                    let entity = entity(&p)?;
                    match graph
                        .delete_entity(agent.as_str(), &entity.type_name, &entity.key)
                        .map_err(graph_error)?
                    {
                        Some(deleted) => Ok(json!(deleted)),
                        None => Err(invalid(format!("entity {entity} does not exist"))),
                    }
                }
                other => Err(invalid(format!("unknown method: memory.graph.{other}"))),
            }
        };
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| MemoryApiError {
                invalid: false,
                message: format!("graph task failed: {e}"),
            })?
    }
}
