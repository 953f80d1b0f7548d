//! Reply delivery through the outbox. A reply is committed to the outbox
//! with its idempotency key before it is sent; it is sent inline right after
//! its turn, and a sweep retries what failed (and what a crash left behind)
//! with growing pauses until it is delivered or permanently refused.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hearth_core::{Channel, ChannelError, OutboundMessage};

use crate::runtime::Inner;

/// Attempts before a reply that keeps failing transiently is given up on
/// (about a day at the maximum pause).
pub const MAX_DELIVERY_ATTEMPTS: u32 = 50;
/// Sweep interval while everything is delivered: only a safety net, since
/// failures wake the sweep at once.
const IDLE_SWEEP: Duration = Duration::from_secs(30);
/// First and longest pause between sweeps while deliveries keep failing.
const MIN_RETRY_PAUSE: Duration = Duration::from_millis(500);
const MAX_RETRY_PAUSE: Duration = Duration::from_secs(30 * 60);
/// Outbox rows looked at per sweep; the rest wait for the next one.
const SWEEP_BATCH: usize = 256;

/// The channels replies can go to, by name.
#[derive(Clone, Default)]
pub struct Channels {
    by_name: HashMap<String, Arc<dyn Channel>>,
}

impl std::fmt::Debug for Channels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.by_name.keys()).finish()
    }
}

impl Channels {
    pub fn with(mut self, channel: Arc<dyn Channel>) -> Self {
        self.by_name.insert(channel.name().to_owned(), channel);
        self
    }

    pub fn get(&self, name: &str) -> Option<&Arc<dyn Channel>> {
        self.by_name.get(name)
    }
}

/// The channel of clients connected to the gateway (WebSocket, HTTP): they
/// receive replies as run events and read them from the store, so delivery
/// only records that the reply is available.
#[derive(Debug)]
pub struct LocalChannel(pub &'static str);

#[async_trait]
impl Channel for LocalChannel {
    fn name(&self) -> &str {
        self.0
    }

    async fn send(&self, _message: &OutboundMessage) -> Result<(), ChannelError> {
        Ok(())
    }

    fn delivers_on_commit(&self) -> bool {
        true
    }
}

/// Sends one reply and records the result. Returns whether it was delivered.
pub(crate) async fn deliver(inner: &Inner, outbox_id: i64, reply: &OutboundMessage) -> bool {
    let result = match inner.channels.get(&reply.channel) {
        Some(channel) => channel.send(reply).await,
        None => Err(ChannelError::Permanent(format!(
            "no channel named {:?} is configured",
            reply.channel
        ))),
    };
    let recorded = match &result {
        Ok(()) => inner.store.outbox_delivered(outbox_id).await,
        Err(error) => {
            inner.metrics.deliveries_failed.inc();
            tracing::warn!(outbox_id, channel = %reply.channel, %error, "reply delivery failed");
            let give_up = matches!(error, ChannelError::Permanent(_));
            let recorded = inner
                .store
                .outbox_attempt_failed(outbox_id, &error.to_string(), give_up)
                .await;
            if !give_up {
                inner.outbox_wakeup.notify_one();
            }
            recorded
        }
    };
    if let Err(error) = recorded {
        inner.metrics.error("store");
        tracing::error!(outbox_id, %error, "could not record delivery result");
    }
    result.is_ok()
}

/// One pass over the pending outbox. Returns whether anything is left.
pub(crate) async fn sweep_once(inner: &Inner) -> bool {
    let pending = match inner.store.pending_outbox(SWEEP_BATCH).await {
        Ok(pending) => pending,
        Err(error) => {
            tracing::error!(%error, "cannot read the outbox");
            return true;
        }
    };
    let mut left = false;
    for item in pending {
        if !inner
            .delivering
            .lock()
            .insert(item.message.idempotency_key.clone())
        {
            continue; // being delivered inline right now
        }
        if item.attempts + 1 >= MAX_DELIVERY_ATTEMPTS {
            let _ = inner
                .store
                .outbox_attempt_failed(item.id, "too many failed attempts", true)
                .await;
        } else if !deliver(inner, item.id, &item.message).await {
            left = true;
        }
        inner
            .delivering
            .lock()
            .remove(&item.message.idempotency_key);
    }
    left
}

/// Retries failed deliveries until shutdown, backing off while they fail.
pub(crate) async fn retry_loop(inner: Arc<Inner>) {
    let mut pause = IDLE_SWEEP;
    loop {
        tokio::select! {
            _ = inner.stopping.cancelled() => return,
            _ = inner.outbox_wakeup.notified() => {
                // A fresh failure: retry soon, not at once, to let the far
                // end recover.
                pause = pause.min(MIN_RETRY_PAUSE);
                tokio::select! {
                    _ = inner.stopping.cancelled() => return,
                    _ = tokio::time::sleep(pause) => {}
                }
            }
            _ = tokio::time::sleep(pause) => {}
        }
        pause = if sweep_once(&inner).await {
            (pause * 2).clamp(MIN_RETRY_PAUSE, MAX_RETRY_PAUSE)
        } else {
            IDLE_SWEEP
        };
    }
}
