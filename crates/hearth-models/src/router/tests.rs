//! Router tests: retries, backoff, fallback, timeouts and the circuit
//! breaker, on the paused tokio clock with scripted providers.

use super::{BreakerState, Router, RouterSettings, UnknownModel};
use crate::config::{AttemptLimits, BuildError, ModelConfig, ModelEntry, ProviderKind};
use crate::testing::collect;
use futures::StreamExt;
use hearth_core::{
    ChatEvent, ChatMessage, ChatRequest, ErrorKind, FinishReason, Provider, ProviderError,
};
use hearth_testkit::provider::{Reply, ScriptedProvider};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

const TIMEOUT: Duration = Duration::from_secs(10);
const IDLE: Duration = Duration::from_secs(5);

fn entry(name: &str, provider: &Arc<ScriptedProvider>, max_retries: u32) -> ModelEntry {
    ModelEntry::new(
        name,
        provider.clone(),
        format!("{name}-model"),
        AttemptLimits {
            timeout: TIMEOUT,
            idle_timeout: IDLE,
            max_retries,
        },
    )
}

fn router(settings: RouterSettings, entries: Vec<ModelEntry>) -> Router {
    let mut router = Router::new(settings);
    for e in entries {
        router.add(e).unwrap();
    }
    router
}

fn request() -> ChatRequest {
    ChatRequest {
        model: "ignored".into(),
        messages: vec![ChatMessage::user("hi")],
        ..Default::default()
    }
}

fn err(kind: ErrorKind) -> ProviderError {
    ProviderError::new(kind, format!("scripted {kind}"))
}

fn breaker_of(router: &Router, name: &str) -> BreakerState {
    router
        .models()
        .into_iter()
        .find(|m| m.name == name)
        .unwrap()
        .breaker
}

#[tokio::test(start_paused = true)]
async fn rate_limit_is_retried_after_the_asked_delay() {
    let a = ScriptedProvider::new(
        "a",
        [Reply::Fail(
            err(ErrorKind::RateLimited).with_retry_after(Some(Duration::from_secs(7))),
        )],
        Reply::text("ok"),
    );
    let route = router(RouterSettings::default(), vec![entry("a", &a, 2)])
        .route::<&str>("a", &[])
        .unwrap();
    let start = Instant::now();
    let answer = route.complete(request()).await.unwrap();
    assert_eq!(answer.text, "ok");
    let times = a.call_times();
    assert_eq!(times.len(), 2);
    assert_eq!(times[1] - times[0], Duration::from_secs(7));
    assert!(start.elapsed() < Duration::from_secs(8));
    assert_eq!(
        a.requests()[0].model,
        "a-model",
        "the entry's model name is sent"
    );
}

#[tokio::test(start_paused = true)]
async fn backoff_grows_then_the_fallback_answers() {
    let a = ScriptedProvider::always("a", Reply::Fail(err(ErrorKind::Transient)));
    let b = ScriptedProvider::always("b", Reply::text("from b"));
    let r = router(
        RouterSettings::default(),
        vec![entry("a", &a, 2), entry("b", &b, 2)],
    );
    let routed = r
        .route("a", &["b"])
        .unwrap()
        .chat_routed(request())
        .await
        .unwrap();
    assert_eq!(routed.model, "b");
    let (events, error) = collect(routed.stream).await;
    assert_eq!(error, None);
    assert_eq!(events[0], ChatEvent::TextDelta("from b".into()));

    let t = a.call_times();
    assert_eq!(t.len(), 3, "one try and two retries");
    let (first, second) = (t[1] - t[0], t[2] - t[1]);
    assert!(
        first >= Duration::from_millis(250) && first < Duration::from_millis(500),
        "{first:?}"
    );
    assert!(
        second >= Duration::from_millis(500) && second < Duration::from_millis(1000),
        "{second:?}"
    );
    assert_eq!(b.call_count(), 1);
    assert_eq!(b.requests()[0].model, "b-model");
}

