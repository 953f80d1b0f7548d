//! Tools and hooks through the whole pipeline: what the model is offered
//! per channel, calls recorded in the transcript, and hooks screening
//! messages and replies.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use hearth_core::{
    ChatRequest, OutboundMessage, Role, Store, ToolContext, ToolResult, TypedTool, typed,
};
use hearth_testkit::{FakeProvider, FakeReply as Reply};
use schemars::JsonSchema;
use serde::Deserialize;

use super::*;
use crate::hooks::{HookConfig, HookPipeline};
use crate::tools::{ChannelToolPolicy, StaticTools, ToolPolicy, ToolProfile};

#[derive(Debug)]
struct Clock;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ClockArgs {
    /// A city.
    city: String,
}

#[async_trait]
impl TypedTool for Clock {
    type Args = ClockArgs;
    const NAME: &'static str = "clock";
    fn description(&self) -> String {
        "The time in a city.".into()
    }
    async fn run(&self, context: &ToolContext, args: ClockArgs) -> ToolResult {
        Ok(format!(
            "12:00 in {} (asked on {})",
            args.city, context.channel
        ))
    }
}

#[derive(Debug)]
struct Shell;

#[async_trait]
impl TypedTool for Shell {
    type Args = ClockArgs;
    const NAME: &'static str = "exec";
    fn description(&self) -> String {
        "Runs a command.".into()
    }
    async fn run(&self, _context: &ToolContext, _args: ClockArgs) -> ToolResult {
        Ok("ran".into())
    }
}

