//! The model-facing contract: one streaming chat call, with errors
//! classified so the router can decide between retry, fallback and giving
//! up.
//!
//! Design choice: a provider has one required method, [`Provider::chat`],
//! returning a stream of [`ChatEvent`]s; a non-streaming
//! [`Provider::complete`] is provided on top of it. Cancellation is dropping
//! the stream: implementations must stop network reads (and, for the
//! in-process engine, free the decoding slot) when the stream is dropped.

use crate::{ChatMessage, ToolCall, ToolSpec};
use async_trait::async_trait;
use futures::stream::{BoxStream, StreamExt};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

/// One request to a model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    /// The provider's own model name (e.g. `gpt-4o-mini`, `llama3.2`).
    pub model: String,
    pub messages: Vec<ChatMessage>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<ToolSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    /// Nucleus sampling: keep the smallest set of tokens whose
    /// probabilities add up to this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f32>,
    /// Makes sampling repeatable where the provider supports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Text that ends the answer; it is not included in the answer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stop: Vec<String>,
    /// Whether the model may, must or must not call one of `tools`.
    #[serde(default, skip_serializing_if = "ToolChoice::is_auto")]
    pub tool_choice: ToolChoice,
}

/// Whether the model may answer with a tool call.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolChoice {
    /// The model decides between text and a tool call.
    #[default]
    Auto,
    /// The model answers with text only.
    None,
    /// The model must call one of the tools.
    Required,
    /// The model must call this tool.
    Function(String),
}

impl ToolChoice {
    pub fn is_auto(&self) -> bool {
        matches!(self, ToolChoice::Auto)
    }
}

/// Token accounting reported by the provider.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub input_tokens: u32,
    pub output_tokens: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    Stop,
    Length,
    ToolCalls,
    ContentFilter,
}

impl FinishReason {
    pub fn as_str(self) -> &'static str {
        match self {
            FinishReason::Stop => "stop",
            FinishReason::Length => "length",
            FinishReason::ToolCalls => "tool_calls",
            FinishReason::ContentFilter => "content_filter",
        }
    }
}

/// One item of a streamed answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatEvent {
    /// More answer text.
    TextDelta(String),
    /// A fragment of tool call number `index` (0-based, counting tool calls
    /// only, without gaps): the first fragment of a call carries its `id`
    /// and `name`, later ones append to `arguments`.
    ToolCallDelta {
        index: u32,
        id: Option<String>,
        name: Option<String>,
        arguments: String,
    },
    Usage(Usage),
    /// The last event of a successful stream.
    Finished(FinishReason),
}

/// How a provider failure should be handled. The router retries
/// `RateLimited`, `Overloaded` and `Transient` on the same model (honouring
/// `retry_after`), moves to the next model on those after its retries and at
/// once on `Auth` and `InvalidRequest` (another provider may accept the
/// request), and returns `ContextLength` at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Bad or missing credentials (401/403).
    Auth,
    /// 429: too many requests for this key.
    RateLimited,
    /// The provider is up but has no capacity (503, Anthropic 529).
    Overloaded,
    /// The prompt does not fit the model's context window.
    ContextLength,
    /// A network failure, timeout or 5xx that may succeed on retry.
    Transient,
    /// The request was rejected as malformed (400/404/422): retrying the
    /// same request cannot help.
    InvalidRequest,
    /// No provider could be tried (circuit open, model unknown).
    Unavailable,
    /// The caller dropped or aborted the request.
    Cancelled,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Auth => "auth",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::Overloaded => "overloaded",
            ErrorKind::ContextLength => "context_length",
            ErrorKind::Transient => "transient",
            ErrorKind::InvalidRequest => "invalid_request",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Cancelled => "cancelled",
        }
    }

    /// Whether the same request may succeed if sent again later.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            ErrorKind::RateLimited | ErrorKind::Overloaded | ErrorKind::Transient
        )
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct ProviderError {
    pub kind: ErrorKind,
    pub message: String,
    /// What the provider asked for (e.g. a `Retry-After` header).
    pub retry_after: Option<Duration>,
}

