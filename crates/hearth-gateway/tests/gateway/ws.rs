//! The control protocol on a real socket: handshake, auth, limits, every
//! method, events, presence, audit, shutdown.

use std::time::Duration;

use futures::SinkExt;
use hearth_gateway::client::{Client, ClientError};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::{TOKEN, client, connect_frame, next_json, raw, server};

#[tokio::test]
async fn handshake_sends_a_challenge_and_hello_lists_real_methods() {
    let s = server().await;
    let mut ws = raw(&s).await;
    let challenge = next_json(&mut ws).await.unwrap();
    assert_eq!(challenge["event"], "connect.challenge");
    assert!(!challenge["payload"]["nonce"].as_str().unwrap().is_empty());
    ws.send(Message::Text(connect_frame(TOKEN).into()))
        .await
        .unwrap();
    let hello = next_json(&mut ws).await.unwrap();
    assert_eq!(hello["ok"], true, "{hello}");
    assert_eq!(hello["payload"]["type"], "hello-ok");
    assert_eq!(hello["payload"]["protocol"], 4);
    let methods: Vec<&str> = hello["payload"]["features"]["methods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    for m in [
        "health",
        "chat.send",
        "agent",
        "agent.wait",
        "sessions.list",
        "agents.create",
        "models.list",
    ] {
        assert!(methods.contains(&m), "{m} advertised");
    }
    assert_eq!(
        hello["payload"]["auth"]["scopes"],
        json!(["operator.write"])
    );
    assert!(
        hello["payload"]["policy"]["tickIntervalMs"]
            .as_u64()
            .unwrap()
            > 0
    );
}

#[tokio::test]
async fn a_wrong_token_is_refused_and_the_socket_closed() {
    let s = server().await;
    let mut ws = raw(&s).await;
    next_json(&mut ws).await.unwrap();
    ws.send(Message::Text(connect_frame("nope").into()))
        .await
        .unwrap();
    let res = next_json(&mut ws).await.unwrap();
    assert_eq!(res["ok"], false);
    assert_eq!(res["error"]["code"], "INVALID_REQUEST");
    assert_eq!(res["error"]["details"]["code"], "AUTH_TOKEN_MISMATCH");
    assert_eq!(next_json(&mut ws).await.unwrap()["closed"], 1008);
    let err = Client::connect(&s.url, None).await.unwrap_err();
    assert!(err.to_string().contains("token missing"), "{err}");
}

#[tokio::test]
async fn bad_frames_get_errors_and_never_break_the_connection() {
    let s = server().await;
    let mut ws = raw(&s).await;
    next_json(&mut ws).await.unwrap();
    // Malformed JSON before connect: an error, the connection stays.
    ws.send(Message::Text("{not json".into())).await.unwrap();
    let res = next_json(&mut ws).await.unwrap();
    assert_eq!(res["error"]["code"], "INVALID_REQUEST");
    assert!(
        res["error"]["message"]
            .as_str()
            .unwrap()
            .contains("malformed")
    );
    ws.send(Message::Text(connect_frame(TOKEN).into()))
        .await
        .unwrap();
    assert_eq!(next_json(&mut ws).await.unwrap()["ok"], true);
    for (frame, expect) in [
        (json!({"type": "req", "id": "x1", "method": "tts.speak", "params": {}}).to_string(), "unknown method: tts.speak"),
        (json!({"type": "req", "id": "x2", "method": "chat.send", "params": {"sessionKey": 7}}).to_string(), "invalid params"),
        (json!({"type": "req", "id": "x3", "method": "chat.send", "params": {"sessionKey": "", "message": "x"}}).to_string(), "session key"),
        ("[1,2,3]".to_owned(), "malformed"),
    ] {
        ws.send(Message::Text(frame.into())).await.unwrap();
        let res = next_json(&mut ws).await.unwrap();
        assert_eq!(res["ok"], false, "{res}");
        assert!(res["error"]["message"].as_str().unwrap().contains(expect), "{res}");
    }
    // A write scope cannot delete sessions (admin).
    ws.send(Message::Text(json!({"type": "req", "id": "x4", "method": "sessions.delete", "params": {"key": "agent:main:x"}}).to_string().into()))
        .await
        .unwrap();
    assert_eq!(
        next_json(&mut ws).await.unwrap()["error"]["code"],
        "FORBIDDEN"
    );
    // Still serving.
    ws.send(Message::Text(
        json!({"type": "req", "id": "h", "method": "health"})
            .to_string()
            .into(),
    ))
    .await
    .unwrap();
    assert_eq!(next_json(&mut ws).await.unwrap()["payload"]["ok"], true);
}

