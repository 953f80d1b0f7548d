//! The webhook channel end to end through the daemon's own port
//! (`POST /hooks/web`): pairing answered in the response and approved over
//! the control protocol, the echo model's reply in the response, a retry
//! with the same id recognised, group mention gating, a long reply in
//! pieces, and forged requests refused with nothing recorded.

use serde_json::{Value, json};

use crate::common::Daemon;
use crate::common::TestDir;

const SECRET: &str = "a webhook secret of some length";

async fn post(daemon: &Daemon, body: Value, secret: &str) -> (u16, Value) {
    let body = serde_json::to_vec(&body).expect("json");
    let timestamp = (hearth_core::now_ms() / 1000).to_string();
    let response = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{}/hooks/web", daemon.port))
        .header("content-type", "application/json")
        .header("x-hearth-timestamp", &timestamp)
        .header(
            "x-hearth-signature",
            hearth_channels::webhook::signature(secret, &timestamp, &body),
        )
        .body(body)
        .send()
        .await
        .expect("POST /hooks/web");
    let status = response.status().as_u16();
    (status, response.json().await.expect("json answer"))
}

fn replies(answer: &Value) -> Vec<String> {
    answer["replies"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r.as_str().map(str::to_owned))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_pairing_replies_dedupe_mentions_and_chunks() {
    let dir = TestDir::new("webhook");
    let config = format!(
        "[channels.web]\ntype = \"webhook\"\nsecret = \"{SECRET}\"\nmax_text = 120\nreply_timeout_secs = 20\n"
    );
    let daemon = Daemon::start(dir.path(), &config).await;

    // An unknown sender: a pairing code in the response.
    let (status, answer) = post(
        &daemon,
        json!({ "id": "1", "sender": "ops", "text": "hello" }),
        SECRET,
    )
    .await;
    assert_eq!(
        (status, answer["status"].as_str()),
        (200, Some("pairing")),
        "{answer}"
    );
    let prompt = replies(&answer).join("\n");
    let code = prompt
        .split_whitespace()
        .skip_while(|w| *w != "web")
        .nth(1)
        .unwrap_or_else(|| panic!("no code in {prompt:?}"))
        .to_owned();

    // Approved over the control protocol.
    let mut client = daemon.client().await;
    let approved = client
        .request("pairing.approve", json!({ "channel": "web", "code": code }))
        .await
        .expect("pairing.approve");
    assert_eq!(approved["approved"]["sender"]["id"], "ops", "{approved}");
    let wrong = client
        .request(
            "pairing.approve",
            json!({ "channel": "web", "code": "NOPE2345" }),
        )
        .await;
    assert!(wrong.is_err(), "{wrong:?}");

    // The model's answer comes back in the response.
    let (status, answer) = post(
        &daemon,
        json!({ "id": "2", "sender": "ops", "text": "status of the build" }),
        SECRET,
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(replies(&answer), vec!["status of the build"]);
    // The sender retries the same id: recognised, not answered twice.
    let (status, answer) = post(
        &daemon,
        json!({ "id": "2", "sender": "ops", "text": "status of the build" }),
        SECRET,
    )
    .await;
    assert_eq!(
        (status, answer["status"].as_str()),
        (200, Some("duplicate")),
        "{answer}"
    );
    let history = client
        .request(
            "chat.history",
            json!({ "sessionKey": "agent:main:web:direct:ops" }),
        )
        .await
        .expect("chat.history");
    let user_turns = history["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter(|m| m["role"] == "user")
        .count();
    assert_eq!(user_turns, 1, "{history}");

    // Groups: only a mention is answered.
    let (_, quiet) = post(
        &daemon,
        json!({ "id": "3", "sender": "ops", "text": "fyi", "group": "team" }),
        SECRET,
    )
    .await;
    assert_eq!(quiet["status"], "ignored", "{quiet}");
    let (_, asked) = post(
        &daemon,
        json!({ "id": "4", "sender": "ops", "text": "and you?", "group": "team", "mention": true }),
        SECRET,
    )
    .await;
    assert_eq!(replies(&asked), vec!["and you?"], "{asked}");

    // A reply longer than 120 characters comes in pieces, every word kept.
    let long: Vec<String> = (1..=60).map(|i| format!("w{i}")).collect();
    let (_, answer) = post(
        &daemon,
        json!({ "id": "5", "sender": "ops", "text": long.join(" ") }),
        SECRET,
    )
    .await;
    let pieces = replies(&answer);
    assert!(pieces.len() >= 2, "{answer}");
    assert!(
        pieces.iter().all(|p| p.chars().count() <= 120),
        "{pieces:?}"
    );
    let words: Vec<String> = pieces
        .join(" ")
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    assert_eq!(words, long);

    // A forged request is refused and recorded nowhere.
    let (status, _) = post(
        &daemon,
        json!({ "id": "6", "sender": "ops", "text": "forged" }),
        "wrong secret, wrong",
    )
    .await;
    assert_eq!(status, 401);
    let sessions = client
        .request("sessions.list", json!({}))
        .await
        .expect("sessions.list");
    assert!(!sessions.to_string().contains("forged"));
    let runs: i64 = crate::common::open_db(&daemon.db_path())
        .query_row(
            "SELECT count(*) FROM inbox WHERE body LIKE '%forged%'",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(runs, 0);
    client.close().await;
}
