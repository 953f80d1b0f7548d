//! Tool calls for models that were not trained on a tool format: a GBNF
//! grammar, generated from the tools' JSON Schemas by llama.cpp's own
//! converter, that only admits `<tool_call>{"name": .., "arguments": ..}</tool_call>`
//! with arguments valid against the named tool's schema.

use crate::scheduler::job::Grammar;
use crate::template::{TOOL_CALL_CLOSE, TOOL_CALL_OPEN};
use hearth_core::{ToolChoice, ToolSpec};
use serde_json::{Value, json};

/// The tools a request offers, after `tool_choice` is applied.
pub fn offered(tools: &[ToolSpec], choice: &ToolChoice) -> Vec<ToolSpec> {
    match choice {
        ToolChoice::None => Vec::new(),
        ToolChoice::Auto | ToolChoice::Required => tools.to_vec(),
        ToolChoice::Function(name) => tools.iter().filter(|t| &t.name == name).cloned().collect(),
    }
}

/// The grammar for a call to one of `tools`. With `ToolChoice::Auto` the
/// model may answer in text; the grammar takes over once it writes the
/// opening tag. Otherwise the answer must be a call.
pub fn grammar(tools: &[ToolSpec], choice: &ToolChoice) -> Result<Grammar, String> {
    let calls: Vec<Value> = tools
        .iter()
        .map(|tool| {
            json!({
                "type": "object",
                "properties": {
                    "name": { "const": tool.name },
                    "arguments": arguments_schema(&tool.parameters),
                },
                "required": ["name", "arguments"],
                "additionalProperties": false,
            })
        })
        .collect();
    let schema = if calls.len() == 1 {
        calls.into_iter().next().unwrap_or_default()
    } else {
        json!({ "oneOf": calls })
    };
    let converted = llama_cpp_2::json_schema_to_grammar(&schema.to_string())
        .map_err(|e| format!("cannot build a tool grammar from the tools' schemas: {e}"))?;
    // The converter names its start rule `root`; ours wraps it in the tags.
    let body = rename_root(&converted, "tool-call-json");
    let gbnf = format!(
        "root ::= {open} \"\\n\"? tool-call-json \"\\n\"? {close}\n{body}",
        open = gbnf_literal(TOOL_CALL_OPEN),
        close = gbnf_literal(TOOL_CALL_CLOSE),
    );
    Ok(Grammar {
        gbnf,
        trigger: matches!(choice, ToolChoice::Auto).then(|| TOOL_CALL_OPEN.to_owned()),
    })
}

/// A schema for the arguments object: tools declared without one accept
/// any object.
fn arguments_schema(parameters: &Value) -> Value {
    match parameters {
        Value::Object(map) if !map.is_empty() => parameters.clone(),
        _ => json!({ "type": "object" }),
    }
}

fn rename_root(grammar: &str, name: &str) -> String {
    grammar
        .lines()
        .map(|line| match line.strip_prefix("root ::=") {
            Some(rest) => format!("{name} ::={rest}"),
            None => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn gbnf_literal(text: &str) -> String {
    let escaped = text.replace('\\', "\\\\").replace('"', "\\\"");
    format!("\"{escaped}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weather() -> ToolSpec {
        ToolSpec {
            name: "get_weather".into(),
            description: "Weather for a city".into(),
            parameters: json!({
                "type": "object",
                "properties": { "city": { "type": "string" } },
                "required": ["city"],
            }),
        }
    }

    #[test]
    fn the_grammar_wraps_the_schema_in_tool_call_tags() {
        let tool = weather();
        let grammar = grammar(std::slice::from_ref(&tool), &ToolChoice::Required).expect("grammar");
        assert!(grammar.gbnf.starts_with("root ::= \"<tool_call>\""));
        assert!(grammar.gbnf.contains("tool-call-json ::="));
        assert!(grammar.gbnf.contains("get_weather"));
        assert_eq!(grammar.trigger, None);
        let auto = super::grammar(std::slice::from_ref(&tool), &ToolChoice::Auto).expect("grammar");
        assert_eq!(auto.trigger.as_deref(), Some("<tool_call>"));
    }

    #[test]
    fn a_named_choice_offers_only_that_tool() {
        let tools = [
            weather(),
            ToolSpec {
                name: "other".into(),
                ..weather()
            },
        ];
        let offered = offered(&tools, &ToolChoice::Function("other".into()));
        assert_eq!(offered.len(), 1);
        assert_eq!(offered[0].name, "other");
        assert!(super::offered(&tools, &ToolChoice::None).is_empty());
    }
}
