//! MCP results as the text a model reads: text joined, images, audio and
//! binary resources summarized by type and size, and everything capped at
//! [`MAX_RESULT_BYTES`].
//!
//! It reads the spec's JSON shapes (`{"type": "text", ...}`) rather than
//! the SDK's Rust types, so a new content kind or an SDK rename degrades to
//! a summary line instead of a compile error or a lost result.

use serde_json::Value;

/// The most text one call returns. A result is read into the model's
/// context whole: past this it would crowd out the conversation.
pub const MAX_RESULT_BYTES: usize = 64 * 1024;

/// Content blocks (`CallToolResult.content`, a prompt message's content)
/// as text, one block per paragraph.
pub(crate) fn content_blocks(blocks: &[Value]) -> String {
    let parts: Vec<String> = blocks.iter().map(content_block).collect();
    parts.join("\n")
}

fn content_block(block: &Value) -> String {
    let kind = block.get("type").and_then(Value::as_str).unwrap_or("");
    match kind {
        "text" => str_field(block, "text").to_owned(),
        "image" | "audio" => format!(
            "[{kind}: {}, {} bytes]",
            mime(block),
            base64_len(str_field(block, "data"))
        ),
        "resource" => resource_contents(block.get("resource").unwrap_or(&Value::Null)),
        "resource_link" => {
            let uri = str_field(block, "uri");
            match block.get("name").and_then(Value::as_str) {
                Some(name) if name != uri => format!("[resource link: {name} <{uri}>]"),
                _ => format!("[resource link: <{uri}>]"),
            }
        }
        "" => "[content without a type]".to_owned(),
        other => format!("[{other} content]"),
    }
}

/// One entry of `ReadResourceResult.contents`, or an embedded resource:
/// text under a header naming it, or a summary of a blob.
pub(crate) fn resource_contents(resource: &Value) -> String {
    let uri = str_field(resource, "uri");
    if let Some(text) = resource.get("text").and_then(Value::as_str) {
        format!("[resource: {uri}]\n{text}")
    } else if let Some(blob) = resource.get("blob").and_then(Value::as_str) {
        format!(
            "[resource: {uri}, {}, {} bytes]",
            mime(resource),
            base64_len(blob)
        )
    } else {
        format!("[resource: {uri}]")
    }
}

fn str_field<'a>(value: &'a Value, field: &str) -> &'a str {
    value.get(field).and_then(Value::as_str).unwrap_or("")
}

fn mime(value: &Value) -> &str {
    value
        .get("mimeType")
        .and_then(Value::as_str)
        .unwrap_or("unknown type")
}

/// The decoded size of base64 text, without decoding it.
fn base64_len(data: &str) -> usize {
    let data = data.trim_end();
    let padding = data.bytes().rev().take_while(|b| *b == b'=').count();
    (data.len() / 4 * 3 + (data.len() % 4).saturating_sub(1)).saturating_sub(padding)
}

/// A `tools/call` result: its text, and whether the server flagged it as
/// an error. Structured content is used when there is no content block.
pub(crate) fn call_result(result: &Value) -> (String, bool) {
    let is_error = result
        .get("isError")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let blocks = result
        .get("content")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let text = match result.get("structuredContent") {
        Some(structured) if blocks.is_empty() => structured.to_string(),
        _ => content_blocks(blocks),
    };
    (text, is_error)
}

/// `text` cut to [`MAX_RESULT_BYTES`] at a character boundary, with a note
/// saying how much was left out.
pub(crate) fn capped(mut text: String) -> String {
    if text.len() <= MAX_RESULT_BYTES {
        return text;
    }
    let total = text.len();
    let mut cut = MAX_RESULT_BYTES;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    text.truncate(cut);
    text.push_str(&format!("\n[truncated: {cut} of {total} bytes shown]"));
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn text_blocks_are_joined_and_media_summarized() {
        let result = json!({
            "content": [
                {"type": "text", "text": "first"},
                {"type": "image", "data": "iVBORw0KGgo=", "mimeType": "image/png"},
                {"type": "audio", "data": "AAAA", "mimeType": "audio/wav"},
                {"type": "resource", "resource": {"uri": "file:///a.txt", "text": "hello"}},
                {"type": "resource", "resource": {"uri": "file:///b.bin", "blob": "AAE=", "mimeType": "application/octet-stream"}},
                {"type": "resource_link", "uri": "file:///c", "name": "c file"},
                {"type": "hologram"}
            ]
        });
        let (text, is_error) = call_result(&result);
        assert!(!is_error);
        assert_eq!(
            text,
            "first\n[image: image/png, 8 bytes]\n[audio: audio/wav, 3 bytes]\n\
             [resource: file:///a.txt]\nhello\n\
             [resource: file:///b.bin, application/octet-stream, 2 bytes]\n\
             [resource link: c file <file:///c>]\n[hologram content]"
        );
    }

    #[test]
    fn errors_and_structured_content() {
        let (text, is_error) = call_result(&json!({
            "content": [{"type": "text", "text": "no such file"}],
            "isError": true
        }));
        assert_eq!((text.as_str(), is_error), ("no such file", true));
        let (text, _) = call_result(&json!({"content": [], "structuredContent": {"a": 1}}));
        assert_eq!(text, r#"{"a":1}"#);
    }

    #[test]
    fn base64_sizes() {
        assert_eq!(base64_len(""), 0);
        assert_eq!(base64_len("AA=="), 1);
        assert_eq!(base64_len("AAA="), 2);
        assert_eq!(base64_len("AAAA"), 3);
        assert_eq!(base64_len("AAAAAA"), 4);
    }

    #[test]
    fn long_results_are_capped_on_a_char_boundary() {
        let short = "é".repeat(10);
        assert_eq!(capped(short.clone()), short);
        let long = "é".repeat(MAX_RESULT_BYTES);
        let out = capped(long);
        assert!(out.len() < MAX_RESULT_BYTES + 100);
        assert!(out.ends_with(&format!(
            "[truncated: {MAX_RESULT_BYTES} of {} bytes shown]",
            MAX_RESULT_BYTES * 2
        )));
    }
}
