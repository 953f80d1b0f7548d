//! Pipeline tests: the real runtime over the real SQLite store, with a
//! scriptable provider and channel from the testkit.

mod tools;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use hearth_core::{
    AgentId, ErrorKind, InboundMessage, Provider, ProviderError, Role, RunState, SessionKey, Store,
};
use hearth_store::{SqliteOptions, SqliteStore};
use hearth_testkit::{FakeProvider, FakeReply as Reply, RecordingChannel};
use tokio::sync::Semaphore;

use crate::{
    AgentRegistry, AgentSettings, Channels, LocalChannel, Metrics, ProviderFactory, RunEventKind,
    Runtime, RuntimeConfig, SubmitError, Submitted,
};

struct OneProvider(Arc<FakeProvider>);

impl ProviderFactory for OneProvider {
    fn build(&self, settings: &AgentSettings) -> Result<Arc<dyn Provider>, String> {
        if settings.model == "fake" {
            Ok(self.0.clone())
        } else {
            Err(format!("unknown model {:?}", settings.model))
        }
    }
}

/// A runtime over a SQLite store in a temporary folder, with one agent
/// (`main`, on the fake provider) and a recording channel named `test`.
/// Other test modules (the scheduler's) build on it.
pub(crate) struct Harness {
    pub dir: tempfile::TempDir,
    pub store: Arc<SqliteStore>,
    pub provider: Arc<FakeProvider>,
    pub channel: Arc<RecordingChannel>,
    pub runtime: Runtime,
}

pub(crate) async fn harness_in(
    dir: tempfile::TempDir,
    provider: FakeProvider,
    config: RuntimeConfig,
) -> Harness {
    let h = unstarted(dir, provider, config).await;
    h.runtime.start().await.unwrap();
    h
}

/// The pieces, with the runtime not yet started (no recovery has run).
async fn unstarted(
    dir: tempfile::TempDir,
    provider: FakeProvider,
    config: RuntimeConfig,
) -> Harness {
    unstarted_with(dir, provider, config, AgentSettings::new("fake"), None).await
}

async fn unstarted_with(
    dir: tempfile::TempDir,
    provider: FakeProvider,
    config: RuntimeConfig,
    settings: AgentSettings,
    memory: Option<Arc<dyn crate::AgentMemory>>,
) -> Harness {
    unstarted_custom(dir, provider, config, settings, memory, |runtime| runtime).await
}

/// Like [`unstarted_with`], with a last say on the runtime (tools, hooks).
async fn unstarted_custom(
    dir: tempfile::TempDir,
    provider: FakeProvider,
    config: RuntimeConfig,
    settings: AgentSettings,
    memory: Option<Arc<dyn crate::AgentMemory>>,
    customize: impl FnOnce(Runtime) -> Runtime,
) -> Harness {
    let store = Arc::new(
        SqliteStore::open(dir.path().join("hearth.db"), SqliteOptions::default()).unwrap(),
    );
    let provider = Arc::new(provider);
    let mut agents = BTreeMap::new();
    agents.insert(AgentId::main(), settings);
    let registry = AgentRegistry::load(
        agents,
        AgentId::main(),
        Arc::new(OneProvider(provider.clone())),
        store.clone(),
        dir.path().join("agents"),
    )
    .await
    .unwrap();
    let channel = Arc::new(RecordingChannel::new("test"));
    let channels = Channels::default()
        .with(channel.clone())
        .with(Arc::new(LocalChannel("gateway")));
    let mut runtime = Runtime::new(
        store.clone(),
        Arc::new(registry),
        channels,
        Arc::new(Metrics::default()),
        config,
    );
    if let Some(memory) = memory {
        runtime = runtime.with_memory(memory);
    }
    let runtime = customize(runtime);
    Harness {
        dir,
        store,
        provider,
        channel,
        runtime,
    }
}

pub(crate) async fn harness(provider: FakeProvider, config: RuntimeConfig) -> Harness {
    harness_in(tempfile::tempdir().unwrap(), provider, config).await
}

pub(crate) fn message(id: &str, session: &str, text: &str) -> InboundMessage {
    InboundMessage {
        id: id.into(),
        session_key: SessionKey::new(session).unwrap(),
        agent_id: AgentId::main(),
        channel: "test".into(),
        text: text.into(),
        context: vec![],
        received_at_ms: hearth_core::now_ms(),
        origin: None,
    }
}

