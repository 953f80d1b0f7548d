//! Tests of the Anthropic provider against a local server that replays the
//! Messages API's documented event sequences and error bodies.

use super::{AnthropicConfig, AnthropicProvider};
use crate::config::ApiKey;
use crate::testing::{Answer, FakeApi, collect};
use futures::StreamExt;
use hearth_core::{
    ChatEvent, ChatMessage, ChatRequest, ErrorKind, FinishReason, Provider, ToolCall, ToolSpec,
    Usage,
};
use hearth_testkit::provider::assert_stream_contract;
use serde_json::json;
use std::time::Duration;

const KEY: &str = "sk-ant-test-0123456789";

fn provider(api: &FakeApi) -> AnthropicProvider {
    let mut config = AnthropicConfig::new(&api.base_url, ApiKey::new(KEY), "claude-test");
    config.timeout = Duration::from_secs(5);
    AnthropicProvider::new(config).unwrap()
}

/// SSE frames with both the `event:` name and the `data:` payload, as the
/// API sends them.
fn events(events: &[(&str, &str)]) -> Answer {
    Answer::Sse(
        events
            .iter()
            .map(|(name, data)| format!("event: {name}\ndata: {data}\n\n"))
            .collect(),
    )
}

const MESSAGE_START: (&str, &str) = (
    "message_start",
    r#"{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"claude-test","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":25,"cache_read_input_tokens":5,"output_tokens":1}}}"#,
);

#[tokio::test]
async fn streams_text_and_maps_the_conversation() {
    let api = FakeApi::start(vec![events(&[
        MESSAGE_START,
        (
            "content_block_start",
            r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
        ),
        ("ping", r#"{"type": "ping"}"#),
        (
            "content_block_delta",
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}"#,
        ),
        (
            "content_block_delta",
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" there"}}"#,
        ),
        (
            "content_block_stop",
            r#"{"type":"content_block_stop","index":0}"#,
        ),
        (
            "message_delta",
            r#"{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":15}}"#,
        ),
        ("message_stop", r#"{"type":"message_stop"}"#),
    ])])
    .await;
    let request = ChatRequest {
        model: String::new(),
        messages: vec![
            ChatMessage::system("be brief"),
            ChatMessage::system("use metric units"),
            ChatMessage::user("hi"),
        ],
        temperature: Some(0.5),
        ..Default::default()
    };
    let (events, err) = collect(provider(&api).chat(request).await.unwrap()).await;
    assert_eq!(err, None);
    assert_stream_contract(&events);
    assert_eq!(
        events,
        vec![
            ChatEvent::TextDelta("Hello".into()),
            ChatEvent::TextDelta(" there".into()),
            ChatEvent::Usage(Usage {
                input_tokens: 30,
                output_tokens: 15
            }),
            ChatEvent::Finished(FinishReason::Stop),
        ]
    );

    let seen = &api.seen()[0];
    assert_eq!(seen.method, "POST");
    assert_eq!(seen.path, "/v1/messages");
    assert_eq!(seen.headers["x-api-key"], KEY);
    assert_eq!(seen.headers["anthropic-version"], "2023-06-01");
    assert!(seen.headers.get("authorization").is_none());
    assert_eq!(seen.body["model"], "claude-test");
    assert_eq!(
        seen.body["max_tokens"], 4096,
        "max_tokens is required: default sent"
    );
    assert_eq!(seen.body["stream"], true);
    assert_eq!(seen.body["system"], "be brief\n\nuse metric units");
    assert_eq!(
        seen.body["messages"],
        json!([{"role":"user","content":[{"type":"text","text":"hi"}]}])
    );
}

