//! The OpenAI-compatible API: `/v1/chat/completions` runs a turn of the
//! agent named by `model` through the same durable pipeline as every other
//! client; `/v1/models` lists the agents.
//!
//! Sessions: with an `x-hearth-session-key` header (or OpenAI's `user`
//! field) the conversation is stateful — Hearth keeps the history and only
//! the last user message is taken from the request. Without one, the call is
//! stateless: a fresh session whose context is the request's own messages.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use hearth_agent::{RunEventKind, Submitted};
use hearth_core::{
    AgentId, ChatMessage, InboundMessage, Role, RunRecord, RunState, SessionKey, now_ms,
};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::broadcast;

use super::error::ApiError;
use crate::state::GatewayState;

/// How long a request waits for its answer.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(600);

#[derive(Debug, Deserialize)]
pub struct CompletionRequest {
    pub model: String,
    pub messages: Vec<RequestMessage>,
    #[serde(default)]
    pub stream: bool,
    #[serde(default)]
    pub user: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct RequestMessage {
    pub role: String,
    /// A string, or an array of content parts of which the text parts count.
    #[serde(default)]
    pub content: Value,
}

fn text_of(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter(|p| p.get("type").and_then(Value::as_str) == Some("text"))
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

/// Checks the bearer token when the gateway requires one.
pub(crate) fn authorize(
    state: &GatewayState,
    headers: &HeaderMap,
    peer: std::net::IpAddr,
) -> Result<(), ApiError> {
    if !state.auth.required() {
        return Ok(());
    }
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    state.auth.check(peer, token).map_err(|e| match e {
        crate::auth::AuthError::RateLimited(wait) => {
            let mut err = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limit_error",
                "too many failed authentication attempts",
            );
            err.retry_after_secs = Some(wait.as_secs().max(1));
            err
        }
        _ => ApiError::unauthorized(
            "missing or invalid bearer token (gateway.token in hearth's config)",
        ),
    })
}

/// `model` names an agent: `main`, `hearth:main` or `openclaw:main`.
fn agent_for_model(state: &GatewayState, model: &str) -> Result<AgentId, ApiError> {
    let id = model
        .strip_prefix("hearth:")
        .or_else(|| model.strip_prefix("openclaw:"))
        .unwrap_or(model);
    let id = AgentId::new(id).map_err(|_| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            format!("unknown model \"{model}\"; models name agents (GET /v1/models)"),
        )
    })?;
    if state.runtime.agents().get(&id).is_none() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            format!("unknown model \"{model}\"; models name agents (GET /v1/models)"),
        ));
    }
    Ok(id)
}

fn build_inbound(
    state: &GatewayState,
    headers: &HeaderMap,
    request: CompletionRequest,
) -> Result<(InboundMessage, bool), ApiError> {
    let agent = agent_for_model(state, &request.model)?;
    let Some(last_user) = request.messages.iter().rposition(|m| m.role == "user") else {
        return Err(ApiError::bad_request(
            "messages must contain a user message",
        ));
    };
    let text = text_of(&request.messages[last_user].content);
    if text.trim().is_empty() {
        return Err(ApiError::bad_request("the last user message is empty"));
    }
    let explicit = headers
        .get("x-hearth-session-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (session_key, stateful) = match (explicit, request.user.as_deref()) {
        (Some(key), _) => (key, true),
        (None, Some(user)) => (format!("agent:{agent}:openai:{user}"), true),
        (None, None) => (
            format!("agent:{agent}:openai:{}", uuid::Uuid::new_v4()),
            false,
        ),
    };
    let session_key =
        SessionKey::new(session_key).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let context = if stateful {
        Vec::new()
    } else {
        request.messages[..last_user]
            .iter()
            .filter_map(|m| {
                Role::parse(&m.role).map(|role| ChatMessage::new(role, text_of(&m.content)))
            })
            .collect()
    };
    let id = match headers.get("idempotency-key").and_then(|v| v.to_str().ok()) {
        Some(key) if !key.is_empty() && key.len() <= 128 => key.to_owned(),
        Some(_) => {
            return Err(ApiError::bad_request(
                "Idempotency-Key must be 1 to 128 characters",
            ));
        }
        None => uuid::Uuid::new_v4().to_string(),
    };
    let message = InboundMessage {
        id,
        session_key,
        agent_id: agent,
        channel: "openai".into(),
        text,
        context,
        received_at_ms: now_ms(),
        origin: None,
    };
    Ok((message, stateful))
}

