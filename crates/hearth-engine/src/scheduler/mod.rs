//! The scheduler: one thread owns the llama.cpp context and decodes every
//! active session's sequence together, one batch per step.
//!
//! Each step: take new jobs (between steps, never mid-batch), give waiting
//! jobs a free slot (reusing the slot's cached prefix), build one batch with
//! the next token of every generating slot plus a bounded chunk of pending
//! prompt tokens, decode it, then sample each slot whose logits came out.
//! A long prompt is read a chunk per step, so streams already generating
//! keep receiving a token every step.

pub mod job;
pub mod slot;
pub mod text;

use crate::stats::Stats;
use hearth_core::{ErrorKind, FinishReason, ProviderError};
use job::{Job, JobEvent, JobUsage};
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::sampling::LlamaSampler;
use slot::{Active, Slot};
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use text::TextAssembler;
use tokio::sync::mpsc::{self, error::TryRecvError};

/// Limits the scheduler works within.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Tokens one slot's sequence can hold.
    pub context_per_slot: usize,
    /// Prompt tokens per step, across all slots.
    pub prefill_chunk: usize,
    /// Jobs taken off the channel but not yet in a slot.
    pub max_waiting: usize,
}

pub struct Scheduler<'model> {
    model: &'model LlamaModel,
    context: LlamaContext<'model>,
    batch: LlamaBatch<'static>,
    slots: Vec<Slot>,
    waiting: VecDeque<Job>,
    jobs: mpsc::Receiver<Job>,
    limits: Limits,
    stats: Arc<Stats>,
    step: u64,
    /// Reused buffer for token pieces.
    piece: Vec<u8>,
}

impl std::fmt::Debug for Scheduler<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scheduler")
            .field("slots", &self.slots)
            .field("waiting", &self.waiting.len())
            .field("step", &self.step)
            .finish_non_exhaustive()
    }
}

impl<'model> Scheduler<'model> {
    pub fn new(
        model: &'model LlamaModel,
        context: LlamaContext<'model>,
        slots: usize,
        jobs: mpsc::Receiver<Job>,
        limits: Limits,
        stats: Arc<Stats>,
    ) -> Self {
        let batch_size = limits.prefill_chunk + slots;
        Self {
            model,
            context,
            batch: LlamaBatch::new(batch_size, 1),
            slots: (0..slots as i32).map(Slot::new).collect(),
            waiting: VecDeque::new(),
            jobs,
            limits,
            stats,
            step: 0,
            piece: Vec::with_capacity(32),
        }
    }

    /// Runs until the job channel is closed and every accepted job is done.
    pub fn run(mut self) {
        let mut open = true;
        loop {
            open = open && self.intake();
            self.drop_cancelled();
            self.admit();
            let busy = self.slots.iter().any(|s| s.active.is_some());
            self.stats.active.store(
                self.slots.iter().filter(|s| s.active.is_some()).count(),
                Ordering::Relaxed,
            );
            self.stats
                .waiting
                .store(self.waiting.len(), Ordering::Relaxed);
            if !busy {
                if !open && self.waiting.is_empty() {
                    return;
                }
                continue;
            }
            self.step += 1;
            if self.fill_batch() {
                self.decode_and_sample();
            }
        }
    }

    /// Moves jobs from the channel into the waiting queue; blocks only when
    /// there is nothing else to do. Returns false once the channel closed.
    fn intake(&mut self) -> bool {
        let idle = self.waiting.is_empty() && self.slots.iter().all(|s| s.active.is_none());
        if idle {
            match self.jobs.blocking_recv() {
                Some(job) => self.waiting.push_back(job),
                None => return false,
            }
        }
        while self.waiting.len() < self.limits.max_waiting {
            match self.jobs.try_recv() {
                Ok(job) => self.waiting.push_back(job),
                Err(TryRecvError::Empty) => return true,
                Err(TryRecvError::Disconnected) => return false,
            }
        }
        true
    }

