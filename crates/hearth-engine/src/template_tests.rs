//! Tests for `template.rs` against real-world chat templates (SmolLM2 verbatim from its GGUF;
//! Qwen2.5, Llama 3 and Mistral reproduced from the well-known Hugging Face originals).

use super::*;
use serde_json::json;

/// SmolLM2-135M-Instruct, byte for byte from its GGUF.
const SMOLLM2: &str = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system
You are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>
' }}{% endif %}{{'<|im_start|>' + message['role'] + '
' + message['content'] + '<|im_end|>' + '
'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant
' }}{% endif %}";

/// Qwen2.5-Instruct's tool-aware template (written from memory of the HF original).
const QWEN25: &str = r##"{%- if tools %}
    {{- '<|im_start|>system\n' }}
    {%- if messages[0]['role'] == 'system' %}
        {{- messages[0]['content'] }}
    {%- else %}
        {{- 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.' }}
    {%- endif %}
    {{- "\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>" }}
    {%- for tool in tools %}
        {{- "\n" }}
        {{- tool | tojson }}
    {%- endfor %}
    {{- "\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n" }}
{%- else %}
    {%- if messages[0]['role'] == 'system' %}
        {{- '<|im_start|>system\n' + messages[0]['content'] + '<|im_end|>\n' }}
    {%- else %}
        {{- '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n' }}
    {%- endif %}
{%- endif %}
{%- for message in messages %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) or (message.role == "assistant" and not message.tool_calls) %}
        {{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>' + '\n' }}
    {%- elif message.role == "assistant" %}
        {{- '<|im_start|>' + message.role }}
        {%- if message.content %}
            {{- '\n' + message.content }}
        {%- endif %}
        {%- for tool_call in message.tool_calls %}
            {%- if tool_call.function is defined %}
                {%- set tool_call = tool_call.function %}
            {%- endif %}
            {{- '\n<tool_call>\n{"name": "' }}
            {{- tool_call.name }}
            {{- '", "arguments": ' }}
            {{- tool_call.arguments | tojson }}
            {{- '}\n</tool_call>' }}
        {%- endfor %}
        {{- '<|im_end|>\n' }}
    {%- elif message.role == "tool" %}
        {%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != "tool") %}
            {{- '<|im_start|>user' }}
        {%- endif %}
        {{- '\n<tool_response>\n' }}
        {{- message.content }}
        {{- '\n</tool_response>' }}
        {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}
            {{- '<|im_end|>\n' }}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\n' }}
{%- endif %}
"##;

/// Llama-3-Instruct's template, using `.strip()` where the original uses `| trim`.
const LLAMA3: &str = r"{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'].strip() + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}";

/// Mistral-7B-Instruct-v0.1's template.
const MISTRAL: &str = "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token + ' ' }}{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}";

fn msg(role: Role, content: &str) -> ChatMessage {
    ChatMessage {
        role,
        content: content.to_owned(),
        tool_calls: Vec::new(),
        tool_call_id: None,
    }
}

fn weather_tool() -> ToolSpec {
    ToolSpec {
        name: "get_weather".to_owned(),
        description: "Current weather for a city".to_owned(),
        parameters: json!({
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"]
        }),
    }
}

/// user asks, assistant calls the tool twice, two results come back.
fn tool_history() -> Vec<ChatMessage> {
    let call = |id: &str, city: &str| ToolCall {
        id: id.to_owned(),
        name: "get_weather".to_owned(),
        arguments: format!("{{\"city\": \"{city}\"}}"),
    };
    let result = |id: &str, text: &str| ChatMessage {
        tool_call_id: Some(id.to_owned()),
        ..msg(Role::Tool, text)
    };
    vec![
        msg(Role::User, "Weather in Paris and Oslo?"),
        ChatMessage {
            tool_calls: vec![call("c0", "Paris"), call("c1", "Oslo")],
            ..msg(Role::Assistant, "")
        },
        result("c0", "18C"),
        result("c1", "9C"),
    ]
}

fn render(source: &str, messages: &[ChatMessage], tools: &[ToolSpec]) -> String {
    match ChatTemplate::new(source, "<s>", "</s>").and_then(|t| t.render(messages, tools, true)) {
        Ok(text) => text,
        Err(err) => panic!("{err}"),
    }
}

#[test]
fn smollm2_adds_default_system_prompt() {
    let out = render(SMOLLM2, &[msg(Role::User, "hi")], &[]);
    assert_eq!(
        out,
        "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n\
         <|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
    );
}

#[test]
fn smollm2_with_system_message_and_no_generation_prompt() {
    let template = ChatTemplate::new(SMOLLM2, "", "").expect("compiles");
    let messages = [msg(Role::System, "Be brief."), msg(Role::User, "hi")];
    let with = template.render(&messages, &[], true).expect("renders");
    assert_eq!(
        with,
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
    );
    let without = template.render(&messages, &[], false).expect("renders");
    assert_eq!(without, with.trim_end_matches("<|im_start|>assistant\n"));
}

#[test]
fn smollm2_gets_prompted_tools_in_new_system_message() {
    let template = ChatTemplate::new(SMOLLM2, "", "").expect("compiles");
    assert!(!template.supports_tools());
    let out = template
        .render(&[msg(Role::User, "hi")], &[weather_tool()], true)
        .expect("renders");
    let expected_system = format!(
        "<|im_start|>system\n{}<|im_end|>\n",
        tool_instructions(&[weather_tool()])
    );
    assert!(out.starts_with(&expected_system), "{out}");
    assert!(
        !out.contains("named SmolLM"),
        "our system message replaces the default"
    );
    assert!(out.contains(
        r#"{"name": "get_weather", "description": "Current weather for a city", "parameters": {"#
    ));
    assert!(out.contains(r#"<tool_call>{"name": "<tool name>", "arguments": {...}}</tool_call>"#));
    assert!(out.ends_with("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"));
}

#[test]
fn smollm2_appends_tools_to_existing_system_message() {
    let messages = [msg(Role::System, "Be brief."), msg(Role::User, "hi")];
    let out = render(SMOLLM2, &messages, &[weather_tool()]);
    let tools = tool_instructions(&[weather_tool()]);
    assert!(out.starts_with(&format!(
        "<|im_start|>system\nBe brief.\n\n{tools}<|im_end|>\n"
    )));
}

#[test]
fn smollm2_renders_tool_history_as_tags() {
    let out = render(SMOLLM2, &tool_history(), &[weather_tool()]);
    let tail = "<|im_start|>user\nWeather in Paris and Oslo?<|im_end|>\n\
        <|im_start|>assistant\n\
        <tool_call>{\"name\": \"get_weather\", \"arguments\": {\"city\":\"Paris\"}}</tool_call>\n\
        <tool_call>{\"name\": \"get_weather\", \"arguments\": {\"city\":\"Oslo\"}}</tool_call><|im_end|>\n\
        <|im_start|>user\n<tool_response>\n18C\n</tool_response>\n<tool_response>\n9C\n</tool_response><|im_end|>\n\
        <|im_start|>assistant\n";
    assert!(out.ends_with(tail), "{out}");
}

#[test]
fn tool_history_without_tools_skips_instructions() {
    let out = render(SMOLLM2, &tool_history(), &[]);
    assert!(
        out.contains("named SmolLM"),
        "no system message is created: {out}"
    );
    assert!(!out.contains("<tools>"));
    assert!(out.contains("<tool_response>\n18C\n</tool_response>"));
}

#[test]
fn prompted_calls_keep_content_and_raw_arguments() {
    let messages = [ChatMessage {
        tool_calls: vec![ToolCall {
            id: "c0".to_owned(),
            name: "get_weather".to_owned(),
            arguments: "not json".to_owned(),
        }],
        ..msg(Role::Assistant, "Checking.")
    }];
    let out = prompted_messages(&messages, &[]);
    assert_eq!(
        out[0].content,
        "Checking.\n<tool_call>{\"name\": \"get_weather\", \"arguments\": \"not json\"}</tool_call>"
    );
}

#[test]
fn qwen25_renders_tools_natively() {
    let template = ChatTemplate::new(QWEN25, "", "<|im_end|>").expect("compiles");
    assert!(template.supports_tools());
    let out = template
        .render(&tool_history(), &[weather_tool()], true)
        .expect("renders");
    // Python-style `json.dumps`, keys in OpenAI order, no HTML escaping.
    // (Parameter key order follows serde_json's map, so only the wrapper is compared exactly.)
    assert!(
        out.contains(
            "<tools>\n{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \
         \"description\": \"Current weather for a city\", \"parameters\": {"
        ),
        "{out}"
    );
    assert!(out.contains("\"required\": [\"city\"]") && out.contains("}}}\n</tools>"));
    assert!(out.contains(
        "<|im_start|>assistant\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>\n\
         <tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\"}}\n</tool_call><|im_end|>\n"
    ), "{out}");
    assert!(out.contains(
        "<|im_start|>user\n<tool_response>\n18C\n</tool_response>\n<tool_response>\n9C\n</tool_response><|im_end|>\n"
    ));
    assert!(
        !out.contains("# Tools\n\nYou may call one or more tools"),
        "no fallback block"
    );
    assert!(out.ends_with("<|im_start|>assistant\n"));
}

#[test]
fn qwen25_without_tools_uses_default_system_prompt() {
    let out = render(QWEN25, &[msg(Role::User, "hi")], &[]);
    assert_eq!(
        out,
        "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n\
         <|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
    );
}

#[test]
fn llama3_uses_bos_and_strip() {
    let template = ChatTemplate::new(LLAMA3, "<|begin_of_text|>", "<|eot_id|>").expect("compiles");
    let messages = [msg(Role::System, "  Be brief. "), msg(Role::User, "hi\n")];
    let out = template.render(&messages, &[], true).expect("renders");
    assert_eq!(
        out,
        "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>\
         <|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>\
         <|start_header_id|>assistant<|end_header_id|>\n\n"
    );
}

#[test]
fn mistral_renders_alternating_turns() {
    let messages = [
        msg(Role::User, "hi"),
        msg(Role::Assistant, "Hello"),
        msg(Role::User, "more"),
    ];
    let out = render(MISTRAL, &messages, &[]);
    assert_eq!(out, "<s>[INST] hi [/INST]Hello</s> [INST] more [/INST]");
}

#[test]
fn mistral_raise_exception_is_a_render_error() {
    let template = ChatTemplate::new(MISTRAL, "<s>", "</s>").expect("compiles");
    let messages = [msg(Role::User, "hi"), msg(Role::User, "again")];
    match template.render(&messages, &[], true) {
        Err(TemplateError::Render(text)) => assert!(
            text.contains("Conversation roles must alternate user/assistant/user/assistant/..."),
            "{text}"
        ),
        other => panic!("expected a render error, got {other:?}"),
    }
}

#[test]
fn broken_template_is_a_compile_error() {
    match ChatTemplate::new("{% for %}", "", "") {
        Err(err @ TemplateError::Compile(_)) => {
            assert!(
                err.to_string()
                    .starts_with("the model's chat template does not compile")
            );
            assert!(err.to_string().contains("chat_template:1"), "{err}");
        }
        other => panic!("expected a compile error, got {other:?}"),
    }
}

#[test]
fn tools_variable_is_none_when_empty() {
    let source = "{% if tools is none %}none{% else %}{{ tools | length }}{% endif %}";
    assert_eq!(render(source, &[], &[]), "none");
    assert_eq!(render(source, &[], &[weather_tool()]), "1");
}

#[test]
fn tojson_matches_python_json_dumps() {
    let source = "{{ tools[0].function.parameters | tojson(indent=4) }}|\
                  {{ {'b': 1.0, 'a': \"it's <x>\"} | tojson(sort_keys=true) }}|\
                  {{ ['é', 2] | tojson(separators=(',', ':')) }}|{{ [] | tojson(indent=2) }}";
    let out = render(source, &[], &[weather_tool()]);
    let expected = "{\n    \"type\": \"object\",\n    \"properties\": {\n        \"city\": {\n            \
                    \"type\": \"string\"\n        }\n    },\n    \"required\": [\n        \"city\"\n    ]\n}|\
                    {\"a\": \"it's <x>\", \"b\": 1.0}|[\"é\",2]|[]";
    // serde_json without `preserve_order` hands us keys sorted, so compare modulo order.
    let (indented, rest) = out.split_once('|').expect("separator");
    let parsed: JsonValue = serde_json::from_str(indented).expect("valid JSON");
    assert_eq!(parsed, weather_tool().parameters);
    assert!(indented.starts_with("{\n    \""), "{indented}");
    assert!(
        indented.contains("\n        \"city\": {\n            \"type\": \"string\"\n        }")
    );
    assert_eq!(rest, expected.split_once('|').expect("separator").1);
}

#[test]
fn python_string_and_dict_methods_work() {
    let source = "{{ '  a,b '.strip().split(',') | join('+') }} {{ 'hello'.startswith('he') }} \
                  {% for k, v in {'x': 1}.items() %}{{ k }}={{ v }}{% endfor %} \
                  {{ messages[0].get('missing', 'dflt') }}";
    assert_eq!(
        render(source, &[msg(Role::User, "hi")], &[]),
        "a+b True x=1 dflt"
    );
}

#[test]
fn trim_and_lstrip_blocks_match_hf() {
    let source = "{% for m in messages %}\n    {% if true %}\n{{ m.content }}\n    {% endif %}\n{% endfor %}";
    assert_eq!(
        render(source, &[msg(Role::User, "a"), msg(Role::User, "b")], &[]),
        "a\nb\n"
    );
}

#[test]
fn generation_tags_are_accepted() {
    let source = "{% for m in messages %}{%- generation -%} {{ m.content }} {%- endgeneration %}{% endfor %}";
    assert_eq!(render(source, &[msg(Role::Assistant, "ok")], &[]), "ok");
}

#[test]
fn strftime_formats_utc_dates() {
    // 2024-07-26 14:10:45 UTC, a Friday.
    let secs = 1_722_003_045;
    assert_eq!(strftime("%Y-%m-%d %H:%M:%S", secs), "2024-07-26 14:10:45");
    assert_eq!(
        strftime("%d %b %Y, %A %B %-d %-m %%", secs),
        "26 Jul 2024, Friday July 26 7 %"
    );
    assert_eq!(
        strftime("%a %d %b %F", 951_782_400),
        "Tue 29 Feb %F",
        "leap day 2000-02-29, unknown %F kept"
    );
    let year = render("{{ strftime_now('%Y') }}", &[], &[]);
    assert!(year.len() == 4 && year.starts_with('2'), "{year}");
}
