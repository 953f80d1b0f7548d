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
    /// Where on a chat platform it came from; `None` for gateway clients.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
}

/// A reply to deliver. `idempotency_key` is stable across retries so a
/// platform that supports it (or the receiving end) drops a duplicate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboundMessage {
    pub idempotency_key: String,
    pub session_key: SessionKey,
    pub channel: String,
    pub text: String,
    /// The platform conversation to post in; `None` for gateway clients.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Conversation>,
    /// The platform message this answers, for platforms that thread replies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
}

/// Whether a conversation is one-to-one or shared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConversationKind {
    Direct,
    Group,
}

/// A conversation on a platform: a direct chat with one peer, or a group
/// (IRC channel, MUC room, Matrix room, Telegram group), optionally a
/// thread inside it. Ids are the platform's own, opaque to everyone else.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Conversation {
    pub kind: ConversationKind,
    /// The peer's id for a direct chat, the group's id otherwise.
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread: Option<String>,
}

impl Conversation {
    pub fn direct(peer: impl Into<String>) -> Self {
        Self {
            kind: ConversationKind::Direct,
            id: peer.into(),
            thread: None,
        }
    }

    pub fn group(id: impl Into<String>) -> Self {
        Self {
            kind: ConversationKind::Group,
            id: id.into(),
            thread: None,
        }
    }

    pub fn is_group(&self) -> bool {
        self.kind == ConversationKind::Group
    }
}

/// Who wrote a message, as the platform identifies them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sender {
    /// Stable platform id (Telegram user id, Matrix user id, IRC nick,
    /// e-mail address). Access lists and pairing use it.
    pub id: String,
    /// Display name, when the platform gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// A file that came with a message, already saved to the local file
/// store (within its size limits) by the adapter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub file_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// Where it was saved.
    pub path: String,
    pub size_bytes: u64,
}

/// The platform side of an inbound message: enough to apply access
/// policy, build the session key and address the reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    pub conversation: Conversation,
    pub sender: Sender,
    /// The platform's id of this message (dedupe, reply references).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// The message it replies to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    /// The bot was mentioned (always true in direct chats).
    #[serde(default)]
    pub mentioned: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
}
