//! The webhook channel: verifies and normalizes signed POSTs that the
//! gateway routes to it, answers in the same response or by a signed
//! callback.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use hearth_core::{
    Admission, Capabilities, Channel, ChannelContext, ChannelError, Conversation, HealthState,
    InboundError, Markup, Measure, Origin, OutboundMessage, PlatformMessage, Sender,
    WebhookHandler, WebhookRequest, WebhookResponse, now_ms,
};
use rand::Rng;
use serde_json::json;
use tokio::sync::oneshot;

use super::config::WebhookConfig;
use super::wire::{Inbound, Reply, sign, verify};
use crate::deliver::{Progress, prepare};

/// Requests waiting for their reply at once; more are answered 503, so
/// held connections stay bounded.
const MAX_WAITING: usize = 1024;
/// How long a pairing prompt may take to come back through `send`.
const PROMPT_WAIT: Duration = Duration::from_millis(500);
const CALLBACK_TIMEOUT: Duration = Duration::from_secs(15);

/// Where one waiting request's reply goes: (conversation id, message id).
type WaitKey = (String, String);

/// A generic signed webhook.
pub struct WebhookChannel {
    name: String,
    config: WebhookConfig,
    /// Set while started. A parking_lot mutex: clone-out only.
    context: parking_lot::Mutex<Option<ChannelContext>>,
    waiting: parking_lot::Mutex<HashMap<WaitKey, oneshot::Sender<Vec<String>>>>,
    http: reqwest::Client,
    progress: Progress,
}

impl std::fmt::Debug for WebhookChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookChannel")
            .field("name", &self.name)
            .finish()
    }
}

fn answer(status: u16, body: serde_json::Value) -> WebhookResponse {
    WebhookResponse { status, body }
}

impl WebhookChannel {
    pub fn new(name: impl Into<String>, config: WebhookConfig) -> Self {
        Self {
            name: name.into(),
            config,
            context: parking_lot::Mutex::default(),
            waiting: parking_lot::Mutex::default(),
            http: reqwest::Client::builder()
                .timeout(CALLBACK_TIMEOUT)
                .build()
                .unwrap_or_default(),
            progress: Progress::default(),
        }
    }

    /// Checks the timestamp's age and the signature.
    fn authentic(&self, request: &WebhookRequest) -> Result<(), &'static str> {
        let timestamp = request
            .header("x-hearth-timestamp")
            .ok_or("missing X-Hearth-Timestamp")?;
        let signature = request
            .header("x-hearth-signature")
            .ok_or("missing X-Hearth-Signature")?;
        let sent: i64 = timestamp.parse().map_err(|_| "bad X-Hearth-Timestamp")?;
        let skew = (now_ms() / 1000 - sent).unsigned_abs();
        if skew > self.config.max_skew_secs {
            return Err("X-Hearth-Timestamp too far from now");
        }
        if !verify(&self.config.secret, timestamp, &request.body, signature) {
            return Err("bad signature");
        }
        Ok(())
    }

    fn normalize(&self, inbound: Inbound) -> Result<PlatformMessage, &'static str> {
        if inbound.sender.trim().is_empty() || inbound.sender.len() > 200 {
            return Err("sender must be 1 to 200 characters");
        }
        if inbound.text.trim().is_empty() {
            return Err("text is empty");
        }
        let conversation = match inbound.group {
            Some(group) if !group.is_empty() => Conversation::group(group),
            _ => Conversation::direct(&inbound.sender),
        };
        let mentioned = !conversation.is_group() || inbound.mention;
        let id = inbound
            .id
            .filter(|id| !id.is_empty() && id.len() <= 200)
            .unwrap_or_else(|| {
                let bits: u128 = rand::rng().random();
                format!("gen-{bits:032x}")
            });
        Ok(PlatformMessage {
            channel: self.name.clone(),
            text: inbound.text,
            origin: Origin {
                conversation,
                sender: Sender {
                    id: inbound.sender,
                    name: inbound.sender_name,
                },
                message_id: Some(id),
                reply_to: None,
                mentioned,
                attachments: Vec::new(),
            },
            received_at_ms: now_ms(),
        })
    }

    async fn callback(
        &self,
        url: &str,
        body: Vec<u8>,
        idempotency: &str,
    ) -> Result<(), ChannelError> {
        let timestamp = (now_ms() / 1000).to_string();
        let response = self
            .http
            .post(url)
            .header("content-type", "application/json")
            .header("x-hearth-timestamp", &timestamp)
            .header(
                "x-hearth-signature",
                sign(&self.config.secret, &timestamp, &body),
            )
            .header("idempotency-key", idempotency)
            .body(body)
            .send()
            .await
            .map_err(|e| ChannelError::transient(format!("callback: {e}")))?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else if status.is_server_error() || status.as_u16() == 429 {
            Err(ChannelError::transient(format!(
                "callback answered {status}"
            )))
        } else {
            Err(ChannelError::Permanent(format!(
                "callback answered {status}"
            )))
        }
    }

    fn forget(&self, key: &WaitKey) {
        self.waiting.lock().remove(key);
    }
}

