//! MQTT payloads: what a device publishes (plain text, or JSON with
//! `text` and optional `id`, `sender`, `reply_to`) and what replies look
//! like. Private to the adapter.

use serde::{Deserialize, Serialize};

/// A device's JSON message.
#[derive(Debug, Deserialize)]
struct JsonMessage {
    text: String,
    #[serde(default)]
    id: Option<serde_json::Value>,
    #[serde(default)]
    sender: Option<String>,
    #[serde(default)]
    reply_to: Option<String>,
}

/// A decoded inbound payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Inbound {
    pub text: String,
    /// The device's own id for the message; present, it makes a
    /// redelivery recognisable.
    pub id: Option<String>,
    pub sender: Option<String>,
    pub reply_to: Option<String>,
}

/// Decodes a payload: a JSON object with `text`, or UTF-8 text. `None`
/// for anything else (binary, JSON without `text`).
pub(super) fn decode(payload: &[u8]) -> Option<Inbound> {
    let text = std::str::from_utf8(payload).ok()?;
    if text.trim_start().starts_with('{') {
        let message: JsonMessage = serde_json::from_str(text).ok()?;
        let id = message.id.and_then(|id| match id {
            serde_json::Value::String(s) if !s.is_empty() => Some(s),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        });
        return Some(Inbound {
            text: message.text,
            id,
            sender: message.sender.filter(|s| !s.is_empty()),
            reply_to: message.reply_to.filter(|s| !s.is_empty()),
        });
    }
    Some(Inbound {
        text: text.to_owned(),
        id: None,
        sender: None,
        reply_to: None,
    })
}

/// One published part of a reply in the JSON format.
#[derive(Debug, Serialize)]
pub(super) struct ReplyPart<'a> {
    pub id: &'a str,
    pub part: usize,
    pub parts: usize,
    pub text: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_reply_to: Option<&'a str>,
}
