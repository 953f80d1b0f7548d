//! Crash safety: SIGKILL the daemon at random moments while a client sends
//! messages, restart it each time, and check that every accepted message
//! got exactly one reply — seen from the client and in the store.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use hearth_gateway::client::{Client, ClientError};
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use serde_json::json;

use crate::common::slow_model::{Pace, SlowModel};
use crate::common::{Daemon, TestDir, connect_retrying, open_db};

const MESSAGES: usize = 60;
const SESSIONS: usize = 4;
/// Longest a single request may take before the connection is presumed
/// dead (the daemon was killed under it).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone)]
struct Msg {
    key: String,
    session: String,
    text: String,
}

/// What the sending client saw.
#[derive(Debug, Default)]
struct Seen {
    /// Idempotency key → run id, for every message the daemon acknowledged.
    accepted: BTreeMap<String, String>,
    /// `chat` final events per run id, over every connection.
    finals: HashMap<String, u32>,
    reconnects: u32,
    /// Re-sends answered `in_flight` / `ok`: the daemon had accepted the
    /// message before the crash, and the retry did not duplicate it.
    deduplicated: u32,
}

impl Seen {
    /// Counts the `chat` final events buffered on `client`.
    async fn drain_events(&mut self, client: &mut Client) {
        while let Ok(event) = client.next_event(Duration::ZERO).await {
            if event.name == "chat" && event.payload["state"] == "final" {
                let run = event.payload["runId"].as_str().unwrap_or_default();
                *self.finals.entry(run.to_owned()).or_default() += 1;
            }
        }
    }
}

/// Connects, retrying through restarts, and follows every session's
/// events (the gateway forwards events of sessions a connection touched).
async fn connect_following(url: &str, sessions: &[String]) -> Client {
    let deadline = Instant::now() + Duration::from_secs(60);
    'again: loop {
        assert!(Instant::now() < deadline, "cannot reconnect to {url}");
        let mut client = connect_retrying(url, Duration::from_secs(30)).await;
        for session in sessions {
            let touch =
                client.request("chat.history", json!({ "sessionKey": session, "limit": 1 }));
            if !matches!(
                tokio::time::timeout(REQUEST_TIMEOUT, touch).await,
                Ok(Ok(_))
            ) {
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue 'again;
            }
        }
        return client;
    }
}

/// Sends every message in order with `chat.send`, pausing a little between
/// them. A send whose answer never came (connection lost) is re-sent with
/// the same idempotency key after reconnecting; so is the last
/// acknowledged message, which must come back as the run it already is.
async fn send_all(url: String, messages: Vec<Msg>, sessions: Vec<String>, seed: u64) -> Seen {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x5eed);
    let mut seen = Seen::default();
    let mut client = connect_following(&url, &sessions).await;
    // Failed sends of `messages[next]`, the first not yet acknowledged.
    let mut attempts = 0u32;
    let mut next = 0;
    // An acknowledged message to send again after a reconnect.
    let mut recheck: Option<usize> = None;
    loop {
        let (index, repeat) = match recheck {
            Some(index) => (index, true),
            None if next < messages.len() => (next, false),
            None => break,
        };
        let m = &messages[index];
        let params = json!({ "sessionKey": m.session, "message": m.text, "idempotencyKey": m.key });
        let answer =
            tokio::time::timeout(REQUEST_TIMEOUT, client.request("chat.send", params)).await;
        match answer {
            Ok(Ok(payload)) => {
                let status = payload["status"].as_str().unwrap_or_default();
                let run = payload["runId"].as_str().expect("runId").to_owned();
                assert_eq!(run, m.key, "the idempotency key is the run id");
                if repeat {
                    // Acknowledged means durable: the crash must not have
                    // lost it, and the repeat must not start it again.
                    assert!(
                        matches!(status, "in_flight" | "ok"),
                        "acknowledged message {} was not recognised after a crash: {payload}",
                        m.key
                    );
                    seen.deduplicated += 1;
                    recheck = None;
                    continue;
                }
                assert!(
                    matches!(status, "started" | "in_flight" | "ok"),
                    "chat.send answered {payload}"
                );
                // A first send can only start a run.
                assert!(
                    attempts > 0 || status == "started",
                    "first send of {} answered {payload}",
                    m.key
                );
                if status != "started" {
                    seen.deduplicated += 1;
                }
                seen.accepted.insert(m.key.clone(), run);
                seen.drain_events(&mut client).await;
                attempts = 0;
                next += 1;
                let pause = rng.random_range(5..30);
                tokio::time::sleep(Duration::from_millis(pause)).await;
            }
            Ok(Err(ClientError::Server { code, message, .. })) => {
                // Busy or shutting down: retryable by contract.
                assert_eq!(code, "UNAVAILABLE", "chat.send failed: {message}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Ok(Err(_)) | Err(_) => {
                // The daemon died under us: acceptance unknown, re-send.
                if !repeat {
                    attempts += 1;
                }
                seen.reconnects += 1;
                recheck = next.checked_sub(1);
                client = connect_following(&url, &sessions).await;
            }
        }
    }
    seen
}

