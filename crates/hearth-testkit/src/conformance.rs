//! The channel conformance suite: every adapter runs it against its real
//! server (or the platform's replay server), through a [`Peer`] that
//! plays the other person on that platform.
//!
//! It checks the adapter's own contract, with no framework in between:
//! - normalize: a direct message and a group message arrive as
//!   [`PlatformMessage`]s with the right conversation, sender, text and
//!   mention flag;
//! - denormalize: a long markdown reply with a code block arrives as
//!   messages that each fit the adapter's declared limit, with every word
//!   in order;
//! - dedupe: a message the platform delivers twice carries the same
//!   message id (where the peer can make the platform redeliver);
//! - reconnect: after the server restarts, `start` returns, a new `start`
//!   connects, and messages flow again (adapters holding a connection).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hearth_core::{
    Admission, Channel, ChannelContext, ConversationKind, HealthCell, HealthState, InboundError,
    InboundSink, OutboundMessage, PlatformMessage, SessionKey,
};
use parking_lot::Mutex;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// How long each step may take on a loaded machine.
const STEP: Duration = Duration::from_secs(20);

/// The other person on the platform, acting through the real server.
#[async_trait]
pub trait Peer: Send {
    /// Their sender id, as the adapter must report it.
    fn sender_id(&self) -> String;
    /// Their sender id in the group, where the platform names people
    /// differently there (XMPP rooms: `room/nick`).
    fn group_sender_id(&self) -> String {
        self.sender_id()
    }
    /// The id of a group both are in, as the adapter must report it;
    /// `None` if the platform has no groups (the group step is skipped).
    fn group_id(&self) -> Option<String>;
    /// Writes to the bot directly.
    async fn send_direct(&mut self, text: &str);
    /// Writes in the group, addressing the bot or not.
    async fn send_group(&mut self, text: &str, mention: bool);
    /// The text of the next message the bot sent them, in any
    /// conversation, as the platform shows it.
    async fn received(&mut self, limit: Duration) -> Option<String>;
    /// Restarts the server (or cuts the bot's connection) and returns once
    /// it accepts connections again; false where the adapter holds no
    /// connection (a webhook), and the reconnect step is skipped.
    async fn restart_server(&mut self) -> bool;
    /// Makes the platform deliver the last message again; false where the
    /// platform never redelivers (the dedupe step is skipped).
    async fn redeliver_last(&mut self) -> bool {
        false
    }
}

/// An [`InboundSink`] that records what the adapter hands over and
/// reports a repeated (conversation, message id) as a duplicate.
#[derive(Debug, Default)]
pub struct RecordingSink {
    messages: Mutex<Vec<PlatformMessage>>,
    duplicates: Mutex<usize>,
    arrived: Notify,
}

impl RecordingSink {
    pub fn messages(&self) -> Vec<PlatformMessage> {
        self.messages.lock().clone()
    }

    pub fn duplicates(&self) -> usize {
        *self.duplicates.lock()
    }

    /// Waits until `count` messages were recorded.
    pub async fn wait_for(&self, count: usize) -> Vec<PlatformMessage> {
        tokio::time::timeout(STEP, async {
            loop {
                let notified = self.arrived.notified();
                if self.messages.lock().len() >= count {
                    return self.messages();
                }
                notified.await;
            }
        })
        .await
        .unwrap_or_else(|_| panic!("expected {count} messages, got {:?}", self.messages()))
    }
}

#[async_trait]
impl InboundSink for RecordingSink {
    async fn submit(&self, message: PlatformMessage) -> Result<Admission, InboundError> {
        let key = |m: &PlatformMessage| {
            (
                m.origin.conversation.id.clone(),
                m.origin.message_id.clone(),
            )
        };
        let mut messages = self.messages.lock();
        if message.origin.message_id.is_some() && messages.iter().any(|m| key(m) == key(&message)) {
            *self.duplicates.lock() += 1;
            return Ok(Admission::Duplicate);
        }
        messages.push(message);
        drop(messages);
        self.arrived.notify_waiters();
        Ok(Admission::Accepted)
    }
}

