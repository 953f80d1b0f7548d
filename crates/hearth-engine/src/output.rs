//! Shapes decoded text into provider events. Without tools, text streams
//! as it comes. With tools, text streams until it could be a tool call (the
//! opening tag, or an answer that starts as a JSON object); from there it
//! is held and parsed at the end, so raw call JSON never reaches a user.

use crate::scheduler::job::JobUsage;
use crate::template::TOOL_CALL_OPEN;
use crate::toolcall::parse_tool_calls;
use hearth_core::{ChatEvent, FinishReason, ToolSpec, Usage};

#[derive(Debug)]
pub struct OutputShaper {
    tools: Vec<ToolSpec>,
    /// Everything decoded so far.
    text: String,
    /// Bytes of `text` already sent as deltas.
    sent: usize,
    /// A call may have started: send nothing more until the end.
    holding: bool,
}

impl OutputShaper {
    pub fn new(tools: Vec<ToolSpec>) -> Self {
        Self {
            tools,
            text: String::new(),
            sent: 0,
            holding: false,
        }
    }

    pub fn text(&mut self, delta: &str) -> Vec<ChatEvent> {
        self.text.push_str(delta);
        if self.tools.is_empty() {
            self.sent = self.text.len();
            return vec![ChatEvent::TextDelta(delta.to_owned())];
        }
        if self.holding {
            return Vec::new();
        }
        let unsent = &self.text[self.sent..];
        let safe = if let Some(at) = unsent.find(TOOL_CALL_OPEN) {
            self.holding = true;
            at
        } else if self.text.trim_start().starts_with('{') {
            self.holding = true;
            0
        } else if self.text.trim().is_empty() {
            0
        } else {
            unsent.len() - partial_tag_len(unsent)
        };
        if safe == 0 {
            return Vec::new();
        }
        let delta = unsent[..safe].to_owned();
        self.sent += safe;
        vec![ChatEvent::TextDelta(delta)]
    }

    pub fn finish(&mut self, reason: FinishReason, usage: JobUsage) -> Vec<ChatEvent> {
        let mut events = Vec::new();
        let rest = &self.text[self.sent..];
        let mut reason = reason;
        if self.tools.is_empty() {
            if !rest.is_empty() {
                events.push(ChatEvent::TextDelta(rest.to_owned()));
            }
        } else {
            let parsed = parse_tool_calls(rest, &self.tools, "call_");
            if !parsed.content.is_empty() {
                // The parsed content is trimmed; keep one space between it
                // and text already sent.
                let gap = if self.sent > 0 && rest.starts_with(char::is_whitespace) {
                    " "
                } else {
                    ""
                };
                events.push(ChatEvent::TextDelta(format!("{gap}{}", parsed.content)));
            }
            for (index, call) in parsed.tool_calls.into_iter().enumerate() {
                events.push(ChatEvent::ToolCallDelta {
                    index: index as u32,
                    id: Some(call.id),
                    name: Some(call.name),
                    arguments: call.arguments,
                });
                reason = FinishReason::ToolCalls;
            }
        }
        self.sent = self.text.len();
        events.push(ChatEvent::Usage(Usage {
            input_tokens: usage.prompt_tokens,
            output_tokens: usage.output_tokens,
        }));
        events.push(ChatEvent::Finished(reason));
        events
    }
}

/// Length of the longest tail of `text` that could be the start of the
/// tool-call tag.
fn partial_tag_len(text: &str) -> usize {
    (1..TOOL_CALL_OPEN.len())
        .rev()
        .find(|&n| {
            n <= text.len()
                && text.is_char_boundary(text.len() - n)
                && TOOL_CALL_OPEN.starts_with(&text[text.len() - n..])
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tool() -> ToolSpec {
        ToolSpec {
            name: "get_weather".into(),
            description: String::new(),
            parameters: json!({"type": "object"}),
        }
    }

    fn texts(events: &[ChatEvent]) -> String {
        events
            .iter()
            .filter_map(|e| match e {
                ChatEvent::TextDelta(t) => Some(t.as_str()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn text_before_a_call_streams_and_the_call_is_parsed_at_the_end() {
        let mut shaper = OutputShaper::new(vec![tool()]);
        let mut events = shaper.text("Let me check.<tool");
        assert_eq!(texts(&events), "Let me check.");
        events = shaper.text(
            "_call>{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\"}}</tool_call>",
        );
        assert!(events.is_empty());
        events = shaper.finish(FinishReason::Stop, JobUsage::default());
        assert!(events.iter().any(|e| matches!(e, ChatEvent::ToolCallDelta { name: Some(n), arguments, .. } if n == "get_weather" && arguments == "{\"city\":\"Oslo\"}")));
        assert_eq!(
            events.last(),
            Some(&ChatEvent::Finished(FinishReason::ToolCalls))
        );
    }

    #[test]
    fn plain_text_with_tools_offered_streams_whole() {
        let mut shaper = OutputShaper::new(vec![tool()]);
        let mut all = texts(&shaper.text("It is "));
        all += &texts(&shaper.text("sunny <b>."));
        all += &texts(&shaper.finish(FinishReason::Stop, JobUsage::default()));
        assert_eq!(all, "It is sunny <b>.");
    }
}
