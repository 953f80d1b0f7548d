//! Rate limits: per sender on the way in (a flood from one account cannot
//! fill the queue), per platform on the way out (stay under the server's
//! flood protection, which would otherwise disconnect or ban the bot).

use std::collections::HashMap;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::time::Instant;

/// A token bucket: `burst` sends at once, then one per `interval`.
#[derive(Debug)]
pub struct TokenBucket {
    burst: f64,
    per_second: f64,
    // (tokens, last refill). A parking_lot mutex: held for arithmetic
    // only, never across an await.
    state: Mutex<(f64, Instant)>,
}

impl TokenBucket {
    pub fn new(burst: u32, interval: Duration) -> Self {
        let burst = f64::from(burst.max(1));
        Self {
            burst,
            per_second: 1.0 / interval.as_secs_f64().max(1e-6),
            state: Mutex::new((burst, Instant::now())),
        }
    }

    /// Takes a token if one is there; else how long until one is.
    fn try_take(&self) -> Result<(), Duration> {
        let mut state = self.state.lock();
        let now = Instant::now();
        let (tokens, last) = &mut *state;
        *tokens =
            (*tokens + now.duration_since(*last).as_secs_f64() * self.per_second).min(self.burst);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - *tokens) / self.per_second))
        }
    }

    /// Takes a token now, or false.
    pub fn allow(&self) -> bool {
        self.try_take().is_ok()
    }

    /// Waits for a token.
    pub async fn acquire(&self) {
        while let Err(wait) = self.try_take() {
            tokio::time::sleep(wait).await;
        }
    }
}

/// Senders tracked at most; past it the table is cleared (a burst of new
/// senders then gets fresh buckets, which errs on the side of answering).
const MAX_TRACKED_SENDERS: usize = 10_000;

/// One bucket per (channel, sender).
#[derive(Debug)]
pub struct SenderLimiter {
    burst: u32,
    interval: Duration,
    buckets: Mutex<HashMap<(String, String), TokenBucket>>,
}

impl Default for SenderLimiter {
    /// 10 messages at once, then one every 3 seconds (20 a minute).
    fn default() -> Self {
        Self::new(10, Duration::from_secs(3))
    }
}

impl SenderLimiter {
    pub fn new(burst: u32, interval: Duration) -> Self {
        Self {
            burst,
            interval,
            buckets: Mutex::default(),
        }
    }

    pub fn allow(&self, channel: &str, sender: &str) -> bool {
        let mut buckets = self.buckets.lock();
        if buckets.len() >= MAX_TRACKED_SENDERS {
            buckets.clear();
        }
        buckets
            .entry((channel.to_owned(), sender.to_owned()))
            .or_insert_with(|| TokenBucket::new(self.burst, self.interval))
            .allow()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_bucket_allows_a_burst_then_paces() {
        let bucket = TokenBucket::new(2, Duration::from_secs(1));
        assert!(bucket.allow());
        assert!(bucket.allow());
        assert!(!bucket.allow());
        let start = Instant::now();
        bucket.acquire().await;
        let waited = start.elapsed();
        assert!(waited >= Duration::from_millis(999), "{waited:?}");
        assert!(waited < Duration::from_millis(1100), "{waited:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn senders_are_limited_separately() {
        let limiter = SenderLimiter::new(1, Duration::from_secs(60));
        assert!(limiter.allow("irc", "a"));
        assert!(!limiter.allow("irc", "a"));
        assert!(limiter.allow("irc", "b"));
        assert!(limiter.allow("xmpp", "a"));
    }
}