#[tokio::test(start_paused = true)]
async fn auth_failure_moves_to_the_fallback_without_retrying() {
    let a = ScriptedProvider::always("a", Reply::Fail(err(ErrorKind::Auth)));
    let b = ScriptedProvider::always("b", Reply::text("b"));
    let r = router(
        RouterSettings::default(),
        vec![entry("a", &a, 2), entry("b", &b, 2)],
    );
    let start = Instant::now();
    let answer = r
        .route("a", &["b"])
        .unwrap()
        .complete(request())
        .await
        .unwrap();
    assert_eq!(answer.text, "b");
    assert_eq!(a.call_count(), 1);
    assert_eq!(
        start.elapsed(),
        Duration::ZERO,
        "no backoff before a fallback"
    );
}

#[tokio::test(start_paused = true)]
async fn context_length_returns_at_once() {
    let a = ScriptedProvider::always("a", Reply::Fail(err(ErrorKind::ContextLength)));
    let b = ScriptedProvider::always("b", Reply::text("b"));
    let r = router(
        RouterSettings::default(),
        vec![entry("a", &a, 2), entry("b", &b, 2)],
    );
    let error = r
        .route("a", &["b"])
        .unwrap()
        .chat(request())
        .await
        .err()
        .unwrap();
    assert_eq!(error.kind, ErrorKind::ContextLength);
    assert!(error.message.contains("\"a\""), "{error}");
    assert_eq!((a.call_count(), b.call_count()), (1, 0));
    assert_eq!(breaker_of(&r, "a"), BreakerState::Closed);
}

#[tokio::test(start_paused = true)]
async fn no_retry_or_fallback_after_the_first_event() {
    let a = ScriptedProvider::always(
        "a",
        Reply::Stream(vec![
            Ok(ChatEvent::TextDelta("partial".into())),
            Err(err(ErrorKind::Transient)),
        ]),
    );
    let b = ScriptedProvider::always("b", Reply::text("b"));
    let r = router(
        RouterSettings::default(),
        vec![entry("a", &a, 2), entry("b", &b, 2)],
    );
    let stream = r.route("a", &["b"]).unwrap().chat(request()).await.unwrap();
    let (events, error) = collect(stream).await;
    assert_eq!(events, vec![ChatEvent::TextDelta("partial".into())]);
    assert_eq!(error.unwrap().kind, ErrorKind::Transient);
    assert_eq!((a.call_count(), b.call_count()), (1, 0));
}

