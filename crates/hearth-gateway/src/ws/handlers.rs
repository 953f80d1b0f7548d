//! One function per method. Each returns the `res` payload or an error
//! shape; `agent` additionally asks the connection to send a second answer
//! when the run ends.

use std::time::Duration;

use hearth_agent::{AgentError, AgentSettings, SubmitError, Submitted};
use hearth_core::{AgentId, InboundMessage, RunRecord, RunState, SessionKey, StoreError, now_ms};
use serde_json::{Value, json};

use super::events::assistant_message;
use super::payloads::{self, main_session_key, session_row};
use crate::protocol::errors::{self, detail};
use crate::protocol::events::{
    AgentAccepted, AgentResult, AgentResultBody, ReplyPayload, SendResult,
};
use crate::protocol::frames::ErrorShape;
use crate::protocol::method::Method;
use crate::protocol::params::*;
use crate::state::GatewayState;

/// Longest an `agent` call waits for its result (OpenClaw's default is 600 s).
const MAX_AGENT_WAIT: Duration = Duration::from_secs(3600);
const DEFAULT_AGENT_WAIT: Duration = Duration::from_secs(600);
/// `agent.wait` default when the client gives no timeout.
const DEFAULT_WAIT_MS: u64 = 30_000;
/// Transcript rows `chat.history` returns by default, and at most.
const DEFAULT_HISTORY: u32 = 200;
const MAX_HISTORY: u32 = 1000;
const DEFAULT_SESSIONS: u32 = 100;
const MAX_SESSIONS: u32 = 1000;

/// What the connection should send.
pub(crate) enum Reply {
    Now(Result<Value, ErrorShape>),
    /// Send `accepted` now, then the run's result when it ends.
    Deferred {
        accepted: Value,
        run_id: String,
        timeout: Duration,
        accepted_at: i64,
    },
}

/// Sessions a request touched, so the connection forwards their events.
pub(crate) struct Touched(pub Option<SessionKey>);

pub(crate) fn store_error(error: StoreError) -> ErrorShape {
    match error {
        StoreError::NotFound(what) => {
            ErrorShape::new(errors::NOT_FOUND, format!("not found: {what}"))
        }
        StoreError::Conflict(what) => ErrorShape::invalid(format!("already exists: {what}")),
        StoreError::Invalid(why) => ErrorShape::invalid(why),
        StoreError::Backend(why) => {
            tracing::error!(error = %why, "storage failure");
            let mut e = ErrorShape::new(errors::UNAVAILABLE, "storage failure; see the server log");
            e.retryable = Some(true);
            e
        }
    }
}

fn submit_error(error: SubmitError) -> ErrorShape {
    match error {
        SubmitError::Busy { .. } | SubmitError::SessionBusy { .. } => {
            ErrorShape::new(errors::UNAVAILABLE, error.to_string())
                .with_detail(detail::BUSY)
                .retry_after(1000)
        }
        SubmitError::ShuttingDown => {
            ErrorShape::new(errors::UNAVAILABLE, error.to_string()).retry_after(5000)
        }
        SubmitError::Starting => {
            ErrorShape::new(errors::UNAVAILABLE, error.to_string()).retry_after(500)
        }
        SubmitError::UnknownAgent(id) => ErrorShape::invalid(format!("unknown agent id \"{id}\"")),
        SubmitError::Store(e) => store_error(e),
    }
}

fn agent_error(error: AgentError) -> ErrorShape {
    match error {
        AgentError::Unknown(id) => {
            ErrorShape::new(errors::NOT_FOUND, format!("unknown agent id \"{id}\""))
        }
        AgentError::Store(e) => store_error(e),
        other => ErrorShape::invalid(other.to_string()),
    }
}

fn key(raw: &str) -> Result<SessionKey, ErrorShape> {
    SessionKey::new(raw).map_err(|e| ErrorShape::invalid(e.to_string()))
}

fn agent_id(raw: &str) -> Result<AgentId, ErrorShape> {
    AgentId::new(raw).map_err(|e| ErrorShape::invalid(e.to_string()))
}

/// The agent a request is for: named explicitly, else named by the session
/// key, else the default agent.
fn resolve_agent(
    state: &GatewayState,
    explicit: Option<&str>,
    session: Option<&SessionKey>,
) -> Result<AgentId, ErrorShape> {
    match explicit {
        Some(raw) => agent_id(raw),
        None => Ok(session
            .and_then(SessionKey::agent_id)
            .unwrap_or_else(|| state.runtime.agents().default_agent().clone())),
    }
}