pub(crate) async fn wait_done(h: &Harness, id: &str) -> hearth_core::RunRecord {
    let run = h
        .runtime
        .wait(id, Duration::from_secs(10))
        .await
        .unwrap()
        .expect("run exists");
    assert!(run.state.is_finished(), "run {id} did not finish: {run:?}");
    run
}

#[tokio::test]
async fn a_message_gets_one_reply_recorded_and_delivered() {
    let h = harness(FakeProvider::echo(), RuntimeConfig::default()).await;
    let mut events = h.runtime.subscribe();
    let submitted = h
        .runtime
        .submit(message("r1", "agent:main:a", "hello there"))
        .await
        .unwrap();
    assert_eq!(
        submitted,
        Submitted::Accepted {
            run_id: "r1".into(),
            queued_behind: 0
        }
    );
    let run = wait_done(&h, "r1").await;
    assert_eq!(
        (run.state, run.reply.as_deref()),
        (RunState::Done, Some("echo: hello there"))
    );

    let mut kinds = Vec::new();
    while let Ok(event) = events.try_recv() {
        kinds.push(event.kind.clone());
    }
    assert!(
        matches!(kinds.first(), Some(RunEventKind::Started { .. })),
        "{kinds:?}"
    );
    assert!(
        kinds
            .iter()
            .any(|k| matches!(k, RunEventKind::Delta { .. }))
    );
    match kinds.last() {
        Some(RunEventKind::Finished(summary)) => assert_eq!(summary.text, "echo: hello there"),
        other => panic!("expected a final event, got {other:?}"),
    }
    // Delivered exactly once, and nothing left in the outbox.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(h.channel.delivered().get("r1"), Some(&1));
    assert!(h.store.pending_outbox(10).await.unwrap().is_empty());
    let history = h
        .store
        .history(&SessionKey::new("agent:main:a").unwrap(), 10)
        .await
        .unwrap();
    assert_eq!(history.len(), 2);
}

#[tokio::test]
async fn the_next_turn_sees_the_previous_one_and_the_persona() {
    let h = harness(FakeProvider::echo(), RuntimeConfig::default()).await;
    crate::persona::write_defaults(&h.dir.path().join("agents/main")).unwrap();
    h.runtime
        .submit(message("r1", "agent:main:a", "first"))
        .await
        .unwrap();
    wait_done(&h, "r1").await;
    h.runtime
        .submit(message("r2", "agent:main:a", "second"))
        .await
        .unwrap();
    wait_done(&h, "r2").await;
    let requests = h.provider.requests();
    let second = &requests[1].messages;
    let texts: Vec<_> = second
        .iter()
        .map(|m| (m.role, m.content.as_str()))
        .collect();
    assert_eq!(
        texts[1..],
        [
            (Role::User, "first"),
            (Role::Assistant, "echo: first"),
            (Role::User, "second")
        ]
    );
    assert!(
        second[0].content.contains("# Instructions"),
        "system prompt from AGENTS.md"
    );
}