    /// A dropped stream frees its slot at once; the tokens it decoded stay
    /// cached (they are valid) for a retry of the same prompt.
    fn drop_cancelled(&mut self) {
        self.waiting.retain(|job| !job.events.is_closed());
        for slot in &mut self.slots {
            if slot.active.as_ref().is_some_and(|a| a.events.is_closed()) {
                slot.active = None;
                slot.last_used = self.step;
                self.stats.cancelled.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    fn admit(&mut self) {
        while let Some(job) = self.waiting.front() {
            let Some(index) = slot::pick(&self.slots, &job.prompt) else {
                return;
            };
            let Some(job) = self.waiting.pop_front() else {
                return;
            };
            self.start(index, job);
        }
    }

    fn start(&mut self, index: usize, job: Job) {
        let fail = |job: &Job, kind: ErrorKind, message: String| {
            let _ = job
                .events
                .send(JobEvent::Failed(ProviderError::new(kind, message)));
        };
        if job.prompt.is_empty() {
            return fail(
                &job,
                ErrorKind::InvalidRequest,
                "the prompt is empty".into(),
            );
        }
        if job.prompt.len() >= self.limits.context_per_slot {
            return fail(
                &job,
                ErrorKind::ContextLength,
                format!(
                    "the prompt has {} tokens; a session's context holds {}",
                    job.prompt.len(),
                    self.limits.context_per_slot
                ),
            );
        }
        let grammar = match &job.grammar {
            None => None,
            Some(grammar) => match build_grammar(self.model, grammar) {
                Ok(sampler) => Some(sampler),
                Err(message) => return fail(&job, ErrorKind::InvalidRequest, message),
            },
        };
        let slot = &mut self.slots[index];
        // Keep the cached prefix the prompt shares; at least the last prompt
        // token is decoded again, since its logits are what we sample from.
        let reuse = slot::common_prefix(&slot.cached, &job.prompt).min(job.prompt.len() - 1);
        if reuse < slot.cached.len() {
            let _ =
                self.context
                    .clear_kv_cache_seq(Some(slot.seq as u32), Some(reuse as u32), None);
            slot.cached.truncate(reuse);
        }
        self.stats
            .prompt_tokens_reused
            .fetch_add(reuse as u64, Ordering::Relaxed);
        slot.active = Some(Active {
            sampler: job.sampling.sampler(self.model, grammar),
            text: TextAssembler::new(job.stop),
            pending: job.prompt[reuse..].to_vec(),
            max_tokens: job.max_tokens,
            ignore_eos: job.ignore_eos,
            next: None,
            logits_at: None,
            usage: JobUsage {
                prompt_tokens: job.prompt.len() as u32,
                cached_tokens: reuse as u32,
                output_tokens: 0,
            },
            events: job.events,
        });
    }

    /// Puts every generating slot's next token and a chunk of pending
    /// prompt tokens into the batch. Returns false if it stayed empty.
    fn fill_batch(&mut self) -> bool {
        self.batch.clear();
        let mut index = 0i32;
        for slot in &mut self.slots {
            let Some(active) = slot.active.as_mut() else {
                continue;
            };
            active.logits_at = None;
            if let Some(token) = active.next.take() {
                let _ = self
                    .batch
                    .add(token, slot.cached.len() as i32, &[slot.seq], true);
                slot.cached.push(token);
                active.logits_at = Some(index);
                index += 1;
            }
        }
        let mut budget = self.limits.prefill_chunk;
        // Rotate which slot's prompt goes first so two long prompts share
        // the budget over steps instead of one starving the other.
        let n = self.slots.len();
        for offset in 0..n {
            if budget == 0 {
                break;
            }
            let slot = &mut self.slots[(self.step as usize + offset) % n];
            let Some(active) = slot.active.as_mut() else {
                continue;
            };
            if active.pending.is_empty() {
                continue;
            }
            let take = active.pending.len().min(budget);
            let finishes = take == active.pending.len();
            for (i, token) in active.pending.drain(..take).enumerate() {
                let last = finishes && i + 1 == take;
                let _ = self
                    .batch
                    .add(token, slot.cached.len() as i32, &[slot.seq], last);
                slot.cached.push(token);
                if last {
                    active.logits_at = Some(index);
                }
                index += 1;
            }
            budget -= take;
            self.stats
                .prompt_tokens_processed
                .fetch_add(take as u64, Ordering::Relaxed);
        }
        index > 0
    }

    fn decode_and_sample(&mut self) {
        if let Err(error) = self.context.decode(&mut self.batch) {
            tracing::error!(%error, "llama.cpp decode failed; failing the jobs in this batch");
            self.fail_batch(&error.to_string());
            return;
        }
        self.stats.decode_steps.fetch_add(1, Ordering::Relaxed);
        let vocab = self.model.vocab();
        for slot in &mut self.slots {
            let Some(active) = slot.active.as_mut() else {
                continue;
            };
            let Some(at) = active.logits_at else {
                continue;
            };
            let token = active.sampler.sample(&self.context, at);
            let mut finish = None;
            if vocab.is_eog(token) && !active.ignore_eos {
                finish = Some(FinishReason::Stop);
            } else {
                active.usage.output_tokens += 1;
                self.stats.tokens_generated.fetch_add(1, Ordering::Relaxed);
                self.piece.clear();
                vocab.token_to_piece_into(token, &mut self.piece, false, None);
                let pushed = active.text.push(&self.piece);
                if !pushed.text.is_empty() {
                    let _ = active.events.send(JobEvent::Text(pushed.text));
                }
                if pushed.stopped {
                    finish = Some(FinishReason::Stop);
                } else if active.usage.output_tokens >= active.max_tokens
                    || slot.cached.len() + 1 >= self.limits.context_per_slot
                {
                    finish = Some(FinishReason::Length);
                } else {
                    active.next = Some(token);
                }
            }
            if let Some(reason) = finish {
                let rest = active.text.finish();
                if !rest.is_empty() {
                    let _ = active.events.send(JobEvent::Text(rest));
                }
                let _ = active.events.send(JobEvent::Finished {
                    reason,
                    usage: active.usage,
                });
                slot.active = None;
                slot.last_used = self.step;
            }
        }
    }

    /// After a failed decode the KV state is unknown: fail every active
    /// job (the router may retry it) and drop all caches.
    fn fail_batch(&mut self, reason: &str) {
        for slot in &mut self.slots {
            if let Some(active) = slot.active.take() {
                let _ = active.events.send(JobEvent::Failed(ProviderError::new(
                    ErrorKind::Transient,
                    format!("decoding failed: {reason}"),
                )));
            }
            slot.cached.clear();
        }
        self.context.clear_kv_cache();
    }
}

fn build_grammar(model: &LlamaModel, grammar: &job::Grammar) -> Result<LlamaSampler, String> {
    let built = match &grammar.trigger {
        None => LlamaSampler::grammar(model, &grammar.gbnf, "root"),
        Some(word) => LlamaSampler::grammar_lazy(model, &grammar.gbnf, "root", [word], &[]),
    };
    built.map_err(|e| format!("the tool grammar was rejected by llama.cpp: {e}"))
}
