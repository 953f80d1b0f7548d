//! A [`Channel`] that records what it delivered and fails on demand, to
//! test the outbox's retries and idempotency.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};

use async_trait::async_trait;
use hearth_core::{Channel, ChannelError, OutboundMessage};
use parking_lot::Mutex;

#[derive(Debug)]
pub struct RecordingChannel {
    name: String,
    /// Calls still to fail transiently before succeeding.
    fail_next: AtomicU32,
    /// Successful sends per idempotency key.
    delivered: Mutex<HashMap<String, u32>>,
    /// Every message sent successfully, in order.
    sent: Mutex<Vec<OutboundMessage>>,
    attempts: AtomicU32,
}

impl RecordingChannel {
    pub fn new(name: &str) -> Self {
        Self {
            name: name.into(),
            fail_next: AtomicU32::new(0),
            delivered: Mutex::default(),
            sent: Mutex::default(),
            attempts: AtomicU32::new(0),
        }
    }

    /// Makes the next `n` sends fail transiently.
    pub fn fail_next(&self, n: u32) {
        self.fail_next.store(n, Ordering::SeqCst);
    }

    pub fn delivered(&self) -> HashMap<String, u32> {
        self.delivered.lock().clone()
    }

    /// The messages sent successfully, in order (where they were addressed).
    pub fn sent(&self) -> Vec<OutboundMessage> {
        self.sent.lock().clone()
    }

    pub fn attempts(&self) -> u32 {
        self.attempts.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl Channel for RecordingChannel {
    fn name(&self) -> &str {
        &self.name
    }

    async fn send(&self, message: &OutboundMessage) -> Result<(), ChannelError> {
        self.attempts.fetch_add(1, Ordering::SeqCst);
        let failing = self
            .fail_next
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if failing {
            return Err(ChannelError::Transient {
                message: "simulated outage".into(),
                retry_after: None,
            });
        }
        *self
            .delivered
            .lock()
            .entry(message.idempotency_key.clone())
            .or_default() += 1;
        self.sent.lock().push(message.clone());
        Ok(())
    }
}