fn new_run_id(idempotency_key: Option<String>) -> Result<String, ErrorShape> {
    match idempotency_key {
        Some(k) if k.is_empty() || k.len() > 128 => Err(ErrorShape::invalid(
            "idempotencyKey must be 1 to 128 characters",
        )),
        Some(k) => Ok(k),
        None => Ok(uuid::Uuid::new_v4().to_string()),
    }
}

fn inbound(
    run_id: String,
    session_key: SessionKey,
    agent_id: AgentId,
    text: String,
) -> Result<InboundMessage, ErrorShape> {
    if text.trim().is_empty() {
        return Err(ErrorShape::invalid("message must not be empty"));
    }
    Ok(InboundMessage {
        id: run_id,
        session_key,
        agent_id,
        channel: "gateway".into(),
        text,
        context: Vec::new(),
        received_at_ms: now_ms(),
        origin: None,
    })
}

/// Submits and answers like `chat.send`: `started`, or for a repeated
/// idempotency key, `in_flight` / `ok` with the earlier run's id.
async fn send(state: &GatewayState, message: InboundMessage) -> Result<Value, ErrorShape> {
    match state.runtime.submit(message).await.map_err(submit_error)? {
        Submitted::Accepted { run_id, .. } => Ok(json!(SendResult {
            run_id,
            status: "started".into()
        })),
        Submitted::Duplicate(run) => Ok(json!(SendResult {
            status: if run.state.is_finished() {
                "ok"
            } else {
                "in_flight"
            }
            .into(),
            run_id: run.run_id,
        })),
    }
}

/// Records an operator action in the audit log. A failed write is logged,
/// not fatal: the action itself already happened.
pub(crate) async fn audit(state: &GatewayState, actor: &str, action: &str, detail: Value) {
    if let Err(error) = state.runtime.store().audit(actor, action, &detail).await {
        tracing::warn!(%error, action, "could not write the audit log");
    }
}

pub(crate) async fn dispatch(
    state: &GatewayState,
    method: Method,
    actor: &str,
) -> (Reply, Touched) {
    match method {
        Method::Agent(p) => match agent(state, p).await {
            Ok((reply, session)) => (reply, Touched(Some(session))),
            Err(e) => (Reply::Now(Err(e)), Touched(None)),
        },
        other => {
            let action = audited_action(&other);
            let (result, touched) = simple(state, other, actor).await;
            if let (Some((action, detail)), Ok(_)) = (action, &result) {
                audit(state, actor, action, detail).await;
            }
            (Reply::Now(result), Touched(touched))
        }
    }
}

async fn agent(state: &GatewayState, p: AgentRun) -> Result<(Reply, SessionKey), ErrorShape> {
    let explicit_key = p.session_key.as_deref().map(key).transpose()?;
    let agent = resolve_agent(state, p.agent_id.as_deref(), explicit_key.as_ref())?;
    let session = match explicit_key {
        Some(k) => k,
        None => key(&main_session_key(agent.as_str()))?,
    };
    let run_id = new_run_id(p.idempotency_key)?;
    let message = inbound(run_id, session.clone(), agent.clone(), p.message)?;
    let accepted_at = now_ms();
    let run_id = match state.runtime.submit(message).await.map_err(submit_error)? {
        Submitted::Accepted { run_id, .. } => run_id,
        // A retry of a run we know: answer with that run's result.
        Submitted::Duplicate(run) => run.run_id,
    };
    let timeout = p
        .timeout
        .map_or(DEFAULT_AGENT_WAIT, Duration::from_secs)
        .min(MAX_AGENT_WAIT);
    let accepted = json!(AgentAccepted {
        run_id: run_id.clone(),
        session_key: session.to_string(),
        agent_id: agent.to_string(),
        status: "accepted".into(),
        accepted_at,
    });
    Ok((
        Reply::Deferred {
            accepted,
            run_id,
            timeout,
            accepted_at,
        },
        session,
    ))
}

