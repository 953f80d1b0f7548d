//! The engine as a [`Provider`]: render the chat template, tokenize, fit
//! the prompt into a slot, hand a job to the scheduler, and turn its events
//! into the provider stream (holding tool-call text back to parse it).

use crate::engine::Engine;
use crate::output::OutputShaper;
use crate::sampling::Sampling;
use crate::scheduler::job::{Job, JobEvent};
use crate::tools;
use async_trait::async_trait;
use futures::stream::{self, StreamExt};
use hearth_core::{
    ChatEvent, ChatMessage, ChatRequest, ChatStream, ErrorKind, Provider, ProviderError, Role,
    ToolSpec,
};
use llama_cpp_2::token::LlamaToken;
use tokio::sync::mpsc::{self, error::TrySendError};

#[async_trait]
impl Provider for Engine {
    fn name(&self) -> &str {
        "embedded"
    }

    async fn chat(&self, request: ChatRequest) -> Result<ChatStream, ProviderError> {
        let mut offered = tools::offered(&request.tools, &request.tool_choice);
        let max_tokens = request.max_tokens.unwrap_or(self.config.max_tokens).max(1);
        let prompt = match self.fit_prompt(&request.messages, &offered, max_tokens) {
            Ok(prompt) => prompt,
            // Tool definitions can outweigh a small context on their own: the
            // model then answers without tools rather than not at all.
            Err(error) if !offered.is_empty() && error.kind == ErrorKind::ContextLength => {
                let prompt = self.fit_prompt(&request.messages, &[], max_tokens)?;
                // Said once per process: a small default model would say it
                // at every turn otherwise.
                static WARNED: std::sync::atomic::AtomicBool =
                    std::sync::atomic::AtomicBool::new(false);
                let level_warn = !WARNED.swap(true, std::sync::atomic::Ordering::Relaxed);
                if level_warn {
                    tracing::warn!(
                        tools = offered.len(),
                        context = self.config.context,
                        "the tools' definitions do not fit this model's context: answering without tools (raise [models.<name>.engine] context, or narrow the agent's tools)"
                    );
                }
                offered.clear();
                prompt
            }
            Err(error) => return Err(error),
        };
        let grammar = if offered.is_empty() {
            None
        } else {
            Some(
                tools::grammar(&offered, &request.tool_choice)
                    .map_err(|m| ProviderError::new(ErrorKind::InvalidRequest, m))?,
            )
        };
        let (events, receiver) = mpsc::unbounded_channel();
        let job = Job {
            prompt,
            sampling: Sampling::resolve(&self.config.sampling, &request),
            max_tokens,
            stop: request.stop.clone(),
            grammar,
            ignore_eos: false,
            events,
        };
        self.submit(job)?;
        Ok(event_stream(receiver, OutputShaper::new(offered)))
    }
}

impl Engine {
    /// Decodes `max_tokens` greedy tokens after a raw prompt (no chat
    /// template), never stopping early: the benchmark's fixed-length load.
    pub fn generate_fixed(
        &self,
        prompt: &str,
        max_tokens: u32,
    ) -> Result<ChatStream, ProviderError> {
        let (events, receiver) = mpsc::unbounded_channel();
        self.submit(Job {
            prompt: self.tokenize(prompt),
            sampling: Sampling::greedy(),
            max_tokens,
            stop: Vec::new(),
            grammar: None,
            ignore_eos: true,
            events,
        })?;
        Ok(event_stream(receiver, OutputShaper::new(Vec::new())))
    }

