//! The durable state the pipeline is written against. SQLite implements it
//! today (`hearth-store`); PostgreSQL will for cluster mode.
//!
//! The contract that keeps messages from being lost or answered twice:
//!
//! 1. [`Store::accept`] commits an inbound message before anyone acknowledges
//!    it; a second message with the same id is a [`AcceptOutcome::Duplicate`].
//! 2. [`Store::finish_run`] commits, in one transaction, the turn's
//!    transcript, the reply in the outbox, and the run's end. A crash before
//!    it leaves the run unfinished ([`Store::unfinished_runs`] resumes it); a
//!    crash after it leaves exactly one outbox entry.
//! 3. The outbox is drained by [`Store::pending_outbox`] /
//!    [`Store::outbox_delivered`], each entry carrying its idempotency key.
//!
//! Schedules (cron jobs and reminders) are rows with a next fire time; the
//! scheduler fires a due one by submitting a message whose id names the
//! schedule and the fire time, then moves the fire time on with
//! [`Store::schedule_fired`]. A crash in between fires the same id again,
//! which [`Store::accept`] recognises as a duplicate.

use crate::{
    AgentId, ChatMessage, InboundMessage, NewSchedule, OutboundMessage, ScheduleRecord, SessionKey,
    Usage,
};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found: {0}")]
    NotFound(String),
    #[error("already exists: {0}")]
    Conflict(String),
    #[error("invalid: {0}")]
    Invalid(String),
    /// The database itself failed (I/O, corruption, lock timeout).
    #[error("storage failure: {0}")]
    Backend(String),
}

/// Where a run (one inbound message and its turn) stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunState {
    /// Accepted, waiting for its lane.
    Queued,
    /// Its turn has started (and may have been cut short by a crash).
    Running,
    /// Answered.
    Done,
    /// Stopped on request; the partial answer is its reply.
    Aborted,
    /// The model failed; the reply says so.
    Failed,
}

impl RunState {
    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Queued => "queued",
            RunState::Running => "running",
            RunState::Done => "done",
            RunState::Aborted => "aborted",
            RunState::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "queued" => RunState::Queued,
            "running" => RunState::Running,
            "done" => RunState::Done,
            "aborted" => RunState::Aborted,
            "failed" => RunState::Failed,
            _ => return None,
        })
    }

    pub fn is_finished(self) -> bool {
        matches!(self, RunState::Done | RunState::Aborted | RunState::Failed)
    }
}

/// A run as stored: its message, state and (once finished) its reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRecord {
    pub run_id: String,
    pub session_key: SessionKey,
    pub agent_id: AgentId,
    pub state: RunState,
    pub reply: Option<String>,
    pub error: Option<String>,
    pub accepted_at_ms: i64,
    pub finished_at_ms: Option<i64>,
    /// Tokens the run's model calls used (zero until it finishes).
    pub usage: Usage,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AcceptOutcome {
    /// Newly recorded.
    Accepted,
    /// This id was accepted before; here is that run.
    Duplicate(RunRecord),
}

/// What a finished turn commits in one transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TurnOutcome {
    /// `Done`, `Aborted` or `Failed`.
    pub state: RunState,
    /// The messages the turn adds to the transcript, in order: the user's
    /// message first, then tool calls, tool results and the final answer.
    pub transcript: Vec<ChatMessage>,
    /// The reply to deliver.
    pub reply: OutboundMessage,
    /// The reply's channel delivers on commit: record it as delivered.
    pub delivered: bool,
    pub error: Option<String>,
    pub usage: Usage,
}

