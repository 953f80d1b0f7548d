//! The session tools and `send_message`: an agent looks at its other
//! conversations, asks one of them something, or writes to a person on a
//! chat platform. Every one is scoped to the calling agent's own sessions,
//! and every send carries an idempotency key made from the run and the call,
//! so a run resumed after a crash does not send twice.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use hearth_core::{
    Conversation, InboundMessage, OutboundMessage, RunState, SessionKey, Tool, ToolContext,
    ToolError, ToolResult, TypedTool, now_ms, typed,
};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::runtime::{Runtime, WeakRuntime};

/// Longest message text a tool sends.
const MAX_SEND_CHARS: usize = 16_000;
/// Characters of each transcript message shown by `sessions_history`.
const HISTORY_MESSAGE_CHARS: usize = 500;
/// How long `sessions_send` waits for the other session's answer.
const SEND_WAIT: Duration = Duration::from_secs(120);
/// Channels that reach no person: gateway clients read replies themselves.
const LOCAL_CHANNELS: &[&str] = &["gateway", "openai"];

/// The runtime, set once it exists (the tools are built before it, since
/// the runtime holds them). Weak, so tools do not keep it alive.
pub type RuntimeSlot = Arc<OnceLock<WeakRuntime>>;

/// `sessions_list`, `sessions_history`, `sessions_send` and `send_message`.
pub fn session_tools(runtime: RuntimeSlot) -> Vec<Arc<dyn Tool>> {
    vec![
        typed(SessionsList(runtime.clone())),
        typed(SessionsHistory(runtime.clone())),
        typed(SessionsSend(runtime.clone())),
        typed(SendMessage(runtime)),
    ]
}

fn runtime(slot: &RuntimeSlot) -> Result<Runtime, ToolError> {
    slot.get()
        .and_then(WeakRuntime::upgrade)
        .ok_or_else(|| ToolError::Failed("the daemon is stopping".into()))
}

fn failed(error: impl std::fmt::Display) -> ToolError {
    ToolError::Failed(error.to_string())
}

/// A session key the model gave, which must belong to the calling agent.
fn own_session(context: &ToolContext, raw: &str) -> Result<SessionKey, ToolError> {
    let key =
        SessionKey::new(raw.trim()).map_err(|e| ToolError::InvalidArguments(e.to_string()))?;
    if key.agent_id().as_ref() != Some(&context.agent_id) {
        return Err(ToolError::Denied(format!(
            "{key} is not one of your sessions (they start with agent:{}:)",
            context.agent_id
        )));
    }
    Ok(key)
}

#[derive(Debug)]
struct SessionsList(RuntimeSlot);

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ListArgs {
    /// How many, most recent first (default 20, at most 100).
    #[serde(default)]
    limit: Option<usize>,
}

#[async_trait]
impl TypedTool for SessionsList {
    type Args = ListArgs;
    const NAME: &'static str = "sessions_list";
    fn description(&self) -> String {
        "Lists your conversations (sessions), most recent first, with their keys.".into()
    }
    async fn run(&self, context: &ToolContext, args: ListArgs) -> ToolResult {
        let limit = args.limit.unwrap_or(20).clamp(1, 100);
        let sessions = runtime(&self.0)?
            .store()
            .sessions(Some(&context.agent_id), limit)
            .await
            .map_err(failed)?;
        if sessions.is_empty() {
            return Ok("No sessions.".into());
        }
        let now = now_ms();
        Ok(sessions
            .iter()
            .map(|s| {
                let mark = if s.key == context.session_key {
                    " (this one)"
                } else {
                    ""
                };
                format!(
                    "{}{mark}: {} messages, last active {} min ago{}",
                    s.key,
                    s.message_count,
                    (now - s.updated_at_ms).max(0) / 60_000,
                    s.label
                        .as_deref()
                        .map(|l| format!(", label {l:?}"))
                        .unwrap_or_default()
                )
            })
            .collect::<Vec<_>>()
            .join("\n"))
    }
}

#[derive(Debug)]
struct SessionsHistory(RuntimeSlot);

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct HistoryArgs {
    /// The session's key, as sessions_list shows it.
    session_key: String,
    /// How many of the last messages (default 20, at most 100).
    #[serde(default)]
    limit: Option<usize>,
}

#[async_trait]
impl TypedTool for SessionsHistory {
    type Args = HistoryArgs;
    const NAME: &'static str = "sessions_history";
    fn description(&self) -> String {
        "Reads the last messages of one of your sessions.".into()
    }
    async fn run(&self, context: &ToolContext, args: HistoryArgs) -> ToolResult {
        let key = own_session(context, &args.session_key)?;
        let limit = args.limit.unwrap_or(20).clamp(1, 100);
        let entries = runtime(&self.0)?
            .store()
            .history(&key, limit)
            .await
            .map_err(failed)?;
        if entries.is_empty() {
            return Ok(format!("{key} has no messages."));
        }
        Ok(entries
            .iter()
            .filter(|e| !e.message.content.is_empty())
            .map(|e| {
                let text = crate::tools::exec::truncate(&e.message.content, HISTORY_MESSAGE_CHARS);
                format!("{}: {text}", e.message.role.as_str())
            })
            .collect::<Vec<_>>()
            .join("\n"))
    }
}

