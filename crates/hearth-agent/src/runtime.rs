//! The pipeline: accepts inbound messages durably, runs one turn at a time
//! per session (a *lane* per session key) under a global concurrency cap,
//! queues follow-ups that arrive mid-run, delivers replies through the
//! outbox, resumes unfinished work after a restart, and drains on shutdown.
//!
//! ```text
//! submit ─▶ admission (bounded) ─▶ Store::accept ─▶ lane queue ─▶ worker
//!   worker: permit ─▶ turn ─▶ Store::finish_run ─▶ event ─▶ delivery
//! ```

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use hearth_core::{
    AcceptOutcome, InboundMessage, OutboundMessage, RunRecord, SessionKey, Store, StoreError,
};
use parking_lot::Mutex;
use tokio::sync::{Notify, Semaphore, broadcast};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::delivery::Channels;
use crate::events::{EventHub, RunEvent, RunEventKind};
use crate::hooks::HookPipeline;
use crate::metrics::Metrics;
use crate::registry::AgentRegistry;
use crate::tools::source::RuntimeTools;
use crate::tools::{ChannelToolPolicy, ToolSource};

#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// Turns talking to a model at once, across all sessions.
    pub max_concurrent_turns: usize,
    /// Accepted runs not yet finished, across all sessions. Past it, new
    /// messages are refused with [`SubmitError::Busy`] instead of queuing
    /// without bound.
    pub max_pending: usize,
    /// Follow-ups queued behind one session's current run.
    pub max_pending_per_session: usize,
    /// How long shutdown waits for in-flight turns before interrupting them
    /// (interrupted turns stay unfinished and resume at the next start).
    pub drain_timeout: Duration,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        Self {
            max_concurrent_turns: 16,
            max_pending: 1024,
            max_pending_per_session: 32,
            drain_timeout: Duration::from_secs(10),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error("busy: {pending} messages are already waiting; retry shortly")]
    Busy { pending: usize },
    #[error("busy: session {session} already has {pending} messages waiting; retry shortly")]
    SessionBusy { session: String, pending: usize },
    #[error("unknown agent {0:?}")]
    UnknownAgent(String),
    #[error("shutting down; not accepting new messages")]
    ShuttingDown,
    #[error("starting: recovering unfinished work; retry shortly")]
    Starting,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The run as the store records it, built from its final event.
fn finished_record(event: &RunEvent, summary: &crate::events::RunSummary) -> RunRecord {
    RunRecord {
        run_id: event.run_id.to_string(),
        session_key: event.session_key.clone(),
        agent_id: event.agent_id.clone(),
        state: summary.state,
        reply: Some(summary.text.clone()),
        error: summary.error.clone(),
        accepted_at_ms: summary.accepted_at_ms,
        finished_at_ms: Some(summary.ended_at_ms),
        usage: summary.usage,
    }
}

/// The answer to a submit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Submitted {
    /// Durably accepted and queued.
    Accepted {
        run_id: String,
        queued_behind: usize,
    },
    /// The same message id was accepted before.
    Duplicate(RunRecord),
}

pub(crate) struct ActiveRun {
    pub run_id: String,
    pub abort: CancellationToken,
}

#[derive(Default)]
pub(crate) struct Lane {
    pub queue: VecDeque<InboundMessage>,
    pub active: Option<ActiveRun>,
}

