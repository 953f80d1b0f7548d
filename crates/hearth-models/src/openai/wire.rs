//! The Chat Completions wire format (private): request bodies built from
//! Hearth's messages, and the decoder of the streamed `chat.completion.chunk`
//! events into [`ChatEvent`]s.

use crate::http_error::{self, ErrorDetail};
use crate::sse::{self, Decoder, Out};
use eventsource_stream::Event;
use hearth_core::{
    ChatEvent, ChatMessage, ChatRequest, ErrorKind, FinishReason, ProviderError, Role, ToolSpec,
    Usage,
};
use serde::{Deserialize, Serialize};

pub(super) const PROVIDER: &str = "openai";

#[derive(Debug, Serialize)]
pub(super) struct Request<'a> {
    pub model: &'a str,
    pub messages: Vec<Message<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<Tool<'a>>,
    pub stream: bool,
    pub stream_options: StreamOptions,
    /// `max_tokens`, not the newer `max_completion_tokens`: every compatible
    /// server understands it, and OpenAI still accepts it for chat models.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub stop: &'a [String],
    /// Omitted for `auto` (the API's default), and without tools.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<serde_json::Value>,
}

#[derive(Debug, Serialize)]
pub(super) struct StreamOptions {
    /// Ask for a final chunk with token usage (empty `choices`).
    pub include_usage: bool,
}

#[derive(Debug, Serialize)]
pub(super) struct Message<'a> {
    pub role: &'static str,
    /// `null` for an assistant message that only calls tools, as the API
    /// documents; some servers reject `""` there.
    pub content: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCallOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<&'a str>,
}

#[derive(Debug, Serialize)]
pub(super) struct ToolCallOut<'a> {
    pub id: &'a str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub function: FunctionCallOut<'a>,
}

#[derive(Debug, Serialize)]
pub(super) struct FunctionCallOut<'a> {
    pub name: &'a str,
    pub arguments: &'a str,
}

#[derive(Debug, Serialize)]
pub(super) struct Tool<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub function: FunctionDef<'a>,
}

#[derive(Debug, Serialize)]
pub(super) struct FunctionDef<'a> {
    pub name: &'a str,
    pub description: &'a str,
    pub parameters: &'a serde_json::Value,
}

impl<'a> Request<'a> {
    pub(super) fn new(request: &'a ChatRequest, model: &'a str, max_tokens: Option<u32>) -> Self {
        Request {
            model,
            messages: request.messages.iter().map(message).collect(),
            tools: request.tools.iter().map(tool).collect(),
            stream: true,
            stream_options: StreamOptions {
                include_usage: true,
            },
            max_tokens: request.max_tokens.or(max_tokens),
            temperature: request.temperature,
            top_p: request.top_p,
            seed: request.seed,
            stop: &request.stop,
            tool_choice: tool_choice(request),
        }
    }
}

fn tool_choice(request: &ChatRequest) -> Option<serde_json::Value> {
    use hearth_core::ToolChoice;
    if request.tools.is_empty() {
        return None;
    }
    match &request.tool_choice {
        ToolChoice::Auto => None,
        ToolChoice::None => Some("none".into()),
        ToolChoice::Required => Some("required".into()),
        ToolChoice::Function(name) => Some(serde_json::json!({
            "type": "function",
            "function": { "name": name },
        })),
    }
}

fn message(m: &ChatMessage) -> Message<'_> {
    let calls_only = m.role == Role::Assistant && m.content.is_empty() && !m.tool_calls.is_empty();
    Message {
        role: m.role.as_str(),
        content: (!calls_only).then_some(m.content.as_str()),
        tool_calls: m
            .tool_calls
            .iter()
            .map(|c| ToolCallOut {
                id: &c.id,
                kind: "function",
                function: FunctionCallOut {
                    name: &c.name,
                    // The API wants a JSON object text; an empty string
                    // (a call without arguments) is rejected by some servers.
                    arguments: if c.arguments.is_empty() {
                        "{}"
                    } else {
                        &c.arguments
                    },
                },
            })
            .collect(),
        tool_call_id: m.tool_call_id.as_deref(),
    }
}

fn tool(t: &ToolSpec) -> Tool<'_> {
    Tool {
        kind: "function",
        function: FunctionDef {
            name: &t.name,
            description: &t.description,
            parameters: &t.parameters,
        },
    }
}

/// One `data:` chunk. Every field is optional in practice: servers differ
/// in what they leave out or send as `null`.
#[derive(Debug, Deserialize)]
struct Chunk {
    #[serde(default)]
    choices: Option<Vec<Choice>>,
    #[serde(default)]
    usage: Option<WireUsage>,
    /// OpenRouter and some proxies report a failure inside the stream.
    #[serde(default)]
    error: Option<http_error::ErrorObject>,
}

