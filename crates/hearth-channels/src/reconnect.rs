//! Keeping a platform connection alive: jittered exponential backoff
//! between reconnects, and a liveness watchdog that notices a connection
//! gone silent (a half-open TCP socket never errors; it just stops).

use std::sync::Mutex;
use std::time::Duration;

use rand::Rng;
use tokio::time::Instant;

/// Delays between reconnect attempts: doubling from `base` up to `max`,
/// each drawn at random from the upper half of its step ("equal
/// jitter"), so many adapters dropped by one outage do not all reconnect
/// in the same instant, yet every wait still grows.
#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    max: Duration,
    attempt: u32,
}

impl Backoff {
    pub fn new(base: Duration, max: Duration) -> Self {
        Self {
            base,
            max: max.max(base),
            attempt: 0,
        }
    }

    /// The next delay; each call is one more failed attempt.
    pub fn next_delay(&mut self) -> Duration {
        let step = self.step();
        self.attempt = self.attempt.saturating_add(1);
        let half = step / 2;
        half + rand::rng().random_range(Duration::ZERO..=step - half)
    }

    /// The ceiling of the next delay.
    pub fn step(&self) -> Duration {
        // 2^attempt, capped before it can overflow.
        let factor = 1u32 << self.attempt.min(20);
        self.base.saturating_mul(factor).min(self.max)
    }

    /// A connection that stayed up starts over from `base`.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

/// Tracks the last sign of life of a connection. The reader touches it on
/// every frame (a ping answered counts); the supervisor waits on
/// [`Liveness::silent`] and restarts the connection when it resolves.
#[derive(Debug)]
pub struct Liveness {
    timeout: Duration,
    last: Mutex<Instant>,
}

impl Liveness {
    pub fn new(timeout: Duration) -> Self {
        Self {
            timeout,
            last: Mutex::new(Instant::now()),
        }
    }

    pub fn touch(&self) {
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
    }

    /// Resolves once nothing has touched this for `timeout`.
    pub async fn silent(&self) {
        loop {
            let last = *self.last.lock().unwrap_or_else(|e| e.into_inner());
            let deadline = last + self.timeout;
            if Instant::now() >= deadline {
                return;
            }
            tokio::time::sleep_until(deadline).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_up_to_the_cap_with_jitter_in_the_upper_half() {
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(5));
        let mut ceilings = Vec::new();
        for _ in 0..10 {
            let ceiling = backoff.step();
            let delay = backoff.next_delay();
            assert!(
                delay <= ceiling && delay >= ceiling / 2,
                "{delay:?} vs {ceiling:?}"
            );
            ceilings.push(ceiling.as_millis());
        }
        assert_eq!(
            ceilings,
            [100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000, 5000]
        );
        backoff.reset();
        assert_eq!(backoff.step(), Duration::from_millis(100));
    }

    #[test]
    fn jitter_spreads_the_delays() {
        let mut delays = std::collections::HashSet::new();
        for _ in 0..20 {
            let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(60));
            delays.insert(backoff.next_delay());
        }
        assert!(delays.len() > 10, "{} distinct of 20", delays.len());
    }

    #[test]
    fn many_failures_neither_overflow_nor_pass_the_cap() {
        let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(30));
        for _ in 0..1000 {
            assert!(backoff.next_delay() <= Duration::from_secs(30));
        }
    }

    #[tokio::test(start_paused = true)]
    async fn liveness_fires_after_the_timeout_of_silence_only() {
        let liveness = std::sync::Arc::new(Liveness::new(Duration::from_secs(30)));
        let started = Instant::now();
        let toucher = {
            let liveness = liveness.clone();
            tokio::spawn(async move {
                // Activity every 10 s for a minute, then nothing.
                for _ in 0..6 {
                    tokio::time::sleep(Duration::from_secs(10)).await;
                    liveness.touch();
                }
            })
        };
        liveness.silent().await;
        let waited = started.elapsed();
        assert_eq!(
            waited,
            Duration::from_secs(90),
            "last touch at 60 s, plus 30 s"
        );
        toucher.await.unwrap();
    }
}
