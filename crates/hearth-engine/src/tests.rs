//! The engine against the real SmolLM2 GGUF: batching, KV reuse,
//! cancellation, constrained tool calls, limits and bad files.
//!
//! The model comes from `hearth_testkit::model`.

use crate::config::EngineConfig;
use crate::engine::Engine;
use crate::error::EngineError;
use crate::handle::EmbeddedModel;
use futures::StreamExt;
use hearth_core::{
    ChatEvent, ChatMessage, ChatRequest, Completion, ErrorKind, FinishReason, Provider, ToolChoice,
    ToolSpec,
};
use serde_json::json;

use hearth_testkit::model::smollm2_path as model_path;

fn config(slots: usize) -> EngineConfig {
    EngineConfig {
        slots,
        context: 1024,
        prefill_chunk: 64,
        threads: Some(1),
        ..EngineConfig::new(model_path())
    }
}

fn greedy(text: &str, max_tokens: u32) -> ChatRequest {
    ChatRequest {
        messages: vec![ChatMessage::user(text)],
        max_tokens: Some(max_tokens),
        temperature: Some(0.0),
        ..ChatRequest::default()
    }
}

async fn complete(provider: &dyn Provider, request: ChatRequest) -> Completion {
    provider.complete(request).await.expect("completion")
}

#[tokio::test]
async fn a_greedy_answer_is_the_same_alone_and_batched_with_three_others() {
    let engine = Engine::load(config(4)).expect("load");
    let prompt = "Name three colours of the rainbow.";
    let alone = complete(&engine, greedy(prompt, 24)).await;
    assert!(!alone.text.trim().is_empty());
    let others = [
        "Write a haiku about the sea.",
        "What is 2 + 2?",
        "Say hello in French.",
    ];
    let batched = futures::future::join_all(
        std::iter::once(prompt)
            .chain(others)
            .map(|p| complete(&engine, greedy(p, 24))),
    )
    .await;
    assert_eq!(batched[0].text, alone.text);
    // The four really shared decode steps: fewer steps than tokens.
    let stats = engine.stats();
    assert!(stats.decode_steps < stats.tokens_generated, "{stats:?}");
}

#[tokio::test]
async fn a_follow_up_turn_reads_only_its_new_tokens() {
    let engine = Engine::load(config(2)).expect("load");
    let first = greedy("Tell me one fact about owls.", 32);
    let answer = complete(&engine, first.clone()).await;
    let before = engine.stats();
    let mut follow_up = first.clone();
    follow_up
        .messages
        .push(ChatMessage::assistant(answer.text.clone()));
    follow_up
        .messages
        .push(ChatMessage::user("And one about cats?"));
    let prompt_len = engine
        .tokenize_chat(&follow_up.messages, &[])
        .expect("tokenize")
        .len() as u64;
    complete(&engine, follow_up).await;
    let after = engine.stats();
    let processed = after.prompt_tokens_processed - before.prompt_tokens_processed;
    let reused = after.prompt_tokens_reused - before.prompt_tokens_reused;
    assert_eq!(processed + reused, prompt_len);
    // Everything up to the end of the first answer came from the cache.
    assert!(processed < 25, "processed {processed} of {prompt_len}");
}

#[tokio::test]
async fn dropping_a_stream_frees_its_slot_at_once() {
    let engine = Engine::load(config(1)).expect("load");
    let mut long = engine
        .chat(greedy("Write a long story about a dragon.", 400))
        .await
        .expect("chat");
    let first = long.next().await.expect("an event").expect("ok");
    assert!(matches!(first, ChatEvent::TextDelta(_)));
    drop(long);
    // With one slot, this only finishes if the dropped job let go of it.
    let next = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        complete(&engine, greedy("Say yes.", 8)),
    )
    .await
    .expect("the slot was freed");
    assert!(next.finish_reason.is_some());
    assert_eq!(engine.stats().cancelled, 1);
}