/// Runs the adapter like the host does, restarting `start` after a
/// dropped connection, until the returned token is cancelled.
pub fn run_channel(
    channel: Arc<dyn Channel>,
    sink: Arc<RecordingSink>,
) -> (CancellationToken, HealthCell) {
    let shutdown = CancellationToken::new();
    let health = HealthCell::default();
    let context = ChannelContext {
        inbound: sink,
        shutdown: shutdown.clone(),
        health: health.clone(),
    };
    tokio::spawn(async move {
        loop {
            let result = channel.start(context.clone()).await;
            if context.shutdown.is_cancelled() {
                return;
            }
            context.health.set(
                HealthState::Reconnecting,
                result.err().map(|e| e.to_string()),
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    (shutdown, health)
}

async fn wait_up(health: &HealthCell, reconnects: u64) {
    tokio::time::timeout(STEP, async {
        while !(health.get().state == HealthState::Up && health.get().reconnects >= reconnects) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("the channel did not come up: {:?}", health.get()));
}

/// Words of the shape `w<digits>` in `text`, in order (markup and
/// punctuation around them ignored).
fn numbered_words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| w.len() > 1 && w.starts_with('w') && w[1..].bytes().all(|b| b.is_ascii_digit()))
        .map(str::to_owned)
        .collect()
}

/// The whole suite. Panics with a description at the first failure.
pub async fn run(channel: Arc<dyn Channel>, peer: &mut dyn Peer) {
    let sink = Arc::new(RecordingSink::default());
    let (shutdown, health) = run_channel(channel.clone(), sink.clone());
    wait_up(&health, 0).await;

    // Normalize: a direct message.
    peer.send_direct("hello from the conformance suite").await;
    let direct = sink.wait_for(1).await.remove(0);
    assert_eq!(
        direct.origin.conversation.kind,
        ConversationKind::Direct,
        "{direct:?}"
    );
    assert_eq!(direct.origin.sender.id, peer.sender_id(), "{direct:?}");
    assert!(
        direct.text.contains("hello from the conformance suite"),
        "{direct:?}"
    );
    assert!(
        direct.origin.mentioned,
        "a direct message counts as a mention: {direct:?}"
    );
    assert_eq!(direct.channel, channel.name());
    let mut seen = 1;

    // Normalize: group messages, with and without a mention.
    if let Some(group) = peer.group_id() {
        peer.send_group("chatter without the bot", false).await;
        peer.send_group("question for the bot", true).await;
        let messages = sink.wait_for(seen + 2).await;
        let (chatter, question) = (&messages[seen], &messages[seen + 1]);
        for m in [chatter, question] {
            assert_eq!(m.origin.conversation.kind, ConversationKind::Group, "{m:?}");
            assert_eq!(m.origin.conversation.id, group, "{m:?}");
            assert_eq!(m.origin.sender.id, peer.group_sender_id(), "{m:?}");
        }
        assert!(!chatter.origin.mentioned, "{chatter:?}");
        assert!(question.origin.mentioned, "{question:?}");
        assert!(
            question.text.contains("question for the bot"),
            "{question:?}"
        );
        seen += 2;
    }

    // Denormalize: a long reply arrives in pieces that fit, words in order.
    let caps = channel.capabilities();
    // About twice the platform's limit, in paragraphs of 12 words.
    let count = (caps.max_text * 2 / 60).clamp(12, 400);
    let paragraphs: Vec<String> = (0..count)
        .map(|p| {
            (0..12)
                .map(|w| format!("w{}", p * 12 + w))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    let code = (0..6)
        .map(|i| format!("let w{} = {i};", 100_000 + i))
        .collect::<Vec<_>>()
        .join("\n");
    let reply = format!(
        "**Answer:**\n\n{}\n\n```rust\n{code}\n```\n\nw999999 done.",
        paragraphs.join("\n\n")
    );
    let expected = numbered_words(&reply);
    let reply_text = reply.clone();
    channel
        .send(&OutboundMessage {
            idempotency_key: "conformance-long".into(),
            session_key: SessionKey::new("conformance").expect("key"),
            channel: channel.name().to_owned(),
            text: reply,
            to: Some(direct.origin.conversation.clone()),
            reply_to: direct.origin.message_id.clone(),
        })
        .await
        .expect("send a long reply");
    let mut got = Vec::new();
    let mut pieces = 0;
    while got.len() < expected.len() {
        let Some(text) = peer.received(STEP).await else {
            panic!("reply incomplete after {pieces} pieces: {got:?}");
        };
        assert!(
            caps.measure.len(&text) <= caps.max_text,
            "a piece of {} exceeds the limit {}: {text:?}",
            caps.measure.len(&text),
            caps.max_text
        );
        pieces += 1;
        got.extend(numbered_words(&text));
    }
    assert_eq!(got, expected, "words lost or reordered");
    if caps.measure.len(&reply_text) > caps.max_text {
        assert!(pieces > 1, "a reply over the limit must come in pieces");
    }

    // Dedupe: a redelivered message carries the same id.
    if peer.redeliver_last().await {
        tokio::time::timeout(STEP, async {
            while sink.duplicates() == 0 {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await
        .expect("a redelivered message was not recognised as a duplicate");
    }

    // Reconnect: the server restarts; the adapter comes back on its own.
    if peer.restart_server().await {
        wait_up(&health, 1).await;
        peer.send_direct("after the restart").await;
        let after = sink.wait_for(seen + 1).await;
        assert!(after[seen].text.contains("after the restart"), "{after:?}");
    }
    shutdown.cancel();
}
