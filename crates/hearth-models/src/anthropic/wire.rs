//! The Messages API wire format (private): Hearth's messages mapped onto
//! content blocks, and the decoder of the streamed events
//! (`message_start` … `message_stop`) into [`ChatEvent`]s.

use crate::http_error::{self, ErrorDetail, ErrorObject};
use crate::sse::{self, Decoder, Out};
use eventsource_stream::Event;
use hearth_core::{
    ChatEvent, ChatMessage, ChatRequest, ErrorKind, FinishReason, ProviderError, Role, Usage,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub(super) const PROVIDER: &str = "anthropic";

#[derive(Debug, Serialize)]
pub(super) struct Request<'a> {
    pub model: &'a str,
    pub max_tokens: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    pub messages: Vec<Message<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<Tool<'a>>,
    pub stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f32>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub stop_sequences: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<Value>,
}

#[derive(Debug, Serialize)]
pub(super) struct Message<'a> {
    pub role: &'static str,
    pub content: Vec<Block<'a>>,
}

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(super) enum Block<'a> {
    Text {
        text: &'a str,
    },
    ToolUse {
        id: &'a str,
        name: &'a str,
        input: Value,
    },
    ToolResult {
        tool_use_id: &'a str,
        content: &'a str,
    },
}

#[derive(Debug, Serialize)]
pub(super) struct Tool<'a> {
    pub name: &'a str,
    pub description: &'a str,
    pub input_schema: &'a Value,
}

impl<'a> Request<'a> {
    pub(super) fn new(request: &'a ChatRequest, model: &'a str, max_tokens: u32) -> Self {
        let system: Vec<&str> = request
            .messages
            .iter()
            .filter(|m| m.role == Role::System && !m.content.is_empty())
            .map(|m| m.content.as_str())
            .collect();
        Request {
            model,
            max_tokens: request.max_tokens.unwrap_or(max_tokens),
            system: (!system.is_empty()).then(|| system.join("\n\n")),
            messages: messages(&request.messages),
            tools: request
                .tools
                .iter()
                .map(|t| Tool {
                    name: &t.name,
                    description: &t.description,
                    input_schema: &t.parameters,
                })
                .collect(),
            stream: true,
            temperature: request.temperature,
            top_p: request.top_p,
            stop_sequences: &request.stop,
            tool_choice: tool_choice(request),
        }
    }
}

/// Anthropic's spelling of the tool choice; omitted for `auto` (its
/// default) and when no tools are offered.
fn tool_choice(request: &ChatRequest) -> Option<Value> {
    use hearth_core::ToolChoice;
    if request.tools.is_empty() {
        return None;
    }
    match &request.tool_choice {
        ToolChoice::Auto => None,
        ToolChoice::None => Some(serde_json::json!({ "type": "none" })),
        ToolChoice::Required => Some(serde_json::json!({ "type": "any" })),
        ToolChoice::Function(name) => Some(serde_json::json!({ "type": "tool", "name": name })),
    }
}

/// Maps the conversation onto user/assistant turns. System messages go to
/// the top-level `system` field; tool results become `tool_result` blocks of
/// a user turn; consecutive messages of the same side are merged into one
/// turn, because the API wants all results of a parallel tool call in the
/// single user turn that follows the calls.
fn messages(history: &[ChatMessage]) -> Vec<Message<'_>> {
    let mut turns: Vec<Message<'_>> = Vec::new();
    for m in history {
        let (role, blocks) = match m.role {
            Role::System => continue,
            Role::User => ("user", text_block(&m.content)),
            Role::Tool => (
                "user",
                vec![Block::ToolResult {
                    tool_use_id: m.tool_call_id.as_deref().unwrap_or_default(),
                    content: &m.content,
                }],
            ),
            Role::Assistant => {
                let mut blocks = text_block(&m.content);
                blocks.extend(m.tool_calls.iter().map(|c| Block::ToolUse {
                    id: &c.id,
                    name: &c.name,
                    input: tool_input(&c.arguments),
                }));
                ("assistant", blocks)
            }
        };
        if blocks.is_empty() {
            continue;
        }
        match turns.last_mut() {
            Some(last) if last.role == role => last.content.extend(blocks),
            _ => turns.push(Message {
                role,
                content: blocks,
            }),
        }
    }
    turns
}

