//! Tests of the SQLite store against the `Store` contract.

use crate::{SqliteOptions, SqliteStore, migrations};
use hearth_core::{
    AcceptOutcome, AgentId, AgentRecord, ChatMessage, InboundMessage, OutboundMessage, RunState,
    SessionKey, Store, StoreError, ToolCall, TurnOutcome, Usage,
};

fn open() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("hearth.db"), SqliteOptions::default()).unwrap();
    (dir, store)
}

fn inbound(id: &str, key: &str, text: &str) -> InboundMessage {
    InboundMessage {
        id: id.into(),
        session_key: SessionKey::new(key).unwrap(),
        agent_id: AgentId::main(),
        channel: "gateway".into(),
        text: text.into(),
        context: vec![],
        received_at_ms: 1,
        origin: None,
    }
}

fn outcome(msg: &InboundMessage, reply: &str) -> TurnOutcome {
    TurnOutcome {
        state: RunState::Done,
        transcript: vec![ChatMessage::user(&msg.text), ChatMessage::assistant(reply)],
        reply: OutboundMessage {
            idempotency_key: msg.id.clone(),
            session_key: msg.session_key.clone(),
            channel: msg.channel.clone(),
            text: reply.into(),
            to: None,
            reply_to: None,
        },
        error: None,
        usage: Usage {
            input_tokens: 3,
            output_tokens: 2,
        },
        delivered: false,
    }
}

#[tokio::test]
async fn accept_is_idempotent_by_message_id() {
    let (_dir, store) = open();
    let msg = inbound("r1", "agent:main:a", "hi");
    assert_eq!(store.accept(&msg).await.unwrap(), AcceptOutcome::Accepted);
    match store.accept(&msg).await.unwrap() {
        AcceptOutcome::Duplicate(run) => assert_eq!(run.state, RunState::Queued),
        other => panic!("expected duplicate, got {other:?}"),
    }
    assert_eq!(store.unfinished_runs().await.unwrap().len(), 1);
    let session = store.session(&msg.session_key).await.unwrap().unwrap();
    assert_eq!(session.agent_id, AgentId::main());
}

#[tokio::test]
async fn finish_commits_transcript_outbox_and_state_once() {
    let (_dir, store) = open();
    let msg = inbound("r1", "agent:main:a", "hi");
    store.accept(&msg).await.unwrap();
    store.mark_running("r1").await.unwrap();
    let first = store
        .finish_run("r1", &outcome(&msg, "hello"))
        .await
        .unwrap();
    assert!(first.is_some());
    // Replaying the finish (the run computed twice) changes nothing and
    // says so, so the caller does not deliver a second time.
    let second = store
        .finish_run("r1", &outcome(&msg, "other"))
        .await
        .unwrap();
    assert_eq!(second, None);
    let history = store.history(&msg.session_key, 50).await.unwrap();
    assert_eq!(history.len(), 2, "{history:?}");
    assert_eq!(history[1].message.content, "hello");
    let run = store.run("r1").await.unwrap().unwrap();
    assert_eq!(
        (run.state, run.reply.as_deref()),
        (RunState::Done, Some("hello"))
    );
    assert!(store.unfinished_runs().await.unwrap().is_empty());
    let pending = store.pending_outbox(10).await.unwrap();
    assert_eq!(pending.len(), 1);
    store.outbox_delivered(pending[0].id).await.unwrap();
    assert!(store.pending_outbox(10).await.unwrap().is_empty());
    let session = store.session(&msg.session_key).await.unwrap().unwrap();
    assert_eq!(
        (
            session.message_count,
            session.input_tokens,
            session.output_tokens
        ),
        (2, 3, 2)
    );
}

#[tokio::test]
async fn a_reply_delivered_on_commit_never_enters_the_pending_outbox() {
    let (_dir, store) = open();
    let msg = inbound("r1", "agent:main:a", "hi");
    store.accept(&msg).await.unwrap();
    let mut done = outcome(&msg, "hello");
    done.delivered = true;
    assert!(store.finish_run("r1", &done).await.unwrap().is_some());
    assert!(store.pending_outbox(10).await.unwrap().is_empty());
}

#[tokio::test]
async fn unfinished_runs_come_back_in_acceptance_order() {
    let (_dir, store) = open();
    for (i, key) in ["agent:main:b", "agent:main:a", "agent:main:b"]
        .iter()
        .enumerate()
    {
        store
            .accept(&inbound(&format!("r{i}"), key, "x"))
            .await
            .unwrap();
    }
    store.mark_running("r0").await.unwrap();
    let ids: Vec<_> = store
        .unfinished_runs()
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(ids, ["r0", "r1", "r2"]);
}