#[tokio::test]
async fn one_run_at_a_time_per_session_and_a_global_cap() {
    let gate = Arc::new(Semaphore::new(0));
    let config = RuntimeConfig {
        max_concurrent_turns: 2,
        ..RuntimeConfig::default()
    };
    let h = harness(FakeProvider::echo().with_gate(gate.clone()), config).await;
    // Three messages in one session, three in others.
    for i in 0..3 {
        let queued = h
            .runtime
            .submit(message(&format!("same{i}"), "agent:main:same", "x"))
            .await
            .unwrap();
        assert_eq!(
            queued,
            Submitted::Accepted {
                run_id: format!("same{i}"),
                queued_behind: i
            }
        );
    }
    for i in 0..3 {
        h.runtime
            .submit(message(
                &format!("other{i}"),
                &format!("agent:main:o{i}"),
                "x",
            ))
            .await
            .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(h.provider.max_concurrent(), 2, "global cap");
    gate.add_permits(100);
    for i in 0..3 {
        wait_done(&h, &format!("same{i}")).await;
        wait_done(&h, &format!("other{i}")).await;
    }
    assert_eq!(h.provider.max_concurrent(), 2);
    // The session's follow-ups ran in order, each seeing the one before.
    let history = h
        .store
        .history(&SessionKey::new("agent:main:same").unwrap(), 50)
        .await
        .unwrap();
    let runs: Vec<_> = history
        .iter()
        .filter(|e| e.message.role == Role::User)
        .map(|e| e.run_id.as_str())
        .collect();
    assert_eq!(runs, ["same0", "same1", "same2"]);
    assert_eq!(h.runtime.pending(), 0);
}

#[tokio::test]
async fn a_full_queue_refuses_with_busy_and_records_nothing() {
    let gate = Arc::new(Semaphore::new(0));
    let config = RuntimeConfig {
        max_pending: 2,
        ..RuntimeConfig::default()
    };
    let h = harness(FakeProvider::echo().with_gate(gate.clone()), config).await;
    h.runtime
        .submit(message("a", "agent:main:1", "x"))
        .await
        .unwrap();
    h.runtime
        .submit(message("b", "agent:main:1", "x"))
        .await
        .unwrap();
    let err = h
        .runtime
        .submit(message("c", "agent:main:2", "x"))
        .await
        .unwrap_err();
    assert!(matches!(err, SubmitError::Busy { pending: 2 }), "{err}");
    assert!(err.to_string().starts_with("busy"), "{err}");
    assert!(
        h.store.run("c").await.unwrap().is_none(),
        "a refused message leaves no trace"
    );
    gate.add_permits(10);
    wait_done(&h, "b").await;
    // Per-session bound: one queued behind the active run is the limit.
    let gate2 = Arc::new(Semaphore::new(0));
    let h2 = harness(
        FakeProvider::echo().with_gate(gate2.clone()),
        RuntimeConfig {
            max_pending_per_session: 1,
            ..RuntimeConfig::default()
        },
    )
    .await;
    h2.runtime
        .submit(message("a", "agent:main:1", "x"))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await; // "a" becomes active
    h2.runtime
        .submit(message("b", "agent:main:1", "x"))
        .await
        .unwrap();
    let err = h2
        .runtime
        .submit(message("c", "agent:main:1", "x"))
        .await
        .unwrap_err();
    assert!(matches!(err, SubmitError::SessionBusy { .. }), "{err}");
    gate2.add_permits(10);
}

#[tokio::test]
async fn a_repeated_message_id_is_answered_once() {
    let h = harness(FakeProvider::echo(), RuntimeConfig::default()).await;
    h.runtime
        .submit(message("r1", "agent:main:a", "hi"))
        .await
        .unwrap();
    wait_done(&h, "r1").await;
    match h
        .runtime
        .submit(message("r1", "agent:main:a", "hi"))
        .await
        .unwrap()
    {
        Submitted::Duplicate(run) => assert_eq!(run.state, RunState::Done),
        other => panic!("expected duplicate, got {other:?}"),
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(h.provider.requests().len(), 1);
    assert_eq!(h.channel.delivered().get("r1"), Some(&1));
}

#[tokio::test]
async fn unknown_agents_are_refused() {
    let h = harness(FakeProvider::echo(), RuntimeConfig::default()).await;
    let mut m = message("r1", "agent:ghost:a", "hi");
    m.agent_id = AgentId::new("ghost").unwrap();
    assert!(matches!(
        h.runtime.submit(m).await,
        Err(SubmitError::UnknownAgent(_))
    ));
}

#[tokio::test]
async fn a_provider_failure_still_gets_exactly_one_reply() {
    let provider =
        FakeProvider::new(|_| Reply::Error(ProviderError::new(ErrorKind::Auth, "bad key")));
    let h = harness(provider, RuntimeConfig::default()).await;
    h.runtime
        .submit(message("r1", "agent:main:a", "hi"))
        .await
        .unwrap();
    let run = wait_done(&h, "r1").await;
    assert_eq!(run.state, RunState::Failed);
    assert!(run.reply.unwrap().contains("auth: bad key"));
    assert!(run.error.unwrap().contains("bad key"));
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(h.channel.delivered().get("r1"), Some(&1));
}

#[tokio::test]
async fn abort_ends_the_run_with_its_partial_answer() {
    let provider = FakeProvider::new(|_| Reply::Hang("partial answer ".into()));
    let h = harness(provider, RuntimeConfig::default()).await;
    let key = SessionKey::new("agent:main:a").unwrap();
    h.runtime
        .submit(message("r1", key.as_str(), "hi"))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        h.runtime.abort(&key, Some("other")),
        None,
        "only the named run"
    );
    assert_eq!(h.runtime.abort(&key, None).as_deref(), Some("r1"));
    let run = wait_done(&h, "r1").await;
    assert_eq!(
        (run.state, run.reply.as_deref()),
        (RunState::Aborted, Some("partial answer "))
    );
}

#[tokio::test]
async fn unfinished_runs_resume_after_a_restart_in_order() {
    let dir = tempfile::tempdir().unwrap();
    {
        // A previous process accepted three messages and died.
        let store =
            SqliteStore::open(dir.path().join("hearth.db"), SqliteOptions::default()).unwrap();
        for id in ["r1", "r2", "r3"] {
            store
                .accept(&message(id, "agent:main:a", id))
                .await
                .unwrap();
        }
        store.mark_running("r1").await.unwrap();
    }
    let h = harness_in(dir, FakeProvider::echo(), RuntimeConfig::default()).await;
    for id in ["r1", "r2", "r3"] {
        assert_eq!(
            wait_done(&h, id).await.reply.unwrap(),
            format!("echo: {id}")
        );
    }
    let history = h
        .store
        .history(&SessionKey::new("agent:main:a").unwrap(), 50)
        .await
        .unwrap();
    let users: Vec<_> = history
        .iter()
        .filter(|e| e.message.role == Role::User)
        .map(|e| e.message.content.as_str())
        .collect();
    assert_eq!(users, ["r1", "r2", "r3"]);
}

#[tokio::test]
async fn failed_deliveries_are_retried_until_delivered_once() {
    let h = harness(FakeProvider::echo(), RuntimeConfig::default()).await;
    h.channel.fail_next(2);
    h.runtime
        .submit(message("r1", "agent:main:a", "hi"))
        .await
        .unwrap();
    wait_done(&h, "r1").await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while h.channel.delivered().is_empty() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(h.channel.delivered().get("r1"), Some(&1));
    assert_eq!(h.channel.attempts(), 3);
    assert!(h.store.pending_outbox(10).await.unwrap().is_empty());
}

#[tokio::test]
async fn shutdown_drains_in_flight_turns() {
    let provider = FakeProvider::echo().with_delay(Duration::from_millis(200));
    let h = harness(provider, RuntimeConfig::default()).await;
    h.runtime
        .submit(message("r1", "agent:main:a", "hi"))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    h.runtime.shutdown().await;
    assert_eq!(
        h.store.run("r1").await.unwrap().unwrap().state,
        RunState::Done
    );
    assert!(matches!(
        h.runtime.submit(message("r2", "agent:main:a", "x")).await,
        Err(SubmitError::ShuttingDown)
    ));
}

#[tokio::test]
async fn shutdown_past_the_drain_timeout_leaves_the_turn_to_resume() {
    let provider = FakeProvider::new(|_| Reply::Hang("never ends ".into()));
    let config = RuntimeConfig {
        drain_timeout: Duration::from_millis(100),
        ..RuntimeConfig::default()
    };
    let h = harness(provider, config).await;
    h.runtime
        .submit(message("r1", "agent:main:a", "hi"))
        .await
        .unwrap();
    h.runtime
        .submit(message("r2", "agent:main:a", "queued"))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let started = std::time::Instant::now();
    h.runtime.shutdown().await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "shutdown is bounded"
    );
    assert_eq!(
        h.store.run("r1").await.unwrap().unwrap().state,
        RunState::Running
    );
    assert_eq!(
        h.store.run("r2").await.unwrap().unwrap().state,
        RunState::Queued
    );
    let ids: Vec<_> = h
        .store
        .unfinished_runs()
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(ids, ["r1", "r2"]);
}