/// The second `agent` answer: the run's result, in OpenClaw's shape.
pub(crate) fn agent_result(
    state: &GatewayState,
    run_id: &str,
    run: Option<RunRecord>,
    accepted_at: i64,
) -> Result<Value, Box<(Value, ErrorShape)>> {
    let Some(run) = run else {
        let e = ErrorShape::new(errors::NOT_FOUND, format!("run {run_id} no longer exists"));
        let payload = AgentResult {
            run_id: run_id.to_owned(),
            status: "error".into(),
            summary: e.message.clone(),
            result: None,
        };
        return Err(Box::new((json!(payload), e)));
    };
    if !run.state.is_finished() {
        return Ok(json!(AgentResult {
            run_id: run_id.to_owned(),
            status: "timeout".into(),
            summary: "timed out waiting for the run".into(),
            result: None,
        }));
    }
    let text = run.reply.clone().unwrap_or_default();
    let model = state
        .runtime
        .agents()
        .get(&run.agent_id)
        .map(|a| a.settings.model.clone());
    // The agent's primary model's provider (a fallback may have answered).
    let provider = model.as_ref().and_then(|name| {
        state
            .models
            .models()
            .into_iter()
            .find(|m| &m.id == name)
            .map(|m| m.provider)
    });
    let duration = run.finished_at_ms.unwrap_or_else(now_ms) - accepted_at.min(run.accepted_at_ms);
    let summary = match run.state {
        RunState::Aborted => "aborted",
        RunState::Failed => "failed",
        _ => "completed",
    };
    let failed = run.state == RunState::Failed;
    let payload = json!(AgentResult {
        run_id: run_id.to_owned(),
        status: if failed { "error" } else { "ok" }.into(),
        summary: if failed {
            run.error.clone().unwrap_or_default()
        } else {
            summary.to_owned()
        },
        result: Some(AgentResultBody {
            payloads: vec![ReplyPayload {
                text,
                media_url: None
            }],
            meta: json!({
                "durationMs": duration.max(0),
                "agentMeta": {
                    "sessionKey": run.session_key.as_str(),
                    "agentId": run.agent_id.as_str(),
                    "provider": provider,
                    "model": model,
                    "usage": {
                        "input": run.usage.input_tokens,
                        "output": run.usage.output_tokens,
                        "total": run.usage.input_tokens + run.usage.output_tokens,
                    },
                },
                "aborted": run.state == RunState::Aborted,
                "stopReason": summary,
            }),
        }),
    });
    if run.state == RunState::Failed {
        let e = ErrorShape::new(
            errors::UNAVAILABLE,
            run.error.unwrap_or_else(|| "the run failed".into()),
        );
        return Err(Box::new((payload, e)));
    }
    Ok(payload)
}

