//! One WebSocket connection: challenge, `connect` (auth, protocol range,
//! scopes), then requests and events until either side closes or the server
//! shuts down.
//!
//! One task owns the socket. Work that waits long (the second answer of
//! `agent`) runs in the connection's own `JoinSet`, which is aborted when the
//! connection ends, and hands its frame back through a bounded channel.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::response::{IntoResponse, Response};
use hearth_agent::RunEvent;
use hearth_agent::tools::ApprovalEvent;
use hearth_core::{SessionKey, now_ms};
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinSet;

use super::events::frames_for;
use super::handlers::{self, Reply};
use super::payloads;
use crate::auth::AuthError;
use crate::protocol::errors::{self, detail};
use crate::protocol::events::{Shutdown, Tick};
use crate::protocol::frames::{ErrorShape, EventFrame, RequestFrame, ResponseFrame};
use crate::protocol::handshake::{self, ConnectParams, HelloOk};
use crate::protocol::method::{METHODS, Method, Scope};
use crate::protocol::{MAX_PREAUTH_FRAME_BYTES, PROTOCOL_VERSION};
use crate::state::GatewayState;

/// Time a client has to send `connect` after the challenge.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(15);
/// Deferred answers waiting to be written; a connection that does not read
/// fast enough is closed rather than buffered without bound.
const OUTBOX_FRAMES: usize = 256;
/// Sessions a connection follows; a client touching more than this many
/// stops receiving events for the oldest ones (it can always re-read).
const MAX_INTERESTS: usize = 1024;

// WebSocket close codes (RFC 6455 + OpenClaw's use of them).
const CLOSE_POLICY: u16 = 1008;
const CLOSE_TOO_BIG: u16 = 1009;
const CLOSE_RESTART: u16 = 1012;

pub async fn ws_handler(
    State(state): State<Arc<GatewayState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    upgrade: WebSocketUpgrade,
) -> Response {
    let max = state.config.max_payload_bytes;
    upgrade
        .max_message_size(max)
        .max_frame_size(max)
        .on_upgrade(move |socket| {
            let tasks = state.tasks.clone();
            tasks.track_future(Connection::new(state, peer, socket).run())
        })
        .into_response()
}

struct Connection {
    state: Arc<GatewayState>,
    peer: SocketAddr,
    socket: WebSocket,
    conn_id: String,
    /// Event frames sent so far (the next frame's `seq` is this + 1).
    seq: u64,
    scopes: Vec<String>,
    /// `<client id>@<address>`, the actor named in audit entries.
    actor: String,
    interests: HashSet<SessionKey>,
    deferred: JoinSet<()>,
    out_tx: mpsc::Sender<ResponseFrame>,
    out_rx: mpsc::Receiver<ResponseFrame>,
}

enum Flow {
    Continue,
    Close(u16, String),
}

impl Connection {
    fn new(state: Arc<GatewayState>, peer: SocketAddr, socket: WebSocket) -> Self {
        let (out_tx, out_rx) = mpsc::channel(OUTBOX_FRAMES);
        Self {
            state,
            peer,
            socket,
            conn_id: uuid::Uuid::new_v4().to_string(),
            seq: 0,
            scopes: Vec::new(),
            actor: format!("unknown@{}", peer.ip()),
            interests: HashSet::new(),
            deferred: JoinSet::new(),
            out_tx,
            out_rx,
        }
    }

    async fn run(mut self) {
        let nonce = uuid::Uuid::new_v4().to_string();
        let challenge = EventFrame::new(
            "connect.challenge",
            json!(handshake::Challenge {
                nonce,
                ts: now_ms()
            }),
            None,
        );
        if self.send_json(&challenge).await.is_err() {
            return;
        }
        let flow = match tokio::time::timeout(HANDSHAKE_TIMEOUT, self.handshake()).await {
            Ok(flow) => flow,
            Err(_) => Flow::Close(CLOSE_POLICY, "connect timeout".into()),
        };
        let flow = match flow {
            Flow::Continue => self.serve().await,
            close => close,
        };
        if let Flow::Close(code, reason) = flow {
            let reason: String = reason.chars().take(120).collect();
            let _ = self
                .socket
                .send(Message::Close(Some(CloseFrame {
                    code,
                    reason: reason.into(),
                })))
                .await;
        }
        self.state.presence.leave(&self.conn_id);
        self.deferred.shutdown().await;
    }

