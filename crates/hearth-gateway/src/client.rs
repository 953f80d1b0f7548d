//! A small client of Hearth's control protocol (the OpenClaw v4 subset):
//! connect with the challenge handshake, send requests, wait for answers and
//! follow a run's events. Used by the CLI (`hearth chat`, `status`,
//! `sessions`), the integration tests and the benchmark.

use std::collections::VecDeque;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::protocol::PROTOCOL_VERSION;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot connect to {url}: {source}")]
    Connect {
        url: String,
        source: tokio_tungstenite::tungstenite::Error,
    },
    #[error("connection lost: {0}")]
    Io(#[from] tokio_tungstenite::tungstenite::Error),
    #[error("the server closed the connection")]
    Closed,
    #[error("{code}: {message}")]
    Server {
        code: String,
        message: String,
        payload: Option<Value>,
    },
    #[error("unexpected frame from server: {0}")]
    Protocol(String),
    #[error("no answer within {0:?}")]
    Timeout(Duration),
}

/// An event frame received while waiting.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub name: String,
    pub payload: Value,
    pub seq: Option<u64>,
}

pub struct Client {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    next_id: u64,
    /// Events that arrived while waiting for a response.
    pending_events: VecDeque<Event>,
    pub hello: Value,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("next_id", &self.next_id)
            .finish_non_exhaustive()
    }
}

/// Most events buffered while waiting for an answer; older ones are dropped.
const MAX_PENDING_EVENTS: usize = 4096;

enum Frame {
    Res {
        id: String,
        ok: bool,
        payload: Option<Value>,
        error: Option<Value>,
    },
    Event(Event),
}

impl Client {
    /// Connects to `url` (e.g. `ws://127.0.0.1:18789`) and authenticates.
    pub async fn connect(url: &str, token: Option<&str>) -> Result<Self, ClientError> {
        let (socket, _) = tokio_tungstenite::connect_async(url)
            .await
            .map_err(|source| ClientError::Connect {
                url: url.to_owned(),
                source,
            })?;
        let mut client = Self {
            socket,
            next_id: 0,
            pending_events: VecDeque::new(),
            hello: Value::Null,
        };
        match client.read_frame().await? {
            Frame::Event(e) if e.name == "connect.challenge" => {}
            _ => return Err(ClientError::Protocol("expected connect.challenge".into())),
        }
        let params = json!({
            "minProtocol": PROTOCOL_VERSION,
            "maxProtocol": PROTOCOL_VERSION,
            "client": { "id": "hearth-cli", "version": env!("CARGO_PKG_VERSION"), "platform": std::env::consts::OS, "mode": "cli" },
            "role": "operator",
            "scopes": ["operator.read", "operator.write", "operator.admin"],
            "caps": [],
            "auth": { "token": token },
        });
        client.hello = client.request("connect", params).await?;
        Ok(client)
    }

    async fn read_frame(&mut self) -> Result<Frame, ClientError> {
        loop {
            let message = self.socket.next().await.ok_or(ClientError::Closed)??;
            let text = match message {
                Message::Text(text) => text,
                Message::Close(frame) => {
                    return Err(match frame {
                        Some(f) if !f.reason.is_empty() => {
                            ClientError::Protocol(format!("closed: {}", f.reason))
                        }
                        _ => ClientError::Closed,
                    });
                }
                _ => continue,
            };
            let value: Value =
                serde_json::from_str(&text).map_err(|e| ClientError::Protocol(e.to_string()))?;
            return match value.get("type").and_then(Value::as_str) {
                Some("res") => Ok(Frame::Res {
                    id: value["id"].as_str().unwrap_or_default().to_owned(),
                    ok: value["ok"].as_bool().unwrap_or(false),
                    payload: value.get("payload").cloned(),
                    error: value.get("error").cloned(),
                }),
                Some("event") => Ok(Frame::Event(Event {
                    name: value["event"].as_str().unwrap_or_default().to_owned(),
                    payload: value.get("payload").cloned().unwrap_or(Value::Null),
                    seq: value.get("seq").and_then(Value::as_u64),
                })),
                _ => Err(ClientError::Protocol(text.to_string())),
            };
        }
    }

    /// Sends a request and returns its id.
    pub async fn send(&mut self, method: &str, params: Value) -> Result<String, ClientError> {
        self.next_id += 1;
        let id = self.next_id.to_string();
        let frame = json!({ "type": "req", "id": id, "method": method, "params": params });
        self.socket
            .send(Message::Text(frame.to_string().into()))
            .await?;
        Ok(id)
    }

    /// Waits for the answer to request `id`, buffering events meanwhile.
    /// With `final_answer`, an `accepted` interim answer is skipped.
    pub async fn answer(&mut self, id: &str, final_answer: bool) -> Result<Value, ClientError> {
        loop {
            match self.read_frame().await? {
                Frame::Event(event) => {
                    if self.pending_events.len() >= MAX_PENDING_EVENTS {
                        self.pending_events.pop_front();
                    }
                    self.pending_events.push_back(event);
                }
                Frame::Res {
                    id: got,
                    ok,
                    payload,
                    error,
                } if got == id => {
                    if !ok {
                        let error = error.unwrap_or(Value::Null);
                        return Err(ClientError::Server {
                            code: error["code"].as_str().unwrap_or("ERROR").to_owned(),
                            message: error["message"].as_str().unwrap_or_default().to_owned(),
                            payload,
                        });
                    }
                    let payload = payload.unwrap_or(Value::Null);
                    if final_answer && payload["status"] == "accepted" {
                        continue;
                    }
                    return Ok(payload);
                }
                Frame::Res { .. } => {} // an answer to an earlier request nobody awaits
            }
        }
    }

    pub async fn request(&mut self, method: &str, params: Value) -> Result<Value, ClientError> {
        let id = self.send(method, params).await?;
        self.answer(&id, false).await
    }

    /// For `agent`: waits past `accepted` for the result.
    pub async fn request_final(
        &mut self,
        method: &str,
        params: Value,
    ) -> Result<Value, ClientError> {
        let id = self.send(method, params).await?;
        self.answer(&id, true).await
    }

    /// The next event (buffered first), or a timeout.
    pub async fn next_event(&mut self, timeout: Duration) -> Result<Event, ClientError> {
        if let Some(event) = self.pending_events.pop_front() {
            return Ok(event);
        }
        let read = async {
            loop {
                if let Frame::Event(event) = self.read_frame().await? {
                    return Ok(event);
                }
            }
        };
        tokio::time::timeout(timeout, read)
            .await
            .map_err(|_| ClientError::Timeout(timeout))?
    }

    pub async fn close(mut self) {
        let _ = self.socket.close(None).await;
    }
}