pub(crate) struct Inner {
    pub store: Arc<dyn Store>,
    pub agents: Arc<AgentRegistry>,
    pub channels: Channels,
    pub events: EventHub,
    pub metrics: Arc<Metrics>,
    pub config: RuntimeConfig,
    /// Lanes by session. A lane exists while its session has queued or
    /// running work; its worker removes it when the queue empties.
    pub lanes: Mutex<HashMap<SessionKey, Lane>>,
    /// Accepted but unfinished runs (the admission bound).
    pub pending: AtomicUsize,
    pub permits: Semaphore,
    /// Set once `start` has requeued the unfinished runs. Until then new
    /// messages are refused: recovery reads every unfinished run from the
    /// store, and a message accepted meanwhile would be queued twice.
    pub started: std::sync::atomic::AtomicBool,
    /// Stops lanes from starting new turns.
    pub stopping: CancellationToken,
    /// Interrupts in-flight turns (after the drain timeout).
    pub interrupt: CancellationToken,
    pub tasks: TaskTracker,
    /// Replies being delivered inline, by idempotency key, so the retry
    /// sweep does not send them a second time concurrently.
    pub delivering: Mutex<HashSet<String>>,
    /// Runs queued or running in this process. Bounded by `max_pending`
    /// (plus what recovery requeued). Lets `wait` skip the store while a
    /// run is still going.
    pub in_flight: Mutex<HashSet<String>>,
    pub outbox_wakeup: Notify,
    /// Long-term memory for recall and flush, if the daemon has one.
    pub memory: Option<Arc<dyn crate::memory::AgentMemory>>,
    /// Where turns get their tools; `None` runs every turn without tools.
    pub tools: Option<RuntimeTools>,
    /// Each channel's hooks, by channel name (the agent's are on the agent).
    pub channel_hooks: HashMap<String, HookPipeline>,
}

/// The pipeline handle. Cheap to clone.
#[derive(Clone)]
pub struct Runtime {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("pending", &self.pending())
            .finish_non_exhaustive()
    }
}

/// A [`Runtime`] reference that does not keep it alive: for what the
/// runtime itself holds (tools), so dropping the runtime frees it.
#[derive(Debug, Clone)]
pub struct WeakRuntime(std::sync::Weak<Inner>);

impl WeakRuntime {
    pub fn upgrade(&self) -> Option<Runtime> {
        self.0.upgrade().map(|inner| Runtime { inner })
    }
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inner").finish_non_exhaustive()
    }
}

impl Runtime {
    pub fn downgrade(&self) -> WeakRuntime {
        WeakRuntime(Arc::downgrade(&self.inner))
    }

    pub fn new(
        store: Arc<dyn Store>,
        agents: Arc<AgentRegistry>,
        channels: Channels,
        metrics: Arc<Metrics>,
        config: RuntimeConfig,
    ) -> Self {
        let permits = Semaphore::new(config.max_concurrent_turns.max(1));
        Self {
            inner: Arc::new(Inner {
                store,
                agents,
                channels,
                events: EventHub::default(),
                metrics,
                config,
                lanes: Mutex::default(),
                pending: AtomicUsize::new(0),
                permits,
                started: std::sync::atomic::AtomicBool::new(false),
                stopping: CancellationToken::new(),
                interrupt: CancellationToken::new(),
                tasks: TaskTracker::new(),
                delivering: Mutex::default(),
                in_flight: Mutex::default(),
                outbox_wakeup: Notify::new(),
                memory: None,
                tools: None,
                channel_hooks: HashMap::new(),
            }),
        }
    }

    /// Gives turns a memory to recall from and flush to. Call right after
    /// [`Runtime::new`], before the runtime is cloned or started.
    pub fn with_memory(mut self, memory: Arc<dyn crate::memory::AgentMemory>) -> Self {
        Arc::get_mut(&mut self.inner)
            .expect("with_memory is called before the runtime is shared")
            .memory = Some(memory);
        self
    }

    /// Gives turns tools from `source`, narrowed per channel by `channels`
    /// (by channel name). Call right after [`Runtime::new`].
    pub fn with_tools(
        mut self,
        source: Arc<dyn ToolSource>,
        channels: HashMap<String, ChannelToolPolicy>,
    ) -> Self {
        Arc::get_mut(&mut self.inner)
            .expect("with_tools is called before the runtime is shared")
            .tools = Some(RuntimeTools { source, channels });
        self
    }

    /// Runs `hooks` (compiled, by channel name) over the messages and
    /// replies of each channel. Call right after [`Runtime::new`].
    pub fn with_channel_hooks(mut self, hooks: HashMap<String, HookPipeline>) -> Self {
        Arc::get_mut(&mut self.inner)
            .expect("with_channel_hooks is called before the runtime is shared")
            .channel_hooks = hooks;
        self
    }