/// Thousands of mangled frames (truncated, byte-flipped, wrong types) get
/// error answers; the connection keeps serving and nothing panics.
#[tokio::test]
async fn mangled_frames_never_break_the_server() {
    let s = server().await;
    let mut ws = raw(&s).await;
    next_json(&mut ws).await.unwrap();
    ws.send(Message::Text(connect_frame(TOKEN).into()))
        .await
        .unwrap();
    next_json(&mut ws).await.unwrap();
    let seeds = [
        json!({"type": "req", "id": "a", "method": "chat.send", "params": {"sessionKey": "agent:main:f", "message": "hi"}}).to_string(),
        json!({"type": "req", "id": "b", "method": "sessions.list", "params": {"limit": 5}}).to_string(),
        json!({"type": "req", "id": "c", "method": "agent.wait", "params": {"runId": "x", "timeoutMs": 1}}).to_string(),
    ];
    let mut rng: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut sent = 0;
    for i in 0..2000 {
        let mut bytes = seeds[i % seeds.len()].clone().into_bytes();
        for _ in 0..(next() % 4 + 1) {
            let at = (next() as usize) % bytes.len();
            match next() % 3 {
                0 => bytes[at] = (next() % 128) as u8,
                1 => bytes.truncate(at.max(1)),
                _ => bytes.insert(at, b"{}[]\",:0"[(next() % 8) as usize]),
            }
        }
        let text = String::from_utf8_lossy(&bytes).into_owned();
        ws.send(Message::Text(text.into())).await.unwrap();
        sent += 1;
    }
    // Every mangled request got an answer (or was a valid request); then a
    // normal request is still served.
    ws.send(Message::Text(
        json!({"type": "req", "id": "last", "method": "health"})
            .to_string()
            .into(),
    ))
    .await
    .unwrap();
    let mut answers = 0;
    loop {
        let frame = next_json(&mut ws).await.expect("the connection stays open");
        if frame["type"] == "res" {
            answers += 1;
        }
        if frame["id"] == "last" {
            assert_eq!(frame["payload"]["ok"], true);
            break;
        }
    }
    assert!(
        answers >= sent / 2,
        "most frames are answered: {answers} of {sent}"
    );
}

#[tokio::test]
async fn frames_over_64k_before_auth_are_refused() {
    let s = server().await;
    let mut ws = raw(&s).await;
    next_json(&mut ws).await.unwrap();
    let big = format!("{{\"pad\":\"{}\"}}", "x".repeat(70 * 1024));
    ws.send(Message::Text(big.into())).await.unwrap();
    let res = next_json(&mut ws).await.unwrap();
    assert_eq!(res["error"]["details"]["code"], "FRAME_TOO_LARGE");
    assert_eq!(next_json(&mut ws).await.unwrap()["closed"], 1009);
}

#[tokio::test]
async fn agent_answers_twice_and_streams_events() {
    let s = server().await;
    let mut c = client(&s).await;
    let id = c.send("agent", json!({"message": "hello hearth", "agentId": "main", "sessionKey": "agent:main:t", "idempotencyKey": "run-1"})).await.unwrap();
    let accepted = c.answer(&id, false).await.unwrap();
    assert_eq!(accepted["status"], "accepted");
    assert_eq!(accepted["runId"], "run-1");
    let result = c.answer(&id, false).await.unwrap();
    assert_eq!(result["status"], "ok", "{result}");
    assert_eq!(result["result"]["payloads"][0]["text"], "hello hearth");
    // The events for that run arrived meanwhile, ending in a chat final.
    let mut states = Vec::new();
    while let Ok(e) = c.next_event(Duration::from_millis(200)).await {
        if e.name == "chat" {
            states.push(e.payload["state"].as_str().unwrap().to_owned());
            assert_eq!(e.payload["runId"], "run-1");
        }
    }
    assert_eq!(
        states.last().map(String::as_str),
        Some("final"),
        "{states:?}"
    );
    // Retrying the same idempotency key returns the same run, not a new one.
    let again = c.request_final("agent", json!({"message": "hello hearth", "sessionKey": "agent:main:t", "idempotencyKey": "run-1"})).await.unwrap();
    assert_eq!(again["runId"], "run-1");
    let history = c
        .request("chat.history", json!({"sessionKey": "agent:main:t"}))
        .await
        .unwrap();
    assert_eq!(
        history["messages"].as_array().unwrap().len(),
        2,
        "answered once: {history}"
    );
}

