//! Counters the scheduler keeps for metrics, tests and the benchmark.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

#[derive(Debug, Default)]
pub struct Stats {
    /// Prompt tokens run through the model.
    pub prompt_tokens_processed: AtomicU64,
    /// Prompt tokens found in a slot's cache and not run again.
    pub prompt_tokens_reused: AtomicU64,
    pub tokens_generated: AtomicU64,
    pub decode_steps: AtomicU64,
    pub cancelled: AtomicU64,
    /// Jobs decoding now.
    pub active: AtomicUsize,
    /// Jobs waiting for a slot.
    pub waiting: AtomicUsize,
}

/// A copy of [`Stats`] at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    pub prompt_tokens_processed: u64,
    pub prompt_tokens_reused: u64,
    pub tokens_generated: u64,
    pub decode_steps: u64,
    pub cancelled: u64,
    pub active: usize,
    pub waiting: usize,
}

impl Stats {
    pub fn snapshot(&self) -> StatsSnapshot {
        StatsSnapshot {
            prompt_tokens_processed: self.prompt_tokens_processed.load(Ordering::Relaxed),
            prompt_tokens_reused: self.prompt_tokens_reused.load(Ordering::Relaxed),
            tokens_generated: self.tokens_generated.load(Ordering::Relaxed),
            decode_steps: self.decode_steps.load(Ordering::Relaxed),
            cancelled: self.cancelled.load(Ordering::Relaxed),
            active: self.active.load(Ordering::Relaxed),
            waiting: self.waiting.load(Ordering::Relaxed),
        }
    }
}
