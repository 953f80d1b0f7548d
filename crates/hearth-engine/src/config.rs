//! Engine settings: which GGUF to load, how many threads and sessions, and
//! the sampling defaults a request may override.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// How one embedded model is loaded and scheduled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineConfig {
    /// The GGUF file. Not part of the `[models.<name>.engine]` table: the
    /// model's `model` field names it.
    #[serde(skip)]
    pub path: PathBuf,
    /// Threads for decoding. `None` picks [`default_threads`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threads: Option<usize>,
    /// Sessions decoded together; each owns a slot of the KV cache that
    /// keeps its prefix between turns.
    #[serde(default = "default_slots")]
    pub slots: usize,
    /// Tokens of context per slot (prompt plus answer).
    #[serde(default = "default_context")]
    pub context: u32,
    /// Most prompt tokens processed in one scheduler step. Smaller keeps
    /// other sessions' streams flowing while a long prompt is read; larger
    /// reads prompts a little faster.
    #[serde(default = "default_prefill_chunk")]
    pub prefill_chunk: usize,
    /// Requests waiting for a free slot before new ones are refused as
    /// overloaded.
    #[serde(default = "default_max_queue")]
    pub max_queue: usize,
    /// Answer length when the request names none.
    #[serde(default = "default_max_tokens")]
    pub max_tokens: u32,
    /// How the KV cache stores keys and values: `f16` (exact) or `q8_0`
    /// (half the memory per cached token, a negligible quality change).
    #[serde(default)]
    pub kv_cache: KvCache,
    #[serde(default)]
    pub sampling: SamplingDefaults,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KvCache {
    #[default]
    F16,
    Q8_0,
}

/// Sampling used when a request leaves a knob unset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SamplingDefaults {
    /// 0 means greedy (always the most likely token).
    pub temperature: f32,
    pub top_p: f32,
    /// 0 disables top-k.
    pub top_k: i32,
    pub min_p: f32,
    /// 1.0 disables the penalty.
    pub repeat_penalty: f32,
    /// How many recent tokens the repeat penalty looks at.
    pub repeat_last_n: i32,
    /// `None` draws a fresh seed per request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
}

impl Default for SamplingDefaults {
    fn default() -> Self {
        // llama.cpp's own defaults, except a milder repeat penalty: small
        // models loop without one.
        Self {
            temperature: 0.7,
            top_p: 0.95,
            top_k: 40,
            min_p: 0.05,
            repeat_penalty: 1.1,
            repeat_last_n: 64,
            seed: None,
        }
    }
}

impl EngineConfig {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            threads: None,
            slots: default_slots(),
            context: default_context(),
            prefill_chunk: default_prefill_chunk(),
            max_queue: default_max_queue(),
            max_tokens: default_max_tokens(),
            kv_cache: KvCache::default(),
            sampling: SamplingDefaults::default(),
        }
    }

    pub fn threads(&self) -> usize {
        self.threads.unwrap_or_else(default_threads)
    }

    /// Checks the numbers without touching the file.
    pub fn validate(&self) -> Result<(), String> {
        if self.slots == 0 || self.slots > 64 {
            return Err(format!("slots must be 1..=64, not {}", self.slots));
        }
        if self.context < 256 {
            return Err(format!(
                "context must be at least 256, not {}",
                self.context
            ));
        }
        if self.prefill_chunk == 0 {
            return Err("prefill_chunk must be at least 1".into());
        }
        if self.threads == Some(0) {
            return Err("threads must be at least 1".into());
        }
        if self.max_tokens == 0 {
            return Err("max_tokens must be at least 1".into());
        }
        let s = &self.sampling;
        if !(0.0..=5.0).contains(&s.temperature) {
            return Err(format!("temperature must be 0..=5, not {}", s.temperature));
        }
        if !(0.0..=1.0).contains(&s.top_p) || !(0.0..=1.0).contains(&s.min_p) {
            return Err("top_p and min_p must be within 0..=1".into());
        }
        if s.repeat_penalty <= 0.0 {
            return Err("repeat_penalty must be above 0".into());
        }
        Ok(())
    }
}

/// All cores but one, at most 4. Decoding a small model is memory-bound:
/// past a few threads it stops scaling, and with every core busy a
/// neighbour process can stall each step (seen on 2 cores: 87 → 0.2 tok/s),
/// so one core is left for the gateway and the rest of the machine.
pub fn default_threads() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    cores.saturating_sub(1).clamp(1, 4)
}

fn default_slots() -> usize {
    4
}

/// 2048 tokens × 4 slots: the KV cache is allocated up front (about
/// 190 MB in f16 for SmolLM2-135M), so the default keeps the daemon near
/// 300 MB; raise it for models and machines that can use more.
fn default_context() -> u32 {
    2048
}

fn default_prefill_chunk() -> usize {
    256
}

fn default_max_queue() -> usize {
    64
}

fn default_max_tokens() -> u32 {
    512
}
