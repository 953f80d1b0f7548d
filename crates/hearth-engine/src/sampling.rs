//! Per-request sampling: the request's knobs over the model's defaults,
//! turned into one llama.cpp sampler chain.

use crate::config::SamplingDefaults;
use hearth_core::ChatRequest;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::sampling::LlamaSampler;

/// Resolved sampling for one request.
#[derive(Debug, Clone, PartialEq)]
pub struct Sampling {
    pub temperature: f32,
    pub top_p: f32,
    pub top_k: i32,
    pub min_p: f32,
    pub repeat_penalty: f32,
    pub repeat_last_n: i32,
    pub seed: u32,
}

impl Sampling {
    pub fn resolve(defaults: &SamplingDefaults, request: &ChatRequest) -> Self {
        let seed = request.seed.or(defaults.seed).unwrap_or_else(rand_seed);
        Self {
            temperature: request.temperature.unwrap_or(defaults.temperature).max(0.0),
            top_p: request.top_p.unwrap_or(defaults.top_p).clamp(0.0, 1.0),
            top_k: defaults.top_k,
            min_p: defaults.min_p,
            repeat_penalty: defaults.repeat_penalty,
            repeat_last_n: defaults.repeat_last_n,
            // llama.cpp takes a 32-bit seed: fold the high half in so
            // distinct 64-bit seeds stay distinct in practice.
            seed: (seed ^ (seed >> 32)) as u32,
        }
    }

    /// Always the most likely token, no penalties: what tests and the
    /// benchmark's reference loop use.
    pub fn greedy() -> Self {
        Self {
            temperature: 0.0,
            top_p: 1.0,
            top_k: 0,
            min_p: 0.0,
            repeat_penalty: 1.0,
            repeat_last_n: 0,
            seed: 0,
        }
    }

    /// The chain, in llama.cpp's usual order: constraints first (grammar,
    /// penalties), then truncation (top-k, top-p, min-p), then temperature
    /// and the draw. Temperature 0 ends in a greedy pick instead of a draw.
    pub fn sampler(&self, model: &LlamaModel, grammar: Option<LlamaSampler>) -> LlamaSampler {
        let mut chain = Vec::with_capacity(7);
        chain.extend(grammar);
        if self.repeat_penalty != 1.0 && self.repeat_last_n != 0 {
            chain.push(LlamaSampler::penalties(
                model.n_vocab(),
                self.repeat_last_n,
                self.repeat_penalty,
                0.0,
                0.0,
            ));
        }
        if self.temperature <= 0.0 {
            chain.push(LlamaSampler::greedy());
            return LlamaSampler::chain_simple(chain);
        }
        if self.top_k > 0 {
            chain.push(LlamaSampler::top_k(self.top_k));
        }
        if self.top_p < 1.0 {
            chain.push(LlamaSampler::top_p(self.top_p, 1));
        }
        if self.min_p > 0.0 {
            chain.push(LlamaSampler::min_p(self.min_p, 1));
        }
        chain.push(LlamaSampler::temp(self.temperature));
        chain.push(LlamaSampler::dist(self.seed));
        LlamaSampler::chain_simple(chain)
    }
}

fn rand_seed() -> u64 {
    // Good enough to vary answers between requests; not a secret.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    nanos ^ u64::from(std::process::id()).rotate_left(32)
}