/// Calls `clock` once, then answers with what the tool said.
fn clock_model() -> FakeProvider {
    FakeProvider::new(|request: &ChatRequest| match request.messages.last() {
        Some(last) if last.role == Role::Tool => {
            Reply::Text(format!("The tool said: {}", last.content))
        }
        _ if request.tools.iter().any(|t| t.name == "clock") => {
            Reply::ToolCall("clock".into(), r#"{"city":"Oslo"}"#.into())
        }
        _ => Reply::Text("no tools".into()),
    })
}

async fn with_tools(
    settings: AgentSettings,
    channels: HashMap<String, ChannelToolPolicy>,
) -> Harness {
    let h = unstarted_custom(
        tempfile::tempdir().unwrap(),
        clock_model(),
        RuntimeConfig::default(),
        settings,
        None,
        |runtime| {
            runtime.with_tools(
                Arc::new(StaticTools(vec![typed(Clock), typed(Shell)])),
                channels,
            )
        },
    )
    .await;
    h.runtime.start().await.unwrap();
    h
}

#[tokio::test]
async fn a_tool_call_runs_through_the_pipeline_and_is_kept_in_the_transcript() {
    let h = with_tools(AgentSettings::new("fake"), HashMap::new()).await;
    let mut events = h.runtime.subscribe();
    h.runtime
        .submit(message("t1", "agent:main:t", "time in Oslo?"))
        .await
        .unwrap();
    let run = wait_done(&h, "t1").await;
    assert_eq!(
        run.reply.as_deref(),
        Some("The tool said: 12:00 in Oslo (asked on test)")
    );
    let history = h
        .store
        .history(&SessionKey::new("agent:main:t").unwrap(), 10)
        .await
        .unwrap();
    let roles: Vec<Role> = history.iter().map(|e| e.message.role).collect();
    assert_eq!(
        roles,
        [Role::User, Role::Assistant, Role::Tool, Role::Assistant]
    );
    assert_eq!(history[1].message.tool_calls[0].name, "clock");
    // Tool activity is streamed as events; the channel gets only the answer.
    let mut kinds = Vec::new();
    while let Ok(event) = events.try_recv() {
        match &event.kind {
            RunEventKind::ToolCall {
                name, arguments, ..
            } => kinds.push(format!("call {name} {arguments}")),
            RunEventKind::ToolResult { ok, output, .. } => {
                kinds.push(format!("result {ok} {output}"))
            }
            _ => {}
        }
    }
    assert_eq!(
        kinds,
        [
            r#"call clock {"city":"Oslo"}"#,
            "result true 12:00 in Oslo (asked on test)"
        ]
    );
    assert_eq!(h.channel.sent().len(), 1);
    assert_eq!(h.channel.sent()[0].text, run.reply.unwrap());
}

#[tokio::test]
async fn agent_and_channel_policies_decide_what_the_model_is_offered() {
    let settings = AgentSettings {
        tools: ToolPolicy {
            profile: ToolProfile::Full,
            allow: vec![],
            deny: vec!["exec".into()],
        },
        ..AgentSettings::new("fake")
    };
    let mut channels = HashMap::new();
    channels.insert(
        "gateway".to_owned(),
        ChannelToolPolicy {
            deny: vec!["clock".into()],
            ..Default::default()
        },
    );
    let h = with_tools(settings, channels).await;
    h.runtime
        .submit(message("p1", "agent:main:p", "time?"))
        .await
        .unwrap();
    wait_done(&h, "p1").await;
    let mut on_gateway = message("p2", "agent:main:q", "time?");
    on_gateway.channel = "gateway".into();
    h.runtime.submit(on_gateway).await.unwrap();
    let run = wait_done(&h, "p2").await;
    assert_eq!(run.reply.as_deref(), Some("no tools"));
    let offered: Vec<Vec<String>> = h
        .provider
        .requests()
        .iter()
        .map(|r| r.tools.iter().map(|t| t.name.clone()).collect())
        .collect();
    // On `test`: clock only (the agent denies exec), twice (call, answer);
    // on `gateway`, which denies clock: nothing.
    assert_eq!(
        offered,
        [vec!["clock".to_owned()], vec!["clock".to_owned()], vec![]]
    );
}

fn hooks(toml_text: &str) -> Vec<HookConfig> {
    #[derive(Deserialize)]
    struct File {
        hooks: Vec<HookConfig>,
    }
    toml::from_str::<File>(toml_text).unwrap().hooks
}

#[tokio::test]
async fn hooks_screen_the_message_before_the_model_and_the_reply_before_it_is_sent() {
    let settings = AgentSettings {
        hooks: hooks(
            r#"
            [[hooks]]
            kind = "redact"
            [[hooks]]
            kind = "filter"
            words = ["password"]
            action = "block"
            message = "I can't help with that."
            [[hooks]]
            kind = "disclaimer"
            text = "(automated answer)"
            "#,
        ),
        ..AgentSettings::new("fake")
    };
    let mut channel_hooks = HashMap::new();
    channel_hooks.insert(
        "test".to_owned(),
        HookPipeline::build(&hooks(
            r#"
            [[hooks]]
            kind = "redact"
            words = ["Zanzibar"]
            "#,
        ))
        .unwrap(),
    );
    let h = unstarted_custom(
        tempfile::tempdir().unwrap(),
        FakeProvider::echo(),
        RuntimeConfig::default(),
        settings,
        None,
        |runtime| runtime.with_channel_hooks(channel_hooks),
    )
    .await;
    h.runtime.start().await.unwrap();
    let mut events = h.runtime.subscribe();

    h.runtime
        .submit(message(
            "h1",
            "agent:main:h",
            "mail bob@example.com about Zanzibar",
        ))
        .await
        .unwrap();
    let run = wait_done(&h, "h1").await;
    let seen = hearth_testkit::last_user_text(&h.provider.requests()[0]).to_owned();
    assert_eq!(seen, "mail [email] about [redacted]");
    assert_eq!(
        run.reply.as_deref(),
        Some("echo: mail [email] about [redacted]\n\n(automated answer)")
    );
    let history = h
        .store
        .history(&SessionKey::new("agent:main:h").unwrap(), 10)
        .await
        .unwrap();
    assert_eq!(history[0].message.content, "mail [email] about [redacted]");
    assert!(history[1].message.content.ends_with("(automated answer)"));
    // No live deltas: they would show the answer before the hooks ran.
    while let Ok(event) = events.try_recv() {
        assert!(
            !matches!(event.kind, RunEventKind::Delta { .. }),
            "{event:?}"
        );
    }

    h.runtime
        .submit(message("h2", "agent:main:h", "what is my password?"))
        .await
        .unwrap();
    let run = wait_done(&h, "h2").await;
    assert_eq!(run.reply.as_deref(), Some("I can't help with that."));
    assert_eq!(
        h.provider.requests().len(),
        1,
        "a blocked message never reaches the model"
    );
    assert_eq!(
        h.channel.sent().last().unwrap().text,
        "I can't help with that."
    );
}

#[tokio::test]
async fn invalid_hooks_or_tool_policies_refuse_the_agent() {
    let mut settings = AgentSettings::new("fake");
    settings.hooks = hooks(
        r#"
        [[hooks]]
        kind = "filter"
        patterns = ["(unclosed"]
        action = "flag"
        "#,
    );
    let error = settings.validate().unwrap_err();
    assert!(
        error.starts_with("hooks: ") && error.contains("(unclosed"),
        "{error}"
    );
    let mut settings = AgentSettings::new("fake");
    settings.tools.deny = vec!["group:shell".into()];
    let error = settings.validate().unwrap_err();
    assert!(error.contains("group:shell"), "{error}");
}

/// A model that calls `tool` with `arguments` once per turn, then answers
/// with the tool's result; in sessions other than `caller`, it echoes.
fn calling_model(
    caller: &'static str,
    tool: &'static str,
    arguments: &'static str,
) -> FakeProvider {
    FakeProvider::new(move |request: &ChatRequest| {
        let from_caller = request.messages.iter().any(|m| m.content.contains(caller));
        match request.messages.last() {
            Some(last) if last.role == Role::Tool => Reply::Text(format!("tool: {}", last.content)),
            _ if from_caller => Reply::ToolCall(tool.into(), arguments.into()),
            _ => Reply::Text(format!("echo: {}", hearth_testkit::last_user_text(request))),
        }
    })
}

async fn with_session_tools(provider: FakeProvider) -> Harness {
    let slot = crate::tools::RuntimeSlot::default();
    let tools = crate::tools::session_tools(slot.clone());
    let h = unstarted_custom(
        tempfile::tempdir().unwrap(),
        provider,
        RuntimeConfig::default(),
        AgentSettings::new("fake"),
        None,
        |runtime| runtime.with_tools(Arc::new(StaticTools(tools)), HashMap::new()),
    )
    .await;
    slot.set(h.runtime.downgrade()).unwrap();
    h.runtime.start().await.unwrap();
    h
}

#[tokio::test]
async fn send_message_goes_through_the_outbox_once() {
    let h = with_session_tools(calling_model(
        "tell bob",
        "send_message",
        r#"{"channel":"test","to":"bob","text":"the meeting moved to 3pm"}"#,
    ))
    .await;
    h.runtime
        .submit(message("s1", "agent:main:alice", "tell bob"))
        .await
        .unwrap();
    let run = wait_done(&h, "s1").await;
    assert!(
        run.reply
            .as_deref()
            .unwrap()
            .starts_with("tool: Queued for bob on test"),
        "{run:?}"
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while h.channel.sent().len() < 2 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let sent = h.channel.sent();
    let to_bob: Vec<_> = sent
        .iter()
        .filter(|m| m.to == Some(hearth_core::Conversation::direct("bob")))
        .collect();
    assert_eq!(to_bob.len(), 1, "{sent:?}");
    assert_eq!(to_bob[0].text, "the meeting moved to 3pm");
    assert_eq!(to_bob[0].idempotency_key, "s1:call-1");
    // A replayed call (same run, same call id) is not queued again.
    let again = OutboundMessage {
        idempotency_key: "s1:call-1".into(),
        ..to_bob[0].clone()
    };
    assert!(!h.runtime.send_message("s1", again).await.unwrap());
    // An unknown channel is refused before anything is queued.
    let error = h
        .runtime
        .send_message(
            "s1",
            OutboundMessage {
                channel: "nowhere".into(),
                idempotency_key: "x".into(),
                ..to_bob[0].clone()
            },
        )
        .await
        .unwrap_err();
    assert!(error.to_string().contains("nowhere"), "{error}");
}

#[tokio::test]
async fn sessions_send_asks_another_session_and_returns_its_answer() {
    let h = with_session_tools(calling_model(
        "ask the other",
        "sessions_send",
        r#"{"session_key":"agent:main:other","message":"what is 6 x 7?"}"#,
    ))
    .await;
    h.runtime
        .submit(message("a1", "agent:main:me", "ask the other"))
        .await
        .unwrap();
    let run = wait_done(&h, "a1").await;
    assert_eq!(run.reply.as_deref(), Some("tool: echo: what is 6 x 7?"));
    let other = h
        .store
        .history(&SessionKey::new("agent:main:other").unwrap(), 10)
        .await
        .unwrap();
    assert_eq!(other[0].message.content, "what is 6 x 7?");
    // Another agent's session is out of reach.
    let h2 = with_session_tools(calling_model(
        "peek",
        "sessions_history",
        r#"{"session_key":"agent:other:main"}"#,
    ))
    .await;
    h2.runtime
        .submit(message("p1", "agent:main:me", "peek"))
        .await
        .unwrap();
    let run = wait_done(&h2, "p1").await;
    assert!(
        run.reply
            .as_deref()
            .unwrap()
            .contains("refused: agent:other:main is not one of your sessions"),
        "{run:?}"
    );
}

#[tokio::test]
async fn a_channel_can_send_a_working_status_once_when_tools_start() {
    let mut channels = HashMap::new();
    channels.insert(
        "test".to_owned(),
        ChannelToolPolicy {
            working_message: Some("Working on it…".into()),
            ..Default::default()
        },
    );
    let h = with_tools(AgentSettings::new("fake"), channels).await;
    let mut asked = message("w1", "agent:main:w", "time in Oslo?");
    asked.origin = Some(hearth_core::Origin {
        conversation: hearth_core::Conversation::direct("carol"),
        sender: hearth_core::Sender {
            id: "carol".into(),
            name: None,
        },
        message_id: None,
        reply_to: None,
        mentioned: true,
        attachments: vec![],
    });
    h.runtime.submit(asked).await.unwrap();
    let run = wait_done(&h, "w1").await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while h.channel.sent().len() < 2 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let texts: Vec<String> = h.channel.sent().iter().map(|m| m.text.clone()).collect();
    assert_eq!(texts.len(), 2, "{texts:?}");
    assert!(texts.contains(&"Working on it…".to_owned()), "{texts:?}");
    assert!(texts.contains(&run.reply.unwrap()), "{texts:?}");
    // Keyed by the run: a second queueing of the same status is a no-op.
    let status = h
        .channel
        .sent()
        .into_iter()
        .find(|m| m.text == "Working on it…")
        .unwrap();
    assert_eq!(status.idempotency_key, "w1:working");
    assert!(!h.runtime.send_message("w1", status).await.unwrap());
}