async fn simple(
    state: &GatewayState,
    method: Method,
    actor: &str,
) -> (Result<Value, ErrorShape>, Option<SessionKey>) {
    let mut touched = None;
    let result = async {
        match method {
            Method::Connect(_) => Err(ErrorShape::invalid("already connected")),
            Method::Agent(_) => unreachable!("handled by dispatch"),
            Method::Health => payloads::health(state).await.map_err(store_error),
            Method::Status => payloads::status(state).await.map_err(store_error),
            Method::SystemPresence => Ok(json!(payloads::presence_list(state))),
            Method::ChatSend(p) => {
                let session = key(&p.session_key)?;
                touched = Some(session.clone());
                let agent = resolve_agent(state, p.agent_id.as_deref(), Some(&session))?;
                let run_id = new_run_id(p.idempotency_key)?;
                send(state, inbound(run_id, session, agent, p.message)?).await
            }
            Method::SessionsSend(p) => {
                let session = key(&p.key)?;
                touched = Some(session.clone());
                let agent = resolve_agent(state, p.agent_id.as_deref(), Some(&session))?;
                let run_id = new_run_id(p.idempotency_key)?;
                let mut answer = send(state, inbound(run_id, session.clone(), agent, p.message)?).await?;
                answer["ok"] = json!(true);
                answer["key"] = json!(session.as_str());
                Ok(answer)
            }
            Method::ChatHistory(p) => {
                let session = key(&p.session_key)?;
                touched = Some(session.clone());
                history(state, &session, p.limit).await
            }
            Method::ChatAbort(p) => {
                let session = key(&p.session_key)?;
                Ok(abort_answer(state.runtime.abort(&session, p.run_id.as_deref())))
            }
            Method::SessionsAbort(p) => {
                let session = match (p.key, &p.run_id) {
                    (Some(k), _) => key(&k)?,
                    (None, Some(run)) => match state.runtime.store().run(run).await.map_err(store_error)? {
                        Some(r) => r.session_key,
                        None => return Ok(abort_answer(None)),
                    },
                    (None, None) => return Err(ErrorShape::invalid("sessions.abort needs key or runId")),
                };
                Ok(abort_answer(state.runtime.abort(&session, p.run_id.as_deref())))
            }
            Method::AgentWait(p) => {
                let timeout = Duration::from_millis(p.timeout_ms.unwrap_or(DEFAULT_WAIT_MS)).min(MAX_AGENT_WAIT);
                let run = state.runtime.wait(&p.run_id, timeout).await.map_err(store_error)?;
                let Some(run) = run else {
                    return Err(ErrorShape::new(errors::NOT_FOUND, format!("unknown run {}", p.run_id)));
                };
                let status = match run.state {
                    RunState::Done | RunState::Aborted => "ok",
                    RunState::Failed => "error",
                    RunState::Queued | RunState::Running => "timeout",
                };
                Ok(json!({
                    "runId": run.run_id,
                    "status": status,
                    "state": run.state.as_str(),
                    "startedAt": run.accepted_at_ms,
                    "endedAt": run.finished_at_ms,
                    "error": run.error,
                    "text": run.reply,
                }))
            }
            Method::SessionsList(p) => {
                let agent = p.agent_id.as_deref().map(agent_id).transpose()?;
                let limit = p.limit.unwrap_or(DEFAULT_SESSIONS).clamp(1, MAX_SESSIONS) as usize;
                let rows = state.runtime.store().sessions(agent.as_ref(), limit + 1).await.map_err(store_error)?;
                let has_more = rows.len() > limit;
                let sessions: Vec<Value> = rows.iter().take(limit).map(session_row).collect();
                let default = state.runtime.agents().get(state.runtime.agents().default_agent());
                Ok(json!({
                    "ts": now_ms(),
                    "path": "hearth.db",
                    "count": sessions.len(),
                    "defaults": {
                        "model": default.as_ref().map(|a| a.settings.model.clone()),
                        "modelProvider": null,
                        "contextTokens": default.as_ref().map(|a| a.settings.context_tokens),
                    },
                    "sessions": sessions,
                    "hasMore": has_more,
                }))
            }
            Method::SessionsGet(p) => {
                let session = key(&p.key)?;
                let record = state.runtime.store().session(&session).await.map_err(store_error)?;
                let record = record.ok_or_else(|| ErrorShape::new(errors::NOT_FOUND, format!("no session {session}")))?;
                Ok(json!({ "ok": true, "key": session.as_str(), "sessionId": record.session_id, "entry": session_row(&record) }))
            }
            Method::SessionsCreate(p) => {
                let agent = match p.agent_id.as_deref() {
                    Some(raw) => agent_id(raw)?,
                    None => state.runtime.agents().default_agent().clone(),
                };
                if state.runtime.agents().get(&agent).is_none() {
                    return Err(ErrorShape::new(errors::NOT_FOUND, format!("unknown agent id \"{agent}\"")));
                }
                let session = match p.key {
                    Some(k) => key(&k)?,
                    None => key(&format!("agent:{agent}:{}", uuid::Uuid::new_v4()))?,
                };
                touched = Some(session.clone());
                let record =
                    state.runtime.store().ensure_session(&session, &agent, p.label.as_deref()).await.map_err(store_error)?;
                let mut answer = json!({ "ok": true, "key": session.as_str(), "sessionId": record.session_id, "entry": session_row(&record), "runStarted": false });
                if let Some(text) = p.message {
                    let run = send(state, inbound(uuid::Uuid::new_v4().to_string(), session, agent, text)?).await?;
                    answer["runStarted"] = json!(true);
                    answer["runId"] = run["runId"].clone();
                }
                Ok(answer)
            }
            Method::SessionsReset(p) => {
                let session = key(&p.key)?;
                check_expected(state, &session, p.expected_session_id.as_deref()).await?;
                if !state.runtime.store().reset_session(&session).await.map_err(store_error)? {
                    return Err(ErrorShape::new(errors::NOT_FOUND, format!("no session {session}")));
                }
                let record = state.runtime.store().session(&session).await.map_err(store_error)?;
                Ok(json!({ "ok": true, "key": session.as_str(), "sessionId": record.as_ref().map(|r| r.session_id.clone()), "entry": record.as_ref().map(session_row) }))
            }
            Method::SessionsDelete(p) => {
                let session = key(&p.key)?;
                check_expected(state, &session, p.expected_session_id.as_deref()).await?;
                state.runtime.abort(&session, None);
                let deleted = state.runtime.store().delete_session(&session).await.map_err(store_error)?;
                Ok(json!({ "ok": true, "key": session.as_str(), "deleted": deleted, "archived": [] }))
            }
            Method::AgentsList => Ok(agents_list(state)),
            Method::AgentsCreate(p) => {
                let id = slug(&p.name)?;
                let model = match p.model {
                    Some(m) => m,
                    None => state
                        .runtime
                        .agents()
                        .get(state.runtime.agents().default_agent())
                        .map(|a| a.settings.model.clone())
                        .unwrap_or_default(),
                };
                let mut settings = AgentSettings::new(model);
                settings.name = Some(p.name.clone());
                settings.workspace = p.workspace.map(Into::into);
                let agent = state.runtime.agents().create(id, settings).await.map_err(agent_error)?;
                Ok(json!({
                    "ok": true,
                    "agentId": agent.id.as_str(),
                    "name": agent.display_name(),
                    "workspace": agent.workspace.display().to_string(),
                    "model": agent.settings.model,
                }))
            }
            Method::AgentsUpdate(p) => {
                let id = agent_id(&p.agent_id)?;
                let current = state
                    .runtime
                    .agents()
                    .get(&id)
                    .ok_or_else(|| ErrorShape::new(errors::NOT_FOUND, format!("unknown agent id \"{id}\"")))?;
                let mut settings = current.settings.clone();
                if let Some(name) = p.name {
                    settings.name = Some(name);
                }
                if let Some(workspace) = p.workspace {
                    settings.workspace = Some(workspace.into());
                }
                if let Some(model) = p.model {
                    settings.model = model;
                }
                state.runtime.agents().update(&id, settings).await.map_err(agent_error)?;
                Ok(json!({ "ok": true, "agentId": id.as_str() }))
            }
            Method::AgentsDelete(p) => {
                let id = agent_id(&p.agent_id)?;
                state.runtime.agents().delete(&id).await.map_err(agent_error)?;
                Ok(json!({ "ok": true, "agentId": id.as_str(), "removedBindings": 0 }))
            }
            Method::ModelsList => Ok(json!({ "models": state.models.models() })),
            Method::ModelsLoad(p) => state.models.load(&p.name).await.map_err(ErrorShape::invalid),
            Method::ModelsUnload(p) => {
                state.models.unload(&p.name).await.map_err(ErrorShape::invalid)
            }
            Method::Memory { name, params } => match state.memory.get() {
                None => Err(ErrorShape::new(
                    errors::UNAVAILABLE,
                    "memory is off in this daemon ([memory] enabled = false)",
                )),
                Some(memory) => memory.call(name, params).await.map_err(service_error),
            },
            Method::Channels { name, params } => match state.channels.get() {
                None => Err(ErrorShape::new(
                    errors::UNAVAILABLE,
                    "this daemon hosts no chat channels (add one with `hearth channels add`)",
                )),
                Some(channels) => channels.call(name, params).await.map_err(service_error),
            },
            Method::ApprovalList => {
                let pending = state.approvals.get().map(|b| b.pending()).unwrap_or_default();
                Ok(json!({ "ts": now_ms(), "approvals": pending }))
            }
            Method::ApprovalResolve(p) => {
                let broker = state.approvals.get().ok_or_else(|| {
                    ErrorShape::new(errors::NOT_FOUND, format!("no pending approval {:?}", p.id))
                })?;
                let approve = p.decision == ApprovalChoice::AllowOnce;
                broker
                    .resolve(&p.id, approve, actor)
                    .map_err(|e| ErrorShape::new(errors::NOT_FOUND, e.to_string()))?;
                Ok(json!({ "ok": true, "id": p.id, "decision": p.decision }))
            }
        }
    }
    .await;
    (result, touched)
}