#[tokio::test]
async fn a_required_tool_call_parses_against_its_schema() {
    let engine = Engine::load(config(1)).expect("load");
    let tool = ToolSpec {
        name: "get_weather".into(),
        description: "Current weather for a city".into(),
        parameters: json!({
            "type": "object",
            "properties": {
                "city": { "type": "string" },
                "unit": { "type": "string", "enum": ["celsius", "fahrenheit"] }
            },
            "required": ["city", "unit"],
            "additionalProperties": false
        }),
    };
    let mut request = greedy("What is the weather in Paris?", 96);
    request.tools = vec![tool];
    request.tool_choice = ToolChoice::Required;
    let answer = complete(&engine, request).await;
    assert_eq!(
        answer.finish_reason,
        Some(FinishReason::ToolCalls),
        "{answer:?}"
    );
    assert_eq!(answer.tool_calls.len(), 1);
    let call = &answer.tool_calls[0];
    assert_eq!(call.name, "get_weather");
    let args: serde_json::Value = serde_json::from_str(&call.arguments).expect("JSON arguments");
    assert!(args["city"].is_string(), "{args}");
    assert!(
        matches!(args["unit"].as_str(), Some("celsius" | "fahrenheit")),
        "{args}"
    );
    assert_eq!(args.as_object().map(|o| o.len()), Some(2), "{args}");
    assert!(!answer.text.contains("<tool_call>"));
}

#[tokio::test]
async fn max_tokens_and_stop_sequences_end_the_answer() {
    let engine = Engine::load(config(1)).expect("load");
    let capped = complete(
        &engine,
        greedy("Count from 1 to 50, separated by commas.", 5),
    )
    .await;
    assert_eq!(capped.finish_reason, Some(FinishReason::Length));
    assert_eq!(capped.usage.output_tokens, 5);
    let full = complete(
        &engine,
        greedy("Count from 1 to 50, separated by commas.", 40),
    )
    .await;
    let mut stopped = greedy("Count from 1 to 50, separated by commas.", 40);
    stopped.stop = vec!["5".into()];
    let stopped = complete(&engine, stopped).await;
    assert_eq!(stopped.finish_reason, Some(FinishReason::Stop));
    assert!(!stopped.text.contains('5'));
    assert!(
        full.text.starts_with(&stopped.text),
        "{full:?} vs {stopped:?}"
    );
}

#[tokio::test]
async fn an_oversized_prompt_drops_old_turns_or_fails_clearly() {
    let engine = Engine::load(config(1)).expect("load");
    let filler = "lorem ipsum dolor sit amet ".repeat(60);
    let mut messages = vec![ChatMessage::system("You are terse.")];
    for _ in 0..4 {
        messages.push(ChatMessage::user(filler.clone()));
        messages.push(ChatMessage::assistant(filler.clone()));
    }
    messages.push(ChatMessage::user("Say hi."));
    let request = ChatRequest {
        messages,
        max_tokens: Some(8),
        temperature: Some(0.0),
        ..ChatRequest::default()
    };
    let answer = complete(&engine, request).await;
    assert!(answer.usage.input_tokens < 1024, "{:?}", answer.usage);

    let huge = greedy(&"word ".repeat(2000), 8);
    let error = engine.chat(huge).await.err().expect("too long");
    assert_eq!(error.kind, ErrorKind::ContextLength);
    assert!(error.message.contains("1024"), "{error}");
}

#[test]
fn missing_and_corrupt_files_are_named_in_the_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = Engine::load(EngineConfig::new(dir.path().join("nope.gguf"))).unwrap_err();
    assert!(matches!(missing, EngineError::Missing { .. }), "{missing}");
    assert!(missing.to_string().contains("hearth models pull"));

    let text = dir.path().join("notes.gguf");
    std::fs::write(&text, "just some text, not a model").expect("write");
    let error = Engine::load(EngineConfig::new(&text)).unwrap_err();
    assert!(matches!(error, EngineError::NotGguf { .. }), "{error}");
    assert!(error.to_string().contains("notes.gguf"));

    // A real header followed by garbage: the magic passes, the metadata
    // does not.
    let truncated = dir.path().join("truncated.gguf");
    let mut bytes = std::fs::read(model_path())
        .expect("model")
        .into_iter()
        .take(4096)
        .collect::<Vec<_>>();
    bytes.truncate(4096);
    std::fs::write(&truncated, bytes).expect("write");
    let error = Engine::load(EngineConfig::new(&truncated)).unwrap_err();
    assert!(
        matches!(
            error,
            EngineError::NotGguf { .. } | EngineError::Load { .. }
        ),
        "{error}"
    );
}