#[tokio::test]
async fn agent_without_a_session_key_uses_the_main_session() {
    let s = server().await;
    let mut c = client(&s).await;
    let result = c
        .request_final("agent", json!({"message": "hi", "idempotencyKey": "k"}))
        .await
        .unwrap();
    assert_eq!(result["status"], "ok");
    let session = c
        .request("sessions.get", json!({"key": "agent:main:main"}))
        .await
        .unwrap();
    assert_eq!(session["entry"]["isMain"], true);
}

#[tokio::test]
async fn chat_send_streams_and_agent_wait_reports() {
    let s = server().await;
    let mut c = client(&s).await;
    let sent = c.request("chat.send", json!({"sessionKey": "agent:main:c", "message": "one two three", "idempotencyKey": "cs-1"})).await.unwrap();
    assert_eq!(sent, json!({"runId": "cs-1", "status": "started"}));
    let mut text = None;
    for _ in 0..20 {
        let e = c.next_event(Duration::from_secs(5)).await.unwrap();
        if e.name == "chat" && e.payload["state"] == "final" {
            text = e.payload["message"]["content"][0]["text"]
                .as_str()
                .map(str::to_owned);
            break;
        }
    }
    assert_eq!(text.as_deref(), Some("one two three"));
    let waited = c
        .request("agent.wait", json!({"runId": "cs-1", "timeoutMs": 1000}))
        .await
        .unwrap();
    assert_eq!(
        (waited["status"].as_str(), waited["text"].as_str()),
        (Some("ok"), Some("one two three"))
    );
    let dup = c.request("chat.send", json!({"sessionKey": "agent:main:c", "message": "one two three", "idempotencyKey": "cs-1"})).await.unwrap();
    assert_eq!(dup["status"], "ok");
    let err = c
        .request("agent.wait", json!({"runId": "nope"}))
        .await
        .unwrap_err();
    assert!(
        matches!(err, ClientError::Server { ref code, .. } if code == "NOT_FOUND"),
        "{err}"
    );
}

#[tokio::test]
async fn sessions_lifecycle() {
    let s = server().await;
    let mut c = client(&s).await;
    let created = c
        .request(
            "sessions.create",
            json!({"key": "agent:main:s1", "label": "work"}),
        )
        .await
        .unwrap();
    assert_eq!(created["ok"], true);
    let first_id = created["sessionId"].as_str().unwrap().to_owned();
    c.request_final(
        "agent",
        json!({"message": "x", "sessionKey": "agent:main:s1"}),
    )
    .await
    .unwrap();
    let list = c
        .request("sessions.list", json!({"limit": 10}))
        .await
        .unwrap();
    let rows = list["sessions"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0]["key"].as_str(), rows[0]["messageCount"].as_u64()),
        (Some("agent:main:s1"), Some(2))
    );
    let reset = c
        .request("sessions.reset", json!({"key": "agent:main:s1"}))
        .await
        .unwrap();
    assert_ne!(reset["sessionId"].as_str().unwrap(), first_id);
    let stale = c
        .request(
            "sessions.delete",
            json!({"key": "agent:main:s1", "expectedSessionId": first_id}),
        )
        .await
        .unwrap_err();
    assert!(stale.to_string().contains("changed"), "{stale}");
    let deleted = c
        .request("sessions.delete", json!({"key": "agent:main:s1"}))
        .await
        .unwrap();
    assert_eq!(deleted["deleted"], true);
    assert!(
        c.request("sessions.get", json!({"key": "agent:main:s1"}))
            .await
            .is_err()
    );
    let sent = c
        .request(
            "sessions.send",
            json!({"key": "agent:main:s2", "message": "hey"}),
        )
        .await
        .unwrap();
    assert_eq!(sent["status"], "started");
    let aborted = c
        .request("sessions.abort", json!({"key": "agent:main:none"}))
        .await
        .unwrap();
    assert_eq!(aborted["aborted"], false);
}

