//! Graceful shutdown: SIGTERM lets in-flight turns finish within
//! `[pipeline] drain_timeout_secs`; a turn that cannot finish in time is
//! left unfinished in the store and resumes at the next start.

use std::collections::HashSet;
use std::time::Duration;

use hearth_gateway::client::Client;
use serde_json::json;

use crate::common::slow_model::{Pace, SlowModel};
use crate::common::{Daemon, TestDir, inbox_state, open_db};

/// Sends `text` to `session` and returns the run id.
async fn send(client: &mut Client, session: &str, text: &str) -> String {
    let sent = client
        .request("chat.send", json!({ "sessionKey": session, "message": text, "idempotencyKey": format!("{session}/{text}") }))
        .await
        .expect("chat.send");
    assert_eq!(sent["status"], "started", "{sent}");
    sent["runId"].as_str().expect("runId").to_owned()
}

/// Waits until every run in `runs` has streamed some text: they are
/// mid-turn.
async fn wait_streaming(client: &mut Client, runs: &[String]) {
    let mut streaming = HashSet::new();
    while streaming.len() < runs.len() {
        let event = client
            .next_event(Duration::from_secs(20))
            .await
            .expect("no deltas from the model");
        if event.name == "chat" && event.payload["state"] == "delta" {
            streaming.insert(
                event.payload["runId"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_drains_in_flight_turns() {
    // About 1 s per answer: 4 pieces, 250 ms apart.
    let model = SlowModel::start(Pace::Chunks {
        chunks: 4,
        min_ms: 250,
        max_ms: 250,
    })
    .await;
    let dir = TestDir::new("drain");
    let config = format!(
        "{}\n[pipeline]\ndrain_timeout_secs = 10\n",
        model.config("slow")
    );
    let mut daemon = Daemon::start(dir.path(), &config).await;
    let mut client = daemon.client().await;
    let mut runs = Vec::new();
    for s in 0..3 {
        runs.push(
            send(
                &mut client,
                &format!("agent:main:drain{s}"),
                &format!("drain me {s}"),
            )
            .await,
        );
    }
    wait_streaming(&mut client, &runs).await;

    let (status, took) = daemon.sigterm_and_wait(Duration::from_secs(15)).await;
    assert!(status.success(), "hearth exited with {status}");
    assert!(
        took < Duration::from_secs(10),
        "exit took {took:?}, past the drain bound"
    );

    // Connections close only after the drain, so the client got each
    // final answer.
    let mut finals = HashSet::new();
    while let Ok(event) = client.next_event(Duration::from_secs(5)).await {
        if event.name == "chat" && event.payload["state"] == "final" {
            finals.insert(
                event.payload["runId"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            );
        }
    }
    assert_eq!(
        finals,
        runs.iter().cloned().collect(),
        "final answers before the close"
    );

    let db = open_db(&daemon.db_path());
    for run in &runs {
        assert_eq!(inbox_state(&db, run).as_deref(), Some("done"), "run {run}");
    }
    // Drained, not interrupted: each answer was computed once.
    for (text, count) in model.requests() {
        assert_eq!(count, 1, "{text:?} was computed {count} times");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_stops_stuck_turn_at_drain_bound_and_it_resumes() {
    let model = SlowModel::start(Pace::Endless).await;
    let dir = TestDir::new("stuck");
    let config = format!(
        "{}\n[pipeline]\ndrain_timeout_secs = 1\n",
        model.config("stuck")
    );
    let mut daemon = Daemon::start(dir.path(), &config).await;
    let mut client = daemon.client().await;
    let session = "agent:main:stuck";
    let running = send(&mut client, session, "never ends").await;
    // Queued behind the stuck turn on the same session.
    let queued = send(&mut client, session, "waits behind it").await;
    wait_streaming(&mut client, std::slice::from_ref(&running)).await;

    let (status, took) = daemon.sigterm_and_wait(Duration::from_secs(10)).await;
    assert!(status.success(), "hearth exited with {status}");
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(3),
        "exit took {took:?}; the drain bound is 1 s"
    );
    {
        let db = open_db(&daemon.db_path());
        assert_eq!(inbox_state(&db, &running).as_deref(), Some("running"));
        assert_eq!(inbox_state(&db, &queued).as_deref(), Some("queued"));
    }

    // Restart with a model that answers: both runs resume and finish.
    daemon.write_config("");
    daemon.restart().await;
    let mut client = daemon.client().await;
    for (run, text) in [(&running, "never ends"), (&queued, "waits behind it")] {
        let done = client
            .request("agent.wait", json!({ "runId": run, "timeoutMs": 30_000 }))
            .await
            .expect("agent.wait");
        assert_eq!(done["state"], "done", "{done}");
        assert_eq!(done["text"], text, "{done}");
    }
    let history = client
        .request("chat.history", json!({ "sessionKey": session }))
        .await
        .expect("chat.history");
    let assistant = history["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter(|m| m["role"] == "assistant")
        .count();
    assert_eq!(assistant, 2, "one reply per message: {history}");
}
