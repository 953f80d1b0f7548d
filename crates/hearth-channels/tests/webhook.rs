//! The webhook adapter: the conformance suite with replies by signed
//! callback to a real HTTP server, and the refusals (bad signature, stale
//! timestamp, malformed body) that must change nothing.

#![cfg(feature = "webhook")]

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use axum::extract::State;
use axum::http::HeaderMap;
use hearth_channels::webhook::{WebhookChannel, WebhookConfig, signature};
use hearth_core::{WebhookHandler, WebhookRequest, now_ms};
use hearth_testkit::conformance::{self, Peer, RecordingSink};
use tokio::sync::mpsc;

const SECRET: &str = "correct horse battery staple";

fn signed(body: &serde_json::Value, secret: &str, age_secs: i64) -> WebhookRequest {
    let body = serde_json::to_vec(body).expect("json");
    let timestamp = (now_ms() / 1000 - age_secs).to_string();
    WebhookRequest {
        headers: vec![
            ("x-hearth-timestamp".into(), timestamp.clone()),
            (
                "x-hearth-signature".into(),
                signature(secret, &timestamp, &body),
            ),
        ],
        body,
    }
}

/// The callback receiver: verifies each signature, passes the text on.
async fn callback(
    State(tx): State<mpsc::Sender<String>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> &'static str {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let expected = signature(SECRET, &header("x-hearth-timestamp"), &body);
    assert_eq!(header("x-hearth-signature"), expected, "callback signature");
    assert!(!header("idempotency-key").is_empty());
    let reply: serde_json::Value = serde_json::from_slice(&body).expect("json callback");
    let _ = tx
        .send(reply["text"].as_str().unwrap_or_default().to_owned())
        .await;
    "ok"
}

struct WebPeer {
    channel: Arc<WebhookChannel>,
    heard: mpsc::Receiver<String>,
    last: Option<serde_json::Value>,
    sequence: u32,
}

impl WebPeer {
    async fn post(&mut self, body: serde_json::Value) {
        let response = self.channel.handle(signed(&body, SECRET, 0)).await;
        // 202 accepted (the reply comes by callback), 200 for a duplicate.
        assert!(matches!(response.status, 200 | 202), "{:?}", response.body);
        self.last = Some(body);
    }
}

#[async_trait]
impl Peer for WebPeer {
    fn sender_id(&self) -> String {
        "crm-bot".into()
    }

    fn group_id(&self) -> Option<String> {
        Some("support-queue".into())
    }

    async fn send_direct(&mut self, text: &str) {
        self.sequence += 1;
        let body = serde_json::json!({ "id": format!("m{}", self.sequence), "sender": "crm-bot", "text": text });
        self.post(body).await;
    }

    async fn send_group(&mut self, text: &str, mention: bool) {
        self.sequence += 1;
        let body = serde_json::json!({
            "id": format!("m{}", self.sequence), "sender": "crm-bot", "text": text,
            "group": "support-queue", "mention": mention,
        });
        self.post(body).await;
    }

    async fn received(&mut self, limit: Duration) -> Option<String> {
        tokio::time::timeout(limit, self.heard.recv()).await.ok()?
    }

    async fn restart_server(&mut self) -> bool {
        false
    }

    async fn redeliver_last(&mut self) -> bool {
        let body = self.last.clone().expect("a message was sent");
        self.post(body).await;
        true
    }
}

async fn callback_server() -> (String, mpsc::Receiver<String>) {
    let (tx, rx) = mpsc::channel(256);
    let app = axum::Router::new()
        .route("/reply", axum::routing::post(callback))
        .with_state(tx);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/reply"), rx)
}

fn config(callback_url: Option<String>) -> WebhookConfig {
    serde_json::from_value(serde_json::json!({
        "secret": SECRET, "callback_url": callback_url, "max_text": 300,
    }))
    .expect("config")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_passes_the_channel_conformance_suite() {
    let (url, heard) = callback_server().await;
    let channel = Arc::new(WebhookChannel::new("web", config(Some(url))));
    let mut peer = WebPeer {
        channel: channel.clone(),
        heard,
        last: None,
        sequence: 0,
    };
    conformance::run(channel, &mut peer).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_stale_or_malformed_requests_change_nothing() {
    let channel = Arc::new(WebhookChannel::new("web", config(None)));
    let sink = Arc::new(RecordingSink::default());
    let (shutdown, health) = conformance::run_channel(channel.clone(), sink.clone());
    while health.get().state != hearth_core::HealthState::Up {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let body = serde_json::json!({ "sender": "x", "text": "hi" });
    let forged = channel
        .handle(signed(&body, "not the secret at all", 0))
        .await;
    assert_eq!(forged.status, 401);
    let stale = channel.handle(signed(&body, SECRET, 3600)).await;
    assert_eq!(stale.status, 401, "{:?}", stale.body);
    let mut unsigned = signed(&body, SECRET, 0);
    unsigned.headers.retain(|(n, _)| n != "x-hearth-signature");
    assert_eq!(channel.handle(unsigned).await.status, 401);
    let malformed = channel
        .handle(signed(
            &serde_json::json!({ "text": "no sender" }),
            SECRET,
            0,
        ))
        .await;
    assert_eq!(malformed.status, 400);
    let empty = channel
        .handle(signed(
            &serde_json::json!({ "sender": "x", "text": " " }),
            SECRET,
            0,
        ))
        .await;
    assert_eq!(empty.status, 400);
    assert!(sink.messages().is_empty(), "{:?}", sink.messages());
    // A good request without a callback waits for a reply that this sink
    // never sends, and gets 202 after the timeout... here, 1 s.
    let quick: WebhookConfig =
        serde_json::from_value(serde_json::json!({ "secret": SECRET, "reply_timeout_secs": 1 }))
            .unwrap();
    let quick = Arc::new(WebhookChannel::new("web", quick));
    let (stop_quick, quick_health) = conformance::run_channel(quick.clone(), sink.clone());
    while quick_health.get().state != hearth_core::HealthState::Up {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let accepted = quick.handle(signed(&body, SECRET, 0)).await;
    assert_eq!(accepted.status, 202, "{:?}", accepted.body);
    assert_eq!(sink.messages().len(), 1);
    stop_quick.cancel();
    shutdown.cancel();
}
