//! A slot: one sequence of the KV cache, the tokens it holds, and the job
//! (if any) decoding in it. Idle slots keep their tokens so the next turn
//! of the same conversation starts where the last one ended.

use super::job::{JobEvent, JobUsage};
use super::text::TextAssembler;
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;
use tokio::sync::mpsc;

#[derive(Debug)]
pub struct Slot {
    /// The llama.cpp sequence id this slot owns.
    pub seq: i32,
    /// Tokens decoded into this sequence's KV cache, in position order.
    pub cached: Vec<LlamaToken>,
    /// Scheduler step when the slot last finished a job; 0 = never used.
    pub last_used: u64,
    pub active: Option<Active>,
}

/// A job being decoded in a slot.
pub struct Active {
    pub events: mpsc::UnboundedSender<JobEvent>,
    /// Prompt tokens not yet decoded.
    pub pending: Vec<LlamaToken>,
    pub sampler: LlamaSampler,
    pub text: TextAssembler,
    pub max_tokens: u32,
    pub ignore_eos: bool,
    /// Sampled but not yet decoded: goes into the next batch.
    pub next: Option<LlamaToken>,
    /// Where this slot's logits sit in the batch just decoded.
    pub logits_at: Option<i32>,
    pub usage: JobUsage,
}

impl std::fmt::Debug for Active {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Active")
            .field("pending", &self.pending.len())
            .field("usage", &self.usage)
            .finish_non_exhaustive()
    }
}

impl Slot {
    pub fn new(seq: i32) -> Self {
        Self {
            seq,
            cached: Vec::new(),
            last_used: 0,
            active: None,
        }
    }
}

pub fn common_prefix(a: &[LlamaToken], b: &[LlamaToken]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

/// Chooses the free slot for a prompt: the one whose cache the prompt
/// continues (a follow-up turn: at least half of the cached tokens match),
/// else the least recently used one, so another idle conversation's cache
/// survives as long as possible.
pub fn pick(slots: &[Slot], prompt: &[LlamaToken]) -> Option<usize> {
    let free = || slots.iter().enumerate().filter(|(_, s)| s.active.is_none());
    let continuation = free()
        .map(|(i, s)| (i, common_prefix(&s.cached, prompt), s.cached.len()))
        .filter(|&(_, common, cached)| common > 0 && common * 2 >= cached)
        .max_by_key(|&(_, common, _)| common)
        .map(|(i, _, _)| i);
    continuation.or_else(|| free().min_by_key(|(_, s)| s.last_used).map(|(i, _)| i))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(ids: &[i32]) -> Vec<LlamaToken> {
        ids.iter().map(|&id| LlamaToken::new(id)).collect()
    }

    fn slot(seq: i32, cached: &[i32], last_used: u64) -> Slot {
        Slot {
            cached: tokens(cached),
            last_used,
            ..Slot::new(seq)
        }
    }

    #[test]
    fn a_follow_up_returns_to_its_own_slot() {
        let slots = [slot(0, &[1, 2, 3, 4], 5), slot(1, &[1, 2, 9, 9], 1)];
        assert_eq!(pick(&slots, &tokens(&[1, 2, 3, 4, 5, 6])), Some(0));
    }

    #[test]
    fn a_new_conversation_takes_an_empty_slot_not_a_shared_system_prompt() {
        // Both conversations share a 2-token system prompt with the new one:
        // that is not enough to evict either.
        let slots = [
            slot(0, &[1, 2, 3, 4, 5, 6], 5),
            slot(1, &[], 0),
            slot(2, &[1, 2, 7, 8, 9, 9], 3),
        ];
        assert_eq!(pick(&slots, &tokens(&[1, 2, 42])), Some(1));
    }

    #[test]
    fn without_an_empty_slot_the_least_recently_used_is_evicted() {
        let slots = [slot(0, &[5, 6, 7], 9), slot(1, &[8, 9, 10], 2)];
        assert_eq!(pick(&slots, &tokens(&[1])), Some(1));
    }
}