/// Regression (found by the process tests): a message accepted while
/// recovery was reading the unfinished runs was queued twice and its reply
/// delivered twice. Submissions now wait for recovery to finish.
#[tokio::test]
async fn regression_messages_during_recovery_are_refused_not_run_twice() {
    let dir = tempfile::tempdir().unwrap();
    let h = unstarted(dir, FakeProvider::echo(), RuntimeConfig::default()).await;
    let err = h
        .runtime
        .submit(message("early", "agent:main:a", "x"))
        .await
        .unwrap_err();
    assert!(matches!(err, SubmitError::Starting), "{err}");
    assert!(
        h.store.run("early").await.unwrap().is_none(),
        "nothing recorded"
    );
    h.runtime.start().await.unwrap();
    h.runtime
        .submit(message("r1", "agent:main:a", "x"))
        .await
        .unwrap();
    wait_done(&h, "r1").await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(h.channel.delivered().get("r1"), Some(&1));
}

/// A run computed twice commits and delivers once.
#[tokio::test]
async fn a_run_queued_twice_is_delivered_once() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store =
            SqliteStore::open(dir.path().join("hearth.db"), SqliteOptions::default()).unwrap();
        store
            .accept(&message("r1", "agent:main:a", "twice"))
            .await
            .unwrap();
    }
    // The model is held until both recoveries have queued the run; else the
    // first copy can finish before the second recovery looks.
    let gate = Arc::new(Semaphore::new(0));
    let provider = FakeProvider::echo().with_gate(gate.clone());
    let h = unstarted(dir, provider, RuntimeConfig::default()).await;
    // Two recoveries racing over the same unfinished run.
    let (a, b) = tokio::join!(h.runtime.start(), h.runtime.start());
    assert_eq!((a.unwrap(), b.unwrap()), (1, 1));
    gate.add_permits(2);
    wait_done(&h, "r1").await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(h.channel.delivered().get("r1"), Some(&1), "delivered once");
    let history = h
        .store
        .history(&SessionKey::new("agent:main:a").unwrap(), 50)
        .await
        .unwrap();
    assert_eq!(history.len(), 2, "one user and one assistant row");
    assert_eq!(h.runtime.pending(), 0, "both copies released their slot");
}

