//! Frames: every message on the socket is one JSON object with a `type` of
//! `req` (client → server), `res` (the answer to one `req`, same `id`) or
//! `event` (server → client, numbered per connection by `seq`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::errors;

/// A request. `params` may be absent (OpenClaw's `health` sends none).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RequestFrame {
    #[serde(rename = "type")]
    pub kind: ReqTag,
    /// Echoed verbatim in the response; any string (`"2:<uuid>"` is common).
    pub id: String,
    pub method: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ReqTag {
    #[serde(rename = "req")]
    Req,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ResTag {
    #[serde(rename = "res")]
    Res,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum EventTag {
    #[serde(rename = "event")]
    Event,
}

/// The answer to a request: `ok` with a `payload`, or not with an `error`.
/// The `agent` method answers twice with the same id: first
/// `status: "accepted"`, then the result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ResponseFrame {
    #[serde(rename = "type")]
    pub kind: ResTag,
    pub id: String,
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorShape>,
}

impl ResponseFrame {
    pub fn ok(id: impl Into<String>, payload: Value) -> Self {
        Self {
            kind: ResTag::Res,
            id: id.into(),
            ok: true,
            payload: Some(payload),
            error: None,
        }
    }

    pub fn err(id: impl Into<String>, error: ErrorShape) -> Self {
        Self {
            kind: ResTag::Res,
            id: id.into(),
            ok: false,
            payload: None,
            error: Some(error),
        }
    }
}

/// A server-pushed event. `seq` counts events on this connection without
/// gaps (absent on `connect.challenge`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct EventFrame {
    #[serde(rename = "type")]
    pub kind: EventTag,
    pub event: String,
    pub payload: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
}

impl EventFrame {
    pub fn new(event: impl Into<String>, payload: Value, seq: Option<u64>) -> Self {
        Self {
            kind: EventTag::Event,
            event: event.into(),
            payload,
            seq,
        }
    }
}

/// Why a request failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorShape {
    /// One of the codes in [`errors`].
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retryable: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
}

impl ErrorShape {
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Self {
            code: code.to_owned(),
            message: message.into(),
            details: None,
            retryable: None,
            retry_after_ms: None,
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(errors::INVALID_REQUEST, message)
    }

    pub fn with_detail(mut self, detail_code: &str) -> Self {
        self.details = Some(serde_json::json!({ "code": detail_code }));
        self
    }

    pub fn retry_after(mut self, ms: u64) -> Self {
        self.retryable = Some(true);
        self.retry_after_ms = Some(ms);
        self
    }
}
