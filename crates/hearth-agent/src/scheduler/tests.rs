//! Scheduler tests: the engine over the real runtime and store on a paused
//! clock, the tools' validation and results, and the time arithmetic.

use std::sync::Arc;
use std::time::Duration;

use hearth_core::{
    AgentId, Conversation, NewSchedule, Origin, ScheduleKind, Sender, SessionKey, Store,
};
use hearth_testkit::FakeProvider;
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::engine::{Clock, Scheduler, message_for, run_id};
use crate::RuntimeConfig;
use crate::tests::{Harness, harness, harness_in, wait_done};

/// 2025-01-01T00:00:00Z, where the engine's clock starts.
const EPOCH: i64 = 1_735_689_600_000;
const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;

fn origin(message_id: Option<&str>) -> Origin {
    Origin {
        conversation: Conversation::direct("bob"),
        sender: Sender {
            id: "bob".into(),
            name: Some("Bob".into()),
        },
        message_id: message_id.map(str::to_owned),
        reply_to: None,
        mentioned: true,
        attachments: vec![],
    }
}

fn job(agent: &str, cron: Option<&str>, next: i64) -> NewSchedule {
    NewSchedule {
        agent_id: AgentId::new(agent).unwrap(),
        session_key: SessionKey::new(format!("agent:{agent}:test:direct:bob")).unwrap(),
        channel: "test".into(),
        origin: Some(origin(None)),
        text: "water the plants".into(),
        label: Some("plants".into()),
        kind: if cron.is_some() {
            ScheduleKind::Cron
        } else {
            ScheduleKind::Once
        },
        cron: cron.map(str::to_owned),
        timezone: "UTC".into(),
        next_fire_at_ms: next,
        created_by: "test:bob".into(),
    }
}

/// The engine running on the paused clock, from `epoch_ms`.
struct Engine {
    shutdown: CancellationToken,
    notify: Arc<Notify>,
    handle: JoinHandle<()>,
}

fn start(h: &Harness, epoch_ms: i64) -> Engine {
    let shutdown = CancellationToken::new();
    let notify = Arc::new(Notify::new());
    let clock = Clock::Tokio {
        epoch_ms,
        start: tokio::time::Instant::now(),
    };
    let engine = Scheduler::new(h.runtime.clone(), notify.clone()).with_clock(clock);
    let handle = tokio::spawn(engine.run(shutdown.clone()));
    Engine {
        shutdown,
        notify,
        handle,
    }
}

impl Engine {
    async fn stop(self) {
        self.shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(5), self.handle)
            .await
            .expect("the engine stops on shutdown")
            .unwrap();
    }
}

async fn sleep_ms(ms: i64) {
    tokio::time::sleep(Duration::from_millis(ms as u64)).await;
}

#[tokio::test(start_paused = true)]
async fn a_reminder_fires_once_at_its_time_into_its_conversation() {
    let h = harness(FakeProvider::echo(), RuntimeConfig::default()).await;
    let at = EPOCH + 10 * MIN;
    let reminder = h
        .store
        .add_schedule(&job("main", None, at), 10)
        .await
        .unwrap();
    let engine = start(&h, EPOCH);

    sleep_ms(9 * MIN).await;
    assert!(h.provider.requests().is_empty(), "fired early");
    sleep_ms(2 * MIN).await;
    let id = run_id(&reminder.id, at);
    let run = wait_done(&h, &id).await;
    assert_eq!(
        run.reply.as_deref(),
        Some(
            format!(
                "echo: [Scheduled task \"plants\" ({})] water the plants",
                reminder.id
            )
            .as_str()
        )
    );
    assert_eq!(run.accepted_at_ms, at);
    sleep_ms(1_000).await;
    let sent = h.channel.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].idempotency_key, id);
    assert_eq!(sent[0].to, Some(Conversation::direct("bob")));
    assert_eq!(sent[0].session_key.as_str(), "agent:main:test:direct:bob");

    // Gone once fired, and never fired again.
    assert!(h.store.schedules(None).await.unwrap().is_empty());
    sleep_ms(3 * HOUR).await;
    assert_eq!(h.provider.requests().len(), 1);
    engine.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_cron_job_fires_at_each_match_and_moves_on() {
    let h = harness(FakeProvider::echo(), RuntimeConfig::default()).await;
    // Starting at 00:01, "*/15" first matches at 00:15.
    let first = EPOCH + 15 * MIN;
    let cron = h
        .store
        .add_schedule(&job("main", Some("*/15 * * * *"), first), 10)
        .await
        .unwrap();
    let engine = start(&h, EPOCH + MIN);

    sleep_ms(13 * MIN).await; // 00:14
    assert!(h.provider.requests().is_empty(), "fired early");
    sleep_ms(90_000).await; // 00:15:30
    wait_done(&h, &run_id(&cron.id, first)).await;
    let stored = &h.store.schedules(None).await.unwrap()[0];
    assert_eq!(stored.next_fire_at_ms, Some(EPOCH + 30 * MIN));
    assert_eq!(stored.last_fired_at_ms, Some(first));

    sleep_ms(15 * MIN).await; // 00:30:30
    wait_done(&h, &run_id(&cron.id, EPOCH + 30 * MIN)).await;
    assert_eq!(h.provider.requests().len(), 2);
    engine.stop().await;
}

