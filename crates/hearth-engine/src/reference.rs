//! The benchmark's yardstick: the plainest decode loop over the same
//! bindings and weights — one context, every stream's token in one batch
//! per step, greedy picks, no scheduler, no channels, no text handling.

use crate::engine::Engine;
use crate::error::EngineError;
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::sampling::LlamaSampler;
use std::num::NonZeroU32;
use std::time::{Duration, Instant};

/// What one reference run measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReferenceRun {
    pub streams: usize,
    pub prompt_tokens: usize,
    /// Reading one stream's prompt.
    pub prompt_time: Duration,
    /// Tokens generated, all streams together.
    pub generated: usize,
    pub decode_time: Duration,
}

impl ReferenceRun {
    pub fn prompt_tokens_per_sec(&self) -> f64 {
        self.prompt_tokens as f64 / self.prompt_time.as_secs_f64().max(1e-9)
    }

    /// Aggregate decode rate over all streams.
    pub fn decode_tokens_per_sec(&self) -> f64 {
        self.generated as f64 / self.decode_time.as_secs_f64().max(1e-9)
    }
}

impl Engine {
    /// Decodes `n_predict` tokens after `prompt` in `streams` sequences at
    /// once, on the calling thread with its own context. Run it while the
    /// scheduler is idle: both would compete for the same cores.
    pub fn reference_decode(
        &self,
        prompt: &str,
        streams: usize,
        n_predict: usize,
    ) -> Result<ReferenceRun, EngineError> {
        let streams = streams.max(1);
        let tokens = self.tokenize(prompt);
        let per_stream = (tokens.len() + n_predict + 8) as u32;
        let threads = self.config.threads() as i32;
        let params = LlamaContextParams::default()
            .with_n_ctx(NonZeroU32::new(per_stream * streams as u32))
            .with_n_seq_max(streams as u32)
            .with_n_batch(tokens.len().max(streams) as u32)
            .with_n_ubatch(tokens.len().max(streams) as u32)
            .with_n_threads(threads)
            .with_n_threads_batch(threads)
            .with_kv_unified(false);
        let backend = crate::backend::backend()?;
        let mut context = self
            .model
            .new_context(backend, params)
            .map_err(|e| EngineError::Context(e.to_string()))?;
        let mut batch = LlamaBatch::new(tokens.len().max(streams), 1);
        let decode_error = |e: llama_cpp_2::DecodeError| EngineError::Context(e.to_string());

        // Prompts one stream at a time (the first is the timed one), each
        // sampled right after its own decode: only the last batch's logits
        // survive a decode.
        let mut prompt_time = Duration::ZERO;
        let mut samplers: Vec<LlamaSampler> =
            (0..streams).map(|_| LlamaSampler::greedy()).collect();
        let mut next = Vec::with_capacity(streams);
        for (seq, sampler) in samplers.iter_mut().enumerate() {
            batch.clear();
            for (pos, token) in tokens.iter().enumerate() {
                let _ = batch.add(*token, pos as i32, &[seq as i32], pos + 1 == tokens.len());
            }
            let started = Instant::now();
            context.decode(&mut batch).map_err(decode_error)?;
            if seq == 0 {
                prompt_time = started.elapsed();
            }
            next.push(sampler.sample(&context, batch.n_tokens() - 1));
        }
        let started = Instant::now();
        let mut generated = 0;
        for step in 0..n_predict {
            batch.clear();
            for (seq, token) in next.iter().enumerate() {
                let _ = batch.add(
                    *token,
                    tokens.len() as i32 + step as i32,
                    &[seq as i32],
                    true,
                );
            }
            context.decode(&mut batch).map_err(decode_error)?;
            generated += streams;
            for (seq, sampler) in samplers.iter_mut().enumerate() {
                next[seq] = sampler.sample(&context, seq as i32);
            }
        }
        Ok(ReferenceRun {
            streams,
            prompt_tokens: tokens.len(),
            prompt_time,
            generated,
            decode_time: started.elapsed(),
        })
    }
}