#[tokio::test]
async fn failed_delivery_is_retried_until_given_up() {
    let (_dir, store) = open();
    let msg = inbound("r1", "agent:main:a", "hi");
    store.accept(&msg).await.unwrap();
    let id = store
        .finish_run("r1", &outcome(&msg, "x"))
        .await
        .unwrap()
        .unwrap();
    store
        .outbox_attempt_failed(id, "timeout", false)
        .await
        .unwrap();
    let pending = store.pending_outbox(10).await.unwrap();
    assert_eq!(pending[0].attempts, 1);
    store.outbox_attempt_failed(id, "gone", true).await.unwrap();
    assert!(store.pending_outbox(10).await.unwrap().is_empty());
}

#[tokio::test]
async fn reset_starts_a_new_transcript_and_delete_removes_everything() {
    let (_dir, store) = open();
    let msg = inbound("r1", "agent:main:a", "hi");
    store.accept(&msg).await.unwrap();
    store.finish_run("r1", &outcome(&msg, "x")).await.unwrap();
    let before = store.session(&msg.session_key).await.unwrap().unwrap();
    assert!(store.reset_session(&msg.session_key).await.unwrap());
    let after = store.session(&msg.session_key).await.unwrap().unwrap();
    assert_ne!(before.session_id, after.session_id);
    assert!(
        store
            .history(&msg.session_key, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.delete_session(&msg.session_key).await.unwrap());
    assert!(store.session(&msg.session_key).await.unwrap().is_none());
    assert!(store.run("r1").await.unwrap().is_none());
    assert!(!store.delete_session(&msg.session_key).await.unwrap());
}

#[tokio::test]
async fn tool_calls_survive_a_round_trip() {
    let (_dir, store) = open();
    let msg = inbound("r1", "agent:main:a", "weather?");
    store.accept(&msg).await.unwrap();
    let mut out = outcome(&msg, "sunny");
    let call = ToolCall {
        id: "c1".into(),
        name: "weather".into(),
        arguments: "{\"city\":\"Oslo\"}".into(),
    };
    out.transcript.insert(
        1,
        ChatMessage {
            tool_calls: vec![call.clone()],
            ..ChatMessage::assistant("")
        },
    );
    out.transcript
        .insert(2, ChatMessage::tool_result("c1", "sunny"));
    store.finish_run("r1", &out).await.unwrap();
    let history = store.history(&msg.session_key, 10).await.unwrap();
    assert_eq!(history[1].message.tool_calls, vec![call]);
    assert_eq!(history[2].message.tool_call_id.as_deref(), Some("c1"));
    // A limit keeps the newest rows.
    let tail = store.history(&msg.session_key, 2).await.unwrap();
    assert_eq!(tail[1].message.content, "sunny");
}

#[tokio::test]
async fn sessions_list_newest_first_and_filter_by_agent() {
    let (_dir, store) = open();
    let ops = AgentId::new("ops").unwrap();
    store
        .ensure_session(
            &SessionKey::new("agent:ops:1").unwrap(),
            &ops,
            Some("ops one"),
        )
        .await
        .unwrap();
    store
        .accept(&inbound("r1", "agent:main:2", "x"))
        .await
        .unwrap();
    assert_eq!(store.sessions(None, 10).await.unwrap().len(), 2);
    let only_ops = store.sessions(Some(&ops), 10).await.unwrap();
    assert_eq!(only_ops.len(), 1);
    assert_eq!(only_ops[0].label.as_deref(), Some("ops one"));
}

#[tokio::test]
async fn agents_create_update_delete() {
    let (_dir, store) = open();
    let mut agent = AgentRecord {
        id: AgentId::new("ops").unwrap(),
        settings: serde_json::json!({"model": "a"}),
        created_at_ms: 1,
        updated_at_ms: 1,
    };
    store.put_agent(&agent, true).await.unwrap();
    assert!(matches!(
        store.put_agent(&agent, true).await,
        Err(StoreError::Conflict(_))
    ));
    agent.settings = serde_json::json!({"model": "b"});
    store.put_agent(&agent, false).await.unwrap();
    assert_eq!(store.agents().await.unwrap()[0].settings["model"], "b");
    assert!(store.delete_agent(&agent.id).await.unwrap());
    assert!(matches!(
        store.put_agent(&agent, false).await,
        Err(StoreError::NotFound(_))
    ));
}

#[tokio::test]
async fn data_survives_reopen_and_migrations_are_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hearth.db");
    {
        let store = SqliteStore::open(&path, SqliteOptions::default()).unwrap();
        store
            .accept(&inbound("r1", "agent:main:a", "hi"))
            .await
            .unwrap();
        store
            .audit("test", "opened", &serde_json::json!({"n": 1}))
            .await
            .unwrap();
    }
    let store = SqliteStore::open(&path, SqliteOptions::default()).unwrap();
    assert_eq!(store.unfinished_runs().await.unwrap().len(), 1);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let version: u32 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version as usize, migrations::MIGRATIONS.len());
    let audits: i64 = conn
        .query_row("SELECT COUNT(*) FROM audit", [], |r| r.get(0))
        .unwrap();
    assert_eq!(audits, 1);
}