#[tokio::test]
async fn agents_and_models() {
    let s = server().await;
    let mut c = client(&s).await;
    let list = c.request("agents.list", json!({})).await.unwrap();
    assert_eq!(
        (
            list["defaultId"].as_str(),
            list["agents"].as_array().unwrap().len()
        ),
        (Some("main"), 1)
    );
    let created = c
        .request(
            "agents.create",
            json!({"name": "Ops Team", "model": "echo"}),
        )
        .await
        .unwrap();
    assert_eq!(created["agentId"], "ops-team");
    let dup = c
        .request("agents.create", json!({"name": "ops team"}))
        .await
        .unwrap_err();
    assert!(dup.to_string().contains("already exists"), "{dup}");
    let bad = c
        .request("agents.create", json!({"name": "x", "model": "gpt-nope"}))
        .await
        .unwrap_err();
    assert!(bad.to_string().contains("gpt-nope"), "{bad}");
    c.request(
        "agents.update",
        json!({"agentId": "ops-team", "name": "Ops"}),
    )
    .await
    .unwrap();
    let err = c
        .request("agents.update", json!({"agentId": "main", "name": "x"}))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("config file"), "{err}");
    let answer = c
        .request_final("agent", json!({"message": "ping", "agentId": "ops-team"}))
        .await
        .unwrap();
    assert_eq!(answer["result"]["payloads"][0]["text"], "ping");
    c.request("agents.delete", json!({"agentId": "ops-team"}))
        .await
        .unwrap();
    assert_eq!(
        c.request("agents.list", json!({})).await.unwrap()["agents"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let models = c.request("models.list", json!({})).await.unwrap();
    assert_eq!(models["models"][0]["id"], "echo");
}

#[tokio::test]
async fn health_and_status_have_the_shapes_openclaw_reads() {
    let s = server().await;
    let mut c = client(&s).await;
    c.request_final(
        "agent",
        json!({"message": "x", "sessionKey": "agent:main:h"}),
    )
    .await
    .unwrap();
    let health = c.request("health", Value::Null).await.unwrap();
    assert_eq!(health["ok"], true);
    assert_eq!(health["agents"][0]["sessions"]["count"], 1);
    let status = c
        .request("status", json!({"includeChannelSummary": false}))
        .await
        .unwrap();
    assert!(status["channelSummary"].is_array());
    assert!(status["sessions"]["byAgent"].is_array());
    assert_eq!(status["sessions"]["count"], 1);
    let presence = c.request("system-presence", Value::Null).await.unwrap();
    assert_eq!(presence[0]["mode"], "gateway");
}

#[tokio::test]
async fn presence_announces_clients_joining_and_leaving() {
    let s = server().await;
    let mut watcher = client(&s).await;
    let other = client(&s).await;
    let joined = loop {
        let e = watcher.next_event(Duration::from_secs(5)).await.unwrap();
        if e.name == "presence" {
            break e.payload;
        }
    };
    assert_eq!(joined["presence"].as_array().unwrap().len(), 2, "{joined}");
    assert_eq!(joined["presence"][0]["clientId"], "hearth-cli");
    let listed = watcher
        .request("system-presence", Value::Null)
        .await
        .unwrap();
    assert_eq!(
        listed.as_array().unwrap().len(),
        3,
        "the gateway and two clients: {listed}"
    );
    other.close().await;
    let left = loop {
        let e = watcher.next_event(Duration::from_secs(5)).await.unwrap();
        if e.name == "presence" {
            break e.payload;
        }
    };
    assert_eq!(left["presence"].as_array().unwrap().len(), 1, "{left}");
}

#[tokio::test]
async fn admin_actions_and_failed_logins_are_audited() {
    let s = server().await;
    let mut c = client(&s).await;
    c.request("agents.create", json!({"name": "auditor", "model": "echo"}))
        .await
        .unwrap();
    c.request("agents.delete", json!({"agentId": "auditor"}))
        .await
        .unwrap();
    // A refused action is not recorded as done.
    c.request("agents.delete", json!({"agentId": "main"}))
        .await
        .unwrap_err();
    Client::connect(&s.url, Some("wrong")).await.unwrap_err();
    let db = rusqlite::Connection::open(s._dir.path().join("hearth.db")).unwrap();
    let rows: Vec<(String, String)> = db
        .prepare("SELECT actor, action FROM audit ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let actions: Vec<&str> = rows.iter().map(|(_, a)| a.as_str()).collect();
    assert_eq!(
        actions,
        ["agents.create", "agents.delete", "auth.failed"],
        "{rows:?}"
    );
    assert_eq!(rows[0].0, "hearth-cli@127.0.0.1");
}

#[tokio::test]
async fn shutdown_closes_connections_with_a_notice() {
    let s = server().await;
    let mut c = client(&s).await;
    s.state.shutdown.cancel();
    let e = c.next_event(Duration::from_secs(5)).await.unwrap();
    assert_eq!(e.name, "shutdown");
}