#[async_trait]
impl WebhookHandler for WebhookChannel {
    async fn handle(&self, request: WebhookRequest) -> WebhookResponse {
        if let Err(reason) = self.authentic(&request) {
            tracing::warn!(channel = %self.name, reason, "webhook request refused");
            return answer(401, json!({ "error": reason }));
        }
        let inbound: Inbound = match serde_json::from_slice(&request.body) {
            Ok(inbound) => inbound,
            Err(e) => return answer(400, json!({ "error": format!("invalid body: {e}") })),
        };
        let message = match self.normalize(inbound) {
            Ok(message) => message,
            Err(reason) => return answer(400, json!({ "error": reason })),
        };
        let Some(context) = self.context.lock().clone() else {
            return answer(503, json!({ "error": "the channel is not running" }));
        };
        context.health.inbound();
        let id = message.origin.message_id.clone().unwrap_or_default();
        let key = (message.origin.conversation.id.clone(), id.clone());
        // Sync mode: wait for the reply in this response. The waiter goes
        // in before the submit: the reply can come back first.
        let replies = if self.config.callback_url.is_none() {
            let mut waiting = self.waiting.lock();
            if waiting.len() >= MAX_WAITING {
                return answer(503, json!({ "error": "too many requests waiting" }));
            }
            let (tx, rx) = oneshot::channel();
            waiting.insert(key.clone(), tx);
            Some(rx)
        } else {
            None
        };
        let admission = context.inbound.submit(message).await;
        let outcome = match admission {
            Ok(Admission::Accepted) => "accepted",
            Ok(Admission::Duplicate) => {
                // Answered before (the reply went to the first request).
                self.forget(&key);
                return answer(200, json!({ "status": "duplicate", "id": id }));
            }
            Ok(Admission::PairingPending) => "pairing",
            Ok(Admission::Ignored(reason)) => {
                self.forget(&key);
                return answer(
                    200,
                    json!({ "status": "ignored", "reason": reason, "id": id }),
                );
            }
            Err(error) => {
                self.forget(&key);
                let status = match error {
                    InboundError::Rejected(_) => 400,
                    InboundError::Busy(_) | InboundError::ShuttingDown => 503,
                };
                return answer(status, json!({ "error": error.to_string() }));
            }
        };
        let Some(rx) = replies else {
            return answer(202, json!({ "status": outcome, "id": id }));
        };
        let wait = if outcome == "pairing" {
            PROMPT_WAIT
        } else {
            Duration::from_secs(self.config.reply_timeout_secs)
        };
        let result = tokio::time::timeout(wait, rx).await;
        self.forget(&key);
        match result {
            Ok(Ok(replies)) => answer(
                200,
                json!({ "status": outcome, "id": id, "replies": replies }),
            ),
            _ => answer(202, json!({ "status": outcome, "id": id })),
        }
    }
}

#[async_trait]
impl Channel for WebhookChannel {
    fn name(&self) -> &str {
        &self.name
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            max_text: self.config.max_text,
            measure: Measure::Chars,
            markup: Markup::Markdown,
            ..Capabilities::default()
        }
    }

    async fn start(&self, context: ChannelContext) -> Result<(), ChannelError> {
        *self.context.lock() = Some(context.clone());
        context.health.set(HealthState::Up, None);
        context.shutdown.cancelled().await;
        *self.context.lock() = None;
        Ok(())
    }

    async fn send(&self, message: &OutboundMessage) -> Result<(), ChannelError> {
        let Some(to) = &message.to else {
            return Err(ChannelError::Permanent(
                "the reply has no conversation".into(),
            ));
        };
        let pieces = prepare(&message.text, &self.capabilities());
        if let Some(reply_to) = &message.reply_to {
            let waiter = self
                .waiting
                .lock()
                .remove(&(to.id.clone(), reply_to.clone()));
            if let Some(waiter) = waiter
                && waiter.send(pieces.clone()).is_ok()
            {
                return Ok(());
            }
        }
        let Some(url) = &self.config.callback_url else {
            return Err(ChannelError::Permanent(
                "the request stopped waiting and no callback_url is configured; the reply stays in the transcript".into(),
            ));
        };
        let key = &message.idempotency_key;
        self.progress
            .resume(key, pieces.len(), |index| {
                let body = serde_json::to_vec(&Reply {
                    id: key,
                    in_reply_to: message.reply_to.as_deref(),
                    conversation: &to.id,
                    part: index + 1,
                    parts: pieces.len(),
                    text: &pieces[index],
                })
                .map_err(|e| ChannelError::Permanent(e.to_string()));
                let idempotency = format!("{key}:{}", index + 1);
                async move { self.callback(url, body?, &idempotency).await }
            })
            .await
    }
}
