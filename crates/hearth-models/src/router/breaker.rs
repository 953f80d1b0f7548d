//! A per-model circuit breaker: after a run of consecutive failures the
//! model is skipped for a cool-down, then one trial request decides whether
//! it is back.
//!
//! Why: a model that is down costs every turn its full timeout and retries
//! before the fallback is tried; skipping it while it is known to be down
//! makes the fallback immediate. Time is tokio's clock, so tests can pause
//! and advance it.

use parking_lot::Mutex;
use serde::Serialize;
use std::time::Duration;
use tokio::time::Instant;

/// What `hearth status` shows for a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    /// Requests flow.
    Closed,
    /// Skipped until the cool-down ends.
    Open,
    /// The cool-down ended: the next request is a trial.
    HalfOpen,
}

impl BreakerState {
    pub fn as_str(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half_open",
        }
    }
}

#[derive(Debug)]
enum State {
    Closed,
    Open {
        until: Instant,
    },
    /// `trial` is true while the one trial request is in flight.
    HalfOpen {
        trial: bool,
    },
}

#[derive(Debug)]
struct Inner {
    state: State,
    consecutive_failures: u32,
}

#[derive(Debug)]
pub(crate) struct Breaker {
    threshold: u32,
    cooldown: Duration,
    // A plain mutex: every critical section is a few field updates, never
    // held across an await.
    inner: Mutex<Inner>,
}

/// Leave to send one request. Resolve it with [`Permit::success`] or
/// [`Permit::failure`]; dropping it unresolved (the caller was cancelled)
/// frees a half-open trial slot without counting as either.
#[derive(Debug)]
pub(crate) struct Permit<'a> {
    breaker: &'a Breaker,
    trial: bool,
    resolved: bool,
}

impl Breaker {
    pub(crate) fn new(threshold: u32, cooldown: Duration) -> Self {
        Self {
            threshold: threshold.max(1),
            cooldown,
            inner: Mutex::new(Inner {
                state: State::Closed,
                consecutive_failures: 0,
            }),
        }
    }

    /// Asks to send a request; `None` while open, or while another request
    /// is the half-open trial.
    pub(crate) fn try_acquire(&self) -> Option<Permit<'_>> {
        let mut inner = self.inner.lock();
        let trial = match inner.state {
            State::Closed => false,
            State::Open { until } if Instant::now() >= until => {
                inner.state = State::HalfOpen { trial: true };
                true
            }
            State::Open { .. } | State::HalfOpen { trial: true } => return None,
            State::HalfOpen { trial: false } => {
                inner.state = State::HalfOpen { trial: true };
                true
            }
        };
        Some(Permit {
            breaker: self,
            trial,
            resolved: false,
        })
    }

    pub(crate) fn state(&self) -> BreakerState {
        match self.inner.lock().state {
            State::Closed => BreakerState::Closed,
            State::Open { until } if Instant::now() >= until => BreakerState::HalfOpen,
            State::Open { .. } => BreakerState::Open,
            State::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    pub(crate) fn consecutive_failures(&self) -> u32 {
        self.inner.lock().consecutive_failures
    }

    /// A failure reported after the permit was spent (an error in the
    /// middle of a stream).
    pub(crate) fn record_failure(&self) {
        let mut inner = self.inner.lock();
        inner.consecutive_failures = inner.consecutive_failures.saturating_add(1);
        let trip = matches!(inner.state, State::HalfOpen { .. })
            || inner.consecutive_failures >= self.threshold;
        if trip {
            if !matches!(inner.state, State::Open { .. }) {
                tracing::warn!(
                    failures = inner.consecutive_failures,
                    cooldown = ?self.cooldown,
                    "circuit breaker opened"
                );
            }
            inner.state = State::Open {
                until: Instant::now() + self.cooldown,
            };
        }
    }

    fn record_success(&self) {
        let mut inner = self.inner.lock();
        if !matches!(inner.state, State::Closed) {
            tracing::info!("circuit breaker closed");
        }
        inner.consecutive_failures = 0;
        inner.state = State::Closed;
    }
}

impl Permit<'_> {
    pub(crate) fn success(mut self) {
        self.resolved = true;
        self.breaker.record_success();
    }

    pub(crate) fn failure(mut self) {
        self.resolved = true;
        self.breaker.record_failure();
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if self.trial && !self.resolved {
            let mut inner = self.breaker.inner.lock();
            if let State::HalfOpen { trial } = &mut inner.state {
                *trial = false;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn opens_after_threshold_then_allows_one_trial() {
        let b = Breaker::new(3, Duration::from_secs(30));
        for _ in 0..2 {
            b.try_acquire().unwrap().failure();
        }
        assert_eq!(b.state(), BreakerState::Closed);
        b.try_acquire().unwrap().failure();
        assert_eq!(b.state(), BreakerState::Open);
        assert!(b.try_acquire().is_none());

        tokio::time::advance(Duration::from_secs(30)).await;
        assert_eq!(b.state(), BreakerState::HalfOpen);
        let trial = b.try_acquire().unwrap();
        assert!(b.try_acquire().is_none(), "only one trial at a time");
        trial.failure();
        assert_eq!(b.state(), BreakerState::Open, "a failed trial re-opens");

        tokio::time::advance(Duration::from_secs(30)).await;
        b.try_acquire().unwrap().success();
        assert_eq!(b.state(), BreakerState::Closed);
        assert_eq!(b.consecutive_failures(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_cancelled_trial_frees_the_slot() {
        let b = Breaker::new(1, Duration::from_secs(5));
        b.try_acquire().unwrap().failure();
        tokio::time::advance(Duration::from_secs(5)).await;
        drop(b.try_acquire().unwrap());
        assert!(b.try_acquire().is_some(), "the next caller may try");
    }

    #[tokio::test(start_paused = true)]
    async fn a_success_resets_the_count() {
        let b = Breaker::new(2, Duration::from_secs(5));
        b.try_acquire().unwrap().failure();
        b.try_acquire().unwrap().success();
        b.try_acquire().unwrap().failure();
        assert_eq!(b.state(), BreakerState::Closed);
    }
}