/// The API rejects empty text blocks.
fn text_block(text: &str) -> Vec<Block<'_>> {
    if text.is_empty() {
        Vec::new()
    } else {
        vec![Block::Text { text }]
    }
}

/// `input` must be a JSON object; the model's arguments are JSON text that
/// the agent stored verbatim. Anything that is not an object (an empty
/// string for a call without arguments, or text a weak model garbled) is
/// sent as `{}` rather than failing the whole conversation.
fn tool_input(arguments: &str) -> Value {
    match serde_json::from_str::<Value>(arguments) {
        Ok(v @ Value::Object(_)) => v,
        _ => Value::Object(Default::default()),
    }
}

/// One streamed event, tagged by its `type` field (which repeats the SSE
/// event name).
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum StreamEvent {
    MessageStart {
        message: StartMessage,
    },
    ContentBlockStart {
        index: u32,
        content_block: StartBlock,
    },
    ContentBlockDelta {
        index: u32,
        delta: BlockDelta,
    },
    ContentBlockStop {
        index: u32,
    },
    MessageDelta {
        #[serde(default)]
        delta: MessageDeltaBody,
        #[serde(default)]
        usage: Option<DeltaUsage>,
    },
    MessageStop,
    Ping,
    Error {
        error: ErrorObject,
    },
    /// New event types must not break old clients (the API's versioning
    /// policy says to ignore unknown events).
    #[serde(other)]
    Unknown,
}

#[derive(Debug, Deserialize)]
struct StartMessage {
    #[serde(default)]
    usage: StartUsage,
}

