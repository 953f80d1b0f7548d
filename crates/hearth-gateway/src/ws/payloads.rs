//! Payload builders shared by several methods: session rows, `health`,
//! `status` and presence, in the shapes OpenClaw clients read.

use std::collections::BTreeMap;

use hearth_core::{SessionRecord, StoreError, now_ms};
use serde_json::{Value, json};

use crate::state::GatewayState;

/// Sessions read for `health` / `status` summaries; bounded so a large
/// install answers these in constant time.
const SUMMARY_SESSIONS: usize = 500;
/// Recent sessions listed per agent in summaries.
const RECENT_PER_AGENT: usize = 5;

/// The session key OpenClaw calls an agent's main session.
pub(crate) fn main_session_key(agent: &str) -> String {
    format!("agent:{agent}:main")
}

pub(crate) fn session_row(s: &SessionRecord) -> Value {
    let now = now_ms();
    json!({
        "key": s.key.as_str(),
        "sessionId": s.session_id,
        "agentId": s.agent_id.as_str(),
        "kind": "direct",
        "label": s.label,
        "displayName": s.label.clone().unwrap_or_else(|| s.key.to_string()),
        "createdAt": s.created_at_ms,
        "updatedAt": s.updated_at_ms,
        "age": (now - s.updated_at_ms).max(0),
        "messageCount": s.message_count,
        "inputTokens": s.input_tokens,
        "outputTokens": s.output_tokens,
        "totalTokens": s.input_tokens + s.output_tokens,
        "archived": false,
        "isMain": s.key.as_str() == main_session_key(s.agent_id.as_str()),
    })
}

/// Rows of recent sessions grouped by agent (every served agent present).
async fn sessions_by_agent(
    state: &GatewayState,
) -> Result<(usize, BTreeMap<String, Vec<Value>>), StoreError> {
    let sessions = state
        .runtime
        .store()
        .sessions(None, SUMMARY_SESSIONS)
        .await?;
    let mut by_agent: BTreeMap<String, Vec<Value>> = state
        .runtime
        .agents()
        .list()
        .iter()
        .map(|a| (a.id.to_string(), Vec::new()))
        .collect();
    for s in &sessions {
        by_agent
            .entry(s.agent_id.to_string())
            .or_default()
            .push(session_row(s));
    }
    Ok((sessions.len(), by_agent))
}

fn recent(rows: &[Value]) -> Vec<Value> {
    rows.iter().take(RECENT_PER_AGENT).cloned().collect()
}

pub(crate) async fn health(state: &GatewayState) -> Result<Value, StoreError> {
    let started = std::time::Instant::now();
    let (count, by_agent) = sessions_by_agent(state).await?;
    let default_agent = state.runtime.agents().default_agent().to_string();
    let agents: Vec<Value> = by_agent
        .iter()
        .map(|(id, rows)| {
            json!({
                "agentId": id,
                "isDefault": *id == default_agent,
                "heartbeat": { "enabled": false, "every": "disabled", "everyMs": 0 },
                "sessions": { "path": "hearth.db", "count": rows.len(), "recent": recent(rows) },
            })
        })
        .collect();
    let all: Vec<Value> = by_agent
        .values()
        .flatten()
        .take(RECENT_PER_AGENT)
        .cloned()
        .collect();
    Ok(json!({
        "ok": true,
        "ts": now_ms(),
        "durationMs": started.elapsed().as_millis() as u64,
        "defaultAgentId": default_agent,
        "agents": agents,
        "sessions": { "path": "hearth.db", "count": count, "recent": all },
        "channels": {},
        "channelOrder": [],
        "channelLabels": {},
        "heartbeatSeconds": 0,
        "pipeline": { "pending": state.runtime.pending(), "activeRuns": state.runtime.active_runs().len() },
    }))
}

pub(crate) async fn status(state: &GatewayState) -> Result<Value, StoreError> {
    let (count, by_agent) = sessions_by_agent(state).await?;
    let registry = state.runtime.agents();
    let default_agent = registry.default_agent().to_string();
    let default_settings = registry
        .get(registry.default_agent())
        .map(|a| a.settings.clone());
    let by_agent_rows: Vec<Value> = by_agent
        .iter()
        .map(|(id, rows)| json!({ "agentId": id, "path": "hearth.db", "count": rows.len(), "recent": recent(rows) }))
        .collect();
    let all_recent: Vec<Value> = by_agent
        .values()
        .flatten()
        .take(RECENT_PER_AGENT)
        .cloned()
        .collect();
    let agents = registry.list();
    let rows: Vec<Value> = agents
        .iter()
        .map(|a| json!({ "id": a.id.as_str(), "name": a.display_name() }))
        .collect();
    Ok(json!({
        "runtimeVersion": state.config.server_version,
        "heartbeat": { "defaultAgentId": default_agent, "agents": [] },
        "channelSummary": state.channels.get().map_or_else(|| json!([]), |c| c.statuses()),
        "queuedSystemEvents": [],
        "sessions": {
            "paths": ["hearth.db"],
            "count": count,
            "defaults": {
                "model": default_settings.as_ref().map(|s| s.model.clone()),
                "contextTokens": default_settings.as_ref().map(|s| s.context_tokens),
            },
            "recent": all_recent,
            "byAgent": by_agent_rows,
        },
        "cliProjection": {
            "agents": {
                "defaultId": default_agent,
                "ownership": if agents.len() == 1 { "sole" } else { "legacy" },
                "selectionRequired": false,
                "rows": rows,
            },
            "updateChannel": null,
        },
        "hearth": {
            "version": state.config.server_version,
            "uptimeMs": state.uptime_ms(),
            "pending": state.runtime.pending(),
            "activeRuns": state.runtime.active_runs().len(),
            "models": state.models.models(),
        },
    }))
}

/// The gateway's entry followed by each connected client's.
pub(crate) fn presence_list(state: &GatewayState) -> Vec<Value> {
    let mut list = vec![self_presence(state)];
    list.extend(state.presence.clients());
    list
}

/// This server's own presence entry.
pub(crate) fn self_presence(state: &GatewayState) -> Value {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "localhost".into());
    json!({
        "host": host,
        "version": state.config.server_version,
        "platform": std::env::consts::OS,
        "mode": "gateway",
        "reason": "self",
        "instanceId": state.boot_id,
        "text": format!("Gateway: {host} · hearth {} · mode gateway", state.config.server_version),
        "ts": now_ms(),
    })
}