pub async fn chat_completions(
    State(state): State<Arc<GatewayState>>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    authorize(&state, &headers, peer.ip())?;
    let request: CompletionRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("invalid request body: {e}")))?;
    let stream = request.stream;
    let model = request.model.clone();
    let (message, _) = build_inbound(&state, &headers, request)?;
    // Subscribe before submitting so no event of this run is missed.
    let events = state.runtime.subscribe();
    let run_id = match state.runtime.submit(message).await? {
        Submitted::Accepted { run_id, .. } => run_id,
        Submitted::Duplicate(run) => run.run_id,
    };
    if stream {
        return Ok(stream_response(state, events, run_id, model));
    }
    let run = state.runtime.wait(&run_id, ANSWER_TIMEOUT).await?;
    let run = finished(run, &run_id)?;
    let (prompt, completion) = (run.usage.input_tokens, run.usage.output_tokens);
    Ok(Json(json!({
        "id": format!("chatcmpl-{run_id}"),
        "object": "chat.completion",
        "created": now_ms() / 1000,
        "model": model,
        "choices": [{
            "index": 0,
            "message": { "role": "assistant", "content": run.reply.unwrap_or_default() },
            "finish_reason": if run.state == RunState::Aborted { "length" } else { "stop" },
        }],
        "usage": { "prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion },
    }))
    .into_response())
}

fn finished(run: Option<RunRecord>, run_id: &str) -> Result<RunRecord, ApiError> {
    let run = run.ok_or_else(|| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            format!("run {run_id} vanished"),
        )
    })?;
    match run.state {
        RunState::Queued | RunState::Running => Err(ApiError::new(
            StatusCode::GATEWAY_TIMEOUT,
            "server_error",
            format!(
                "no answer within {}s; run {run_id} continues",
                ANSWER_TIMEOUT.as_secs()
            ),
        )),
        RunState::Failed => Err(ApiError::new(
            StatusCode::BAD_GATEWAY,
            "provider_error",
            run.error.unwrap_or_else(|| "the model failed".into()),
        )),
        _ => Ok(run),
    }
}

fn chunk(run_id: &str, model: &str, delta: Value, finish: Option<&str>) -> String {
    let body = json!({
        "id": format!("chatcmpl-{run_id}"),
        "object": "chat.completion.chunk",
        "created": now_ms() / 1000,
        "model": model,
        "choices": [{ "index": 0, "delta": delta, "finish_reason": finish }],
    });
    format!("data: {body}\n\n")
}

fn stream_response(
    state: Arc<GatewayState>,
    events: broadcast::Receiver<Arc<hearth_agent::RunEvent>>,
    run_id: String,
    model: String,
) -> Response {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<String, std::convert::Infallible>>(64);
    let tracker = state.tasks.clone();
    tracker.spawn(async move {
        let mut events = events;
        let mut sent = 0usize;
        let _ = tx.send(Ok(chunk(&run_id, &model, json!({ "role": "assistant", "content": "" }), None))).await;
        let deadline = tokio::time::Instant::now() + ANSWER_TIMEOUT;
        let final_text = loop {
            let event = tokio::select! {
                _ = tx.closed() => return, // client went away; the run continues
                _ = state.shutdown.cancelled() => None,
                e = tokio::time::timeout_at(deadline, events.recv()) => match e { Ok(Ok(e)) => Some(e), _ => None },
            };
            let Some(event) = event else {
                // Lagged, timed out or stopping: take the answer from the store.
                break state.runtime.wait(&run_id, Duration::from_millis(100)).await.ok().flatten();
            };
            if *event.run_id != *run_id {
                continue;
            }
            match &event.kind {
                RunEventKind::Delta { delta, .. } => {
                    sent += delta.len();
                    if tx.send(Ok(chunk(&run_id, &model, json!({ "content": delta }), None))).await.is_err() {
                        return;
                    }
                }
                RunEventKind::Finished(_) => break state.runtime.store().run(&run_id).await.ok().flatten(),
                _ => {}
            }
        };
        let finish = match final_text {
            Some(run) if run.state.is_finished() => {
                let text = run.reply.unwrap_or_default();
                if text.len() > sent && text.is_char_boundary(sent) {
                    let _ = tx.send(Ok(chunk(&run_id, &model, json!({ "content": &text[sent..] }), None))).await;
                }
                if run.state == RunState::Failed {
                    let error = json!({ "error": { "message": run.error.unwrap_or_default(), "type": "provider_error" } });
                    let _ = tx.send(Ok(format!("data: {error}\n\n"))).await;
                }
                "stop"
            }
            _ => "length",
        };
        let _ = tx.send(Ok(chunk(&run_id, &model, json!({}), Some(finish)))).await;
        let _ = tx.send(Ok("data: [DONE]\n\n".to_owned())).await;
    });
    let body = Body::from_stream(
        tokio_stream::wrappers::ReceiverStream::new(rx).map(|r| r.map(axum::body::Bytes::from)),
    );
    (
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

pub async fn models(
    State(state): State<Arc<GatewayState>>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&state, &headers, peer.ip())?;
    let created = now_ms() / 1000;
    let data: Vec<Value> = state
        .runtime
        .agents()
        .list()
        .iter()
        .map(|a| json!({ "id": a.id.as_str(), "object": "model", "created": created, "owned_by": "hearth", "name": a.display_name() }))
        .collect();
    Ok(Json(json!({ "object": "list", "data": data })).into_response())
}