#[derive(Debug)]
struct SessionsSend(RuntimeSlot);

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct SendArgs {
    /// The session's key, as sessions_list shows it (not this session).
    session_key: String,
    /// The message, as if a person wrote it there.
    message: String,
}

#[async_trait]
impl TypedTool for SessionsSend {
    type Args = SendArgs;
    const NAME: &'static str = "sessions_send";
    fn description(&self) -> String {
        "Sends a message into another of your sessions and returns the answer given there.".into()
    }
    fn max_duration(&self) -> Option<Duration> {
        Some(SEND_WAIT + Duration::from_secs(5))
    }
    async fn run(&self, context: &ToolContext, args: SendArgs) -> ToolResult {
        let key = own_session(context, &args.session_key)?;
        if key == context.session_key {
            // This session's lane is busy with the current run: the message
            // would wait for a run that waits for it.
            return Err(ToolError::InvalidArguments(
                "that is this session; answer here instead".into(),
            ));
        }
        check_text(&args.message)?;
        let runtime = runtime(&self.0)?;
        let run_id = format!("{}:{}", context.run_id, context.call_id);
        let message = InboundMessage {
            id: run_id.clone(),
            session_key: key.clone(),
            agent_id: context.agent_id.clone(),
            channel: "gateway".into(),
            text: args.message,
            context: Vec::new(),
            received_at_ms: now_ms(),
            origin: None,
        };
        // A replay finds the first submission (same id) and waits for it.
        runtime.submit(message).await.map_err(failed)?;
        let run = tokio::select! {
            run = runtime.wait(&run_id, SEND_WAIT) => run.map_err(failed)?,
            _ = context.cancel.cancelled() => return Err(ToolError::Cancelled),
        };
        match run {
            Some(run) if run.state == RunState::Done => Ok(run.reply.unwrap_or_default()),
            Some(run) if run.state.is_finished() => Err(ToolError::Failed(format!(
                "the run in {key} ended {}: {}",
                run.state.as_str(),
                run.error.unwrap_or_default()
            ))),
            _ => Err(ToolError::TimedOut(SEND_WAIT.as_secs())),
        }
    }
}

#[derive(Debug)]
struct SendMessage(RuntimeSlot);

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct MessageArgs {
    /// The channel's name (e.g. `telegram`, `irc`).
    channel: String,
    /// Who or where: the person's id on that channel for a direct message,
    /// or the group's id (IRC `#room`, a Matrix room id) with `group: true`.
    to: String,
    /// Send to a group instead of a person.
    #[serde(default)]
    group: bool,
    /// The message.
    text: String,
}

#[async_trait]
impl TypedTool for SendMessage {
    type Args = MessageArgs;
    const NAME: &'static str = "send_message";
    fn description(&self) -> String {
        "Sends a message to a person or group on one of the chat channels (not a reply here: your answer to this conversation is sent anyway).".into()
    }
    async fn run(&self, context: &ToolContext, args: MessageArgs) -> ToolResult {
        check_text(&args.text)?;
        if args.to.trim().is_empty() {
            return Err(ToolError::InvalidArguments("`to` is empty".into()));
        }
        if LOCAL_CHANNELS.contains(&args.channel.as_str()) {
            return Err(ToolError::InvalidArguments(format!(
                "{:?} reaches no person; name a chat channel",
                args.channel
            )));
        }
        let to = if args.group {
            Conversation::group(args.to.trim())
        } else {
            Conversation::direct(args.to.trim())
        };
        let message = OutboundMessage {
            idempotency_key: format!("{}:{}", context.run_id, context.call_id),
            session_key: context.session_key.clone(),
            channel: args.channel.clone(),
            text: args.text,
            to: Some(to),
            reply_to: None,
        };
        let runtime = runtime(&self.0)?;
        let queued = runtime
            .send_message(&context.run_id, message)
            .await
            .map_err(|e| match e {
                hearth_core::StoreError::Invalid(m) => ToolError::InvalidArguments(m),
                other => failed(other),
            })?;
        tracing::info!(channel = %args.channel, to = %args.to, caller = %context.caller(), queued, "send_message");
        Ok(format!(
            "Queued for {} on {}; it is delivered even if the channel is down now.",
            args.to, args.channel
        ))
    }
}

fn check_text(text: &str) -> Result<(), ToolError> {
    if text.trim().is_empty() {
        return Err(ToolError::InvalidArguments("the message is empty".into()));
    }
    if text.chars().count() > MAX_SEND_CHARS {
        return Err(ToolError::InvalidArguments(format!(
            "the message is longer than {MAX_SEND_CHARS} characters"
        )));
    }
    Ok(())
}