    /// Reads frames until a successful `connect`.
    async fn handshake(&mut self) -> Flow {
        loop {
            let text = match self.socket.recv().await {
                Some(Ok(Message::Text(text))) => text,
                Some(Ok(Message::Binary(_))) => {
                    return Flow::Close(CLOSE_POLICY, "binary frames are not supported".into());
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => {
                    return Flow::Close(1000, String::new());
                }
                Some(Ok(_)) => continue, // ping/pong
            };
            if text.len() > MAX_PREAUTH_FRAME_BYTES {
                let e = ErrorShape::invalid(format!(
                    "frame of {} bytes exceeds the {} byte limit before connect",
                    text.len(),
                    MAX_PREAUTH_FRAME_BYTES
                ))
                .with_detail(detail::FRAME_TOO_LARGE);
                let _ = self.send_json(&ResponseFrame::err("", e)).await;
                return Flow::Close(CLOSE_TOO_BIG, "frame too large".into());
            }
            let frame = match parse_frame(&text) {
                Ok(frame) => frame,
                Err(response) => {
                    let _ = self.send_json(&*response).await;
                    continue;
                }
            };
            let params = match Method::parse(&frame.method, frame.params) {
                Ok(Method::Connect(params)) => params,
                Ok(_) => {
                    let e = ErrorShape::invalid("the first request must be connect");
                    let _ = self.send_json(&ResponseFrame::err(frame.id, e)).await;
                    return Flow::Close(CLOSE_POLICY, "the first request must be connect".into());
                }
                Err(e) => {
                    let _ = self.send_json(&ResponseFrame::err(frame.id, e)).await;
                    return Flow::Close(CLOSE_POLICY, "the first request must be connect".into());
                }
            };
            return match self.connect(&params) {
                Ok(hello) => {
                    if self
                        .send_json(&ResponseFrame::ok(frame.id, json!(hello)))
                        .await
                        .is_err()
                    {
                        return Flow::Close(1000, String::new());
                    }
                    Flow::Continue
                }
                Err(e) => {
                    let reason = e.message.clone();
                    // Record failed logins (not the locked-out repeats, so
                    // a flood cannot fill the log).
                    let code = e.details.as_ref().and_then(|d| d["code"].as_str());
                    if matches!(
                        code,
                        Some(detail::AUTH_TOKEN_MISSING | detail::AUTH_TOKEN_MISMATCH)
                    ) {
                        let what = json!({ "client": params.client.id, "reason": code });
                        handlers::audit(
                            &self.state,
                            &format!("peer@{}", self.peer.ip()),
                            "auth.failed",
                            what,
                        )
                        .await;
                    }
                    let _ = self.send_json(&ResponseFrame::err(frame.id, e)).await;
                    Flow::Close(CLOSE_POLICY, reason)
                }
            };
        }
    }

    fn connect(&mut self, params: &ConnectParams) -> Result<HelloOk, ErrorShape> {
        if params.min_protocol > PROTOCOL_VERSION || params.max_protocol < PROTOCOL_VERSION {
            return Err(ErrorShape::invalid(format!(
                "protocol mismatch: server speaks {PROTOCOL_VERSION}, client wants {}..={}",
                params.min_protocol, params.max_protocol
            ))
            .with_detail(detail::PROTOCOL_MISMATCH));
        }
        let token = params
            .auth
            .as_ref()
            .and_then(|a| a.token.as_deref().or(a.password.as_deref()));
        match self.state.auth.check(self.peer.ip(), token) {
            Ok(()) => {}
            Err(AuthError::Missing) => {
                return Err(ErrorShape::invalid("unauthorized: gateway token missing (set the token from hearth's config, gateway.token)")
                    .with_detail(detail::AUTH_TOKEN_MISSING));
            }
            Err(AuthError::Mismatch) => {
                return Err(ErrorShape::invalid("unauthorized: gateway token mismatch (use the token from hearth's config, gateway.token)")
                    .with_detail(detail::AUTH_TOKEN_MISMATCH));
            }
            Err(AuthError::RateLimited(wait)) => {
                return Err(ErrorShape::invalid(
                    "unauthorized: too many failed attempts; try again later",
                )
                .with_detail(detail::AUTH_RATE_LIMITED)
                .retry_after(wait.as_millis() as u64));
            }
        }
        self.actor = format!("{}@{}", params.client.id, self.peer.ip());
        let role = params.role.clone().unwrap_or_else(|| "operator".into());
        if role != "operator" {
            return Err(ErrorShape::new(
                errors::FORBIDDEN,
                format!("role {role:?} is not supported; use operator"),
            ));
        }
        // A token holder is the owner: grant what was asked (OpenClaw does
        // the same for shared-token auth), or everything if nothing was.
        self.scopes = if params.scopes.is_empty() {
            [Scope::Read, Scope::Write, Scope::Admin]
                .iter()
                .map(|s| s.as_str().to_owned())
                .collect()
        } else {
            params.scopes.clone()
        };
        tracing::debug!(conn = %self.conn_id, client = %params.client.id, peer = %self.peer, "client connected");
        self.state.presence.join(
            &self.conn_id,
            json!({
                "clientId": params.client.id,
                "mode": params.client.mode,
                "platform": params.client.platform,
                "version": params.client.version,
                "instanceId": params.client.instance_id,
                "ip": self.peer.ip().to_string(),
                "roles": [role],
                "scopes": self.scopes,
                "reason": "connect",
                "ts": now_ms(),
            }),
        );
        let state = &self.state;
        Ok(HelloOk {
            kind: "hello-ok".into(),
            protocol: PROTOCOL_VERSION,
            server: handshake::ServerInfo {
                version: state.config.server_version.clone(),
                conn_id: self.conn_id.clone(),
                boot_id: state.boot_id.clone(),
            },
            features: handshake::Features {
                methods: METHODS.iter().map(|m| (*m).to_owned()).collect(),
                events: handshake::EVENTS.iter().map(|e| (*e).to_owned()).collect(),
            },
            snapshot: json!({
                "presence": payloads::presence_list(state),
                "health": { "ok": true, "ts": now_ms() },
                "stateVersion": { "presence": 0, "health": 0 },
                "uptimeMs": state.uptime_ms(),
                "sessionDefaults": {
                    "defaultAgentId": state.runtime.agents().default_agent().as_str(),
                    "mainKey": "main",
                    "mainSessionKey": payloads::main_session_key(state.runtime.agents().default_agent().as_str()),
                    "scope": "per-sender",
                },
            }),
            auth: handshake::GrantedAuth {
                role,
                scopes: self.scopes.clone(),
                method: "token".into(),
            },
            policy: handshake::Policy {
                max_payload: state.config.max_payload_bytes,
                max_buffered_bytes: state.config.max_payload_bytes * 2,
                tick_interval_ms: state.config.tick_interval_ms,
            },
        })
    }

    /// The main loop after `connect`.
    async fn serve(&mut self) -> Flow {
        let mut events = self.state.runtime.subscribe();
        let mut presence = self.state.presence.subscribe();
        // Approval requests go to operators who may answer them.
        let mut approvals = self
            .state
            .approvals
            .get()
            .filter(|_| self.allows(Scope::Approvals))
            .map(|broker| broker.subscribe());
        let period = Duration::from_millis(self.state.config.tick_interval_ms.max(1000));
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        let shutdown = self.state.shutdown.clone();
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => {
                    // The runtime drained before the cancel, but `select!`
                    // may pick this arm while final answers still wait in
                    // the queues: send them before closing.
                    while let Ok(frame) = self.out_rx.try_recv() {
                        let _ = self.send_json(&frame).await;
                    }
                    loop {
                        match events.try_recv() {
                            Ok(event) => {
                                let _ = self.forward(&event).await;
                            }
                            Err(broadcast::error::TryRecvError::Lagged(_)) => {}
                            Err(_) => break,
                        }
                    }
                    let _ = self.send_event("shutdown", json!(Shutdown { reason: "server stopping".into() })).await;
                    return Flow::Close(CLOSE_RESTART, "server stopping".into());
                }
                message = self.socket.recv() => {
                    let flow = match message {
                        Some(Ok(Message::Text(text))) => self.on_request(&text).await,
                        Some(Ok(Message::Binary(_))) => Flow::Close(CLOSE_POLICY, "binary frames are not supported".into()),
                        Some(Ok(Message::Close(_))) | None => return Flow::Continue,
                        Some(Err(error)) => {
                            tracing::debug!(conn = %self.conn_id, %error, "socket error");
                            return Flow::Continue;
                        }
                        Some(Ok(_)) => Flow::Continue,
                    };
                    if let Flow::Close(..) = flow {
                        return flow;
                    }
                }
                Some(frame) = self.out_rx.recv() => {
                    if self.send_json(&frame).await.is_err() {
                        return Flow::Continue;
                    }
                }
                event = events.recv() => match event {
                    Ok(event) => {
                        if self.forward(&event).await.is_err() {
                            return Flow::Continue;
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        // Deltas are advisory; final answers are in the store
                        // (chat.history, agent.wait) and `agent` re-reads it.
                        tracing::warn!(conn = %self.conn_id, missed, "connection fell behind on events");
                    }
                    Err(broadcast::error::RecvError::Closed) => return Flow::Continue,
                },
                notice = presence.recv() => match notice {
                    Ok(snapshot) => {
                        if self.send_event("presence", (*snapshot).clone()).await.is_err() {
                            return Flow::Continue;
                        }
                    }
                    // Missed notices are superseded by the next snapshot.
                    Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => return Flow::Continue,
                },
                notice = next_approval(&mut approvals) => match notice {
                    Ok(event) => {
                        let (name, payload) = approval_frame(&event);
                        if self.send_event(name, payload).await.is_err() {
                            return Flow::Continue;
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        // `exec.approval.list` has the full picture.
                        tracing::warn!(conn = %self.conn_id, missed, "connection fell behind on approval events");
                    }
                    Err(broadcast::error::RecvError::Closed) => approvals = None,
                },
                _ = tick.tick() => {
                    if self.send_event("tick", json!(Tick { ts: now_ms() })).await.is_err() {
                        return Flow::Continue;
                    }
                }
                Some(_) = self.deferred.join_next(), if !self.deferred.is_empty() => {}
            }
        }
    }

    /// Sends a run event's frames if this connection follows its session.
    async fn forward(&mut self, event: &RunEvent) -> Result<(), ()> {
        if self.interests.contains(&event.session_key) {
            for (name, payload) in frames_for(event) {
                self.send_event(name, payload).await.map_err(|_| ())?;
            }
        }
        Ok(())
    }

    async fn on_request(&mut self, text: &str) -> Flow {
        let frame = match parse_frame(text) {
            Ok(frame) => frame,
            Err(response) => {
                let _ = self.send_json(&*response).await;
                return Flow::Continue;
            }
        };
        let id = frame.id.clone();
        let method = match Method::parse(&frame.method, frame.params) {
            Ok(method) => method,
            Err(e) => {
                let _ = self.send_json(&ResponseFrame::err(id, e)).await;
                return Flow::Continue;
            }
        };
        let needed = method.scope();
        if !self.allows(needed) {
            let e = ErrorShape::new(
                errors::FORBIDDEN,
                format!("{} requires scope {}", frame.method, needed.as_str()),
            );
            let _ = self.send_json(&ResponseFrame::err(id, e)).await;
            return Flow::Continue;
        }
        let (reply, touched) = handlers::dispatch(&self.state, method, &self.actor).await;
        if let Some(session) = touched.0 {
            self.follow(session);
        }
        let sent = match reply {
            Reply::Now(Ok(payload)) => self.send_json(&ResponseFrame::ok(id, payload)).await,
            Reply::Now(Err(e)) => self.send_json(&ResponseFrame::err(id, e)).await,
            Reply::Deferred {
                accepted,
                run_id,
                timeout,
                accepted_at,
            } => {
                let sent = self
                    .send_json(&ResponseFrame::ok(id.clone(), accepted))
                    .await;
                let state = self.state.clone();
                let out = self.out_tx.clone();
                self.deferred.spawn(async move {
                    let frame = match state.runtime.wait(&run_id, timeout).await {
                        Ok(run) => {
                            match handlers::agent_result(&state, &run_id, run, accepted_at) {
                                Ok(payload) => ResponseFrame::ok(id, payload),
                                Err(failed) => {
                                    let (payload, error) = *failed;
                                    let mut frame = ResponseFrame::err(id, error);
                                    frame.payload = Some(payload);
                                    frame
                                }
                            }
                        }
                        Err(e) => ResponseFrame::err(id, handlers::store_error(e)),
                    };
                    let _ = out.send(frame).await;
                });
                sent
            }
        };
        if sent.is_err() {
            Flow::Close(1000, String::new())
        } else {
            Flow::Continue
        }
    }

    fn allows(&self, needed: Scope) -> bool {
        // Admin implies write implies read, as in OpenClaw.
        let has = |s: Scope| self.scopes.iter().any(|g| g == s.as_str());
        match needed {
            Scope::Read => has(Scope::Read) || has(Scope::Write) || has(Scope::Admin),
            Scope::Write => has(Scope::Write) || has(Scope::Admin),
            Scope::Admin => has(Scope::Admin),
            Scope::Pairing => has(Scope::Pairing) || has(Scope::Admin),
            Scope::Approvals => has(Scope::Approvals) || has(Scope::Admin),
        }
    }

    fn follow(&mut self, session: SessionKey) {
        if self.interests.len() >= MAX_INTERESTS && !self.interests.contains(&session) {
            self.interests.clear();
        }
        self.interests.insert(session);
    }

    async fn send_event(&mut self, name: &str, payload: Value) -> Result<(), axum::Error> {
        self.seq += 1;
        let frame = EventFrame::new(name, payload, Some(self.seq));
        self.send_json(&frame).await
    }

    async fn send_json<T: serde::Serialize>(&mut self, frame: &T) -> Result<(), axum::Error> {
        let text = serde_json::to_string(frame).map_err(axum::Error::new)?;
        self.socket.send(Message::Text(text.into())).await
    }
}

/// Parses a request frame; on failure returns the error answer (with the
/// frame's id if one could be read).
fn parse_frame(text: &str) -> Result<RequestFrame, Box<ResponseFrame>> {
    serde_json::from_str::<RequestFrame>(text).map_err(|error| {
        let id = serde_json::from_str::<Value>(text)
            .ok()
            .and_then(|v| v.get("id").and_then(Value::as_str).map(str::to_owned))
            .unwrap_or_default();
        Box::new(ResponseFrame::err(
            id,
            ErrorShape::invalid(format!("malformed request frame: {error}")),
        ))
    })
}

/// The next approval event, or never when this connection gets none.
async fn next_approval(
    receiver: &mut Option<broadcast::Receiver<ApprovalEvent>>,
) -> Result<ApprovalEvent, broadcast::error::RecvError> {
    match receiver {
        Some(receiver) => receiver.recv().await,
        None => std::future::pending().await,
    }
}

/// `exec.approval.requested` with the request, or `exec.approval.resolved`
/// with how it ended (answered, expired, withdrawn).
fn approval_frame(event: &ApprovalEvent) -> (&'static str, Value) {
    match event {
        ApprovalEvent::Requested(pending) => ("exec.approval.requested", json!(pending)),
        ApprovalEvent::Resolved { id, decision } => (
            "exec.approval.resolved",
            json!({ "id": id, "decision": decision, "ts": now_ms() }),
        ),
    }
}
