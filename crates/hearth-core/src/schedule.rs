//! Scheduled agent turns as the store keeps them: cron jobs and one-shot
//! reminders. Parsing cron expressions and computing fire times is the
//! scheduler's business (`hearth-agent`); the store only keeps the rows and
//! the next fire time the scheduler computed.

use serde::{Deserialize, Serialize};

use crate::{AgentId, Origin, SessionKey};

/// The most schedules one agent may hold, unless the caller of
/// [`crate::Store::add_schedule`] asks for fewer. Bounds the table (and the
/// model's listing) whatever a model is talked into.
pub const MAX_SCHEDULES_PER_AGENT: usize = 256;

/// Whether a schedule repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScheduleKind {
    /// Fires at every match of a cron expression.
    Cron,
    /// Fires once, then is removed.
    Once,
}

impl ScheduleKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ScheduleKind::Cron => "cron",
            ScheduleKind::Once => "once",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "cron" => Some(ScheduleKind::Cron),
            "once" => Some(ScheduleKind::Once),
            _ => None,
        }
    }
}

/// A schedule to add. The store gives it an id and its creation time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewSchedule {
    pub agent_id: AgentId,
    /// The session each firing's turn runs in.
    pub session_key: SessionKey,
    /// The channel the turn's reply goes out through.
    pub channel: String,
    /// The conversation the reply is addressed to (`None` for gateway
    /// clients, which read replies from events).
    pub origin: Option<Origin>,
    /// What the agent is asked when the schedule fires.
    pub text: String,
    pub label: Option<String>,
    pub kind: ScheduleKind,
    /// The cron expression (`Cron` only).
    pub cron: Option<String>,
    /// The IANA time zone the cron expression is read in (`UTC` for none).
    pub timezone: String,
    /// The first fire time, ms since the epoch.
    pub next_fire_at_ms: i64,
    /// Who asked for it (`channel:sender`, see `ToolContext::caller`).
    pub created_by: String,
}

/// A schedule as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleRecord {
    /// Short and unique (`s` and 8 hex digits), so a model can repeat it.
    pub id: String,
    pub agent_id: AgentId,
    pub session_key: SessionKey,
    pub channel: String,
    pub origin: Option<Origin>,
    pub text: String,
    pub label: Option<String>,
    pub kind: ScheduleKind,
    pub cron: Option<String>,
    pub timezone: String,
    /// When it fires next; `None` once it never will (then it is disabled).
    pub next_fire_at_ms: Option<i64>,
    /// The scheduled time of the last slot that passed (fired, or skipped
    /// because the agent did not exist).
    pub last_fired_at_ms: Option<i64>,
    pub created_by: String,
    pub created_at_ms: i64,
    /// Disabled schedules are kept but never fire (a reminder whose agent
    /// was gone when it came due, a cron expression with no future match).
    pub enabled: bool,
}