#[tokio::test]
async fn tool_use_streams_as_tool_call_deltas_and_results_go_back_as_blocks() {
    let api = FakeApi::start(vec![events(&[
        MESSAGE_START,
        (
            "content_block_start",
            r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
        ),
        (
            "content_block_delta",
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Checking."}}"#,
        ),
        ("content_block_stop", r#"{"type":"content_block_stop","index":0}"#),
        (
            "content_block_start",
            r#"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_01","name":"get_weather","input":{}}}"#,
        ),
        (
            "content_block_delta",
            r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}}"#,
        ),
        (
            "content_block_delta",
            r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"city\": \"Os"}}"#,
        ),
        (
            "content_block_delta",
            r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"lo\"}"}}"#,
        ),
        ("content_block_stop", r#"{"type":"content_block_stop","index":1}"#),
        (
            "content_block_start",
            r#"{"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_02","name":"now","input":{}}}"#,
        ),
        ("content_block_stop", r#"{"type":"content_block_stop","index":2}"#),
        (
            "message_delta",
            r#"{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":89}}"#,
        ),
        ("message_stop", r#"{"type":"message_stop"}"#),
    ])])
    .await;

    let mut assistant = ChatMessage::assistant("Let me look.");
    assistant.tool_calls = vec![
        ToolCall {
            id: "toolu_a".into(),
            name: "get_weather".into(),
            arguments: r#"{"city":"Bergen"}"#.into(),
        },
        ToolCall {
            id: "toolu_b".into(),
            name: "now".into(),
            arguments: String::new(),
        },
    ];
    let request = ChatRequest {
        model: "claude-sonnet-4-5".into(),
        messages: vec![
            ChatMessage::user("weather?"),
            assistant,
            ChatMessage::tool_result("toolu_a", "9°C"),
            ChatMessage::tool_result("toolu_b", "noon"),
        ],
        tools: vec![ToolSpec {
            name: "get_weather".into(),
            description: "Current weather".into(),
            parameters: json!({"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}),
        }],
        max_tokens: Some(256),
        temperature: None,
        ..Default::default()
    };
    let (events, err) = collect(provider(&api).chat(request).await.unwrap()).await;
    assert_eq!(err, None);
    assert_stream_contract(&events);
    let mut c = hearth_core::Completion::default();
    events.iter().for_each(|e| c.apply(e));
    assert_eq!(c.text, "Checking.");
    assert_eq!(
        c.tool_calls,
        vec![
            ToolCall {
                id: "toolu_01".into(),
                name: "get_weather".into(),
                arguments: r#"{"city": "Oslo"}"#.into()
            },
            ToolCall {
                id: "toolu_02".into(),
                name: "now".into(),
                arguments: "{}".into()
            },
        ],
        "block index 1 is tool call 0; a call without input gets {{}}"
    );
    assert_eq!(c.finish_reason, Some(FinishReason::ToolCalls));
    assert_eq!(c.usage.output_tokens, 89);

    let body = &api.seen()[0].body;
    assert_eq!(body["model"], "claude-sonnet-4-5");
    assert_eq!(body["max_tokens"], 256);
    assert!(body.get("system").is_none());
    assert_eq!(
        body["tools"],
        json!([{"name":"get_weather","description":"Current weather",
            "input_schema":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}])
    );
    assert_eq!(
        body["messages"],
        json!([
            {"role":"user","content":[{"type":"text","text":"weather?"}]},
            {"role":"assistant","content":[
                {"type":"text","text":"Let me look."},
                {"type":"tool_use","id":"toolu_a","name":"get_weather","input":{"city":"Bergen"}},
                {"type":"tool_use","id":"toolu_b","name":"now","input":{}}
            ]},
            {"role":"user","content":[
                {"type":"tool_result","tool_use_id":"toolu_a","content":"9°C"},
                {"type":"tool_result","tool_use_id":"toolu_b","content":"noon"}
            ]}
        ]),
        "both results share the one user turn after the calls"
    );
}

#[tokio::test]
async fn stop_reasons_map_to_finish_reasons() {
    for (reason, want) in [
        ("end_turn", FinishReason::Stop),
        ("stop_sequence", FinishReason::Stop),
        ("max_tokens", FinishReason::Length),
        ("tool_use", FinishReason::ToolCalls),
    ] {
        assert_eq!(super::wire::map_stop(reason), want, "{reason}");
    }
}

#[tokio::test]
async fn http_errors_are_classified_with_the_provider_message() {
    let cases = [
        (
            Answer::status(
                401,
                r#"{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}"#,
            ),
            ErrorKind::Auth,
            "invalid x-api-key",
            None,
        ),
        (
            Answer::Status {
                status: 429,
                headers: vec![("retry-after", "12".into())],
                body: r#"{"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"}}"#.into(),
            },
            ErrorKind::RateLimited,
            "per-minute rate limit",
            Some(Duration::from_secs(12)),
        ),
        (
            Answer::status(
                529,
                r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
            ),
            ErrorKind::Overloaded,
            "Overloaded",
            None,
        ),
        (
            Answer::status(
                500,
                r#"{"type":"error","error":{"type":"api_error","message":"Internal server error"}}"#,
            ),
            ErrorKind::Transient,
            "Internal server error",
            None,
        ),
        (
            Answer::status(
                400,
                r#"{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 215000 tokens > 200000 maximum"}}"#,
            ),
            ErrorKind::ContextLength,
            "prompt is too long",
            None,
        ),
        (
            Answer::status(
                400,
                r#"{"type":"error","error":{"type":"invalid_request_error","message":"messages: roles must alternate"}}"#,
            ),
            ErrorKind::InvalidRequest,
            "roles must alternate",
            None,
        ),
    ];
    for (answer, kind, text, retry_after) in cases {
        let api = FakeApi::start(vec![answer]).await;
        let err = provider(&api)
            .chat(ChatRequest::default())
            .await
            .err()
            .unwrap();
        assert_eq!(err.kind, kind, "{err}");
        assert!(err.message.contains(text), "{err}");
        assert!(err.message.contains("anthropic"), "{err}");
        assert!(!err.message.contains(KEY), "key leaked: {err}");
        assert_eq!(err.retry_after, retry_after, "{err}");
    }
}

#[tokio::test]
async fn an_overloaded_error_event_mid_stream_ends_the_stream() {
    let api = FakeApi::start(vec![events(&[
        MESSAGE_START,
        (
            "content_block_start",
            r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
        ),
        (
            "content_block_delta",
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}"#,
        ),
        (
            "error",
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
        ),
    ])])
    .await;
    let (events, err) = collect(provider(&api).chat(ChatRequest::default()).await.unwrap()).await;
    assert_eq!(events, vec![ChatEvent::TextDelta("Hi".into())]);
    let err = err.unwrap();
    assert_eq!(err.kind, ErrorKind::Overloaded);
    assert!(err.message.contains("Overloaded"), "{err}");
}