/// A service's failure: the caller's mistake (`invalid`), or unavailable.
fn service_error(e: crate::state::MemoryApiError) -> ErrorShape {
    if e.invalid {
        ErrorShape::invalid(e.message)
    } else {
        ErrorShape::new(errors::UNAVAILABLE, e.message)
    }
}

/// The answer of `chat.abort` and `sessions.abort`.
fn abort_answer(aborted: Option<String>) -> Value {
    json!({ "ok": true, "aborted": aborted.is_some(), "runIds": aborted.into_iter().collect::<Vec<_>>() })
}

/// The audit entry for methods that change agents or delete data.
fn audited_action(method: &Method) -> Option<(&'static str, Value)> {
    Some(match method {
        Method::AgentsCreate(p) => ("agents.create", json!({ "name": p.name, "model": p.model })),
        Method::AgentsUpdate(p) => (
            "agents.update",
            json!({ "agentId": p.agent_id, "name": p.name, "model": p.model }),
        ),
        Method::AgentsDelete(p) => ("agents.delete", json!({ "agentId": p.agent_id })),
        Method::ModelsLoad(p) => ("models.load", json!({ "name": p.name })),
        Method::ModelsUnload(p) => ("models.unload", json!({ "name": p.name })),
        Method::SessionsDelete(p) => ("sessions.delete", json!({ "key": p.key })),
        Method::SessionsReset(p) => ("sessions.reset", json!({ "key": p.key })),
        Method::ApprovalResolve(p) => (
            "exec.approval.resolve",
            json!({ "id": p.id, "decision": p.decision }),
        ),
        Method::Memory { name, params }
            if matches!(
                *name,
                "memory.remove" | "memory.reindex" | "memory.graph.delete"
            ) =>
        {
            (name, params.clone())
        }
        _ => return None,
    })
}

