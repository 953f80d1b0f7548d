//! The Telegram adapter against a local Bot API server replaying the
//! documented payloads: the conformance suite, then what it does not
//! cover (429 with retry_after, a bad token, attachments, typing, the
//! webhook mode and its secret).

#![cfg(feature = "telegram")]

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hearth_channels::files::FileStore;
use hearth_channels::telegram::{TelegramChannel, TelegramConfig};
use hearth_core::{
    Channel, ChannelError, Conversation, HealthState, OutboundMessage, SessionKey, WebhookHandler,
    WebhookRequest,
};
use hearth_testkit::conformance::{self, Peer, RecordingSink};
use hearth_testkit::servers::telegram::BotApi;

const TOKEN: &str = "123456:TEST-token-abcdef";
const ALICE: i64 = 4242;
const GROUP: i64 = -100_777;

fn config(api: &BotApi, extra: serde_json::Value) -> TelegramConfig {
    let mut value =
        serde_json::json!({ "token": TOKEN, "api_url": api.url(), "poll_timeout_secs": 1 });
    if let (Some(base), Some(extra)) = (value.as_object_mut(), extra.as_object()) {
        base.extend(extra.clone());
    }
    serde_json::from_value(value).expect("config")
}

fn channel(api: &BotApi, dir: &std::path::Path, extra: serde_json::Value) -> Arc<TelegramChannel> {
    Arc::new(TelegramChannel::new(
        "telegram",
        config(api, extra),
        FileStore::new(dir, 1024),
    ))
}

struct TelegramPeer {
    api: BotApi,
    read: usize,
}

#[async_trait]
impl Peer for TelegramPeer {
    fn sender_id(&self) -> String {
        ALICE.to_string()
    }

    fn group_id(&self) -> Option<String> {
        Some(GROUP.to_string())
    }

    async fn send_direct(&mut self, text: &str) {
        self.api.private_message(ALICE, "Alice", text);
    }

    async fn send_group(&mut self, text: &str, mention: bool) {
        self.api.group_message(GROUP, ALICE, "Alice", text, mention);
    }

    async fn received(&mut self, limit: Duration) -> Option<String> {
        let sent = self.api.wait_sent(self.read + 1, limit).await;
        let message = sent.get(self.read)?;
        self.read += 1;
        assert_eq!(message["parse_mode"], "HTML", "{message}");
        message["text"].as_str().map(str::to_owned)
    }

    async fn restart_server(&mut self) -> bool {
        self.api.restart(Duration::from_millis(300)).await;
        true
    }

