//! The agent side of Hearth: what happens between a message being accepted
//! and its reply being delivered.
//!
//! - [`runtime`]: the durable pipeline — admission, a lane per session,
//!   the global concurrency cap, recovery and shutdown ([`Runtime`]).
//! - `worker`: a lane's worker, running one turn at a time.
//! - [`turn`]: one agent turn against a [`hearth_core::Provider`], with the
//!   tool-call loop.
//! - [`tools`]: the tool set of a turn, argument validation, policies,
//!   concurrent execution and the approval broker.
//! - [`context`]: system prompt + history + message within a token budget.
//! - [`memory`]: the recall and flush hooks long-term memory plugs into.
//! - [`hooks`]: the inbound/outbound hook pipeline — PII redaction,
//!   disclaimers, content filters.
//! - [`persona`]: the system prompt from `AGENTS.md` / `SOUL.md`.
//! - [`skills`]: `SKILL.md` folders: discovery, gating, the prompt's skill
//!   list and the `read_skill` tool.
//! - [`registry`]: the agents served and their provider routes.
//! - [`delivery`]: the outbox, inline sends and the retry sweep.
//! - [`scheduler`]: cron jobs and reminders: the engine that fires them
//!   as turns, and the `schedule_*` tools.
//! - `pipeline`: the runtime as the `Pipeline` chat channels feed.
//! - [`events`]: run events for streaming clients.
//! - [`metrics`]: Prometheus metrics.
//!
//! Written only against `hearth-core` traits: no SQL, no HTTP, no platform.

pub mod context;
pub mod delivery;
pub mod events;
pub mod hooks;
pub mod memory;
pub mod metrics;
pub mod persona;
mod pipeline;
pub mod registry;
pub mod runtime;
pub mod scheduler;
mod screening;
pub mod settings;
pub mod skills;
pub mod tools;
pub mod turn;
mod worker;

pub use delivery::{Channels, LocalChannel};
pub use events::{RunEvent, RunEventKind, RunSummary};
pub use memory::{AgentMemory, FlushedTurn};
pub use metrics::Metrics;
pub use registry::{Agent, AgentError, AgentRegistry, AgentSource, ProviderFactory};
pub use runtime::{Runtime, RuntimeConfig, SubmitError, Submitted, WeakRuntime};
pub use scheduler::{
    Scheduler, SchedulerConfig, run_scheduler, schedule_tools, schedule_tools_with,
};
pub use settings::AgentSettings;

#[cfg(test)]
mod tests;
