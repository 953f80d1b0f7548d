//! Tests for `toolcall.rs`.

use super::*;
use serde_json::json;

fn tools() -> Vec<ToolSpec> {
    ["get_weather", "get_time"]
        .into_iter()
        .map(|name| ToolSpec {
            name: name.to_owned(),
            description: String::new(),
            parameters: json!({"type": "object"}),
        })
        .collect()
}

fn call(id: &str, name: &str, arguments: &str) -> ToolCall {
    ToolCall {
        id: id.to_owned(),
        name: name.to_owned(),
        arguments: arguments.to_owned(),
    }
}

fn parse(text: &str) -> ParsedOutput {
    parse_tool_calls(text, &tools(), "call_")
}

#[test]
fn one_call() {
    let out = parse(
        "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>",
    );
    assert_eq!(out.content, "");
    assert_eq!(
        out.tool_calls,
        [call("call_0", "get_weather", r#"{"city":"Paris"}"#)]
    );
}

#[test]
fn two_calls() {
    let out = parse(
        "<tool_call>{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\"}}</tool_call>\n\
         <tool_call>{\"name\": \"get_time\", \"arguments\": {}}</tool_call>",
    );
    assert_eq!(out.content, "");
    assert_eq!(
        out.tool_calls,
        [
            call("call_0", "get_weather", r#"{"city":"Oslo"}"#),
            call("call_1", "get_time", "{}"),
        ]
    );
}

#[test]
fn call_with_surrounding_text() {
    let out = parse(
        "Let me check.\n<tool_call>{\"name\": \"get_time\", \"arguments\": {\"tz\": \"UTC\"}}</tool_call>\nOne moment.",
    );
    assert_eq!(out.content, "Let me check.\n\nOne moment.");
    assert_eq!(
        out.tool_calls,
        [call("call_0", "get_time", r#"{"tz":"UTC"}"#)]
    );
}

#[test]
fn missing_close_tag_at_end() {
    let out = parse(
        "Sure. <tool_call>\n  {\"name\": \"get_weather\", \"arguments\": {\"city\": \"Rome\"}}\n",
    );
    assert_eq!(out.content, "Sure.");
    assert_eq!(
        out.tool_calls,
        [call("call_0", "get_weather", r#"{"city":"Rome"}"#)]
    );
}

#[test]
fn missing_close_tag_before_next_call() {
    let out = parse(
        "<tool_call>{\"name\": \"get_time\", \"arguments\": {}}\n\
         <tool_call>{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Rome\"}}</tool_call>",
    );
    assert_eq!(out.content, "");
    assert_eq!(out.tool_calls.len(), 2);
    assert_eq!(out.tool_calls[1].id, "call_1");
}

#[test]
fn invalid_json_stays_as_content() {
    let text =
        "Hmm <tool_call>{\"name\": \"get_weather\", \"arguments\": {city: Paris}}</tool_call>";
    let out = parse(text);
    assert!(out.tool_calls.is_empty());
    assert_eq!(out.content, text);
}

#[test]
fn unknown_tool_stays_as_content_next_to_a_good_call() {
    let bad = "<tool_call>{\"name\": \"rm_rf\", \"arguments\": {}}</tool_call>";
    let good = "<tool_call>{\"name\": \"get_time\", \"arguments\": {}}</tool_call>";
    let out = parse(&format!("{bad}\n{good}"));
    assert_eq!(out.content, bad);
    assert_eq!(out.tool_calls, [call("call_0", "get_time", "{}")]);
}

#[test]
fn bare_json_object_is_a_call() {
    let out = parse("  {\"name\": \"get_weather\", \"arguments\": {\"city\": \"Lima\"}}\n");
    assert_eq!(out.content, "");
    assert_eq!(
        out.tool_calls,
        [call("call_0", "get_weather", r#"{"city":"Lima"}"#)]
    );
}

#[test]
fn bare_json_with_unknown_name_or_extra_text_is_content() {
    let unknown = "{\"name\": \"nope\", \"arguments\": {}}";
    assert_eq!(parse(unknown).content, unknown);
    let chatty = "Here: {\"name\": \"get_time\", \"arguments\": {}}";
    assert!(parse(chatty).tool_calls.is_empty());
}

#[test]
fn arguments_given_as_string() {
    let out = parse(
        "<tool_call>{\"name\": \"get_weather\", \"arguments\": \"{\\\"city\\\": \\\"Kyiv\\\"}\"}</tool_call>",
    );
    assert_eq!(
        out.tool_calls,
        [call("call_0", "get_weather", r#"{"city":"Kyiv"}"#)]
    );
    let raw = parse("<tool_call>{\"name\": \"get_time\", \"arguments\": \"now\"}</tool_call>");
    assert_eq!(raw.tool_calls, [call("call_0", "get_time", "now")]);
}

#[test]
fn parameters_alias_and_missing_arguments() {
    let out = parse("{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Oslo\"}}");
    assert_eq!(
        out.tool_calls,
        [call("call_0", "get_weather", r#"{"city":"Oslo"}"#)]
    );
    let out = parse("<tool_call>{\"name\": \"get_time\"}</tool_call>");
    assert_eq!(out.tool_calls, [call("call_0", "get_time", "{}")]);
}

#[test]
fn plain_text_is_untouched() {
    let out = parse("  Just an answer.\n");
    assert_eq!(
        out,
        ParsedOutput {
            content: "Just an answer.".to_owned(),
            tool_calls: Vec::new()
        }
    );
}