#[tokio::test]
async fn a_stream_cut_before_message_stop_is_an_error() {
    let api = FakeApi::start(vec![events(&[MESSAGE_START])]).await;
    let (events, err) = collect(provider(&api).chat(ChatRequest::default()).await.unwrap()).await;
    assert!(events.is_empty());
    let err = err.unwrap();
    assert_eq!(err.kind, ErrorKind::Transient);
    assert!(err.message.contains("before message_stop"), "{err}");
}

#[tokio::test]
async fn unknown_events_and_blocks_are_ignored() {
    let api = FakeApi::start(vec![events(&[
        MESSAGE_START,
        (
            "content_block_start",
            r#"{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}"#,
        ),
        (
            "content_block_delta",
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hmm"}}"#,
        ),
        ("content_block_stop", r#"{"type":"content_block_stop","index":0}"#),
        ("brand_new_event", r#"{"type":"brand_new_event","x":1}"#),
        (
            "content_block_start",
            r#"{"type":"content_block_start","index":1,"content_block":{"type":"text","text":"ok"}}"#,
        ),
        ("content_block_stop", r#"{"type":"content_block_stop","index":1}"#),
        ("message_stop", r#"{"type":"message_stop"}"#),
    ])])
    .await;
    let c = provider(&api)
        .complete(ChatRequest::default())
        .await
        .unwrap();
    assert_eq!(c.text, "ok");
    assert_eq!(c.finish_reason, Some(FinishReason::Stop));
}

#[tokio::test]
async fn dropping_the_stream_closes_the_connection() {
    let api = FakeApi::start(vec![Answer::Endless {
        first: vec![format!("event: {}\ndata: {}\n\n", MESSAGE_START.0, MESSAGE_START.1)],
        tick: "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\".\"}}\n\n".into(),
    }])
    .await;
    let mut stream = provider(&api).chat(ChatRequest::default()).await.unwrap();
    assert_eq!(
        stream.next().await.unwrap().unwrap(),
        ChatEvent::TextDelta(".".into())
    );
    drop(stream);
    assert!(
        api.wait_body_dropped().await,
        "the server never saw the client go away"
    );
}

#[tokio::test]
async fn any_http_answer_counts_as_reachable() {
    let api = FakeApi::start(vec![Answer::status(
        401,
        r#"{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}"#,
    )])
    .await;
    provider(&api).check_reachable().await.unwrap();
    let seen = &api.seen()[0];
    assert_eq!(
        (seen.method.as_str(), seen.path.as_str()),
        ("GET", "/v1/models")
    );
    assert_eq!(seen.headers["x-api-key"], KEY);

    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut config =
        AnthropicConfig::new(format!("http://127.0.0.1:{port}"), ApiKey::new(KEY), "m");
    config.timeout = Duration::from_secs(5);
    let down = AnthropicProvider::new(config).unwrap();
    assert_eq!(
        down.check_reachable().await.unwrap_err().kind,
        ErrorKind::Transient
    );
}