async fn check_expected(
    state: &GatewayState,
    session: &SessionKey,
    expected: Option<&str>,
) -> Result<(), ErrorShape> {
    let Some(expected) = expected else {
        return Ok(());
    };
    let record = state
        .runtime
        .store()
        .session(session)
        .await
        .map_err(store_error)?;
    match record {
        Some(r) if r.session_id == expected => Ok(()),
        Some(_) => Err(ErrorShape::invalid(format!(
            "session {session} changed (expected session id {expected})"
        ))),
        None => Err(ErrorShape::new(
            errors::NOT_FOUND,
            format!("no session {session}"),
        )),
    }
}

async fn history(
    state: &GatewayState,
    session: &SessionKey,
    limit: Option<u32>,
) -> Result<Value, ErrorShape> {
    let limit = limit.unwrap_or(DEFAULT_HISTORY).clamp(1, MAX_HISTORY) as usize;
    let record = state
        .runtime
        .store()
        .session(session)
        .await
        .map_err(store_error)?;
    let entries = state
        .runtime
        .store()
        .history(session, limit)
        .await
        .map_err(store_error)?;
    let messages: Vec<Value> = entries
        .iter()
        .map(|e| {
            let mut m = assistant_message(&e.message.content, e.at_ms);
            m["role"] = json!(e.message.role.as_str());
            m["runId"] = json!(e.run_id);
            if !e.message.tool_calls.is_empty() {
                m["toolCalls"] = json!(e.message.tool_calls);
            }
            if let Some(id) = &e.message.tool_call_id {
                m["toolCallId"] = json!(id);
            }
            m
        })
        .collect();
    Ok(json!({
        "sessionKey": session.as_str(),
        "sessionId": record.map(|r| r.session_id),
        "messages": messages,
    }))
}

fn agents_list(state: &GatewayState) -> Value {
    let registry = state.runtime.agents();
    let agents = registry.list();
    let rows: Vec<Value> = agents
        .iter()
        .map(|a| {
            json!({
                "id": a.id.as_str(),
                "name": a.display_name(),
                "kind": "agent",
                "workspace": a.workspace.display().to_string(),
                "model": { "primary": a.settings.model, "fallbacks": a.settings.fallbacks },
                "source": match a.source { hearth_agent::AgentSource::Config => "config", hearth_agent::AgentSource::Runtime => "runtime" },
            })
        })
        .collect();
    json!({
        "defaultId": registry.default_agent().as_str(),
        "mainKey": "main",
        "scope": "per-sender",
        "ownership": if agents.len() == 1 { "sole" } else { "legacy" },
        "selectionRequired": false,
        "agents": rows,
    })
}

/// An agent id from a display name: lowercase, runs of other characters
/// become `-`.
fn slug(name: &str) -> Result<AgentId, ErrorShape> {
    let mut id = String::new();
    for c in name.trim().chars() {
        if c.is_ascii_alphanumeric() {
            id.push(c.to_ascii_lowercase());
        } else if !id.ends_with('-') && !id.is_empty() {
            id.push('-');
        }
    }
    let id = id.trim_end_matches('-');
    AgentId::new(id)
        .map_err(|_| ErrorShape::invalid(format!("cannot make an agent id from the name {name:?}")))
}

#[cfg(test)]
mod tests {
    #[test]
    fn slugs_are_valid_agent_ids() {
        assert_eq!(super::slug("Ops Team!").unwrap().as_str(), "ops-team");
        assert!(super::slug("!!!").is_err());
    }
}