#[tokio::test(start_paused = true)]
async fn missed_slots_fire_once_after_downtime() {
    let h = harness(FakeProvider::echo(), RuntimeConfig::default()).await;
    // Due at 19:00 the day before; the daemon comes back at 00:30, five
    // hourly slots later.
    let missed = EPOCH - 5 * HOUR;
    let cron = h
        .store
        .add_schedule(&job("main", Some("0 * * * *"), missed), 10)
        .await
        .unwrap();
    let engine = start(&h, EPOCH + 30 * MIN);

    sleep_ms(1_000).await;
    let run = wait_done(&h, &run_id(&cron.id, missed)).await;
    assert!(
        run.reply
            .as_deref()
            .unwrap()
            .contains("due at 2024-12-31T19:00:00Z, running late"),
        "{run:?}"
    );
    let stored = &h.store.schedules(None).await.unwrap()[0];
    assert_eq!(stored.next_fire_at_ms, Some(EPOCH + HOUR));
    sleep_ms(20 * MIN).await; // 00:50: the missed slots were not replayed
    assert_eq!(h.provider.requests().len(), 1);
    sleep_ms(15 * MIN).await; // 01:05
    wait_done(&h, &run_id(&cron.id, EPOCH + HOUR)).await;
    assert_eq!(h.provider.requests().len(), 2);
    engine.stop().await;
}

