//! Hearth's domain types and the narrow traits the rest of the workspace is
//! written against.
//!
//! Data flows through these types in one direction:
//!
//! ```text
//! platform/client ──InboundMessage──▶ Store (durable inbox) ──▶ agent turn
//!   agent turn ──ChatRequest──▶ Provider ──ChatEvent stream──▶ agent turn
//!   agent turn ──ChatMessage(s) + OutboundMessage──▶ Store (transcript, outbox)
//!   outbox ──OutboundMessage──▶ Channel (delivery, idempotent)
//! ```
//!
//! - [`session`]: session keys (`agent:<agentId>:<rest>`) and agent ids.
//! - [`message`]: chat messages, tool calls and tool specs as the agent sees them.
//! - [`envelope`]: inbound and outbound messages crossing the pipeline.
//! - [`provider`]: the streaming model [`Provider`] trait and its error kinds.
//! - [`store`]: the durable [`Store`] the pipeline is written against.
//! - [`schedule`]: cron jobs and reminders as the store keeps them.
//! - [`channel`]: the [`Channel`] contract: start with a context, send,
//!   capabilities, health; and the [`InboundSink`] adapters feed.
//! - [`pairing`]: the [`PairingStore`] behind DM access policy.
//! - [`tool`]: the [`Tool`] contract: spec, context, errors, typed tools.
//! - [`wheel`]: model files fetched out of Python wheels with pip.
//!
//! This crate has no sockets, no SQL and no HTTP framework: anything that
//! implements these traits can be plugged in (SQLite today, PostgreSQL for
//! cluster mode; any model API; any chat platform).

pub mod channel;
pub mod envelope;
pub mod message;
pub mod pairing;
pub mod provider;
pub mod schedule;
pub mod session;
pub mod store;
pub mod tool;
pub mod wheel;

pub use channel::{
    Admission, Capabilities, Channel, ChannelContext, ChannelError, ChannelHealth, HealthCell,
    HealthState, InboundError, InboundSink, Markup, Measure, Pipeline, PlatformMessage,
    WebhookHandler, WebhookRequest, WebhookResponse,
};
pub use envelope::{
    Attachment, Conversation, ConversationKind, InboundMessage, Origin, OutboundMessage, Sender,
};
pub use message::{ChatMessage, Role, ToolCall, ToolSpec};
pub use pairing::{ApprovedSender, PairingOutcome, PairingRequest, PairingStore};
pub use provider::{
    ChatEvent, ChatRequest, ChatStream, Completion, ErrorKind, FinishReason, Provider,
    ProviderError, ToolChoice, Usage,
};
pub use schedule::{MAX_SCHEDULES_PER_AGENT, NewSchedule, ScheduleKind, ScheduleRecord};
pub use session::{AgentId, InvalidId, SessionKey};
pub use store::{
    AcceptOutcome, AgentRecord, OutboxItem, RunRecord, RunState, SessionRecord, Store, StoreError,
    TranscriptEntry, TurnOutcome,
};
pub use tool::{
    ApprovalDecision, ApprovalRequest, Approver, Tool, ToolContext, ToolError, ToolResult,
    TypedTool, schema_for, typed,
};

/// Milliseconds since the Unix epoch, the timestamp unit of the wire protocol
/// and of every stored row.
pub fn now_ms() -> i64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
