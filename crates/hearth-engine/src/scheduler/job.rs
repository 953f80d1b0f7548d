//! What the provider side hands the scheduler (a [`Job`]) and what comes
//! back on the job's own channel ([`JobEvent`]).

use crate::sampling::Sampling;
use hearth_core::{FinishReason, ProviderError};
use llama_cpp_2::token::LlamaToken;
use tokio::sync::mpsc;

/// A grammar that constrains decoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grammar {
    /// GBNF text with a `root` rule.
    pub gbnf: String,
    /// `Some(word)`: free text until the model writes `word`, the grammar
    /// from there on. `None`: the grammar from the first token.
    pub trigger: Option<String>,
}

/// One answer to decode.
#[derive(Debug)]
pub struct Job {
    pub prompt: Vec<LlamaToken>,
    pub sampling: Sampling,
    pub max_tokens: u32,
    pub stop: Vec<String>,
    pub grammar: Option<Grammar>,
    /// Keep generating past end-of-generation tokens until `max_tokens`:
    /// for benchmarks that need a fixed answer length.
    pub ignore_eos: bool,
    /// Unbounded on purpose: the scheduler thread must never wait on a slow
    /// reader (that would stall every other session), and a job sends at
    /// most `max_tokens + 2` events, so the bound is the request's own.
    pub events: mpsc::UnboundedSender<JobEvent>,
}

/// Counts reported with the last event of a job.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JobUsage {
    pub prompt_tokens: u32,
    /// Prompt tokens found already in the slot's KV cache.
    pub cached_tokens: u32,
    pub output_tokens: u32,
}

#[derive(Debug)]
pub enum JobEvent {
    Text(String),
    Finished {
        reason: FinishReason,
        usage: JobUsage,
    },
    Failed(ProviderError),
}