/// A crash after the firing's message was accepted and before the firing
/// was recorded: after the restart the schedule is still due at the same
/// slot, and firing it again is recognised as a duplicate.
#[tokio::test(start_paused = true)]
async fn a_firing_interrupted_by_a_crash_is_not_answered_twice() {
    let slot = EPOCH + 10 * MIN;
    let before = harness(FakeProvider::echo(), RuntimeConfig::default()).await;
    let cron = before
        .store
        .add_schedule(&job("main", Some("*/10 * * * *"), slot), 10)
        .await
        .unwrap();
    // The engine's first step for this slot, then the crash.
    before
        .runtime
        .submit(message_for(&cron, slot, slot))
        .await
        .unwrap();
    wait_done(&before, &run_id(&cron.id, slot)).await;
    before.runtime.shutdown().await;
    assert_eq!(before.channel.sent().len(), 1);
    let Harness { dir, .. } = before;

    let after = harness_in(dir, FakeProvider::echo(), RuntimeConfig::default()).await;
    let engine = start(&after, EPOCH + 11 * MIN);
    sleep_ms(2_000).await;
    assert!(after.provider.requests().is_empty(), "answered twice");
    assert!(after.channel.sent().is_empty(), "delivered twice");
    let stored = &after.store.schedules(None).await.unwrap()[0];
    assert_eq!(stored.last_fired_at_ms, Some(slot));
    assert_eq!(stored.next_fire_at_ms, Some(EPOCH + 20 * MIN));
    engine.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_busy_pipeline_delays_a_firing_without_dropping_it() {
    let gate = Arc::new(Semaphore::new(0));
    let config = RuntimeConfig {
        max_pending: 1,
        ..RuntimeConfig::default()
    };
    let h = harness(FakeProvider::echo().with_gate(gate.clone()), config).await;
    // One held turn fills the pipeline.
    let mut blocker = crate::tests::message("blocker", "agent:main:other", "hold");
    blocker.received_at_ms = EPOCH;
    h.runtime.submit(blocker).await.unwrap();
    let at = EPOCH + MIN;
    let reminder = h
        .store
        .add_schedule(&job("main", None, at), 10)
        .await
        .unwrap();
    let engine = start(&h, EPOCH);

    sleep_ms(5 * MIN).await;
    let id = run_id(&reminder.id, at);
    assert!(
        h.store.run(&id).await.unwrap().is_none(),
        "refused, not recorded"
    );
    assert_eq!(h.store.schedules(None).await.unwrap().len(), 1, "kept");
    gate.add_permits(10);
    sleep_ms(10_000).await;
    wait_done(&h, &id).await;
    assert!(h.store.schedules(None).await.unwrap().is_empty());
    assert_eq!(h.provider.requests().len(), 2);
    engine.stop().await;
}

#[tokio::test(start_paused = true)]
async fn schedules_of_a_missing_agent_are_skipped_not_fired() {
    let h = harness(FakeProvider::echo(), RuntimeConfig::default()).await;
    let reminder = h
        .store
        .add_schedule(&job("ghost", None, EPOCH + MIN), 10)
        .await
        .unwrap();
    let cron = h
        .store
        .add_schedule(&job("ghost", Some("0 * * * *"), EPOCH + HOUR), 10)
        .await
        .unwrap();
    let engine = start(&h, EPOCH);
    sleep_ms(HOUR + 5 * MIN).await;
    assert!(h.provider.requests().is_empty());
    for (id, slot) in [(&reminder.id, EPOCH + MIN), (&cron.id, EPOCH + HOUR)] {
        assert!(h.store.run(&run_id(id, slot)).await.unwrap().is_none());
    }
    let stored = h.store.schedules(None).await.unwrap();
    // The cron job moved past the slot and stays on for when the agent
    // is back; the reminder is kept, disabled.
    assert_eq!(stored[0].id, cron.id);
    assert!(stored[0].enabled);
    assert_eq!(stored[0].next_fire_at_ms, Some(EPOCH + 2 * HOUR));
    assert_eq!(stored[1].id, reminder.id);
    assert!(!stored[1].enabled);
    engine.stop().await;
}

#[tokio::test(start_paused = true)]
async fn an_added_schedule_wakes_the_sleeping_engine() {
    let h = harness(FakeProvider::echo(), RuntimeConfig::default()).await;
    // Nothing scheduled: the engine sleeps its longest (a minute).
    let engine = start(&h, EPOCH);
    sleep_ms(5_000).await;
    let at = EPOCH + 15_000;
    let reminder = h
        .store
        .add_schedule(&job("main", None, at), 10)
        .await
        .unwrap();
    engine.notify.notify_one();
    sleep_ms(15_000).await; // 20 s in: due 5 s ago, well before a minute
    assert!(
        h.store
            .run(&run_id(&reminder.id, at))
            .await
            .unwrap()
            .is_some(),
        "not fired: the engine did not wake"
    );
    engine.stop().await;
}

#[tokio::test(start_paused = true)]
async fn shutdown_stops_the_engine_and_nothing_fires_after() {
    let h = harness(FakeProvider::echo(), RuntimeConfig::default()).await;
    let reminder = h
        .store
        .add_schedule(&job("main", None, EPOCH + HOUR), 10)
        .await
        .unwrap();
    let engine = start(&h, EPOCH);
    sleep_ms(MIN).await;
    let handle_done = {
        engine.shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(1), engine.handle).await
    };
    assert!(handle_done.is_ok(), "the engine did not stop");
    sleep_ms(2 * HOUR).await;
    assert!(h.provider.requests().is_empty());
    assert_eq!(h.store.schedules(None).await.unwrap()[0].id, reminder.id);

    // The runtime's own shutdown stops an engine too.
    let engine = start(&h, EPOCH);
    sleep_ms(1_000).await; // asleep until its next look
    h.runtime.shutdown().await;
    tokio::time::timeout(Duration::from_secs(1), engine.handle)
        .await
        .expect("the engine stops with the runtime")
        .unwrap();
}
