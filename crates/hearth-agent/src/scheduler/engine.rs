//! The engine: one task that sleeps until the soonest schedule is due,
//! fires what is due by submitting a message to the pipeline, and records
//! each firing with the schedule's next fire time.
//!
//! Exactly once: a firing's message id is `sched-<schedule id>-<fire time
//! ms>`. If the process dies after the submit and before the firing is
//! recorded, the schedule is still due at the same slot after the restart;
//! its message then gets the same id, which the store recognises as a
//! duplicate, and only the record is made.

use std::sync::Arc;
use std::time::Duration;

use hearth_core::{InboundMessage, ScheduleKind, ScheduleRecord};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::spec::{self, CronSpec, Zone};
use crate::runtime::{Runtime, SubmitError, Submitted};

/// Due schedules read per pass. More are left for the next pass, which
/// follows at once, so a burst after downtime is fired in bounded batches.
const BATCH: usize = 32;
/// The longest the engine sleeps without looking at the wall clock. Timers
/// run on a monotonic clock; if the wall clock jumps (NTP, a suspended
/// laptop) a schedule is still fired at most this late.
const MAX_SLEEP: Duration = Duration::from_secs(60);
/// The pause before retrying a firing the pipeline refused for now (busy,
/// still starting) or the store failed to take. Short, so a reminder is
/// only seconds late; long enough not to spin against a full queue.
const RETRY_AFTER: Duration = Duration::from_secs(5);
/// A firing this much after its time tells the agent it is late.
const LATE_AFTER_MS: i64 = 60_000;

/// Where the engine reads the time from.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Clock {
    /// The wall clock.
    System,
    /// Wall-clock milliseconds that advance with tokio's clock, from
    /// `epoch_ms` at `start`: lets tests run days on a paused clock.
    #[cfg(test)]
    Tokio {
        epoch_ms: i64,
        start: tokio::time::Instant,
    },
}

impl Clock {
    pub(crate) fn now_ms(&self) -> i64 {
        match self {
            Clock::System => hearth_core::now_ms(),
            #[cfg(test)]
            Clock::Tokio { epoch_ms, start } => epoch_ms + start.elapsed().as_millis() as i64,
        }
    }
}

/// The message id of schedule `id`'s firing for slot `fire_ms`.
pub(crate) fn run_id(schedule_id: &str, fire_ms: i64) -> String {
    format!("sched-{schedule_id}-{fire_ms}")
}

/// The message a firing submits: the stored text, marked as scheduled, in
/// the schedule's session, answered to its channel and conversation.
pub(crate) fn message_for(job: &ScheduleRecord, fire_ms: i64, now_ms: i64) -> InboundMessage {
    let mut head = match &job.label {
        Some(label) => format!("[Scheduled task {:?} ({})", label, job.id),
        None => format!("[Scheduled task {}", job.id),
    };
    if now_ms - fire_ms > LATE_AFTER_MS {
        head.push_str(&format!(
            ", due at {}, running late",
            spec::rfc3339(fire_ms)
        ));
    }
    InboundMessage {
        id: run_id(&job.id, fire_ms),
        session_key: job.session_key.clone(),
        agent_id: job.agent_id.clone(),
        channel: job.channel.clone(),
        text: format!("{head}] {}", job.text),
        context: Vec::new(),
        received_at_ms: fire_ms,
        origin: job.origin.clone(),
    }
}

/// What became of one due schedule.
enum Fired {
    /// Fired (or disabled): it is no longer due at this slot.
    Done,
    /// Still due; try again after [`RETRY_AFTER`].
    Retry,
    /// The pipeline is shutting down.
    Stop,
}

/// What the loop does after a pass.
enum Next {
    /// More may be due right now (a full batch): pass again.
    Again,
    SleepUntil(i64),
    Stop,
}

/// The scheduler task. Build it, then [`Scheduler::run`] it.
pub struct Scheduler {
    runtime: Runtime,
    notify: Arc<Notify>,
    clock: Clock,
}

impl std::fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scheduler").finish_non_exhaustive()
    }
}

impl Scheduler {
    /// `notify` is the one the schedule tools were given: they signal it
    /// when a schedule is added, so a sleeping engine looks again.
    pub fn new(runtime: Runtime, notify: Arc<Notify>) -> Self {
        Self {
            runtime,
            notify,
            clock: Clock::System,
        }
    }

    #[cfg(test)]
    pub(crate) fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Fires due schedules until `shutdown` is cancelled (or the pipeline
    /// stops taking messages). Schedules missed while the daemon was down
    /// fire once, at the first pass, however many of their slots passed.
    pub async fn run(self, shutdown: CancellationToken) {
        tracing::debug!("scheduler started");
        // The runtime's own shutdown stops the engine too.
        let stopping = self.runtime.inner.stopping.clone();
        loop {
            if shutdown.is_cancelled() || stopping.is_cancelled() {
                break;
            }
            let wake_ms = match self.pass(&shutdown).await {
                Next::Again => continue,
                Next::Stop => break,
                Next::SleepUntil(ms) => ms,
            };
            let wait = (wake_ms - self.clock.now_ms()).clamp(0, MAX_SLEEP.as_millis() as i64);
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = stopping.cancelled() => break,
                // A stored permit (a schedule added while this pass ran) is
                // taken here too, so no addition is missed.
                _ = self.notify.notified() => {}
                _ = tokio::time::sleep(Duration::from_millis(wait as u64)) => {}
            }
        }
        tracing::debug!("scheduler stopped");
    }