#[tokio::test]
async fn a_model_reloads_and_unloads_while_a_stream_finishes() {
    let model = EmbeddedModel::new("local", config(2));
    model.load().await.expect("load");
    let mut running = model
        .chat(greedy("Write a short poem about rain.", 24))
        .await
        .expect("chat");
    let mut bigger = config(3);
    bigger.context = 512;
    model.reload(bigger).await.expect("reload");
    assert_eq!(model.status().slots, 3);
    assert!(model.unload().await);
    // The stream that started on the old engine still completes.
    let mut finished = false;
    while let Some(event) = running.next().await {
        finished |= matches!(event.expect("event"), ChatEvent::Finished(_));
    }
    assert!(finished);
    let error = model.chat(greedy("hi", 4)).await.err().expect("unloaded");
    assert_eq!(error.kind, ErrorKind::Unavailable);
    model.load().await.expect("load again");
    assert!(
        complete(&model, greedy("hi", 4))
            .await
            .finish_reason
            .is_some()
    );
}

#[test]
fn the_model_store_verifies_adds_lists_and_removes() {
    use crate::store::{ModelStore, StoreError};
    let dir = tempfile::tempdir().expect("tempdir");
    let store = ModelStore::new(dir.path().join("models"));
    assert!(store.list().expect("list").is_empty());

    let added = store.add(&model_path(), Some("small"), false).expect("add");
    assert_eq!(added.path, store.path_of("small"));
    assert_eq!(added.info.as_ref().expect("info").architecture, "llama");
    let again = store.add(&model_path(), Some("small"), false).unwrap_err();
    assert!(matches!(again, StoreError::Exists(_)), "{again}");

    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "not a model").expect("write");
    let refused = store.add(&text, Some("notes"), false).unwrap_err();
    assert!(refused.to_string().contains("not a GGUF"), "{refused}");
    assert!(
        !store.path_of("notes").exists(),
        "a refused file must not land"
    );
    let bad_name = store
        .add(&model_path(), Some("../escape"), false)
        .unwrap_err();
    assert!(matches!(bad_name, StoreError::BadName(_)), "{bad_name}");

    let listed = store.list().expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].name, "small");
    assert_eq!(store.resolve("small"), store.path_of("small"));
    assert_eq!(
        store.resolve("/x/y.gguf"),
        std::path::PathBuf::from("/x/y.gguf")
    );

    store.remove("small").expect("rm");
    assert!(matches!(
        store.remove("small"),
        Err(StoreError::NotFound(_))
    ));
    assert!(store.list().expect("list").is_empty());
}

#[tokio::test]
async fn a_seed_makes_sampling_repeatable() {
    let engine = Engine::load(config(2)).expect("load");
    let sampled = |seed| ChatRequest {
        messages: vec![ChatMessage::user("Invent a name for a cat.")],
        max_tokens: Some(16),
        temperature: Some(1.0),
        top_p: Some(0.95),
        seed: Some(seed),
        ..ChatRequest::default()
    };
    let first = complete(&engine, sampled(7)).await;
    let again = complete(&engine, sampled(7)).await;
    assert_eq!(first.text, again.text);
    // Different seeds: at temperature 1 over 16 tokens, at least one of a
    // few draws differs from the first.
    let mut differs = false;
    for seed in 8..12 {
        differs |= complete(&engine, sampled(seed)).await.text != first.text;
    }
    assert!(differs, "every seed gave {:?}", first.text);
}

