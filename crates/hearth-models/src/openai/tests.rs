//! Tests of the OpenAI-compatible provider against a local server that
//! replays the Chat Completions streaming format and error bodies.

use super::wire::ChunkDecoder;
use super::{OpenAiConfig, OpenAiProvider};
use crate::config::ApiKey;
use crate::sse::{Decoder, Out};
use crate::testing::{Answer, FakeApi, collect};
use futures::StreamExt;
use hearth_core::{
    ChatEvent, ChatMessage, ChatRequest, ErrorKind, FinishReason, Provider, ToolCall, ToolSpec,
    Usage,
};
use hearth_testkit::provider::assert_stream_contract;
use serde_json::json;
use std::time::Duration;

const KEY: &str = "sk-test-0123456789";

fn provider(api: &FakeApi) -> OpenAiProvider {
    let mut config = OpenAiConfig::new(format!("{}/v1/", api.base_url), "gpt-test");
    config.api_key = Some(ApiKey::new(KEY));
    config.timeout = Duration::from_secs(5);
    config.headers = vec![("X-Title".into(), "hearth-tests".into())];
    OpenAiProvider::new(config).unwrap()
}

fn request() -> ChatRequest {
    ChatRequest {
        model: String::new(),
        messages: vec![ChatMessage::system("be brief"), ChatMessage::user("hi")],
        ..Default::default()
    }
}

/// A tool-calling conversation: the assistant called a tool, the tool
/// answered, and the model is asked to continue.
fn tool_request() -> ChatRequest {
    let mut assistant = ChatMessage::assistant("");
    assistant.tool_calls = vec![ToolCall {
        id: "call_1".into(),
        name: "get_weather".into(),
        arguments: r#"{"city":"Oslo"}"#.into(),
    }];
    ChatRequest {
        model: "gpt-4o-mini".into(),
        messages: vec![
            ChatMessage::user("weather in Oslo?"),
            assistant,
            ChatMessage::tool_result("call_1", "12°C, rain"),
        ],
        tools: vec![ToolSpec {
            name: "get_weather".into(),
            description: "Current weather".into(),
            parameters: json!({"type":"object","properties":{"city":{"type":"string"}}}),
        }],
        max_tokens: Some(64),
        temperature: Some(0.2),
        top_p: Some(0.9),
        seed: Some(7),
        stop: vec!["END".into()],
        tool_choice: hearth_core::ToolChoice::Function("get_weather".into()),
    }
}

#[tokio::test]
async fn streams_text_usage_and_finish_and_sends_the_documented_request() {
    let api = FakeApi::start(vec![Answer::data(&[
        r#"{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}"#,
        r#"{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}]}"#,
        r#"{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"lo!"},"finish_reason":null}]}"#,
        r#"{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#,
        r#"{"id":"c1","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15}}"#,
        "[DONE]",
    ])])
    .await;
    let (events, err) = collect(provider(&api).chat(request()).await.unwrap()).await;
    assert_eq!(err, None);
    assert_stream_contract(&events);
    assert_eq!(
        events,
        vec![
            ChatEvent::TextDelta("Hel".into()),
            ChatEvent::TextDelta("lo!".into()),
            ChatEvent::Usage(Usage {
                input_tokens: 12,
                output_tokens: 3
            }),
            ChatEvent::Finished(FinishReason::Stop),
        ]
    );

    let seen = api.seen();
    assert_eq!(seen.len(), 1);
    let req = &seen[0];
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, "/v1/chat/completions");
    assert_eq!(req.headers["authorization"], format!("Bearer {KEY}"));
    assert_eq!(req.headers["x-title"], "hearth-tests");
    assert_eq!(
        req.body["model"], "gpt-test",
        "empty request model uses the default"
    );
    assert_eq!(req.body["stream"], true);
    assert_eq!(req.body["stream_options"], json!({"include_usage": true}));
    assert_eq!(
        req.body["messages"],
        json!([{"role":"system","content":"be brief"},{"role":"user","content":"hi"}])
    );
    assert!(req.body.get("tools").is_none());
    assert!(req.body.get("max_tokens").is_none());
}

