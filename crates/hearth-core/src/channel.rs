//! A chat channel: the contract every platform adapter fulfils.
//!
//! An adapter is started once with a [`ChannelContext`] and runs its
//! connection until the context's shutdown token fires: it normalizes what
//! arrives into [`InboundMessage`]s and hands them to the context's
//! [`InboundSink`], which records them durably before it returns (only then
//! may the platform be acknowledged). Replies come back through
//! [`Channel::send`], called by the outbox with an idempotency key.
//!
//! The design keeps adapters small: access policy, pairing, session keys,
//! markup rendering and chunking live in the shared framework
//! (`hearth-channels`), and the adapter states what its platform can do in
//! [`Capabilities`].

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::{Conversation, InboundMessage, Origin, OutboundMessage, now_ms};

#[derive(Debug, thiserror::Error)]
pub enum ChannelError {
    /// Worth retrying later (network, 5xx, rate limit).
    #[error("temporary delivery failure: {message}")]
    Transient {
        message: String,
        retry_after: Option<Duration>,
    },
    /// Retrying cannot help (target gone, message rejected, bad
    /// credentials); the outbox records it as failed, a connection loop
    /// stops reconnecting.
    #[error("permanent failure: {0}")]
    Permanent(String),
}

impl ChannelError {
    pub fn transient(message: impl Into<String>) -> Self {
        Self::Transient {
            message: message.into(),
            retry_after: None,
        }
    }
}

/// How a platform counts the length of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Measure {
    /// Unicode scalar values (Discord, Slack, Matrix).
    Chars,
    /// UTF-16 code units (Telegram counts these).
    Utf16,
    /// UTF-8 bytes (IRC lines, MQTT payload limits).
    Bytes,
}

impl Measure {
    pub fn len(self, text: &str) -> usize {
        match self {
            Measure::Chars => text.chars().count(),
            Measure::Utf16 => text.encode_utf16().count(),
            Measure::Bytes => text.len(),
        }
    }
}

/// A platform's markup flavour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Markup {
    /// Markdown as written (platforms that render it, e.g. Discord).
    Markdown,
    /// No formatting: markers dropped, links as "text (url)".
    Plain,
    /// Telegram's HTML parse mode: b, i, s, code, pre, a, blockquote.
    TelegramHtml,
    /// Matrix's `org.matrix.custom.html` (the `formatted_body`).
    MatrixHtml,
    /// mIRC control codes: bold, italic, strikethrough, monospace.
    Irc,
}

/// What a platform can take and do. The framework renders and chunks a
/// reply from these, so an adapter's `send` receives text that fits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Capabilities {
    /// Longest message the platform accepts, as `measure` counts; a longer
    /// reply is sent as several messages.
    pub max_text: usize,
    pub measure: Measure,
    pub markup: Markup,
    /// A sent message can be edited (streaming previews).
    pub edits: bool,
    /// A "typing…" indicator can be shown while a turn runs.
    pub typing: bool,
    /// Replies can go into a thread.
    pub threads: bool,
    pub reactions: bool,
    /// Files can be received.
    pub attachments: bool,
}

impl Default for Capabilities {
    fn default() -> Self {
        Self {
            max_text: 4000,
            measure: Measure::Chars,
            markup: Markup::Plain,
            edits: false,
            typing: false,
            threads: false,
            reactions: false,
            attachments: false,
        }
    }
}

/// Where a channel's connection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HealthState {
    /// Connecting for the first time.
    Starting,
    /// Connected and receiving.
    Up,
    /// Lost its connection; waiting to reconnect.
    Reconnecting,
    /// Gave up (bad credentials, refused config); needs the operator.
    Failed,
    /// Shut down.
    Stopped,
}

/// A channel's health as `hearth channels status` and `/metrics` show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChannelHealth {
    pub state: HealthState,
    /// Why it is not up (the last error), if it is not.
    pub detail: Option<String>,
    pub since_ms: i64,
    /// Connections lost since the daemon started.
    pub reconnects: u64,
    pub last_inbound_ms: Option<i64>,
    pub last_outbound_ms: Option<i64>,
}

/// The shared, updatable health of one channel. The adapter reports state
/// changes; the host reads it. A std mutex: every critical section is a
/// field copy, never held across an await.
#[derive(Debug, Clone)]
pub struct HealthCell(Arc<Mutex<ChannelHealth>>);

impl Default for HealthCell {
    fn default() -> Self {
        Self(Arc::new(Mutex::new(ChannelHealth {
            state: HealthState::Starting,
            detail: None,
            since_ms: now_ms(),
            reconnects: 0,
            last_inbound_ms: None,
            last_outbound_ms: None,
        })))
    }
}

impl HealthCell {
    pub fn get(&self) -> ChannelHealth {
        self.lock().clone()
    }

    /// Moves to `state`; leaving `Up` for `Reconnecting` counts a reconnect.
    pub fn set(&self, state: HealthState, detail: Option<String>) {
        let mut health = self.lock();
        if health.state == HealthState::Up && state == HealthState::Reconnecting {
            health.reconnects += 1;
        }
        if health.state != state {
            health.since_ms = now_ms();
        }
        health.state = state;
        health.detail = detail;
    }

    pub fn inbound(&self) {
        self.lock().last_inbound_ms = Some(now_ms());
    }

