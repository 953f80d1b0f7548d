//! `hearth memory`: long-term memory and the knowledge graph through the
//! running daemon (which owns the memory database and its index).

use std::process::ExitCode;

use anyhow::{Context, Result};
use serde_json::{Value, json};

use crate::cli::{GraphAction, MemoryAction};
use crate::config::Config;

/// The control method and its parameters for an action.
fn request(action: &MemoryAction) -> Result<(&'static str, Value)> {
    Ok(match action {
        MemoryAction::Add {
            text,
            agent,
            tags,
            importance,
            kind,
            document,
        } => (
            "memory.add",
            json!({ "text": text, "agentId": agent, "tags": tags, "importance": importance,
                    "kind": kind, "document": document }),
        ),
        MemoryAction::Search {
            query,
            agent,
            limit,
            mode,
            tags,
            session,
        } => (
            "memory.search",
            json!({ "query": query, "agentId": agent, "limit": limit, "mode": mode,
                    "tags": tags, "session": session }),
        ),
        MemoryAction::List { agent, limit, tags } => (
            "memory.list",
            json!({ "agentId": agent, "limit": limit, "tags": tags }),
        ),
        MemoryAction::Rm { id, agent } => ("memory.remove", json!({ "id": id, "agentId": agent })),
        MemoryAction::Reindex => ("memory.reindex", json!({})),
        MemoryAction::Import { agent } => ("memory.import", json!({ "agentId": agent })),
        MemoryAction::Stats => ("memory.stats", json!({})),
        MemoryAction::Graph { action } => graph_request(action)?,
    })
}

fn graph_request(action: &GraphAction) -> Result<(&'static str, Value)> {
    let parse = |what: &str, text: &str| -> Result<Value> {
        serde_json::from_str(text).with_context(|| format!("{what} is not valid JSON"))
    };
    Ok(match action {
        GraphAction::Put {
            type_name,
            json,
            agent,
        } => (
            "memory.graph.upsert",
            json!({ "type": type_name, "props": parse("the entity", json)?, "agentId": agent }),
        ),
        GraphAction::Relate {
            type_name,
            from_type,
            from_key,
            to_type,
            to_key,
            props,
            agent,
        } => (
            "memory.graph.relate",
            json!({ "type": type_name, "from": { "type": from_type, "key": from_key },
                    "to": { "type": to_type, "key": to_key },
                    "props": parse("--props", props)?, "agentId": agent }),
        ),
        GraphAction::Get {
            type_name,
            key,
            agent,
        } => (
            "memory.graph.get",
            json!({ "type": type_name, "key": key, "agentId": agent }),
        ),
        GraphAction::List { type_name, agent } => (
            "memory.graph.list",
            json!({ "type": type_name, "agentId": agent }),
        ),
        GraphAction::Neighbours {
            type_name,
            key,
            relation,
            agent,
        } => (
            "memory.graph.neighbours",
            json!({ "type": type_name, "key": key, "relation": relation, "agentId": agent }),
        ),
        GraphAction::Paths {
            from_type,
            from_key,
            to_type,
            to_key,
            depth,
            agent,
        } => (
            "memory.graph.paths",
            json!({ "from": { "type": from_type, "key": from_key },
                    "to": { "type": to_type, "key": to_key }, "maxDepth": depth, "agentId": agent }),
        ),
        GraphAction::History {
            type_name,
            key,
            agent,
        } => (
            "memory.graph.history",
            json!({ "type": type_name, "key": key, "agentId": agent }),
        ),
        GraphAction::Rm {
            type_name,
            key,
            agent,
        } => (
            "memory.graph.delete",
            json!({ "type": type_name, "key": key, "agentId": agent }),
        ),
    })
}

/// Drops nulls so optional flags left out are not sent.
fn without_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, without_nulls(v)))
                .collect(),
        ),
        other => other,
    }
}

pub async fn run(config: &Config, action: MemoryAction, json_out: bool) -> Result<ExitCode> {
    let (method, params) = request(&action)?;
    let mut client = super::connect(config).await?;
    let result = client.request(method, without_nulls(params)).await;
    client.close().await;
    let result = result?;
    if json_out {
        super::print_json(&result);
        return Ok(ExitCode::SUCCESS);
    }
    match action {
        MemoryAction::Search { .. } => {
            let hits = result["hits"].as_array().cloned().unwrap_or_default();
            if hits.is_empty() {
                println!("nothing found");
            }
            for hit in hits {
                println!(
                    "{:>6}  {:.3}  {}",
                    hit["item"]["id"],
                    hit["score"].as_f64().unwrap_or(0.0),
                    one_line(&hit["item"]["text"])
                );
            }
        }
        MemoryAction::List { .. } => {
            let items = result["items"].as_array().cloned().unwrap_or_default();
            if items.is_empty() {
                println!("no memories yet");
            }
            for item in items {
                println!(
                    "{:>6}  {:<12}  {}",
                    item["id"],
                    item["kind"].as_str().unwrap_or(""),
                    one_line(&item["text"])
                );
            }
        }
        MemoryAction::Add { .. } => println!("remembered: id {}", result["ids"]),
        MemoryAction::Rm { id, .. } => println!("removed memory {id}"),
        _ => super::print_json(&result),
    }
    Ok(ExitCode::SUCCESS)
}

fn one_line(text: &Value) -> String {
    let text = text.as_str().unwrap_or("").replace('\n', " ");
    if text.chars().count() > 100 {
        format!("{}…", text.chars().take(99).collect::<String>())
    } else {
        text
    }
}