#[tokio::test]
async fn tool_calls_round_trip_in_wire_format() {
    // Two parallel calls, arguments split across chunks and interleaved, the
    // way OpenAI streams them.
    let api = FakeApi::start(vec![Answer::data(&[
        r#"{"choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"get_weather","arguments":""}}]},"finish_reason":null}]}"#,
        r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"ci"}}]},"finish_reason":null}]}"#,
        r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_b","type":"function","function":{"name":"get_time","arguments":"{}"}}]},"finish_reason":null}]}"#,
        r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"ty\":\"Oslo\"}"}}]},"finish_reason":null}]}"#,
        r#"{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#,
        r#"{"choices":[],"usage":{"prompt_tokens":40,"completion_tokens":9}}"#,
        "[DONE]",
    ])])
    .await;
    let p = provider(&api);
    let completion = p.complete(tool_request()).await.unwrap();
    assert_eq!(completion.finish_reason, Some(FinishReason::ToolCalls));
    assert_eq!(
        completion.tool_calls,
        vec![
            ToolCall {
                id: "call_a".into(),
                name: "get_weather".into(),
                arguments: r#"{"city":"Oslo"}"#.into()
            },
            ToolCall {
                id: "call_b".into(),
                name: "get_time".into(),
                arguments: "{}".into()
            },
        ]
    );
    assert_eq!(completion.usage.input_tokens, 40);

    let body = &api.seen()[0].body;
    assert_eq!(body["model"], "gpt-4o-mini");
    assert_eq!(body["max_tokens"], 64);
    assert!((body["temperature"].as_f64().unwrap() - 0.2).abs() < 1e-6);
    assert!((body["top_p"].as_f64().unwrap() - 0.9).abs() < 1e-6);
    assert_eq!(body["seed"], 7);
    assert_eq!(body["stop"], json!(["END"]));
    assert_eq!(
        body["tool_choice"],
        json!({"type":"function","function":{"name":"get_weather"}})
    );
    assert_eq!(
        body["tools"],
        json!([{"type":"function","function":{"name":"get_weather","description":"Current weather",
            "parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}])
    );
    assert_eq!(
        body["messages"][1],
        json!({"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function",
            "function":{"name":"get_weather","arguments":"{\"city\":\"Oslo\"}"}}]})
    );
    assert_eq!(
        body["messages"][2],
        json!({"role":"tool","content":"12°C, rain","tool_call_id":"call_1"})
    );
}

#[tokio::test]
async fn sse_frames_split_mid_event_are_reassembled() {
    let api = FakeApi::start(vec![Answer::Sse(vec![
        "data: {\"choices\":[{\"delta\":{\"content\":\"a\"".into(),
        "}}]}\n".into(),
        "\ndata: {\"choices\":[{\"delta\":{\"content\":\"é\"},\"finish_reason\":\"length\"}]}\n\n"
            .into(),
        "data: [DONE]\n\n".into(),
    ])])
    .await;
    let c = provider(&api).complete(request()).await.unwrap();
    assert_eq!(c.text, "aé");
    assert_eq!(c.finish_reason, Some(FinishReason::Length));
}

#[tokio::test]
async fn http_errors_are_classified_with_the_provider_message() {
    let cases = [
        (
            Answer::status(
                401,
                &format!(r#"{{"error":{{"message":"Incorrect API key provided: {KEY}","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}}}"#),
            ),
            ErrorKind::Auth,
            "Incorrect API key provided",
            None,
        ),
        (
            Answer::Status {
                status: 429,
                headers: vec![("retry-after", "7".into())],
                body: r#"{"error":{"message":"Rate limit reached for gpt-4o-mini","type":"requests","code":"rate_limit_exceeded"}}"#.into(),
            },
            ErrorKind::RateLimited,
            "Rate limit reached",
            Some(Duration::from_secs(7)),
        ),
        (
            Answer::Status {
                status: 429,
                headers: vec![("retry-after-ms", "250".into())],
                body: r#"{"error":{"message":"slow down"}}"#.into(),
            },
            ErrorKind::RateLimited,
            "slow down",
            Some(Duration::from_millis(250)),
        ),
        (
            Answer::status(500, r#"{"error":{"message":"The server had an error while processing your request.","type":"server_error"}}"#),
            ErrorKind::Transient,
            "server had an error",
            None,
        ),
        (
            Answer::status(503, r#"{"error":{"message":"The engine is currently overloaded"}}"#),
            ErrorKind::Overloaded,
            "currently overloaded",
            None,
        ),
        (
            Answer::status(400, r#"{"error":{"message":"This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}"#),
            ErrorKind::ContextLength,
            "maximum context length",
            None,
        ),
        (
            Answer::status(404, r#"{"error":"model \"nope\" not found, try pulling it first"}"#),
            ErrorKind::InvalidRequest,
            "try pulling it first",
            None,
        ),
    ];
    for (answer, kind, text, retry_after) in cases {
        let api = FakeApi::start(vec![answer]).await;
        let err = match provider(&api).chat(request()).await {
            Ok(_) => panic!("expected {kind}"),
            Err(err) => err,
        };
        assert_eq!(err.kind, kind, "{err}");
        assert!(err.message.contains(text), "{err}");
        assert!(!err.message.contains(KEY), "key leaked: {err}");
        assert_eq!(err.retry_after, retry_after, "{err}");
    }
}

#[tokio::test]
async fn an_error_inside_the_stream_ends_it() {
    let api = FakeApi::start(vec![Answer::data(&[
        r#"{"choices":[{"delta":{"content":"par"}}]}"#,
        r#"{"error":{"message":"Provider returned error","code":502}}"#,
        r#"{"choices":[{"delta":{"content":"never"}}]}"#,
    ])])
    .await;
    let (events, err) = collect(provider(&api).chat(request()).await.unwrap()).await;
    assert_eq!(events, vec![ChatEvent::TextDelta("par".into())]);
    let err = err.unwrap();
    assert_eq!(err.kind, ErrorKind::Transient);
    assert!(err.message.contains("Provider returned error"), "{err}");
}

#[tokio::test]
async fn a_stream_cut_before_the_finish_is_an_error() {
    let api = FakeApi::start(vec![Answer::data(&[
        r#"{"choices":[{"delta":{"content":"half an ans"}}]}"#,
    ])])
    .await;
    let (events, err) = collect(provider(&api).chat(request()).await.unwrap()).await;
    assert_eq!(events.len(), 1);
    assert_eq!(err.unwrap().kind, ErrorKind::Transient);
}

#[tokio::test]
async fn dropping_the_stream_closes_the_connection() {
    let api = FakeApi::start(vec![Answer::Endless {
        first: vec!["data: {\"choices\":[{\"delta\":{\"content\":\"tick\"}}]}\n\n".into()],
        tick: "data: {\"choices\":[{\"delta\":{\"content\":\".\"}}]}\n\n".into(),
    }])
    .await;
    let mut stream = provider(&api).chat(request()).await.unwrap();
    assert_eq!(
        stream.next().await.unwrap().unwrap(),
        ChatEvent::TextDelta("tick".into())
    );
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
async fn an_unreachable_server_is_transient() {
    // Bind then drop a listener to get a port nothing listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let p = OpenAiProvider::new(OpenAiConfig::new(
        format!("http://127.0.0.1:{port}/v1"),
        "m",
    ))
    .unwrap();
    let err = p.chat(request()).await.err().unwrap();
    assert_eq!(err.kind, ErrorKind::Transient);
    assert!(err.message.contains("request failed"), "{err}");
    assert_eq!(
        p.check_reachable().await.unwrap_err().kind,
        ErrorKind::Transient
    );
}

#[tokio::test]
async fn reachability_probe_lists_models() {
    let api = FakeApi::start(vec![
        Answer::status(
            200,
            r#"{"object":"list","data":[{"id":"gpt-test","object":"model"}]}"#,
        ),
        Answer::status(
            401,
            r#"{"error":{"message":"bad key","code":"invalid_api_key"}}"#,
        ),
    ])
    .await;
    let p = provider(&api);
    p.check_reachable().await.unwrap();
    let seen = api.seen();
    assert_eq!(
        (seen[0].method.as_str(), seen[0].path.as_str()),
        ("GET", "/v1/models")
    );
    assert_eq!(seen[0].headers["authorization"], format!("Bearer {KEY}"));
    assert_eq!(p.check_reachable().await.unwrap_err().kind, ErrorKind::Auth);
}

fn decode(chunks: &[&str]) -> Vec<ChatEvent> {
    let mut decoder = ChunkDecoder::new(None);
    let mut out = Out::new();
    for c in chunks {
        let event = eventsource_stream::Event {
            data: c.to_string(),
            ..Default::default()
        };
        if decoder.event(&event, &mut out) {
            break;
        }
    }
    out.into_iter().map(Result::unwrap).collect()
}

#[test]
fn repeated_names_are_announced_once_and_stop_after_calls_means_tool_calls() {
    // Some servers repeat id and name on every fragment and finish with
    // "stop"; Completion::apply appends names, so this must not double them.
    let events = decode(&[
        r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"id":"x","function":{"name":"f","arguments":"{\"a\""}}]}}]}"#,
        r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"id":"x","function":{"name":"f","arguments":":1}"}}]}}]}"#,
        r#"{"choices":[{"delta":{},"finish_reason":"stop"}]}"#,
        "[DONE]",
    ]);
    assert_stream_contract(&events);
    let mut c = hearth_core::Completion::default();
    events.iter().for_each(|e| c.apply(e));
    assert_eq!(c.tool_calls[0].name, "f");
    assert_eq!(c.tool_calls[0].arguments, r#"{"a":1}"#);
    assert_eq!(c.finish_reason, Some(FinishReason::ToolCalls));
}

#[test]
fn a_whole_call_in_one_chunk_without_index_is_accepted() {
    // Ollama sends each call complete in one chunk.
    let events = decode(&[
        r#"{"choices":[{"delta":{"tool_calls":[{"id":"c0","function":{"name":"a","arguments":"{}"}},{"id":"c1","function":{"name":"b","arguments":"{\"x\":2}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":5,"completion_tokens":6}}"#,
        "[DONE]",
    ]);
    assert_stream_contract(&events);
    assert_eq!(
        events[1],
        ChatEvent::ToolCallDelta {
            index: 1,
            id: Some("c1".into()),
            name: Some("b".into()),
            arguments: r#"{"x":2}"#.into()
        }
    );
    assert_eq!(
        events[2],
        ChatEvent::Usage(Usage {
            input_tokens: 5,
            output_tokens: 6
        })
    );
}