#[tokio::test]
async fn a_database_from_a_newer_build_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hearth.db");
    rusqlite::Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", 999)
        .unwrap();
    let err = SqliteStore::open(&path, SqliteOptions::default()).unwrap_err();
    assert!(err.to_string().contains("newer than this build"), "{err}");
}

#[tokio::test]
async fn pairing_codes_expire_are_capped_and_approve_once() {
    use hearth_core::{PairingOutcome, PairingStore, Sender};
    let (_dir, store) = open();
    let who = |id: &str| Sender {
        id: id.into(),
        name: Some(format!("{id} the tester")),
    };
    let hour = 3_600_000;
    let created = store
        .request_pairing("irc", &who("bob"), "abcd2345", 1_000, hour, 3)
        .await
        .unwrap();
    let PairingOutcome::Created(request) = created else {
        panic!("{created:?}")
    };
    assert_eq!(request.code, "ABCD2345");
    // The same sender keeps their code; it is not re-issued.
    let again = store
        .request_pairing("irc", &who("bob"), "ZZZZ2345", 2_000, hour, 3)
        .await
        .unwrap();
    assert!(matches!(again, PairingOutcome::Existing(r) if r.code == "ABCD2345"));
    for (i, id) in ["c", "d"].iter().enumerate() {
        let code = format!("CODE000{i}");
        let outcome = store
            .request_pairing("irc", &who(id), &code, 3_000, hour, 3)
            .await
            .unwrap();
        assert!(matches!(outcome, PairingOutcome::Created(_)));
    }
    let full = store
        .request_pairing("irc", &who("e"), "FULL2345", 4_000, hour, 3)
        .await
        .unwrap();
    assert_eq!(full, PairingOutcome::TooMany);
    // Another channel has its own cap.
    let other = store
        .request_pairing("xmpp", &who("e"), "XMPP2345", 4_000, hour, 3)
        .await
        .unwrap();
    assert!(matches!(other, PairingOutcome::Created(_)));

    assert!(!store.is_approved("irc", "bob").await.unwrap());
    assert_eq!(
        store
            .approve_pairing("irc", "WRONG000", "op", 5_000)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .approve_pairing("xmpp", "abcd2345", "op", 5_000)
            .await
            .unwrap(),
        None
    );
    let approved = store
        .approve_pairing("irc", "abcd2345", "op", 5_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(approved.sender.id, "bob");
    assert!(store.is_approved("irc", "bob").await.unwrap());
    assert!(!store.is_approved("xmpp", "bob").await.unwrap());
    assert_eq!(
        store
            .approve_pairing("irc", "ABCD2345", "op", 6_000)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .pairing_requests(Some("irc"), 6_000)
            .await
            .unwrap()
            .len(),
        2
    );

    // After an hour the remaining codes are gone, and room is free again.
    let later = 4_000 + hour;
    assert!(
        store
            .pairing_requests(None, later)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .approve_pairing("irc", "CODE0000", "op", later)
            .await
            .unwrap(),
        None
    );
    let fresh = store
        .request_pairing("irc", &who("e"), "NEWC2345", later, hour, 3)
        .await
        .unwrap();
    assert!(matches!(fresh, PairingOutcome::Created(_)));

    assert_eq!(store.approved_senders(None).await.unwrap().len(), 1);
    assert!(store.revoke_sender("irc", "bob").await.unwrap());
    assert!(!store.revoke_sender("irc", "bob").await.unwrap());
    assert!(!store.is_approved("irc", "bob").await.unwrap());
}

fn new_schedule(
    agent: &str,
    kind: hearth_core::ScheduleKind,
    next: i64,
) -> hearth_core::NewSchedule {
    use hearth_core::{Conversation, Origin, Sender};
    hearth_core::NewSchedule {
        agent_id: AgentId::new(agent).unwrap(),
        session_key: SessionKey::new(format!("agent:{agent}:irc:direct:bob")).unwrap(),
        channel: "irc".into(),
        origin: Some(Origin {
            conversation: Conversation::direct("bob"),
            sender: Sender {
                id: "bob".into(),
                name: None,
            },
            message_id: None,
            reply_to: None,
            mentioned: true,
            attachments: vec![],
        }),
        text: "water the plants".into(),
        label: Some("plants".into()),
        kind,
        cron: (kind == hearth_core::ScheduleKind::Cron).then(|| "0 9 * * *".into()),
        timezone: "UTC".into(),
        next_fire_at_ms: next,
        created_by: "irc:bob".into(),
    }
}

#[tokio::test]
async fn schedules_belong_to_their_agent() {
    use hearth_core::ScheduleKind::{Cron, Once};
    let (_dir, store) = open();
    let main = AgentId::main();
    let ops = AgentId::new("ops").unwrap();
    let a = store
        .add_schedule(&new_schedule("main", Cron, 2_000), 10)
        .await
        .unwrap();
    let b = store
        .add_schedule(&new_schedule("main", Once, 1_000), 10)
        .await
        .unwrap();
    let c = store
        .add_schedule(&new_schedule("ops", Once, 500), 10)
        .await
        .unwrap();
    assert!(a.id.starts_with('s') && a.id.len() == 9, "{}", a.id);
    assert_ne!(a.id, b.id);

    // Soonest first, the agent filter applied, every field kept.
    let mine = store.schedules(Some(&main)).await.unwrap();
    let ids: Vec<_> = mine.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, [b.id.as_str(), a.id.as_str()]);
    assert_eq!(mine[1], a);
    assert_eq!(mine[1].origin.as_ref().unwrap().sender.id, "bob");
    assert_eq!(store.schedules(None).await.unwrap().len(), 3);

    // Another agent's schedule is not removed, even by its exact id.
    assert!(!store.remove_schedule(&c.id, &main).await.unwrap());
    assert!(store.remove_schedule(&c.id, &ops).await.unwrap());
    assert!(!store.remove_schedule(&c.id, &ops).await.unwrap());
    assert!(store.schedules(Some(&ops)).await.unwrap().is_empty());
}

