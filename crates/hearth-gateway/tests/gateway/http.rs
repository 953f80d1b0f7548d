//! The HTTP side of the port: probes, metrics, and the OpenAI-compatible
//! API (including Hearth's own OpenAI provider talking to it).

use hearth_core::Provider;
use serde_json::{Value, json};

use crate::{TOKEN, client, server};

#[tokio::test]
async fn probes_and_metrics() {
    let s = server().await;
    let http = reqwest::Client::new();
    let ok = http
        .get(format!("{}/healthz", s.http))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let ready = http.get(format!("{}/readyz", s.http)).send().await.unwrap();
    assert_eq!(ready.json::<Value>().await.unwrap()["ready"], true);
    // One turn, then the metrics show it.
    let mut c = client(&s).await;
    c.request_final("agent", json!({"message": "x"}))
        .await
        .unwrap();
    let metrics = http
        .get(format!("{}/metrics", s.http))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for name in [
        "hearth_turn_duration_seconds_bucket",
        "hearth_provider_first_event_seconds",
        "hearth_queue_depth",
        "hearth_turns_total{state=\"done\"} 1",
    ] {
        assert!(metrics.contains(name), "{name} in\n{metrics}");
    }
}

#[tokio::test]
async fn openai_api_needs_the_token_and_names_agents() {
    let s = server().await;
    let http = reqwest::Client::new();
    let unauth = http
        .get(format!("{}/v1/models", s.http))
        .send()
        .await
        .unwrap();
    assert_eq!(unauth.status(), 401);
    let models: Value = http
        .get(format!("{}/v1/models", s.http))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(models["data"][0]["id"], "main");
    let unknown = http
        .post(format!("{}/v1/chat/completions", s.http))
        .bearer_auth(TOKEN)
        .json(&json!({"model": "gpt-4", "messages": [{"role": "user", "content": "x"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    let bad = http
        .post(format!("{}/v1/chat/completions", s.http))
        .bearer_auth(TOKEN)
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    assert!(
        bad.json::<Value>().await.unwrap()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("invalid request body")
    );
}

#[tokio::test]
async fn openai_completion_non_streaming_and_streaming() {
    let s = server().await;
    let http = reqwest::Client::new();
    let body = json!({"model": "main", "messages": [
        {"role": "system", "content": "ignored"},
        {"role": "user", "content": "earlier"},
        {"role": "assistant", "content": "reply"},
        {"role": "user", "content": [{"type": "text", "text": "now this"}]}]});
    let res: Value = http
        .post(format!("{}/v1/chat/completions", s.http))
        .bearer_auth(TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(res["choices"][0]["message"]["content"], "now this", "{res}");
    assert_eq!(res["object"], "chat.completion");
    // The provider's own token count (echo counts words), not an estimate.
    assert_eq!(res["usage"]["completion_tokens"], 2, "{res}");

    let mut stream_body = body.clone();
    stream_body["stream"] = json!(true);
    let text = http
        .post(format!("{}/v1/chat/completions", s.http))
        .bearer_auth(TOKEN)
        .json(&stream_body)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut content = String::new();
    let mut finish = None;
    for line in text.lines().filter_map(|l| l.strip_prefix("data: ")) {
        if line == "[DONE]" {
            break;
        }
        let chunk: Value = serde_json::from_str(line).unwrap();
        content.push_str(
            chunk["choices"][0]["delta"]["content"]
                .as_str()
                .unwrap_or(""),
        );
        if let Some(f) = chunk["choices"][0]["finish_reason"].as_str() {
            finish = Some(f.to_owned());
        }
    }
    assert_eq!(content, "now this");
    assert_eq!(finish.as_deref(), Some("stop"));
    assert!(text.trim_end().ends_with("data: [DONE]"));
}

/// Hearth's OpenAI provider talking to Hearth's own OpenAI endpoint: the
/// two halves of the wire format agree.
#[tokio::test]
async fn the_openai_provider_speaks_to_our_own_endpoint() {
    let s = server().await;
    let mut config = hearth_models::OpenAiConfig::new(format!("{}/v1", s.http), "main");
    config.api_key = Some(hearth_models::ApiKey::new(TOKEN));
    let provider = hearth_models::OpenAiProvider::new(config).unwrap();
    let request = hearth_core::ChatRequest {
        model: "main".into(),
        messages: vec![hearth_core::ChatMessage::user("round trip")],
        ..Default::default()
    };
    let completion = provider.complete(request).await.unwrap();
    assert_eq!(completion.text, "round trip");
    assert_eq!(
        completion.finish_reason,
        Some(hearth_core::FinishReason::Stop)
    );
}
