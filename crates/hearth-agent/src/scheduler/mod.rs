//! The scheduler: cron jobs and one-shot reminders the agent sets for
//! itself, kept in the store, each firing an agent turn whose reply goes
//! to the conversation the schedule was made in.
//!
//! ```text
//! model ─schedule_add─▶ tools ─▶ Store::add_schedule ─▶ Notify
//! engine: sleep until due ─▶ Runtime::submit(sched-<id>-<fire ms>) ─▶ Store::schedule_fired
//! turn ─▶ outbox ─▶ the schedule's channel and conversation
//! ```
//!
//! - `spec`: cron expressions, time zones, `at` and `in` (pure).
//! - `engine`: the task that fires due schedules ([`Scheduler`]).
//! - `tools`: `schedule_add`, `schedule_list`, `schedule_remove`.
//!
//! The daemon builds the tools with [`schedule_tools`] and runs the engine
//! with [`run_scheduler`], handing both the same `Notify`.

mod engine;
mod spec;
mod tools;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tools_tests;

use std::sync::Arc;
use std::time::Duration;

use hearth_core::{MAX_SCHEDULES_PER_AGENT, Store, Tool, typed};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

pub use engine::Scheduler;

use crate::runtime::Runtime;

/// Limits and defaults of the schedule tools.
#[derive(Debug, Clone)]
pub struct SchedulerConfig {
    /// Schedules one agent may hold.
    pub max_per_agent: usize,
    /// The shortest gap between two firings of one cron job. Every firing
    /// is a model turn; one a minute is the floor cron syntax allows.
    pub min_interval: Duration,
    /// The IANA zone (or `UTC`) cron expressions and local times are read
    /// in when the model names none. `None`: the machine's own zone.
    pub default_timezone: Option<String>,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        Self {
            max_per_agent: MAX_SCHEDULES_PER_AGENT,
            min_interval: Duration::from_secs(60),
            default_timezone: None,
        }
    }
}

impl SchedulerConfig {
    /// Checks the settings without side effects (for config validation).
    pub fn validate(&self) -> Result<(), String> {
        if self.max_per_agent == 0 || self.max_per_agent > MAX_SCHEDULES_PER_AGENT {
            return Err(format!(
                "max schedules per agent must be 1 to {MAX_SCHEDULES_PER_AGENT}"
            ));
        }
        if self.min_interval < Duration::from_secs(60) {
            return Err("the minimum cron interval must be at least one minute".into());
        }
        if let Some(name) = &self.default_timezone {
            spec::Zone::named(name)?;
        }
        Ok(())
    }

    fn zone(&self) -> spec::Zone {
        match &self.default_timezone {
            Some(name) => spec::Zone::named(name).unwrap_or_else(|error| {
                tracing::warn!(%error, "using UTC for schedules");
                spec::Zone::utc()
            }),
            None => spec::Zone::system(),
        }
    }
}

/// `schedule_add`, `schedule_list` and `schedule_remove` with the default
/// limits. `notify` must be the one given to [`run_scheduler`].
pub fn schedule_tools(store: Arc<dyn Store>, notify: Arc<Notify>) -> Vec<Arc<dyn Tool>> {
    schedule_tools_with(store, notify, SchedulerConfig::default())
}

/// The schedule tools with the given limits and default time zone.
pub fn schedule_tools_with(
    store: Arc<dyn Store>,
    notify: Arc<Notify>,
    config: SchedulerConfig,
) -> Vec<Arc<dyn Tool>> {
    let shared = Arc::new(tools::Shared {
        store,
        notify,
        zone: config.zone(),
        config,
    });
    vec![
        typed(tools::ScheduleAdd(shared.clone())),
        typed(tools::ScheduleList(shared.clone())),
        typed(tools::ScheduleRemove(shared)),
    ]
}

/// Runs the engine until `shutdown` is cancelled. Spawn it on the daemon's
/// task tracker; it takes the store from `runtime`, and submissions the
/// runtime refuses while it is starting or busy are retried.
pub async fn run_scheduler(runtime: Runtime, shutdown: CancellationToken, notify: Arc<Notify>) {
    Scheduler::new(runtime, notify).run(shutdown).await;
}
