//! A fake OpenAI-compatible model server inside the test process: it
//! streams the last user message back as Chat Completions SSE, in a few
//! chunks with a pause between them, so a turn takes long enough for a
//! kill or a SIGTERM to land mid-turn. The daemon talks to it through its
//! real `openai` provider code. It counts requests per message text, so a
//! test can tell how often a message was (re)computed.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::Response;
use axum::routing::post;
use rand::Rng as _;
use serde_json::{Value, json};

/// How the fake model paces its answer.
#[derive(Debug, Clone, Copy)]
pub enum Pace {
    /// `chunks` pieces, each after a random pause in `min_ms..=max_ms`.
    Chunks {
        chunks: usize,
        min_ms: u64,
        max_ms: u64,
    },
    /// Sends a first piece, then a piece every 100 ms, and never finishes.
    Endless,
}

#[derive(Debug)]
struct Shared {
    pace: Pace,
    requests: Mutex<HashMap<String, u32>>,
}

/// The running server; it stops when the test's runtime ends.
#[derive(Debug, Clone)]
pub struct SlowModel {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
}

impl SlowModel {
    pub async fn start(pace: Pace) -> SlowModel {
        let shared = Arc::new(Shared {
            pace,
            requests: Mutex::default(),
        });
        let addr = serve(
            axum::Router::new()
                .route("/v1/chat/completions", post(completions))
                .with_state(shared.clone()),
        )
        .await;
        SlowModel { addr, shared }
    }

    /// `[models.<name>]` pointing at this server, and `[agents.main]`
    /// using it.
    pub fn config(&self, name: &str) -> String {
        config(name, self.addr, "slow")
    }

    /// Requests seen so far per last-user-message text.
    pub fn requests(&self) -> HashMap<String, u32> {
        self.shared.requests.lock().expect("lock").clone()
    }
}

async fn completions(State(shared): State<Arc<Shared>>, Json(body): Json<Value>) -> Response {
    // The echo: the newest user message (the request also carries the
    // system prompt and the session's history).
    let text = body["messages"]
        .as_array()
        .and_then(|m| m.iter().rev().find(|m| m["role"] == "user"))
        .and_then(|m| m["content"].as_str())
        .unwrap_or_default()
        .to_owned();
    *shared
        .requests
        .lock()
        .expect("lock")
        .entry(text.clone())
        .or_default() += 1;
    let stream = match shared.pace {
        Pace::Chunks {
            chunks,
            min_ms,
            max_ms,
        } => paced(split(&text, chunks), min_ms, max_ms),
        Pace::Endless => endless(),
    };
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "text/event-stream")
        .body(Body::from_stream(stream))
        .expect("response")
}

type Frames = futures::stream::BoxStream<'static, Result<Bytes, std::io::Error>>;

/// `text` as a content delta frame.
fn delta(text: &str) -> Bytes {
    let chunk = json!({ "object": "chat.completion.chunk", "choices": [{ "index": 0, "delta": { "content": text }, "finish_reason": null }] });
    Bytes::from(format!("data: {chunk}\n\n"))
}

/// Serves a fake model's `app` on a free loopback port until the test's
/// runtime ends.
pub async fn serve(app: axum::Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind fake model");
    let addr = listener.local_addr().expect("fake model addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr
}

/// `[models.<name>]` for the OpenAI-compatible server at `addr`, and
/// `[agents.main]` using it.
pub fn config(name: &str, addr: SocketAddr, model: &str) -> String {
    format!(
        "[models.{name}]\nprovider = \"openai\"\nbase_url = \"http://{addr}/v1\"\n\
         model = \"{model}\"\nmax_retries = 0\n\n[agents.main]\nmodel = \"{name}\"\n"
    )
}

/// The pieces with a random pause before each, then the finish frames.
fn paced(pieces: Vec<String>, min_ms: u64, max_ms: u64) -> Frames {
    use futures::StreamExt as _;
    let mut frames: Vec<Bytes> = pieces.iter().map(|p| delta(p)).collect();
    let finish = json!({ "object": "chat.completion.chunk", "choices": [{ "index": 0, "delta": {}, "finish_reason": "stop" }] });
    frames.push(Bytes::from(format!("data: {finish}\n\ndata: [DONE]\n\n")));
    let last = frames.len() - 1;
    futures::stream::iter(frames.into_iter().enumerate())
        .then(move |(i, frame)| async move {
            if i < last {
                let pause = rand::rng().random_range(min_ms..=max_ms);
                tokio::time::sleep(Duration::from_millis(pause)).await;
            }
            Ok(frame)
        })
        .boxed()
}

/// A never-ending answer (until the client hangs up).
fn endless() -> Frames {
    use futures::StreamExt as _;
    futures::stream::unfold(0u64, |n| async move {
        if n > 0 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Some((Ok(delta(".")), n + 1))
    })
    .boxed()
}

/// Splits `text` into up to `n` non-empty pieces on char boundaries.
fn split(text: &str, n: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    if chars.is_empty() {
        return Vec::new();
    }
    let size = chars.len().div_ceil(n.max(1));
    chars.chunks(size).map(|c| c.iter().collect()).collect()
}