    pub fn outbound(&self) {
        self.lock().last_outbound_ms = Some(now_ms());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ChannelHealth> {
        // A panic while holding this lock cannot leave a half-written
        // struct that matters: take the data anyway.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// What became of an inbound message handed to the sink.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// Recorded durably; a reply will follow.
    Accepted,
    /// This platform message id was recorded before (a redelivery).
    Duplicate,
    /// Not for the assistant (group message without a mention, disabled
    /// DMs, sender not allowed). Acknowledge it and move on.
    Ignored(&'static str),
    /// An unknown sender got (or already has) a pairing code.
    PairingPending,
}

/// Why the sink could not take a message. The adapter should not
/// acknowledge it, so the platform redelivers, where it can.
#[derive(Debug, Clone, thiserror::Error)]
pub enum InboundError {
    /// Full or starting; try again shortly.
    #[error("busy: {0}")]
    Busy(String),
    /// The message can never be accepted (malformed); acknowledge and drop.
    #[error("rejected: {0}")]
    Rejected(String),
    /// The daemon is stopping.
    #[error("shutting down")]
    ShuttingDown,
}

/// A message as an adapter normalized it, before routing: the framework
/// applies access policy and picks the agent and session from its origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformMessage {
    /// The channel's configured name.
    pub channel: String,
    pub text: String,
    pub origin: Origin,
    pub received_at_ms: i64,
}

/// Where adapters hand normalized messages. `submit` returns only after
/// the message is durably recorded (or decided against), so the adapter
/// may acknowledge it to the platform once it returns `Ok`.
#[async_trait]
pub trait InboundSink: Send + Sync + 'static {
    async fn submit(&self, message: PlatformMessage) -> Result<Admission, InboundError>;
}

/// The pipeline's entry for routed messages (the agent runtime): records
/// a message durably and queues its run.
#[async_trait]
pub trait Pipeline: Send + Sync + 'static {
    async fn submit(&self, message: InboundMessage) -> Result<Admission, InboundError>;
}

/// What a channel is started with.
#[derive(Clone)]
pub struct ChannelContext {
    pub inbound: Arc<dyn InboundSink>,
    /// Cancelled on shutdown: `start` must return soon after.
    pub shutdown: CancellationToken,
    pub health: HealthCell,
}

impl std::fmt::Debug for ChannelContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChannelContext")
            .field("shutdown", &self.shutdown.is_cancelled())
            .field("health", &self.health)
            .finish()
    }
}

/// One chat platform account. Implementations must pass
/// `OutboundMessage::idempotency_key` to the platform where it has such a
/// notion, since the outbox retries after a crash between send and commit.
#[async_trait]
pub trait Channel: Send + Sync + 'static {
    /// The name inbound messages carry in `InboundMessage::channel`.
    fn name(&self) -> &str;

    /// What the platform can take; replies reaching `send` already fit.
    fn capabilities(&self) -> Capabilities {
        Capabilities::default()
    }

    /// Runs one connection: connects, reports `Up` through
    /// `context.health`, feeds `context.inbound` until the connection drops
    /// (`Err(Transient)`: the host reconnects with backoff) or
    /// `context.shutdown` is cancelled (`Ok`). `Err(Permanent)` when
    /// retrying cannot help (bad credentials). Channels with nothing to
    /// receive return `Ok` at once.
    async fn start(&self, context: ChannelContext) -> Result<(), ChannelError> {
        let _ = context;
        Ok(())
    }

    async fn send(&self, message: &OutboundMessage) -> Result<(), ChannelError>;

    /// Shows a "typing…" indicator in `to`, where the platform has one.
    async fn typing(&self, to: &Conversation) -> Result<(), ChannelError> {
        let _ = to;
        Ok(())
    }

    /// Whether [`Channel::preview`] shows anything: the platform edits
    /// messages and the operator turned streaming previews on.
    fn previews(&self) -> bool {
        false
    }

    /// Shows `text`, the answer of run `run_id` so far, in `to` as one
    /// provisional message that later calls edit. The reply (`send` with
    /// idempotency key `run_id`) then replaces it, so the conversation ends
    /// with the reply once. Called about once a second per run at most.
    async fn preview(
        &self,
        to: &Conversation,
        run_id: &str,
        text: &str,
    ) -> Result<(), ChannelError> {
        let _ = (to, run_id, text);
        Ok(())
    }

    /// True for channels whose clients read replies from the store (the
    /// gateway's own WebSocket and HTTP clients): committing the reply *is*
    /// delivering it, so no separate send or outbox round trip is needed.
    fn delivers_on_commit(&self) -> bool {
        false
    }
}

/// An HTTP request to a channel's webhook (`POST /hooks/<channel>` on the
/// gateway's port), as the gateway received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookRequest {
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl WebhookRequest {
    /// The first header called `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The answer to a webhook request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookResponse {
    pub status: u16,
    /// A JSON body.
    pub body: serde_json::Value,
}

/// A channel that receives over HTTP (a generic webhook, Telegram's
/// webhook mode). The gateway routes `POST /hooks/<channel>` here without
/// its own authentication: the handler verifies the platform's signature
/// or secret itself.
#[async_trait]
pub trait WebhookHandler: Send + Sync + 'static {
    async fn handle(&self, request: WebhookRequest) -> WebhookResponse;
}
