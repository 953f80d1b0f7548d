//! Typed payloads of the events and of the answers clients wait on (`agent`,
//! `chat.send`), so the published schema describes what a client receives.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Streams of the `agent` event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum AgentStream {
    /// `data.phase`: `start` {startedAt}, `model` {model}, `end` {startedAt,
    /// endedAt, aborted, stopReason, terminalReply{disposition, text}}.
    Lifecycle,
    /// `data`: {text (so far), delta}.
    Assistant,
    /// `data`: {phase: "start", name, toolCallId, args}, then {phase:
    /// "result", name, toolCallId, isError, result, durationMs}.
    Tool,
    /// `data`: {inputTokens, outputTokens}.
    Usage,
}

/// Payload of the `agent` event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AgentEvent {
    pub run_id: String,
    pub session_key: String,
    pub agent_id: String,
    pub stream: AgentStream,
    pub data: Value,
    /// Position within the run.
    pub seq: u64,
    pub ts: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ChatState {
    Delta,
    Final,
    Aborted,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TextBlock {
    /// Always `"text"`.
    #[serde(rename = "type")]
    pub kind: String,
    pub text: String,
}

/// A message in OpenClaw's content-block shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ChatMessageBody {
    pub role: String,
    pub content: Vec<TextBlock>,
    pub timestamp: i64,
}

impl ChatMessageBody {
    pub fn assistant(text: &str, at_ms: i64) -> Self {
        Self {
            role: "assistant".into(),
            content: vec![TextBlock {
                kind: "text".into(),
                text: text.to_owned(),
            }],
            timestamp: at_ms,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TokenUsage {
    pub input: u32,
    pub output: u32,
    pub total: u32,
}

/// Payload of the `chat` event: deltas, then exactly one of `final`,
/// `aborted` or `error`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChatEvent {
    pub run_id: String,
    pub session_key: String,
    pub agent_id: String,
    pub seq: u64,
    pub state: ChatState,
    /// The new text (`delta` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delta_text: Option<String>,
    /// The answer so far (`delta`) or in full.
    pub message: ChatMessageBody,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<TokenUsage>,
}

/// Payload of the `tick` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Tick {
    pub ts: i64,
}

/// Payload of the `presence` event: the gateway's connected clients.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PresenceUpdate {
    pub presence: Vec<Value>,
}

/// Payload of the `shutdown` event, sent before the server closes (1012).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Shutdown {
    pub reason: String,
}

/// `chat.send` / `sessions.send` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SendResult {
    pub run_id: String,
    /// `started`, or for a repeated idempotency key `in_flight` / `ok`.
    pub status: String,
}

/// The first `agent` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AgentAccepted {
    pub run_id: String,
    pub session_key: String,
    pub agent_id: String,
    /// Always `accepted`.
    pub status: String,
    pub accepted_at: i64,
}

/// The second `agent` answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AgentResult {
    pub run_id: String,
    /// `ok`, `error` or `timeout`.
    pub status: String,
    /// `completed`, `aborted`, the error, or why it timed out.
    pub summary: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<AgentResultBody>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AgentResultBody {
    pub payloads: Vec<ReplyPayload>,
    pub meta: Value,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReplyPayload {
    pub text: String,
    /// Always null until attachments exist.
    pub media_url: Option<String>,
}