#[derive(Debug, Default, Deserialize)]
struct StartUsage {
    #[serde(default)]
    input_tokens: u32,
    #[serde(default)]
    cache_creation_input_tokens: Option<u32>,
    #[serde(default)]
    cache_read_input_tokens: Option<u32>,
    #[serde(default)]
    output_tokens: u32,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum StartBlock {
    Text {
        #[serde(default)]
        text: String,
    },
    ToolUse {
        id: String,
        name: String,
    },
    /// `thinking`, `redacted_thinking`, server tools: not part of the answer.
    #[serde(other)]
    Other,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum BlockDelta {
    TextDelta {
        text: String,
    },
    InputJsonDelta {
        partial_json: String,
    },
    #[serde(other)]
    Other,
}

#[derive(Debug, Default, Deserialize)]
struct MessageDeltaBody {
    #[serde(default)]
    stop_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
struct DeltaUsage {
    #[serde(default)]
    output_tokens: Option<u32>,
}

/// A `tool_use` block being streamed.
#[derive(Debug)]
struct OpenTool {
    block: u32,
    call: u32,
    got_input: bool,
}

/// Decodes the Messages stream.
///
/// Block indexes count every content block (text at 0, the first tool at 1),
/// but [`ChatEvent::ToolCallDelta::index`] counts tool calls only, so a map
/// from block to call index is kept.
#[derive(Debug, Default)]
pub(super) struct EventDecoder {
    secret: Option<String>,
    usage: Usage,
    stop: Option<FinishReason>,
    tools: Vec<OpenTool>,
    started: bool,
}

impl EventDecoder {
    pub(super) fn new(secret: Option<String>) -> Self {
        Self {
            secret,
            ..Self::default()
        }
    }

    fn handle(&mut self, event: StreamEvent, out: &mut Out) -> bool {
        match event {
            StreamEvent::MessageStart { message } => {
                self.started = true;
                let u = message.usage;
                // Cached prompt tokens are reported apart; the prompt's size
                // is their sum.
                self.usage.input_tokens = u
                    .input_tokens
                    .saturating_add(u.cache_creation_input_tokens.unwrap_or(0))
                    .saturating_add(u.cache_read_input_tokens.unwrap_or(0));
                self.usage.output_tokens = u.output_tokens;
            }
            StreamEvent::ContentBlockStart {
                index,
                content_block,
            } => match content_block {
                StartBlock::Text { text } => {
                    if !text.is_empty() {
                        out.push_back(Ok(ChatEvent::TextDelta(text)));
                    }
                }
                StartBlock::ToolUse { id, name } => {
                    let call = self.tools.len() as u32;
                    self.tools.push(OpenTool {
                        block: index,
                        call,
                        got_input: false,
                    });
                    out.push_back(Ok(ChatEvent::ToolCallDelta {
                        index: call,
                        id: Some(id),
                        name: Some(name),
                        arguments: String::new(),
                    }));
                }
                StartBlock::Other => {}
            },
            StreamEvent::ContentBlockDelta { index, delta } => match delta {
                BlockDelta::TextDelta { text } => {
                    if !text.is_empty() {
                        out.push_back(Ok(ChatEvent::TextDelta(text)));
                    }
                }
                BlockDelta::InputJsonDelta { partial_json } => {
                    if let Some(tool) = self.tools.iter_mut().find(|t| t.block == index)
                        && !partial_json.is_empty()
                    {
                        tool.got_input = true;
                        out.push_back(Ok(ChatEvent::ToolCallDelta {
                            index: tool.call,
                            id: None,
                            name: None,
                            arguments: partial_json,
                        }));
                    }
                }
                BlockDelta::Other => {}
            },
            StreamEvent::ContentBlockStop { index } => {
                // A tool without arguments streams no JSON at all; give the
                // agent the empty object the model meant.
                if let Some(tool) = self.tools.iter_mut().find(|t| t.block == index)
                    && !tool.got_input
                {
                    tool.got_input = true;
                    out.push_back(Ok(ChatEvent::ToolCallDelta {
                        index: tool.call,
                        id: None,
                        name: None,
                        arguments: "{}".into(),
                    }));
                }
            }
            StreamEvent::MessageDelta { delta, usage } => {
                if let Some(reason) = delta.stop_reason {
                    self.stop = Some(map_stop(&reason));
                }
                // `output_tokens` here is cumulative, not an increment.
                if let Some(n) = usage.and_then(|u| u.output_tokens) {
                    self.usage.output_tokens = n;
                }
            }
            StreamEvent::MessageStop => {
                out.push_back(Ok(ChatEvent::Usage(self.usage)));
                out.push_back(Ok(ChatEvent::Finished(
                    self.stop.unwrap_or(FinishReason::Stop),
                )));
                return true;
            }
            StreamEvent::Ping | StreamEvent::Unknown => {}
            StreamEvent::Error { error } => {
                out.push_back(Err(http_error::classify_stream_error(
                    PROVIDER,
                    ErrorDetail::from(error),
                    self.secret.as_deref(),
                )));
            }
        }
        false
    }
}

pub(super) fn map_stop(reason: &str) -> FinishReason {
    match reason {
        "max_tokens" | "model_context_window_exceeded" => FinishReason::Length,
        "tool_use" => FinishReason::ToolCalls,
        "refusal" => FinishReason::ContentFilter,
        // "end_turn", "stop_sequence", "pause_turn".
        _ => FinishReason::Stop,
    }
}

impl Decoder for EventDecoder {
    fn event(&mut self, event: &Event, out: &mut Out) -> bool {
        let data = event.data.trim();
        if data.is_empty() {
            return false;
        }
        match sse::parse_json::<StreamEvent>(PROVIDER, data) {
            Ok(parsed) => self.handle(parsed, out),
            Err(err) => {
                out.push_back(Err(err));
                false
            }
        }
    }

    fn end(&mut self, out: &mut Out) {
        let what = if self.started {
            "before message_stop"
        } else {
            "before message_start"
        };
        out.push_back(Err(ProviderError::new(
            ErrorKind::Transient,
            format!("{PROVIDER} stream ended {what}"),
        )));
    }
}