/// Records what turns ask of memory, and recalls one fixed fact.
#[derive(Debug, Default)]
struct RecordingMemory {
    recalls: parking_lot::Mutex<Vec<(String, usize)>>,
    flushed: parking_lot::Mutex<Vec<crate::FlushedTurn>>,
}

#[async_trait::async_trait]
impl crate::AgentMemory for RecordingMemory {
    async fn recall(&self, message: &InboundMessage, budget: usize) -> Vec<String> {
        self.recalls.lock().push((message.text.clone(), budget));
        vec!["the user's cat is called Pixel".into()]
    }
    async fn flush(&self, _message: &InboundMessage, turns: Vec<crate::FlushedTurn>) {
        self.flushed.lock().extend(turns);
    }
}

#[tokio::test]
async fn turns_recall_memories_and_flush_turns_leaving_the_window() {
    let memory = Arc::new(RecordingMemory::default());
    let settings = AgentSettings {
        context_tokens: 400,
        ..AgentSettings::new("fake")
    };
    let h = unstarted_with(
        tempfile::tempdir().unwrap(),
        FakeProvider::echo(),
        RuntimeConfig::default(),
        settings,
        Some(memory.clone()),
    )
    .await;
    h.runtime.start().await.unwrap();
    for n in 0..8 {
        let text = format!("message {n} {}", "padding ".repeat(20));
        h.runtime
            .submit(message(&format!("m{n}"), "agent:main:s", &text))
            .await
            .unwrap();
        wait_done(&h, &format!("m{n}")).await;
    }
    let requests = h.provider.requests();
    let last = requests.last().unwrap();
    assert_eq!(last.messages[1].role, Role::System);
    assert!(
        last.messages[1].content.contains("Pixel"),
        "recalled as a system message"
    );
    assert!(
        last.messages
            .iter()
            .filter(|m| m.role == Role::User)
            .all(|m| !m.content.contains("Pixel")),
        "never as user text"
    );
    let recalls = memory.recalls.lock().clone();
    assert_eq!(recalls.len(), 8);
    assert_eq!(recalls[0].1, 100, "a quarter of the context budget");
    // Early turns left the 400-token window and were flushed, oldest first.
    let flushed = memory.flushed.lock().clone();
    assert!(!flushed.is_empty());
    assert!(flushed[0].messages[0].content.starts_with("message 0"));
    assert_eq!(flushed[0].messages[1].role, Role::Assistant);
    h.runtime.shutdown().await;
}