    /// Recovers after a restart: delivers replies left in the outbox, then
    /// requeues runs that were accepted but not finished, in their original
    /// order. Starts the outbox retry sweep. Returns how many runs resumed.
    pub async fn start(&self) -> Result<usize, StoreError> {
        crate::delivery::sweep_once(&self.inner).await;
        let unfinished = self.inner.store.unfinished_runs().await?;
        let resumed = unfinished.len();
        for message in unfinished {
            self.inner.pending.fetch_add(1, Ordering::SeqCst);
            self.enqueue(message);
        }
        self.inner.metrics.queue_depth.set(self.pending() as i64);
        self.inner.started.store(true, Ordering::SeqCst);
        let inner = self.inner.clone();
        self.inner.tasks.spawn(crate::delivery::retry_loop(inner));
        if resumed > 0 {
            tracing::info!(resumed, "resuming unfinished runs");
        }
        Ok(resumed)
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    pub fn agents(&self) -> &Arc<AgentRegistry> {
        &self.inner.agents
    }

    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.inner.metrics
    }

    /// Accepted runs not finished yet.
    pub fn pending(&self) -> usize {
        self.inner.pending.load(Ordering::SeqCst)
    }

    /// Sessions with a run in progress, and the run ids.
    pub fn active_runs(&self) -> Vec<(SessionKey, String)> {
        let lanes = self.inner.lanes.lock();
        lanes
            .iter()
            .filter_map(|(k, lane)| lane.active.as_ref().map(|a| (k.clone(), a.run_id.clone())))
            .collect()
    }

