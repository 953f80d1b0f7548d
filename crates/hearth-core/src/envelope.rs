//! The two messages that cross the pipeline: what arrives (recorded in the
//! durable inbox before it is acknowledged) and what leaves (recorded in the
//! outbox with an idempotency key before it is sent).

use crate::{AgentId, ChatMessage, SessionKey};
use serde::{Deserialize, Serialize};

/// A message from a person or client, normalized from whatever transport
/// carried it. Platform types never get past the adapter that made this.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboundMessage {
    /// The client's idempotency key; it doubles as the run id. Sending the
    /// same key twice is recognised and answered with the first run.
    pub id: String,
    pub session_key: SessionKey,
    pub agent_id: AgentId,
    /// Transport it came from (`gateway`, `openai`, `telegram`, ...). The
    /// reply goes back through the channel of the same name.
    pub channel: String,
    /// The text the person wrote.
    pub text: String,
    /// Earlier turns the client supplied itself (stateless APIs such as
    /// `/v1/chat/completions`); empty for stateful channels.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub context: Vec<ChatMessage>,
    pub received_at_ms: i64,
}

/// A reply to deliver. `idempotency_key` is stable across retries so a
/// platform that supports it (or the receiving end) drops a duplicate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboundMessage {
    pub idempotency_key: String,
    pub session_key: SessionKey,
    pub channel: String,
    pub text: String,
}