#[tokio::test(flavor = "multi_thread")]
async fn crash_kill9_exactly_one_reply() {
    let started = Instant::now();
    let seed = std::env::var("HEARTH_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random::<u64>);
    eprintln!("crash test seed: {seed} (rerun with HEARTH_TEST_SEED={seed})");
    let mut rng = StdRng::seed_from_u64(seed);

    let model = SlowModel::start(Pace::Chunks {
        chunks: 3,
        min_ms: 20,
        max_ms: 50,
    })
    .await;
    let dir = TestDir::new("crash");
    let mut daemon = Daemon::start(dir.path(), &model.config("slow")).await;

    let sessions: Vec<String> = (0..SESSIONS)
        .map(|s| format!("agent:main:crash{s}"))
        .collect();
    let messages: Vec<Msg> = (0..MESSAGES)
        .map(|i| Msg {
            key: format!("crash-{seed:x}-{i:03}"),
            session: sessions[i % SESSIONS].clone(),
            text: format!("message {i:03} to session {} (seed {seed})", i % SESSIONS),
        })
        .collect();
    let sender = tokio::spawn(send_all(
        daemon.ws_url(),
        messages.clone(),
        sessions.clone(),
        seed,
    ));

    // Kill at random moments: during sends, mid-turn, during recovery.
    let kills = rng.random_range(4..=6);
    for _ in 0..kills {
        tokio::time::sleep(Duration::from_millis(rng.random_range(50..400))).await;
        daemon.kill9();
        daemon.restart().await;
    }
    let mut seen = tokio::time::timeout(Duration::from_secs(120), sender)
        .await
        .expect("the client did not finish sending")
        .expect("the sending task panicked");
    assert_eq!(
        seen.accepted.len(),
        MESSAGES,
        "every message ends up accepted"
    );
    assert!(
        seen.reconnects > 0,
        "no kill landed while the client was sending"
    );

    // No more kills: wait for every accepted run to finish.
    let mut client = connect_following(&daemon.ws_url(), &sessions).await;
    let runs: Vec<String> = seen.accepted.values().cloned().collect();
    for run in &runs {
        let done = client
            .request("agent.wait", json!({ "runId": run, "timeoutMs": 60_000 }))
            .await
            .expect("agent.wait");
        assert_eq!(done["state"], "done", "run {run} did not finish: {done}");
        seen.drain_events(&mut client).await;
    }

    // Client side: exactly one assistant reply per accepted message, the
    // echo of its own text, and no reply for anything else.
    let mut replies: HashMap<String, Vec<String>> = HashMap::new();
    for session in &sessions {
        let history = client
            .request(
                "chat.history",
                json!({ "sessionKey": session, "limit": 1000 }),
            )
            .await
            .expect("chat.history");
        for m in history["messages"].as_array().expect("messages") {
            if m["role"] == "assistant" {
                let run = m["runId"].as_str().expect("runId").to_owned();
                let text = m["content"][0]["text"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                replies.entry(run).or_default().push(text);
            }
        }
    }
    seen.drain_events(&mut client).await;
    client.close().await;
    for m in &messages {
        let run = &seen.accepted[&m.key];
        let got = replies.get(run).map(Vec::as_slice).unwrap_or_default();
        assert_eq!(
            got,
            std::slice::from_ref(&m.text),
            "replies to {} (run {run})",
            m.key
        );
    }
    let known: Vec<&String> = seen.accepted.values().collect();
    for run in replies.keys() {
        assert!(
            known.contains(&run),
            "a reply for run {run}, which was never sent"
        );
    }
    for (run, finals) in &seen.finals {
        assert_eq!(
            *finals, 1,
            "the client got {finals} final answers for run {run}"
        );
    }

    // Store side, after a clean stop.
    let (status, _) = daemon.sigterm_and_wait(Duration::from_secs(30)).await;
    assert!(status.success(), "hearth exited with {status}");
    check_store(&daemon, &seen);

    let requests = model.requests();
    let recomputed = messages
        .iter()
        .filter(|m| requests.get(&m.text).copied().unwrap_or(0) > 1)
        .count();
    for m in &messages {
        assert!(
            requests.contains_key(&m.text),
            "{} never reached the model",
            m.key
        );
    }
    eprintln!(
        "crash test: {kills} kills, {} reconnects, {} re-sends deduplicated, {recomputed} messages recomputed, \
         {} final events seen, {:?}",
        seen.reconnects,
        seen.deduplicated,
        seen.finals.len(),
        started.elapsed()
    );
}

/// Every accepted run: one inbox row `done`, one outbox row `delivered`,
/// one `user` and one `assistant` transcript row; nothing else.
fn check_store(daemon: &Daemon, seen: &Seen) {
    let db = open_db(&daemon.db_path());
    let rows = |sql: &str| -> Vec<(String, String)> {
        let mut st = db.prepare(sql).expect("prepare");
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows")
    };
    let group = |pairs: Vec<(String, String)>| {
        let mut by_run: HashMap<String, Vec<String>> = HashMap::new();
        for (run, value) in pairs {
            by_run.entry(run).or_default().push(value);
        }
        by_run
    };
    let inbox = group(rows("SELECT run_id, state FROM inbox"));
    let outbox = group(rows("SELECT run_id, state FROM outbox"));
    let messages = group(rows("SELECT run_id, role FROM messages"));
    let accepted: Vec<&String> = seen.accepted.values().collect();
    for run in &accepted {
        assert_eq!(
            inbox.get(*run).cloned().unwrap_or_default(),
            ["done"],
            "inbox rows of {run}"
        );
        assert_eq!(
            outbox.get(*run).cloned().unwrap_or_default(),
            ["delivered"],
            "outbox rows of {run}"
        );
        let mut roles = messages.get(*run).cloned().unwrap_or_default();
        roles.sort();
        assert_eq!(roles, ["assistant", "user"], "transcript rows of {run}");
    }
    for table in [&inbox, &outbox, &messages] {
        for run in table.keys() {
            assert!(
                accepted.contains(&run),
                "a stored row for run {run}, which was never sent"
            );
        }
    }
    let pending: i64 = db
        .query_row(
            "SELECT count(*) FROM outbox WHERE state = 'pending'",
            [],
            |r| r.get(0),
        )
        .expect("count pending");
    assert_eq!(pending, 0, "replies left undelivered");
}