    /// Queues `message` (not a run's reply: a tool sending to another
    /// chat) in the outbox and wakes delivery. Returns `false` when its
    /// idempotency key was queued before, so a replayed call sends once.
    pub async fn send_message(
        &self,
        run_id: &str,
        message: OutboundMessage,
    ) -> Result<bool, StoreError> {
        if self.inner.channels.get(&message.channel).is_none() {
            return Err(StoreError::Invalid(format!(
                "no channel named {:?}",
                message.channel
            )));
        }
        let queued = self.inner.store.enqueue_outbound(run_id, &message).await?;
        if queued.is_some() {
            self.inner.outbox_wakeup.notify_one();
        }
        Ok(queued.is_some())
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<RunEvent>> {
        self.inner.events.subscribe()
    }

    /// Accepts a message: checks capacity, commits it to the inbox, queues
    /// it on its session's lane. Only after this returns `Ok` may the
    /// message be acknowledged to its sender.
    pub async fn submit(&self, message: InboundMessage) -> Result<Submitted, SubmitError> {
        let inner = &self.inner;
        if inner.stopping.is_cancelled() {
            return Err(SubmitError::ShuttingDown);
        }
        if !inner.started.load(Ordering::SeqCst) {
            return Err(SubmitError::Starting);
        }
        if inner.agents.get(&message.agent_id).is_none() {
            return Err(SubmitError::UnknownAgent(message.agent_id.to_string()));
        }
        // Reserve a slot before touching the store so that a refused message
        // leaves no trace.
        let pending = inner.pending.fetch_add(1, Ordering::SeqCst);
        if pending >= inner.config.max_pending {
            inner.pending.fetch_sub(1, Ordering::SeqCst);
            inner.metrics.rejected_busy.inc();
            return Err(SubmitError::Busy { pending });
        }
        let in_lane = inner
            .lanes
            .lock()
            .get(&message.session_key)
            .map_or(0, |l| l.queue.len());
        if in_lane >= inner.config.max_pending_per_session {
            inner.pending.fetch_sub(1, Ordering::SeqCst);
            inner.metrics.rejected_busy.inc();
            return Err(SubmitError::SessionBusy {
                session: message.session_key.to_string(),
                pending: in_lane,
            });
        }
        match inner.store.accept(&message).await {
            Ok(AcceptOutcome::Accepted) => {}
            Ok(AcceptOutcome::Duplicate(run)) => {
                inner.pending.fetch_sub(1, Ordering::SeqCst);
                return Ok(Submitted::Duplicate(run));
            }
            Err(error) => {
                inner.pending.fetch_sub(1, Ordering::SeqCst);
                inner.metrics.error("store");
                return Err(error.into());
            }
        }
        inner.metrics.accepted.inc();
        inner.metrics.queue_depth.set(self.pending() as i64);
        let run_id = message.id.clone();
        let queued_behind = self.enqueue(message);
        Ok(Submitted::Accepted {
            run_id,
            queued_behind,
        })
    }

    /// Puts an accepted message on its lane, starting the lane's worker if
    /// the lane was idle. Returns how many runs are ahead of it.
    fn enqueue(&self, message: InboundMessage) -> usize {
        let key = message.session_key.clone();
        self.inner.in_flight.lock().insert(message.id.clone());
        let mut lanes = self.inner.lanes.lock();
        let lane = lanes.entry(key.clone()).or_default();
        let ahead = lane.queue.len() + usize::from(lane.active.is_some());
        let idle = ahead == 0;
        lane.queue.push_back(message);
        drop(lanes);
        if idle {
            let inner = self.inner.clone();
            self.inner.tasks.spawn(crate::worker::run_lane(inner, key));
        }
        ahead
    }

    /// Aborts the session's running turn (if `run_id` is given, only if it
    /// is that run). Returns the aborted run's id.
    pub fn abort(&self, session: &SessionKey, run_id: Option<&str>) -> Option<String> {
        let lanes = self.inner.lanes.lock();
        let active = lanes.get(session)?.active.as_ref()?;
        if run_id.is_some_and(|id| id != active.run_id) {
            return None;
        }
        active.abort.cancel();
        Some(active.run_id.clone())
    }

    /// Waits until `run_id` has finished, up to `timeout`. Returns the run as
    /// stored (finished or not), or `None` if there is no such run.
    pub async fn wait(
        &self,
        run_id: &str,
        timeout: Duration,
    ) -> Result<Option<RunRecord>, StoreError> {
        // Subscribe before checking, so a finish in between is seen. A run
        // still in flight here has not emitted its final event yet (the
        // worker leaves the set before emitting), so no store read is needed
        // until it ends; otherwise the store has the answer.
        let mut events = self.subscribe();
        let deadline = tokio::time::Instant::now() + timeout;
        let mut check_store = !self.inner.in_flight.lock().contains(run_id);
        loop {
            if check_store {
                let run = self.inner.store.run(run_id).await?;
                match &run {
                    Some(record) if !record.state.is_finished() => {}
                    _ => return Ok(run),
                }
            }
            match tokio::time::timeout_at(deadline, events.recv()).await {
                Err(_) => return self.inner.store.run(run_id).await,
                Ok(Ok(event)) => {
                    if *event.run_id == *run_id
                        && let RunEventKind::Finished(summary) = &event.kind
                    {
                        return Ok(Some(finished_record(&event, summary)));
                    }
                    check_store = false;
                }
                // Missed events (the final one among them, perhaps): re-read.
                Ok(Err(broadcast::error::RecvError::Lagged(_))) => check_store = true,
                Ok(Err(broadcast::error::RecvError::Closed)) => {
                    return self.inner.store.run(run_id).await;
                }
            }
        }
    }

    /// Stops accepting, lets in-flight turns finish for up to the drain
    /// timeout, then interrupts the rest (they resume at the next start) and
    /// waits for every task to end.
    pub async fn shutdown(&self) {
        let inner = &self.inner;
        inner.stopping.cancel();
        inner.tasks.close();
        if tokio::time::timeout(inner.config.drain_timeout, inner.tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                timeout_ms = inner.config.drain_timeout.as_millis() as u64,
                "drain timeout reached; interrupting in-flight turns (they resume at the next start)"
            );
            inner.interrupt.cancel();
            inner.tasks.wait().await;
        }
    }
}