/// The whole tool loop on the real model: a call constrained by the
/// grammar to `read_file`'s schema runs the real file tool in a real
/// workspace, its result goes back to the model, and the model answers
/// in text (the forced choice holds for one step only).
#[tokio::test]
async fn a_constrained_call_reaches_a_real_tool_and_the_model_answers() {
    use hearth_agent::tools::ToolSet;
    use hearth_agent::turn::{TurnEnd, TurnLimits, TurnObserver, TurnTools, run_turn};
    use hearth_core::{AgentId, Role, SessionKey, ToolContext, ToolResult};
    use tokio_util::sync::CancellationToken;

    struct Calls(Vec<(String, bool)>);
    impl TurnObserver for Calls {
        fn on_delta(&mut self, _: &str, _: &str) {}
        fn on_tool_call(&mut self, _: &str, _: &str, _: &str) {}
        fn on_tool_result(
            &mut self,
            _: &str,
            name: &str,
            result: &ToolResult,
            _: std::time::Duration,
        ) {
            self.0.push((name.to_owned(), result.is_ok()));
        }
    }

    let engine = Engine::load(config(1)).expect("load");
    let workspace = tempfile::tempdir().expect("workspace");
    std::fs::write(
        workspace.path().join("notes.txt"),
        "The code word is heron.\n",
    )
    .unwrap();
    let agent = AgentId::main();
    let tools = TurnTools {
        set: ToolSet::new(hearth_tools::file_tools(
            workspace.path().to_path_buf(),
            true,
        )),
        context: ToolContext {
            session_key: SessionKey::for_agent(&agent, "main").unwrap(),
            agent_id: agent,
            run_id: "run".into(),
            call_id: String::new(),
            channel: "gateway".into(),
            origin: None,
            cancel: CancellationToken::new(),
        },
    };
    let mut request = greedy("Read the file notes.txt and tell me the code word.", 64);
    request.tool_choice = ToolChoice::Function("read_file".into());
    let never = CancellationToken::new();
    let mut calls = Calls(Vec::new());
    let limits = TurnLimits {
        max_steps: 3,
        ..TurnLimits::default()
    };
    let result = run_turn(
        &engine,
        request,
        Some(&tools),
        limits,
        &never,
        &never,
        &mut calls,
    )
    .await;
    assert!(
        matches!(result.end, TurnEnd::Completed(_)),
        "{:?}",
        result.end
    );
    // The first step called the real tool with schema-valid arguments.
    let call = &result.added[0].tool_calls[0];
    assert_eq!(call.name, "read_file");
    let args: serde_json::Value = serde_json::from_str(&call.arguments).expect("JSON arguments");
    assert!(args["path"].is_string(), "{args}");
    assert_eq!(
        calls.0.first().map(|(name, _)| name.as_str()),
        Some("read_file")
    );
    let answer = &result.added[1];
    assert_eq!(answer.role, Role::Tool);
    assert_eq!(answer.tool_call_id.as_deref(), Some(call.id.as_str()));
    // What the model read is exactly what the real tool gives for those
    // arguments (the file, or the tool's own note or error).
    let direct = tools
        .set
        .get("read_file")
        .unwrap()
        .call(&tools.context, args.clone())
        .await;
    let expected = match direct {
        Ok(text) => text,
        Err(error) => format!("error: {error}"),
    };
    assert_eq!(answer.content, expected, "{args}");
    // The turn ends in text, never in call markup.
    let last = result.added.last().unwrap();
    assert_eq!(last.role, Role::Assistant);
    assert!(last.tool_calls.is_empty());
    assert!(!result.text.contains("<tool_call>"), "{}", result.text);
}

/// Tool definitions larger than the context on their own: the model
/// answers without tools instead of failing the turn.
#[tokio::test]
async fn tools_that_do_not_fit_the_context_are_left_out_not_fatal() {
    let engine = Engine::load(config(1)).expect("load");
    let huge = ToolSpec {
        name: "lookup".into(),
        description: "Looks things up. ".repeat(400),
        parameters: json!({ "type": "object", "properties": { "q": { "type": "string" } } }),
    };
    let mut request = greedy("Say hello.", 16);
    request.tools = vec![huge];
    let answer = complete(&engine, request).await;
    assert!(answer.tool_calls.is_empty());
    assert!(!answer.text.trim().is_empty(), "{answer:?}");
    // Without tools, the same prompt fitting or not is unchanged.
    let too_long = greedy(&"word ".repeat(2000), 16);
    let error = engine.chat(too_long).await.err().expect("too long");
    assert_eq!(error.kind, ErrorKind::ContextLength);
}