#[tokio::test(start_paused = true)]
async fn an_error_as_first_event_is_still_retried() {
    let a = ScriptedProvider::new(
        "a",
        [Reply::Stream(vec![Err(err(ErrorKind::Overloaded))])],
        Reply::text("second try"),
    );
    let r = router(RouterSettings::default(), vec![entry("a", &a, 1)]);
    let answer = r
        .route::<&str>("a", &[])
        .unwrap()
        .complete(request())
        .await
        .unwrap();
    assert_eq!(answer.text, "second try");
    assert_eq!(a.call_count(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_silent_model_times_out_and_falls_back() {
    let a = ScriptedProvider::always("a", Reply::Hang);
    let b = ScriptedProvider::always("b", Reply::text("b"));
    let r = router(
        RouterSettings::default(),
        vec![entry("a", &a, 0), entry("b", &b, 0)],
    );
    let start = Instant::now();
    let routed = r
        .route("a", &["b"])
        .unwrap()
        .chat_routed(request())
        .await
        .unwrap();
    assert_eq!(routed.model, "b");
    assert_eq!(start.elapsed(), TIMEOUT);
}

#[tokio::test(start_paused = true)]
async fn a_stalled_stream_ends_with_an_idle_timeout() {
    let a = ScriptedProvider::always(
        "a",
        Reply::StreamThenHang(vec![ChatEvent::TextDelta("thinking".into())]),
    );
    let r = router(RouterSettings::default(), vec![entry("a", &a, 0)]);
    let mut stream = r
        .route::<&str>("a", &[])
        .unwrap()
        .chat(request())
        .await
        .unwrap();
    assert_eq!(
        stream.next().await.unwrap().unwrap(),
        ChatEvent::TextDelta("thinking".into())
    );
    let start = Instant::now();
    let error = stream.next().await.unwrap().unwrap_err();
    assert_eq!(error.kind, ErrorKind::Transient);
    assert!(error.message.contains("stalled"), "{error}");
    assert_eq!(start.elapsed(), IDLE);
    assert!(stream.next().await.is_none());
}

#[tokio::test(start_paused = true)]
async fn breaker_opens_after_n_failures_and_half_opens_after_cool_down() {
    let settings = RouterSettings {
        breaker_failures: 3,
        breaker_cooldown_secs: 30,
        ..RouterSettings::default()
    };
    let a = ScriptedProvider::new(
        "a",
        (0..3).map(|_| Reply::Fail(err(ErrorKind::Transient))),
        Reply::text("a is back"),
    );
    let b = ScriptedProvider::always("b", Reply::text("b"));
    let r = router(settings, vec![entry("a", &a, 0), entry("b", &b, 0)]);
    let route = r.route("a", &["b"]).unwrap();

    for _ in 0..3 {
        assert_eq!(route.chat_routed(request()).await.unwrap().model, "b");
    }
    assert_eq!(breaker_of(&r, "a"), BreakerState::Open);
    assert_eq!(r.models()[0].consecutive_failures, 3);

    // Open: `a` is skipped without being called.
    assert_eq!(route.chat_routed(request()).await.unwrap().model, "b");
    assert_eq!(a.call_count(), 3);

    // Only `a`, open: nothing can be tried.
    let alone = r.route::<&str>("a", &[]).unwrap();
    let error = alone.chat(request()).await.err().unwrap();
    assert_eq!(error.kind, ErrorKind::Unavailable);
    assert!(error.message.contains("circuit open"), "{error}");

    tokio::time::advance(Duration::from_secs(30)).await;
    assert_eq!(breaker_of(&r, "a"), BreakerState::HalfOpen);
    let routed = route.chat_routed(request()).await.unwrap();
    assert_eq!(routed.model, "a", "the trial request goes to `a`");
    assert_eq!(breaker_of(&r, "a"), BreakerState::Closed);
}

#[tokio::test(start_paused = true)]
async fn a_retry_after_beyond_the_cap_moves_on_instead_of_waiting() {
    let a = ScriptedProvider::always(
        "a",
        Reply::Fail(err(ErrorKind::RateLimited).with_retry_after(Some(Duration::from_secs(600)))),
    );
    let b = ScriptedProvider::always("b", Reply::text("b"));
    let r = router(
        RouterSettings::default(),
        vec![entry("a", &a, 2), entry("b", &b, 2)],
    );
    let start = Instant::now();
    let answer = r
        .route("a", &["b"])
        .unwrap()
        .complete(request())
        .await
        .unwrap();
    assert_eq!(answer.text, "b");
    assert_eq!(start.elapsed(), Duration::ZERO);
    assert_eq!(a.call_count(), 1);

    // With no fallback left, the wait is cut to the cap.
    let start = Instant::now();
    let error = r
        .route::<&str>("a", &[])
        .unwrap()
        .chat(request())
        .await
        .err()
        .unwrap();
    assert_eq!(error.kind, ErrorKind::RateLimited);
    assert_eq!(start.elapsed(), Duration::from_secs(2 * 30));
}

#[tokio::test(start_paused = true)]
async fn the_last_error_is_returned_when_every_model_fails() {
    let a = ScriptedProvider::always("a", Reply::Fail(err(ErrorKind::Auth)));
    let b = ScriptedProvider::always("b", Reply::Fail(err(ErrorKind::InvalidRequest)));
    let r = router(
        RouterSettings::default(),
        vec![entry("a", &a, 2), entry("b", &b, 2)],
    );
    let error = r
        .route("a", &["b"])
        .unwrap()
        .chat(request())
        .await
        .err()
        .unwrap();
    assert_eq!(error.kind, ErrorKind::InvalidRequest);
    assert!(error.message.contains("model \"b\""), "{error}");
}

#[tokio::test(start_paused = true)]
async fn dropping_the_routed_stream_drops_the_provider_stream() {
    let a = ScriptedProvider::always(
        "a",
        Reply::StreamThenHang(vec![ChatEvent::TextDelta("x".into())]),
    );
    let r = router(RouterSettings::default(), vec![entry("a", &a, 0)]);
    let mut stream = r
        .route::<&str>("a", &[])
        .unwrap()
        .chat(request())
        .await
        .unwrap();
    stream.next().await.unwrap().unwrap();
    assert!(!a.stream_dropped());
    drop(stream);
    assert!(a.stream_dropped());
}

#[test]
fn routes_name_known_models_and_names_are_unique() {
    let a = ScriptedProvider::always("a", Reply::text("a"));
    let mut r = router(RouterSettings::default(), vec![entry("a", &a, 0)]);
    assert_eq!(
        r.route("a", &["nope"]).unwrap_err(),
        UnknownModel("nope".into())
    );
    assert_eq!(
        r.add(entry("a", &a, 0)).unwrap_err(),
        BuildError::DuplicateModel("a".into())
    );
    assert_eq!(r.route("a", &["a"]).unwrap().models(), vec!["a"]);
}

#[tokio::test]
async fn a_router_built_from_config_answers_through_echo() {
    let mut models = BTreeMap::new();
    models.insert(
        "bench".to_string(),
        ModelConfig::new(ProviderKind::Echo, ""),
    );
    models.insert(
        "local".to_string(),
        ModelConfig {
            base_url: Some("http://127.0.0.1:11434/v1".into()),
            ..ModelConfig::new(ProviderKind::Openai, "llama3.2")
        },
    );
    let r = Router::from_config(&models, RouterSettings::default()).unwrap();
    let info = r.models();
    assert_eq!(info.len(), 2);
    assert_eq!(
        (
            info[1].name.as_str(),
            info[1].provider.as_str(),
            info[1].model.as_str()
        ),
        ("local", "openai", "llama3.2")
    );
    assert_eq!(info[1].breaker, BreakerState::Closed);
    r.entry("bench").unwrap().check_reachable().await.unwrap();

    let agent_model: Arc<dyn Provider> = Arc::new(r.route("bench", &["local"]).unwrap());
    let answer = agent_model.complete(request()).await.unwrap();
    assert_eq!(answer.text, "hi");
    assert_eq!(answer.finish_reason, Some(FinishReason::Stop));

    models.insert(
        "broken".to_string(),
        ModelConfig::new(ProviderKind::Openai, ""),
    );
    let error = Router::from_config(&models, RouterSettings::default()).unwrap_err();
    assert_eq!(error, BuildError::MissingModel.in_model("broken"));
    assert_eq!(error.to_string(), "[models.broken]: `model` is required");
}

#[test]
fn router_settings_defaults_and_unknown_fields() {
    let s: RouterSettings = serde_json::from_str("{}").unwrap();
    assert_eq!(s, RouterSettings::default());
    assert_eq!(
        (
            s.breaker_failures,
            s.breaker_cooldown_secs,
            s.retry_after_cap_secs
        ),
        (5, 30, 30)
    );
    assert!(serde_json::from_str::<RouterSettings>(r#"{"breaker_failure":3}"#).is_err());
    let bad = RouterSettings {
        backoff_base_ms: 10_000,
        backoff_max_ms: 1,
        ..RouterSettings::default()
    };
    assert_eq!(bad.validate(), Err(BuildError::BackoffOrder));
}
