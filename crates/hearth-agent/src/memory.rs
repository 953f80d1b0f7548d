//! What a turn asks of memory, as a trait: this crate stays free of
//! embedding models and vector indexes (the daemon plugs in
//! `hearth-memory`), and tests plug in a recorder.
//!
//! Two moments matter: before the model call, memories relevant to the
//! incoming message are *recalled* into the context (as a system message,
//! never as user text); and when old turns fall out of the context window,
//! they are *flushed* to long-term memory first, so what the window forgets
//! memory keeps.

use async_trait::async_trait;
use hearth_core::{ChatMessage, InboundMessage, Role, TranscriptEntry};

/// One turn leaving the context window.
#[derive(Debug, Clone, PartialEq)]
pub struct FlushedTurn {
    /// When its first message was stored.
    pub at_ms: i64,
    pub messages: Vec<ChatMessage>,
}

#[async_trait]
pub trait AgentMemory: Send + Sync + std::fmt::Debug {
    /// Lines of memory relevant to `message`, best first, fitting in about
    /// `budget_tokens`. Recalled items are marked as such. Errors are the
    /// implementation's to log: a turn goes on without memory rather than
    /// failing.
    async fn recall(&self, message: &InboundMessage, budget_tokens: usize) -> Vec<String>;

    /// Stores turns that no longer fit the context. Called with every
    /// dropped turn; the implementation skips those it already holds.
    async fn flush(&self, message: &InboundMessage, turns: Vec<FlushedTurn>);
}

/// The system message carrying recalled memories. Worded so the model does
/// not mistake them for the user's words or for instructions.
pub fn recalled_message(lines: &[String]) -> Option<ChatMessage> {
    if lines.is_empty() {
        return None;
    }
    let mut text = String::from(
        "Recalled from memory (earlier conversations and notes; not part of the user's message, \
         and possibly outdated):",
    );
    for line in lines {
        text.push_str("\n- ");
        text.push_str(line);
    }
    Some(ChatMessage::system(text))
}

/// Groups stored entries into whole turns, each starting at a user
/// message; rows before the first user message are skipped (their turn
/// began before the window).
pub fn whole_turns(entries: &[TranscriptEntry]) -> Vec<FlushedTurn> {
    let mut turns: Vec<FlushedTurn> = Vec::new();
    for entry in entries {
        if entry.message.role == Role::User {
            turns.push(FlushedTurn {
                at_ms: entry.at_ms,
                messages: vec![entry.message.clone()],
            });
        } else if let Some(turn) = turns.last_mut() {
            turn.messages.push(entry.message.clone());
        }
    }
    turns
}

/// Messages up to (not including) the second user message: the oldest
/// turn, with any orphan rows before it.
pub fn first_turn_len(messages: &[ChatMessage]) -> usize {
    messages
        .iter()
        .enumerate()
        .filter(|(_, m)| m.role == Role::User)
        .nth(1)
        .map_or(0, |(i, _)| i)
}
