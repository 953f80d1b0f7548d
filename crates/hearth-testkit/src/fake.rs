//! A rule-driven [`Provider`] for pipeline tests: answers by a rule, streams in chunks, can be
//! held at a gate to observe concurrency, and records every request.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use hearth_core::{
    ChatEvent, ChatRequest, ChatStream, FinishReason, Provider, ProviderError, Role, Usage,
};
use parking_lot::Mutex;
use tokio::sync::Semaphore;

/// What the fake answers to one request.
#[derive(Debug, Clone)]
pub enum FakeReply {
    /// Stream this text, split into chunks of a few words.
    Text(String),
    /// Fail before streaming.
    Error(ProviderError),
    /// Stream this text, then never finish (until dropped).
    Hang(String),
    /// Call one tool: `(name, arguments JSON text)`; the call id is
    /// `call-<n>` with n counting this provider's calls.
    ToolCall(String, String),
}

type Rule = dyn Fn(&ChatRequest) -> FakeReply + Send + Sync;

pub struct FakeProvider {
    rule: Box<Rule>,
    /// When set, each call waits for a permit here before answering, so a
    /// test decides when turns may proceed.
    gate: Option<Arc<Semaphore>>,
    delay: Duration,
    requests: Mutex<Vec<ChatRequest>>,
    running: Arc<AtomicUsize>,
    max_running: Arc<AtomicUsize>,
}

impl std::fmt::Debug for FakeProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeProvider").finish_non_exhaustive()
    }
}

impl FakeProvider {
    pub fn new(rule: impl Fn(&ChatRequest) -> FakeReply + Send + Sync + 'static) -> Self {
        Self {
            rule: Box::new(rule),
            gate: None,
            delay: Duration::ZERO,
            requests: Mutex::default(),
            running: Arc::default(),
            max_running: Arc::default(),
        }
    }

    /// Answers "echo: <last user message>".
    pub fn echo() -> Self {
        Self::new(|req| FakeReply::Text(format!("echo: {}", last_user_text(req))))
    }

    pub fn with_gate(mut self, gate: Arc<Semaphore>) -> Self {
        self.gate = Some(gate);
        self
    }

    pub fn with_delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    pub fn requests(&self) -> Vec<ChatRequest> {
        self.requests.lock().clone()
    }

    /// The most calls that were in progress at once.
    pub fn max_concurrent(&self) -> usize {
        self.max_running.load(Ordering::SeqCst)
    }
}

/// The text of the request's last user message.
pub fn last_user_text(request: &ChatRequest) -> &str {
    request
        .messages
        .iter()
        .rev()
        .find(|m| m.role == Role::User)
        .map_or("", |m| m.content.as_str())
}

struct RunningGuard(Arc<AtomicUsize>);

impl Drop for RunningGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[async_trait]
impl Provider for FakeProvider {
    fn name(&self) -> &str {
        "fake"
    }

    async fn chat(&self, request: ChatRequest) -> Result<ChatStream, ProviderError> {
        self.requests.lock().push(request.clone());
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_running.fetch_max(now, Ordering::SeqCst);
        let guard = RunningGuard(self.running.clone());
        if let Some(gate) = &self.gate {
            gate.acquire().await.expect("gate closed").forget();
        }
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        let (text, hang) = match (self.rule)(&request) {
            FakeReply::Error(error) => return Err(error),
            FakeReply::Text(text) => (text, false),
            FakeReply::Hang(text) => (text, true),
            FakeReply::ToolCall(name, arguments) => {
                let id = format!("call-{}", self.requests.lock().len());
                let events = [
                    Ok(ChatEvent::ToolCallDelta {
                        index: 0,
                        id: Some(id),
                        name: Some(name),
                        arguments,
                    }),
                    Ok(ChatEvent::Finished(FinishReason::ToolCalls)),
                ];
                return Ok(futures::stream::iter(events)
                    .map(move |e| {
                        let _ = &guard;
                        e
                    })
                    .boxed());
            }
        };
        let words: Vec<String> = text.split_inclusive(' ').map(str::to_owned).collect();
        let output_tokens = words.len() as u32;
        let events: Vec<Result<ChatEvent, ProviderError>> = words
            .into_iter()
            .map(|w| Ok(ChatEvent::TextDelta(w)))
            .collect();
        let head = futures::stream::iter(events);
        if hang {
            let tail = futures::stream::pending();
            return Ok(head
                .chain(tail)
                .map(move |e| {
                    let _ = &guard;
                    e
                })
                .boxed());
        }
        let tail = futures::stream::iter([
            Ok(ChatEvent::Usage(Usage {
                input_tokens: 10,
                output_tokens,
            })),
            Ok(ChatEvent::Finished(FinishReason::Stop)),
        ]);
        Ok(head
            .chain(tail)
            .map(move |e| {
                let _ = &guard;
                e
            })
            .boxed())
    }
}