    /// Fires what is due now and says when to look again.
    async fn pass(&self, shutdown: &CancellationToken) -> Next {
        let store = self.runtime.store();
        let now = self.clock.now_ms();
        let retry_at = now + RETRY_AFTER.as_millis() as i64;
        let due = match store.due_schedules(now, BATCH).await {
            Ok(due) => due,
            Err(error) => {
                tracing::warn!(%error, "cannot read due schedules; retrying");
                return Next::SleepUntil(retry_at);
            }
        };
        let mut retry = false;
        for job in &due {
            if shutdown.is_cancelled() {
                return Next::Stop;
            }
            match self.fire(job, now).await {
                Fired::Done => {}
                Fired::Retry => retry = true,
                Fired::Stop => return Next::Stop,
            }
        }
        if retry {
            return Next::SleepUntil(retry_at);
        }
        if due.len() == BATCH {
            return Next::Again;
        }
        match store.next_schedule_at().await {
            Ok(Some(next)) => Next::SleepUntil(next),
            Ok(None) => Next::SleepUntil(now + MAX_SLEEP.as_millis() as i64),
            Err(error) => {
                tracing::warn!(%error, "cannot read the next schedule; retrying");
                Next::SleepUntil(retry_at)
            }
        }
    }

    async fn fire(&self, job: &ScheduleRecord, now: i64) -> Fired {
        let Some(slot) = job.next_fire_at_ms else {
            return Fired::Done;
        };
        let next = match job.kind {
            ScheduleKind::Once => None,
            // From now, not from the slot: after downtime the missed slots
            // are skipped, not fired one after another.
            ScheduleKind::Cron => next_cron_fire(job, now.max(slot)),
        };
        if self.runtime.agents().get(&job.agent_id).is_none() {
            return self.skip(job, slot, next).await;
        }
        match self.runtime.submit(message_for(job, slot, now)).await {
            Ok(Submitted::Accepted { .. }) => {
                tracing::info!(schedule = %job.id, agent = %job.agent_id, fire_ms = slot, "schedule fired");
            }
            Ok(Submitted::Duplicate(_)) => {
                tracing::info!(schedule = %job.id, fire_ms = slot, "schedule had fired before a restart; recording it");
            }
            Err(SubmitError::ShuttingDown) => return Fired::Stop,
            Err(SubmitError::UnknownAgent(_)) => return self.skip(job, slot, next).await,
            Err(error) => {
                // Busy, starting or a store failure: the schedule stays due.
                tracing::info!(schedule = %job.id, %error, "cannot fire the schedule yet; retrying");
                return Fired::Retry;
            }
        }
        self.record(job, slot, next).await
    }

    /// Moves the schedule past `slot`.
    async fn record(&self, job: &ScheduleRecord, slot: i64, next: Option<i64>) -> Fired {
        match self
            .runtime
            .store()
            .schedule_fired(&job.id, slot, next)
            .await
        {
            Ok(_) => Fired::Done,
            Err(error) => {
                // Firing again is safe: the message id makes it a duplicate.
                tracing::warn!(schedule = %job.id, %error, "cannot record the firing; retrying");
                Fired::Retry
            }
        }
    }

    /// The schedule's agent is gone (removed, or its model no longer
    /// builds). A cron job skips this slot and fires again once the agent
    /// is back; a reminder has no later slot, so it is disabled: kept and
    /// listed, but never fired. Neither stays due, or such schedules would
    /// fill every batch and starve the others.
    async fn skip(&self, job: &ScheduleRecord, slot: i64, next: Option<i64>) -> Fired {
        match job.kind {
            ScheduleKind::Cron => {
                tracing::warn!(schedule = %job.id, agent = %job.agent_id, fire_ms = slot, "the schedule's agent does not exist; skipping this firing");
                self.record(job, slot, next).await
            }
            ScheduleKind::Once => {
                tracing::warn!(schedule = %job.id, agent = %job.agent_id, "the reminder's agent does not exist; disabling the reminder");
                self.disable(job).await
            }
        }
    }

    async fn disable(&self, job: &ScheduleRecord) -> Fired {
        match self.runtime.store().disable_schedule(&job.id).await {
            Ok(_) => Fired::Done,
            Err(error) => {
                tracing::warn!(schedule = %job.id, %error, "cannot disable the schedule; retrying");
                Fired::Retry
            }
        }
    }
}

/// A cron schedule's next fire time after `after_ms`. A stored expression
/// or zone that no longer parses (a zone dropped from the system's
/// database) gets no next time: it fires this once more and is disabled.
fn next_cron_fire(job: &ScheduleRecord, after_ms: i64) -> Option<i64> {
    let expression = job.cron.as_deref().unwrap_or_default();
    let parsed = Zone::named(&job.timezone).and_then(|zone| CronSpec::parse(expression, zone));
    match parsed {
        Ok(cron) => cron.next_after(after_ms),
        Err(error) => {
            tracing::warn!(schedule = %job.id, %error, "stored cron schedule no longer parses; disabling it after this firing");
            None
        }
    }
}