#[derive(Debug, Deserialize)]
struct Choice {
    #[serde(default)]
    delta: Option<Delta>,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Delta {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    tool_calls: Option<Vec<ToolCallDelta>>,
}

#[derive(Debug, Deserialize)]
struct ToolCallDelta {
    #[serde(default)]
    index: Option<u32>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    function: Option<FunctionDelta>,
}

#[derive(Debug, Deserialize)]
struct FunctionDelta {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    arguments: Option<String>,
}

#[derive(Debug, Deserialize)]
struct WireUsage {
    #[serde(default)]
    prompt_tokens: u32,
    #[serde(default)]
    completion_tokens: u32,
}

/// Decodes `chat.completion.chunk` events.
///
/// `finish_reason` arrives before the usage chunk, but `Finished` must be the
/// stream's last event, so it is held until `[DONE]` (or the end of the
/// connection) and emitted after `Usage`.
#[derive(Debug, Default)]
pub(super) struct ChunkDecoder {
    secret: Option<String>,
    finish: Option<FinishReason>,
    usage: Option<Usage>,
    /// Tool-call indexes already announced. Some servers repeat `id` and
    /// `name` on every fragment; [`hearth_core::Completion::apply`] appends
    /// names, so only the first fragment may carry them.
    announced: Vec<u32>,
}

impl ChunkDecoder {
    pub(super) fn new(secret: Option<String>) -> Self {
        Self {
            secret,
            ..Self::default()
        }
    }

    fn finish(&mut self, out: &mut Out) {
        if let Some(usage) = self.usage.take() {
            out.push_back(Ok(ChatEvent::Usage(usage)));
        }
        let mut reason = self.finish.take().unwrap_or(FinishReason::Stop);
        // Some servers (older Ollama, llama.cpp builds) say "stop" after
        // emitting tool calls; the agent loop keys on ToolCalls.
        if reason == FinishReason::Stop && !self.announced.is_empty() {
            reason = FinishReason::ToolCalls;
        }
        out.push_back(Ok(ChatEvent::Finished(reason)));
    }

    fn chunk(&mut self, chunk: Chunk, out: &mut Out) {
        if let Some(error) = chunk.error {
            out.push_back(Err(http_error::classify_stream_error(
                PROVIDER,
                ErrorDetail::from(error),
                self.secret.as_deref(),
            )));
            return;
        }
        if let Some(u) = chunk.usage {
            self.usage = Some(Usage {
                input_tokens: u.prompt_tokens,
                output_tokens: u.completion_tokens,
            });
        }
        // Only the first choice: Hearth never asks for `n > 1`.
        let Some(choice) = chunk.choices.and_then(|c| c.into_iter().next()) else {
            return;
        };
        if let Some(delta) = choice.delta {
            if let Some(text) = delta.content.filter(|t| !t.is_empty()) {
                out.push_back(Ok(ChatEvent::TextDelta(text)));
            }
            for (position, call) in delta.tool_calls.into_iter().flatten().enumerate() {
                let index = call.index.unwrap_or(position as u32);
                let (name, arguments) = match call.function {
                    Some(f) => (f.name, f.arguments.unwrap_or_default()),
                    None => (None, String::new()),
                };
                let first = !self.announced.contains(&index);
                if first {
                    self.announced.push(index);
                }
                out.push_back(Ok(ChatEvent::ToolCallDelta {
                    index,
                    id: if first {
                        Some(call.id.unwrap_or_default())
                    } else {
                        None
                    },
                    name: if first {
                        Some(name.unwrap_or_default())
                    } else {
                        None
                    },
                    arguments,
                }));
            }
        }
        if let Some(reason) = choice.finish_reason {
            self.finish = Some(map_finish(&reason));
        }
    }
}

pub(super) fn map_finish(reason: &str) -> FinishReason {
    match reason {
        "length" => FinishReason::Length,
        "tool_calls" | "function_call" => FinishReason::ToolCalls,
        "content_filter" => FinishReason::ContentFilter,
        // "stop", and the odd names some servers use ("eos", "end_turn").
        _ => FinishReason::Stop,
    }
}

impl Decoder for ChunkDecoder {
    fn event(&mut self, event: &Event, out: &mut Out) -> bool {
        let data = event.data.trim();
        if data == "[DONE]" {
            self.finish(out);
            return true;
        }
        if data.is_empty() {
            return false;
        }
        match sse::parse_json::<Chunk>(PROVIDER, data) {
            Ok(chunk) => self.chunk(chunk, out),
            Err(err) => out.push_back(Err(err)),
        }
        false
    }

    fn end(&mut self, out: &mut Out) {
        if self.finish.is_some() {
            // A server that closes after the finishing chunk without
            // `[DONE]` still gave a whole answer.
            self.finish(out);
        } else {
            out.push_back(Err(ProviderError::new(
                ErrorKind::Transient,
                format!("{PROVIDER} stream ended before the answer was finished"),
            )));
        }
    }
}
