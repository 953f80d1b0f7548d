//! A fake OpenAI-compatible model that follows a fixed script with tools,
//! through the daemon's real `openai` provider code: a message starting
//! with `read ` calls `read_file` on the rest, one starting with `run `
//! calls `exec` with the rest, one written `call <tool> <JSON arguments>`
//! calls that tool, anything else is echoed; when the last
//! message is a tool result, the answer is `The tool said: <result>`.
//! The same script on every channel gives the same answer.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::Response;
use axum::routing::post;

use super::slow_model::serve;
use serde_json::{Value, json};

#[derive(Debug, Default)]
struct Seen {
    /// The tool names offered in each request.
    offered: Vec<Vec<String>>,
}

#[derive(Debug, Clone)]
pub struct ToolModel {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Seen>>,
}

impl ToolModel {
    pub async fn start() -> ToolModel {
        let seen = Arc::new(Mutex::new(Seen::default()));
        let addr = serve(
            axum::Router::new()
                .route("/v1/chat/completions", post(completions))
                .with_state(seen.clone()),
        )
        .await;
        ToolModel { addr, seen }
    }

    /// `[models.<name>]` pointing here, and `[agents.main]` using it.
    pub fn config(&self, name: &str) -> String {
        super::slow_model::config(name, self.addr, "script")
    }

    /// The tools offered, request by request.
    pub fn offered(&self) -> Vec<Vec<String>> {
        self.seen.lock().expect("lock").offered.clone()
    }
}

async fn completions(State(seen): State<Arc<Mutex<Seen>>>, Json(body): Json<Value>) -> Response {
    let messages = body["messages"].as_array().cloned().unwrap_or_default();
    let offered: Vec<String> = body["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["function"]["name"].as_str().map(str::to_owned))
        .collect();
    seen.lock().expect("lock").offered.push(offered.clone());
    let last = messages.last().cloned().unwrap_or(Value::Null);
    let frames = if last["role"] == "tool" {
        text(&format!(
            "The tool said: {}",
            last["content"].as_str().unwrap_or_default()
        ))
    } else {
        let user = messages
            .iter()
            .rev()
            .find(|m| m["role"] == "user")
            .and_then(|m| m["content"].as_str())
            .unwrap_or_default();
        let generic = user
            .strip_prefix("call ")
            .and_then(|rest| rest.split_once(' '))
            .filter(|(tool, _)| offered.iter().any(|t| t == tool));
        if let Some((tool, arguments)) = generic {
            let arguments: Value = serde_json::from_str(arguments).expect("JSON arguments");
            return sse(call(tool, arguments));
        }
        match (user.strip_prefix("read "), user.strip_prefix("run ")) {
            (Some(path), _) if offered.iter().any(|t| t == "read_file") => {
                call("read_file", json!({ "path": path }))
            }
            (_, Some(command)) if offered.iter().any(|t| t == "exec") => {
                call("exec", json!({ "command": command }))
            }
            _ => text(&format!("echo: {user}")),
        }
    };
    sse(frames)
}

fn sse(frames: String) -> Response {
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "text/event-stream")
        .body(Body::from(frames))
        .expect("response")
}

fn chunk(delta: Value, finish: Option<&str>) -> String {
    let chunk = json!({ "object": "chat.completion.chunk", "choices": [{ "index": 0, "delta": delta, "finish_reason": finish }] });
    format!("data: {chunk}\n\n")
}

fn text(answer: &str) -> String {
    let mut frames = chunk(json!({ "content": answer }), None);
    frames.push_str(&chunk(json!({}), Some("stop")));
    frames.push_str("data: [DONE]\n\n");
    frames
}

fn call(name: &str, arguments: Value) -> String {
    let delta = json!({ "tool_calls": [{ "index": 0, "id": "call_1", "type": "function",
        "function": { "name": name, "arguments": arguments.to_string() } }] });
    let mut frames = chunk(delta, None);
    frames.push_str(&chunk(json!({}), Some("tool_calls")));
    frames.push_str("data: [DONE]\n\n");
    frames
}