impl ProviderError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn with_retry_after(mut self, after: Option<Duration>) -> Self {
        self.retry_after = after;
        self
    }
}

pub type ChatStream = BoxStream<'static, Result<ChatEvent, ProviderError>>;

/// A whole answer, collected from a stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Completion {
    pub text: String,
    pub tool_calls: Vec<ToolCall>,
    pub usage: Usage,
    pub finish_reason: Option<FinishReason>,
}

impl Completion {
    /// Folds one event into the answer. Tool-call fragments are joined by
    /// index, the way every streaming API sends them.
    pub fn apply(&mut self, event: &ChatEvent) {
        match event {
            ChatEvent::TextDelta(text) => self.text.push_str(text),
            ChatEvent::ToolCallDelta {
                index,
                id,
                name,
                arguments,
            } => {
                let index = *index as usize;
                if self.tool_calls.len() <= index {
                    self.tool_calls.resize_with(index + 1, || ToolCall {
                        id: String::new(),
                        name: String::new(),
                        arguments: String::new(),
                    });
                }
                let call = &mut self.tool_calls[index];
                if let Some(id) = id {
                    call.id.clone_from(id);
                }
                // Some servers repeat the name on every fragment: keep the first.
                if let Some(name) = name
                    && call.name.is_empty()
                {
                    call.name.clone_from(name);
                }
                call.arguments.push_str(arguments);
            }
            ChatEvent::Usage(usage) => self.usage = *usage,
            ChatEvent::Finished(reason) => self.finish_reason = Some(*reason),
        }
    }
}

/// A model backend.
#[async_trait]
pub trait Provider: Send + Sync + 'static {
    /// A short name for logs and metrics (`openai`, `anthropic`, `echo`).
    fn name(&self) -> &str;

    /// Starts a streamed answer. Errors before the first event come back
    /// here; errors mid-stream come as the stream's last item. Dropping the
    /// stream cancels the request.
    async fn chat(&self, request: ChatRequest) -> Result<ChatStream, ProviderError>;

    /// The whole answer at once, built on [`Provider::chat`].
    async fn complete(&self, request: ChatRequest) -> Result<Completion, ProviderError> {
        let mut stream = self.chat(request).await?;
        let mut completion = Completion::default();
        while let Some(event) = stream.next().await {
            completion.apply(&event?);
        }
        Ok(completion)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_call_fragments_join_by_index() {
        let mut c = Completion::default();
        for e in [
            ChatEvent::ToolCallDelta {
                index: 0,
                id: Some("a".into()),
                name: Some("get".into()),
                arguments: "{\"x\"".into(),
            },
            ChatEvent::ToolCallDelta {
                index: 1,
                id: Some("b".into()),
                name: Some("put".into()),
                arguments: "{}".into(),
            },
            ChatEvent::ToolCallDelta {
                index: 0,
                id: None,
                name: None,
                arguments: ":1}".into(),
            },
            ChatEvent::TextDelta("hi".into()),
            ChatEvent::Finished(FinishReason::ToolCalls),
        ] {
            c.apply(&e);
        }
        assert_eq!(c.tool_calls[0].arguments, "{\"x\":1}");
        assert_eq!(c.tool_calls[1].name, "put");
        assert_eq!(c.text, "hi");
        assert_eq!(c.finish_reason, Some(FinishReason::ToolCalls));
    }

    #[test]
    fn only_capacity_and_network_errors_are_retryable() {
        assert!(ErrorKind::RateLimited.is_retryable());
        assert!(ErrorKind::Transient.is_retryable());
        assert!(!ErrorKind::Auth.is_retryable());
        assert!(!ErrorKind::ContextLength.is_retryable());
    }
}
