//! What a run reports while it happens. Deltas are advisory (a slow
//! subscriber may miss some); the terminal state is always in the store, so
//! a subscriber that lags re-reads it from there.

use std::sync::Arc;

use hearth_core::{AgentId, RunState, SessionKey, Usage};
use tokio::sync::broadcast;

#[derive(Debug, Clone, PartialEq)]
pub struct RunEvent {
    pub run_id: Arc<str>,
    pub session_key: SessionKey,
    pub agent_id: AgentId,
    /// Position within the run, from 1.
    pub seq: u64,
    pub at_ms: i64,
    pub kind: RunEventKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RunEventKind {
    /// The turn started on `model`.
    Started { model: String },
    /// More answer text; `text` is the answer so far.
    Delta { delta: String, text: String },
    /// The model called a tool with these arguments (JSON text).
    ToolCall {
        id: String,
        name: String,
        arguments: String,
    },
    /// A tool call ended. `output` is its result or error text, cut to
    /// [`TOOL_OUTPUT_EVENT_CHARS`] characters.
    ToolResult {
        id: String,
        name: String,
        ok: bool,
        output: String,
        elapsed_ms: u64,
    },
    /// The run ended; `text` is its reply.
    Finished(RunSummary),
}

#[derive(Debug, Clone, PartialEq)]
pub struct RunSummary {
    pub state: RunState,
    pub text: String,
    /// `stop`, `length`, `tool_calls`, `aborted` or `error`.
    pub stop_reason: String,
    pub error: Option<String>,
    pub usage: Usage,
    pub model: String,
    /// When the message was accepted (the run record's `accepted_at_ms`).
    pub accepted_at_ms: i64,
    pub started_at_ms: i64,
    pub ended_at_ms: i64,
}

/// Longest tool output carried by a [`RunEventKind::ToolResult`] event: enough
/// to follow along in a client, without copying whole files into every
/// subscriber's buffer.
pub const TOOL_OUTPUT_EVENT_CHARS: usize = 2000;

/// Fan-out of run events to every subscriber (WebSocket connections,
/// waiters). Bounded: a subscriber more than [`EVENT_BUFFER`] events behind
/// is told it lagged and must resynchronise from the store.
pub const EVENT_BUFFER: usize = 4096;

#[derive(Debug, Clone)]
pub struct EventHub {
    sender: broadcast::Sender<Arc<RunEvent>>,
}

impl Default for EventHub {
    fn default() -> Self {
        Self {
            sender: broadcast::channel(EVENT_BUFFER).0,
        }
    }
}

impl EventHub {
    pub fn publish(&self, event: RunEvent) {
        // No subscribers is normal (nobody is watching); not an error.
        let _ = self.sender.send(Arc::new(event));
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<RunEvent>> {
        self.sender.subscribe()
    }
}