#[tokio::test]
async fn an_agent_past_its_schedule_limit_is_refused() {
    use hearth_core::ScheduleKind::Once;
    let (_dir, store) = open();
    for at in [1, 2] {
        store
            .add_schedule(&new_schedule("main", Once, at), 2)
            .await
            .unwrap();
    }
    let err = store
        .add_schedule(&new_schedule("main", Once, 3), 2)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Invalid(m) if m.contains("remove one first")),
        "{err}"
    );
    assert_eq!(store.schedules(None).await.unwrap().len(), 2);
    // The limit is per agent.
    store
        .add_schedule(&new_schedule("ops", Once, 3), 2)
        .await
        .unwrap();
}

#[tokio::test]
async fn due_schedules_come_soonest_first_and_firing_moves_them_on() {
    use hearth_core::ScheduleKind::{Cron, Once};
    let (_dir, store) = open();
    let cron = store
        .add_schedule(&new_schedule("main", Cron, 2_000), 10)
        .await
        .unwrap();
    let once = store
        .add_schedule(&new_schedule("main", Once, 1_000), 10)
        .await
        .unwrap();
    let later = store
        .add_schedule(&new_schedule("main", Once, 9_000), 10)
        .await
        .unwrap();
    assert_eq!(store.next_schedule_at().await.unwrap(), Some(1_000));
    assert!(store.due_schedules(999, 10).await.unwrap().is_empty());
    let due: Vec<_> = store
        .due_schedules(2_000, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(due, [once.id.clone(), cron.id.clone()]);
    assert_eq!(store.due_schedules(2_000, 1).await.unwrap().len(), 1);

    // A fired reminder is gone; recording its slot again changes nothing.
    assert!(store.schedule_fired(&once.id, 1_000, None).await.unwrap());
    assert!(!store.schedule_fired(&once.id, 1_000, None).await.unwrap());
    // A cron job moves on; a second record of the same slot is refused.
    assert!(
        store
            .schedule_fired(&cron.id, 2_000, Some(5_000))
            .await
            .unwrap()
    );
    assert!(
        !store
            .schedule_fired(&cron.id, 2_000, Some(7_000))
            .await
            .unwrap()
    );
    let all = store.schedules(None).await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(
        (
            all[0].id.as_str(),
            all[0].next_fire_at_ms,
            all[0].last_fired_at_ms
        ),
        (cron.id.as_str(), Some(5_000), Some(2_000))
    );
    assert_eq!(store.next_schedule_at().await.unwrap(), Some(5_000));

    // A cron job with no next time is kept, disabled, and no longer due.
    assert!(store.schedule_fired(&cron.id, 5_000, None).await.unwrap());
    assert!(store.due_schedules(i64::MAX, 10).await.unwrap().len() == 1);
    assert_eq!(store.next_schedule_at().await.unwrap(), Some(9_000));
    let all = store.schedules(None).await.unwrap();
    assert_eq!(all[1].id, cron.id, "disabled schedules list last");
    assert!(!all[1].enabled);

    assert!(store.disable_schedule(&later.id).await.unwrap());
    assert_eq!(store.next_schedule_at().await.unwrap(), None);
    assert!(store.due_schedules(i64::MAX, 10).await.unwrap().is_empty());
    assert!(!store.disable_schedule("s00000000").await.unwrap());
}