    async fn redeliver_last(&mut self) -> bool {
        self.api.redeliver_last();
        true
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telegram_passes_the_channel_conformance_suite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let api = BotApi::start(TOKEN).await;
    let channel = channel(&api, dir.path(), serde_json::json!({}));
    let mut peer = TelegramPeer { api, read: 0 };
    conformance::run(channel, &mut peer).await;
    // Every update the adapter recorded was confirmed by the offset.
    tokio::time::sleep(Duration::from_millis(200)).await;
}

fn reply(to: Conversation, text: &str) -> OutboundMessage {
    OutboundMessage {
        idempotency_key: format!("k-{text}"),
        session_key: SessionKey::new("s").expect("key"),
        channel: "telegram".into(),
        text: text.into(),
        to: Some(to),
        reply_to: Some("77".into()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_bad_tokens_attachments_and_typing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let api = BotApi::start(TOKEN).await;
    let telegram = channel(&api, dir.path(), serde_json::json!({}));

    // 429 with retry_after becomes a transient error carrying the delay.
    api.fail_next("sendMessage", 429, Some(7), 1);
    let error = telegram
        .send(&reply(Conversation::direct("42"), "hi"))
        .await
        .unwrap_err();
    assert!(
        matches!(error, ChannelError::Transient { retry_after: Some(d), .. } if d == Duration::from_secs(7)),
        "{error:?}"
    );
    telegram
        .send(&reply(Conversation::direct("42"), "hi"))
        .await
        .expect("retry works");
    let sent = api.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["reply_parameters"]["message_id"], 77);

    // A refused message (chat gone) is permanent.
    api.fail_next("sendMessage", 403, None, 1);
    let error = telegram
        .send(&reply(Conversation::direct("43"), "x"))
        .await
        .unwrap_err();
    assert!(matches!(error, ChannelError::Permanent(_)), "{error:?}");

    // Typing goes out as sendChatAction.
    telegram
        .typing(&Conversation::direct("42"))
        .await
        .expect("typing");
    assert_eq!(api.chat_actions()[0]["action"], "typing");

    // A wrong token stops the channel for good.
    let wrong: TelegramConfig = serde_json::from_value(serde_json::json!({
        "token": "999:not-the-right-token", "api_url": api.url(),
    }))
    .unwrap();
    let wrong = TelegramChannel::new("telegram", wrong, FileStore::new(dir.path(), 1024));
    let sink = Arc::new(RecordingSink::default());
    let context = hearth_core::ChannelContext {
        inbound: sink.clone(),
        shutdown: tokio_util::sync::CancellationToken::new(),
        health: hearth_core::HealthCell::default(),
    };
    let error = wrong.start(context).await.unwrap_err();
    assert!(
        matches!(error, ChannelError::Permanent(ref m) if m.contains("token")),
        "{error:?}"
    );

    // Attachments are downloaded within the limit; a too large one is noted.
    let (shutdown, health) = conformance::run_channel(telegram.clone(), sink.clone());
    while health.get().state != HealthState::Up {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    api.document_message(
        ALICE,
        "Alice",
        "see attached",
        "notes.txt",
        b"remember the milk",
    );
    api.document_message(ALICE, "Alice", "and this", "big.bin", &[7; 4096]);
    let got = sink.wait_for(2).await;
    let saved = &got[0].origin.attachments[0];
    assert_eq!(saved.file_name, "notes.txt");
    assert_eq!(std::fs::read(&saved.path).unwrap(), b"remember the milk");
    assert!(got[1].origin.attachments.is_empty());
    assert!(got[1].text.contains("limit"), "{}", got[1].text);
    // Both updates were recorded, so both are confirmed.
    for _ in 0..100 {
        if api.pending_updates() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(api.pending_updates(), 0);
    shutdown.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_mode_registers_and_checks_the_secret() {
    let dir = tempfile::tempdir().expect("tempdir");
    let api = BotApi::start(TOKEN).await;
    let telegram = channel(
        &api,
        dir.path(),
        serde_json::json!({
            "mode": "webhook", "webhook_url": "https://bot.example.org/hooks/telegram",
            "webhook_secret": "s3cret-token",
        }),
    );
    let sink = Arc::new(RecordingSink::default());
    let (shutdown, health) = conformance::run_channel(telegram.clone(), sink.clone());
    while health.get().state != HealthState::Up {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let registered = api.webhook().expect("setWebhook was called");
    assert_eq!(registered["url"], "https://bot.example.org/hooks/telegram");
    assert_eq!(registered["secret_token"], "s3cret-token");

    let update = serde_json::json!({ "update_id": 1, "message": {
        "message_id": 9, "from": { "id": ALICE, "is_bot": false, "first_name": "Alice" },
        "chat": { "id": ALICE, "type": "private" }, "date": 1, "text": "via webhook" } });
    let body = serde_json::to_vec(&update).unwrap();
    let forged = telegram
        .handle(WebhookRequest {
            headers: vec![("x-telegram-bot-api-secret-token".into(), "guess".into())],
            body: body.clone(),
        })
        .await;
    assert_eq!(forged.status, 401);
    let real = telegram
        .handle(WebhookRequest {
            headers: vec![(
                "x-telegram-bot-api-secret-token".into(),
                "s3cret-token".into(),
            )],
            body,
        })
        .await;
    assert_eq!(real.status, 200);
    let got = sink.wait_for(1).await;
    assert_eq!(got[0].text, "via webhook");
    assert_eq!(got.len(), 1);
    assert_eq!(api.calls("getUpdates"), 0, "webhook mode never polls");
    shutdown.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streaming_previews_edit_one_message_into_the_reply() {
    let api = BotApi::start(TOKEN).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let chat = Conversation::direct(ALICE.to_string());

    // Off by default: nothing is shown before the reply.
    let quiet = channel(&api, dir.path(), serde_json::json!({}));
    assert!(!quiet.previews());
    quiet
        .preview(&chat, "run-q", "partial")
        .await
        .expect("preview");
    assert!(api.sent().is_empty());

    let channel = channel(
        &api,
        dir.path(),
        serde_json::json!({ "stream_previews": true }),
    );
    assert!(channel.previews());
    channel
        .preview(&chat, "run-p", "Hello")
        .await
        .expect("preview");
    channel
        .preview(&chat, "run-p", "Hello there")
        .await
        .expect("edit");
    // The same text again: Telegram says "not modified", which is fine.
    channel
        .preview(&chat, "run-p", "Hello there")
        .await
        .expect("same");
    let mut answer = reply(chat.clone(), "Hello there, **done**");
    answer.idempotency_key = "run-p".into();
    channel.send(&answer).await.expect("send");
    // A preview arriving after the reply is dropped, not posted.
    channel.preview(&chat, "run-p", "late").await.expect("late");

    let sent = api.sent();
    assert_eq!(sent.len(), 1, "only the preview is a new message: {sent:?}");
    assert_eq!(sent[0]["text"], "Hello …");
    let edits = api.edits();
    assert_eq!(edits.len(), 2, "{edits:?}");
    assert_eq!(edits[0]["text"], "Hello there …");
    assert_eq!(edits[1]["parse_mode"], "HTML");
    let id = edits[1]["message_id"].as_i64().expect("message id");
    assert_eq!(
        api.text_of(id).as_deref(),
        Some("Hello there, <b>done</b>"),
        "the preview became the reply"
    );
}