/// One transcript row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TranscriptEntry {
    pub message: ChatMessage,
    pub run_id: String,
    pub at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxItem {
    pub id: i64,
    pub message: OutboundMessage,
    pub attempts: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRecord {
    pub key: SessionKey,
    pub agent_id: AgentId,
    /// Changes on reset: the old transcript is kept, the new one starts empty.
    pub session_id: String,
    pub label: Option<String>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    /// Messages in the current transcript.
    pub message_count: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
}

/// An agent defined at runtime (through the control protocol). Its settings
/// are kept as JSON so the store does not need to know them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentRecord {
    pub id: AgentId,
    pub settings: serde_json::Value,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

/// Durable state. Every method is one transaction.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    // --- the pipeline ---
    /// Records an inbound message (and its session, if new) as `Queued`.
    async fn accept(&self, message: &InboundMessage) -> Result<AcceptOutcome, StoreError>;
    async fn mark_running(&self, run_id: &str) -> Result<(), StoreError>;
    /// Commits a turn: transcript, outbox entry and run state together.
    /// Returns the new outbox entry's id, or `None` if the run had already
    /// finished (a replay): then nothing is written and nothing must be
    /// delivered again.
    async fn finish_run(
        &self,
        run_id: &str,
        outcome: &TurnOutcome,
    ) -> Result<Option<i64>, StoreError>;
    /// `Queued` and `Running` runs, oldest first, to resume after a restart.
    async fn unfinished_runs(&self) -> Result<Vec<InboundMessage>, StoreError>;
    async fn run(&self, run_id: &str) -> Result<Option<RunRecord>, StoreError>;

    // --- the outbox ---
    /// Undelivered entries, oldest first.
    async fn pending_outbox(&self, limit: usize) -> Result<Vec<OutboxItem>, StoreError>;
    async fn outbox_delivered(&self, id: i64) -> Result<(), StoreError>;
    /// Queues a message that is not a run's reply (a tool sending to
    /// another chat), under `run_id` for the record. Returns its row id, or
    /// `None` when its idempotency key is already in the outbox: a replayed
    /// call does not send twice.
    async fn enqueue_outbound(
        &self,
        run_id: &str,
        message: &OutboundMessage,
    ) -> Result<Option<i64>, StoreError>;
    /// Records a failed attempt; `give_up` marks it permanently failed.
    async fn outbox_attempt_failed(
        &self,
        id: i64,
        error: &str,
        give_up: bool,
    ) -> Result<(), StoreError>;

    // --- sessions and transcripts ---
    /// The session, created if missing.
    async fn ensure_session(
        &self,
        key: &SessionKey,
        agent: &AgentId,
        label: Option<&str>,
    ) -> Result<SessionRecord, StoreError>;
    async fn session(&self, key: &SessionKey) -> Result<Option<SessionRecord>, StoreError>;
    /// Most recently updated first.
    async fn sessions(
        &self,
        agent: Option<&AgentId>,
        limit: usize,
    ) -> Result<Vec<SessionRecord>, StoreError>;
    /// The last `limit` messages of the session's current transcript, oldest first.
    async fn history(
        &self,
        key: &SessionKey,
        limit: usize,
    ) -> Result<Vec<TranscriptEntry>, StoreError>;
    /// Starts a new transcript (the old one is kept). False if no such session.
    async fn reset_session(&self, key: &SessionKey) -> Result<bool, StoreError>;
    /// Removes the session and all its transcripts. False if no such session.
    async fn delete_session(&self, key: &SessionKey) -> Result<bool, StoreError>;

    // --- agents defined at runtime ---
    async fn agents(&self) -> Result<Vec<AgentRecord>, StoreError>;
    /// Inserts (`create`) or replaces (`!create`) an agent; create fails with
    /// `Conflict` if it exists, replace with `NotFound` if it does not.
    async fn put_agent(&self, agent: &AgentRecord, create: bool) -> Result<(), StoreError>;
    async fn delete_agent(&self, id: &AgentId) -> Result<bool, StoreError>;

    // --- schedules ---
    /// Adds a schedule, refusing it with `Invalid` if its agent already has
    /// `max_per_agent` schedules.
    async fn add_schedule(
        &self,
        schedule: &NewSchedule,
        max_per_agent: usize,
    ) -> Result<ScheduleRecord, StoreError>;
    /// All schedules, or one agent's, soonest first (disabled ones last).
    async fn schedules(&self, agent: Option<&AgentId>) -> Result<Vec<ScheduleRecord>, StoreError>;
    /// Removes the agent's schedule `id`. False if the agent has no such
    /// schedule (another agent's is never removed).
    async fn remove_schedule(&self, id: &str, agent: &AgentId) -> Result<bool, StoreError>;
    /// Enabled schedules whose next fire time is at or before `now_ms`,
    /// soonest first, at most `limit`.
    async fn due_schedules(
        &self,
        now_ms: i64,
        limit: usize,
    ) -> Result<Vec<ScheduleRecord>, StoreError>;
    /// The soonest next fire time among enabled schedules.
    async fn next_schedule_at(&self) -> Result<Option<i64>, StoreError>;
    /// Records that schedule `id` fired for its slot `fired_at_ms` (the
    /// fire time it was due at; also used when a slot is skipped) and
    /// moves it on to `next_fire_at_ms`. With
    /// no next time a one-shot schedule is removed and a cron one disabled.
    /// Applies only if the schedule is still due at `fired_at_ms`, so a
    /// second scheduler recording the same slot changes nothing; returns
    /// whether it applied.
    async fn schedule_fired(
        &self,
        id: &str,
        fired_at_ms: i64,
        next_fire_at_ms: Option<i64>,
    ) -> Result<bool, StoreError>;
    /// Keeps schedule `id` but stops it from firing. False if it is gone.
    async fn disable_schedule(&self, id: &str) -> Result<bool, StoreError>;

    // --- audit ---
    async fn audit(
        &self,
        actor: &str,
        action: &str,
        detail: &serde_json::Value,
    ) -> Result<(), StoreError>;
}