    fn submit(&self, job: Job) -> Result<(), ProviderError> {
        match self.jobs.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                return Err(ProviderError::new(
                    ErrorKind::Overloaded,
                    "the embedded model's queue is full; try again shortly",
                ));
            }
            Err(TrySendError::Closed(_)) => {
                return Err(ProviderError::new(
                    ErrorKind::Unavailable,
                    "the embedded model is unloading",
                ));
            }
        }
        Ok(())
    }

    /// Renders and tokenizes the conversation. When it does not leave room
    /// for the answer in a slot, the oldest turns are dropped (whole turns,
    /// so a tool result never loses its call); if even the system prompt
    /// and the last message do not fit, the request fails as too long.
    pub(crate) fn fit_prompt(
        &self,
        messages: &[ChatMessage],
        tools: &[ToolSpec],
        max_tokens: u32,
    ) -> Result<Vec<LlamaToken>, ProviderError> {
        let context = self.config.context as usize;
        // Room for at least part of the answer: a quarter of the context at
        // most, so a large max_tokens does not throw away all history.
        let reserve = (max_tokens as usize).min(context / 4);
        let mut messages = messages.to_vec();
        loop {
            let tokens = self.tokenize_chat(&messages, tools)?;
            if tokens.len() + reserve <= context {
                return Ok(tokens);
            }
            if !drop_oldest_turn(&mut messages) {
                return Err(ProviderError::new(
                    ErrorKind::ContextLength,
                    format!(
                        "the prompt needs {} tokens plus {reserve} for the answer; a session's context on this model holds {context}",
                        tokens.len()
                    ),
                ));
            }
        }
    }

    pub(crate) fn tokenize_chat(
        &self,
        messages: &[ChatMessage],
        tools: &[ToolSpec],
    ) -> Result<Vec<LlamaToken>, ProviderError> {
        let text = self
            .template
            .render(messages, tools, true)
            .map_err(|e| ProviderError::new(ErrorKind::InvalidRequest, e.to_string()))?;
        Ok(self.tokenize(&text))
    }

    /// Tokens for `text`, special tokens parsed (the template writes them
    /// as text), with a BOS only if the model wants one and the template
    /// did not already write it.
    pub fn tokenize(&self, text: &str) -> Vec<LlamaToken> {
        let vocab = self.model.vocab();
        let add_bos = vocab.should_add_bos()
            && (self.bos_text.is_empty() || !text.starts_with(&self.bos_text));
        vocab.tokenize(text.as_bytes(), add_bos, true)
    }
}

/// Removes the oldest turn after the system prompt: the first non-system
/// message and everything up to the next user message. Never removes the
/// last message. Returns false when nothing can be removed.
fn drop_oldest_turn(messages: &mut Vec<ChatMessage>) -> bool {
    let Some(first) = messages.iter().position(|m| m.role != Role::System) else {
        return false;
    };
    let last = messages.len().saturating_sub(1);
    if first >= last {
        return false;
    }
    let end = messages[first + 1..last]
        .iter()
        .position(|m| m.role == Role::User)
        .map_or(last, |i| first + 1 + i);
    messages.drain(first..end);
    true
}

fn event_stream(receiver: mpsc::UnboundedReceiver<JobEvent>, shaper: OutputShaper) -> ChatStream {
    // Pending events from one scheduler event (a finish can yield text,
    // calls, usage and the end at once).
    let state = (
        receiver,
        shaper,
        std::collections::VecDeque::<Result<ChatEvent, ProviderError>>::new(),
        false,
    );
    stream::unfold(
        state,
        |(mut receiver, mut shaper, mut queue, mut done)| async move {
            loop {
                if let Some(item) = queue.pop_front() {
                    return Some((item, (receiver, shaper, queue, done)));
                }
                if done {
                    return None;
                }
                match receiver.recv().await {
                    Some(JobEvent::Text(text)) => {
                        queue.extend(shaper.text(&text).into_iter().map(Ok))
                    }
                    Some(JobEvent::Finished { reason, usage }) => {
                        queue.extend(shaper.finish(reason, usage).into_iter().map(Ok));
                        done = true;
                    }
                    Some(JobEvent::Failed(error)) => {
                        queue.push_back(Err(error));
                        done = true;
                    }
                    None => {
                        queue.push_back(Err(ProviderError::new(
                            ErrorKind::Unavailable,
                            "the embedded model stopped before the answer finished",
                        )));
                        done = true;
                    }
                }
            }
        },
    )
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropping_a_turn_keeps_the_system_prompt_and_tool_results_with_their_call() {
        let mut call = ChatMessage::assistant("");
        call.tool_calls.push(hearth_core::ToolCall {
            id: "c".into(),
            name: "t".into(),
            arguments: "{}".into(),
        });
        let mut messages = vec![
            ChatMessage::system("s"),
            ChatMessage::user("q1"),
            call,
            ChatMessage::new(Role::Tool, "r"),
            ChatMessage::assistant("a1"),
            ChatMessage::user("q2"),
        ];
        assert!(drop_oldest_turn(&mut messages));
        let roles: Vec<Role> = messages.iter().map(|m| m.role).collect();
        assert_eq!(roles, [Role::System, Role::User]);
        assert_eq!(messages[1].content, "q2");
        assert!(!drop_oldest_turn(&mut messages));
    }
}
