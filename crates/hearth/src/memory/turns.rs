//! Memory in the agent's turn: recall for the incoming message (working
//! memory of the session first, then long-term memories), and flushing of
//! turns that leave the context window into long-term memory.

use async_trait::async_trait;
use hearth_agent::{AgentMemory, FlushedTurn};
use hearth_core::{InboundMessage, Role};
use hearth_memory::long_term::{Filter, MAX_ITEM_BYTES, NewMemory, SearchOptions};

use super::MemoryService;

/// Characters per token, as the context assembler estimates.
const CHARS_PER_TOKEN: usize = 4;

#[async_trait]
impl AgentMemory for MemoryService {
    async fn recall(&self, message: &InboundMessage, budget_tokens: usize) -> Vec<String> {
        let mut budget = budget_tokens * CHARS_PER_TOKEN;
        let mut lines = Vec::new();
        let mut push = |line: String, lines: &mut Vec<String>| {
            if line.len() + 4 <= budget {
                budget -= line.len() + 4;
                lines.push(line);
                true
            } else {
                false
            }
        };
        match self.working.list(message.session_key.as_str()).await {
            Ok(entries) => {
                for entry in entries {
                    push(
                        format!("(this conversation) {}: {}", entry.key, entry.value),
                        &mut lines,
                    );
                }
            }
            Err(error) => tracing::warn!(%error, "working memory unavailable for this turn"),
        }
        let options = SearchOptions {
            limit: self.config.recall_limit,
            min_score: self.config.recall_min_score,
            ..SearchOptions::default()
        };
        let filter = Filter::agent(message.agent_id.as_str());
        match self
            .long_term
            .recall(&message.text, &filter, &options)
            .await
        {
            Ok(hits) => {
                for hit in hits {
                    if !push(hit.item.text, &mut lines) {
                        break;
                    }
                }
            }
            Err(error) => {
                tracing::warn!(%error, "memory recall failed; the turn goes on without it")
            }
        }
        lines
    }

    async fn flush(&self, message: &InboundMessage, turns: Vec<FlushedTurn>) {
        let session = message.session_key.as_str();
        let marker = format!("flushed:{session}");
        let flushed_until = match self.long_term.marker(&marker).await {
            Ok(value) => value.unwrap_or(i64::MIN),
            Err(error) => {
                tracing::warn!(%error, "memory flush skipped");
                return;
            }
        };
        let fresh: Vec<&FlushedTurn> = turns.iter().filter(|t| t.at_ms > flushed_until).collect();
        let Some(last) = fresh.iter().map(|t| t.at_ms).max() else {
            return;
        };
        let memories: Vec<NewMemory> = fresh
            .iter()
            .filter_map(|turn| {
                let text = transcript(turn);
                (!text.is_empty()).then(|| NewMemory {
                    kind: "conversation".into(),
                    session: Some(session.to_owned()),
                    channel: Some(message.channel.clone()),
                    source: Some(format!("session:{session}")),
                    importance: Some(0.3),
                    created_ms: Some(turn.at_ms),
                    ..NewMemory::new(message.agent_id.as_str(), text)
                })
            })
            .collect();
        let count = memories.len();
        match self.long_term.add_many(memories).await {
            Ok(_) => {
                if let Err(error) = self.long_term.set_marker(&marker, last).await {
                    tracing::warn!(%error, "memory flush marker not saved; turns may be flushed twice");
                }
                tracing::debug!(
                    session,
                    turns = count,
                    "turns leaving the context flushed to memory"
                );
            }
            Err(error) => {
                tracing::warn!(%error, "memory flush failed; the turns stay only in the transcript")
            }
        }
    }
}

/// The user's and assistant's words of a turn (tool traffic left out),
/// cut to what one memory holds.
fn transcript(turn: &FlushedTurn) -> String {
    let mut text = String::new();
    for message in &turn.messages {
        let speaker = match message.role {
            Role::User => "User",
            Role::Assistant if !message.content.trim().is_empty() => "Assistant",
            _ => continue,
        };
        text.push_str(&format!("{speaker}: {}\n", message.content.trim()));
    }
    let mut text = text.trim().to_owned();
    if text.len() > MAX_ITEM_BYTES {
        let mut cut = MAX_ITEM_BYTES;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
    }
    text
}
