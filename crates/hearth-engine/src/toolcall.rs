//! Parses tool calls out of a model's generated text (Hermes/Qwen `<tool_call>` blocks, or a
//! bare JSON call object), leaving everything it does not recognise as plain content.

use hearth_core::{ToolCall, ToolSpec};
use serde_json::Value as JsonValue;

// Same markers as `template::TOOL_CALL_OPEN`/`TOOL_CALL_CLOSE`; repeated here so this module
// stands alone.
const TOOL_CALL_OPEN: &str = "<tool_call>";
const TOOL_CALL_CLOSE: &str = "</tool_call>";

/// Generated text split into what the user should see and the tool calls the model made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedOutput {
    pub content: String,
    pub tool_calls: Vec<ToolCall>,
}

/// Extracts calls to the tools in `tools` from `text`; ids are `{id_prefix}{index}`.
///
/// A block whose JSON is invalid or names an unknown tool stays in `content`, so nothing
/// the model wrote is silently lost.
pub fn parse_tool_calls(text: &str, tools: &[ToolSpec], id_prefix: &str) -> ParsedOutput {
    let mut calls = Vec::new();
    let mut content = String::new();

    // Small models often skip the tags and answer with just the call object.
    let trimmed = text.trim();
    if trimmed.starts_with('{')
        && let Some((name, arguments)) = parse_call(trimmed, tools)
    {
        calls.push(new_call(id_prefix, 0, name, arguments));
        return ParsedOutput {
            content,
            tool_calls: calls,
        };
    }

    let mut rest = text;
    while let Some(start) = rest.find(TOOL_CALL_OPEN) {
        content.push_str(&rest[..start]);
        let after = &rest[start + TOOL_CALL_OPEN.len()..];
        // The block ends at its close tag, or — when the model stopped before writing one
        // (EOS or a stop string) — at the next open tag or the end of the text.
        let close = after.find(TOOL_CALL_CLOSE);
        let next_open = after.find(TOOL_CALL_OPEN);
        let (body, block_len) = match (close, next_open) {
            (Some(close), Some(open)) if open < close => (&after[..open], open),
            (Some(close), _) => (&after[..close], close + TOOL_CALL_CLOSE.len()),
            (None, Some(open)) => (&after[..open], open),
            (None, None) => (after, after.len()),
        };
        match parse_call(body, tools) {
            Some((name, arguments)) => {
                calls.push(new_call(id_prefix, calls.len(), name, arguments))
            }
            None => content.push_str(&rest[start..start + TOOL_CALL_OPEN.len() + block_len]),
        }
        rest = &after[block_len..];
    }
    content.push_str(rest);

    ParsedOutput {
        content: content.trim().to_owned(),
        tool_calls: calls,
    }
}

fn new_call(id_prefix: &str, index: usize, name: String, arguments: String) -> ToolCall {
    ToolCall {
        id: format!("{id_prefix}{index}"),
        name,
        arguments,
    }
}

/// `{"name": .., "arguments": ..}` naming a known tool → (name, compact JSON arguments).
fn parse_call(body: &str, tools: &[ToolSpec]) -> Option<(String, String)> {
    let JsonValue::Object(object) = serde_json::from_str::<JsonValue>(body.trim()).ok()? else {
        return None;
    };
    let name = object.get("name")?.as_str()?;
    if !tools.iter().any(|tool| tool.name == name) {
        return None;
    }
    // Llama 3.x writes `parameters` instead of `arguments`; a tool without parameters may
    // come with neither.
    let arguments = match object.get("arguments").or_else(|| object.get("parameters")) {
        None | Some(JsonValue::Null) => "{}".to_owned(),
        Some(args @ JsonValue::Object(_)) => args.to_string(),
        // OpenAI-style double encoding: a string holding the JSON. Normalise it to compact
        // JSON; text that is not JSON is passed through so the tool can report the problem.
        Some(JsonValue::String(raw)) => match serde_json::from_str::<JsonValue>(raw) {
            Ok(parsed) => parsed.to_string(),
            Err(_) => raw.clone(),
        },
        Some(_) => return None,
    };
    Some((name.to_owned(), arguments))
}

#[cfg(test)]
#[path = "toolcall_tests.rs"]
mod tests;
