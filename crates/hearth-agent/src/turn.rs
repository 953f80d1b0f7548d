//! One agent turn: call the model, stream its answer, run the tool calls it
//! asks for (concurrently when it asks for several), feed the results back,
//! and repeat until it answers in text, within a step limit and a time
//! budget.
//!
//! When the limit or the budget is reached the model gets one last call
//! with tools switched off (`tool_choice: none`), so the person still gets
//! an answer built from what the tools found, never raw call JSON.

use std::time::Duration;

// tokio's clock, so paused-time tests can drive the budget.
use tokio::time::Instant;

use futures::StreamExt;
use hearth_core::{
    ChatEvent, ChatMessage, ChatRequest, Completion, FinishReason, Provider, ProviderError,
    ToolChoice, ToolContext, ToolResult, Usage,
};
use tokio_util::sync::CancellationToken;

use crate::tools::exec::run_calls;
use crate::tools::{CallLimits, ToolSet};

/// Model calls allowed in one turn by default, so a model that keeps
/// calling tools cannot loop forever.
pub const DEFAULT_MAX_STEPS: u32 = 8;
/// Wall-clock budget of one turn by default, tools included.
pub const DEFAULT_TURN_BUDGET: Duration = Duration::from_secs(300);

/// Bounds on one turn.
#[derive(Debug, Clone, Copy)]
pub struct TurnLimits {
    /// Model calls, the last one without tools.
    pub max_steps: u32,
    /// After this, the next model call is the last one, without tools.
    pub budget: Duration,
    pub calls: CallLimits,
}

impl Default for TurnLimits {
    fn default() -> Self {
        Self {
            max_steps: DEFAULT_MAX_STEPS,
            budget: DEFAULT_TURN_BUDGET,
            calls: CallLimits::default(),
        }
    }
}

/// The tools a turn may call, and the context calls run with (its
/// `call_id` and `cancel` are filled in per call).
#[derive(Debug, Clone)]
pub struct TurnTools {
    pub set: ToolSet,
    pub context: ToolContext,
}

/// How the turn ended.
#[derive(Debug, Clone, PartialEq)]
pub enum TurnEnd {
    /// The model answered.
    Completed(FinishReason),
    /// Someone asked to stop (chat.abort); the partial answer stands.
    Aborted,
    /// The daemon is shutting down: the turn is left unfinished so it is
    /// resumed after the restart.
    Interrupted,
    Failed(ProviderError),
}

#[derive(Debug)]
pub struct TurnResult {
    /// The final answer text (partial if aborted).
    pub text: String,
    /// Messages the turn adds after the user's: tool calls, results, answer.
    pub added: Vec<ChatMessage>,
    pub usage: Usage,
    pub end: TurnEnd,
    /// Time from the first model call to its first event.
    pub first_event_after: Option<Duration>,
}

/// Callbacks the turn reports progress through.
pub trait TurnObserver: Send {
    fn on_delta(&mut self, delta: &str, text: &str);
    fn on_tool_call(&mut self, id: &str, name: &str, arguments: &str);
    fn on_tool_result(&mut self, id: &str, name: &str, result: &ToolResult, elapsed: Duration);
}

pub async fn run_turn(
    provider: &dyn Provider,
    mut request: ChatRequest,
    tools: Option<&TurnTools>,
    limits: TurnLimits,
    abort: &CancellationToken,
    shutdown: &CancellationToken,
    observer: &mut dyn TurnObserver,
) -> TurnResult {
    let started = Instant::now();
    let mut result = TurnResult {
        text: String::new(),
        added: Vec::new(),
        usage: Usage::default(),
        end: TurnEnd::Aborted,
        first_event_after: None,
    };
    let tools = tools.filter(|t| !t.set.is_empty());
    if let Some(tools) = tools {
        request.tools = tools.set.specs().to_vec();
    }
    let max_steps = limits.max_steps.max(1);
    for step in 1..=max_steps {
        let last = step == max_steps || started.elapsed() >= limits.budget;
        if last && !request.tools.is_empty() {
            // Keep the tools listed (templates render them, and earlier
            // calls refer to them) but let the model only answer.
            request.tool_choice = ToolChoice::None;
        }
        let (completion, end) = call_model(
            provider,
            request.clone(),
            abort,
            shutdown,
            observer,
            &mut result,
            started,
        )
        .await;
        result.usage.input_tokens += completion.usage.input_tokens;
        result.usage.output_tokens += completion.usage.output_tokens;
        result.text = completion.text.clone();
        if let Some(end) = end {
            if end == TurnEnd::Aborted && !completion.text.is_empty() {
                result.added.push(ChatMessage::assistant(completion.text));
            }
            result.end = end;
            return result;
        }
        let Some(tools) = tools.filter(|_| !completion.tool_calls.is_empty() && !last) else {
            let reason = completion.finish_reason.unwrap_or(FinishReason::Stop);
            if completion.tool_calls.is_empty() {
                result.added.push(ChatMessage::assistant(completion.text));
                result.end = TurnEnd::Completed(reason);
            } else {
                // Calls where none may be made (no tools, or the last step
                // and a provider that ignored `none`): never show them.
                result.text = stopped_text(&completion.text, max_steps);
                result
                    .added
                    .push(ChatMessage::assistant(result.text.clone()));
                result.end = TurnEnd::Completed(FinishReason::Length);
            }
            return result;
        };
        // A forced choice (`required`, a named tool) holds for one step:
        // kept, it would force a call at every step until the limit.
        if !request.tool_choice.is_auto() {
            request.tool_choice = ToolChoice::Auto;
        }
        let calls = completion.tool_calls.clone();
        let assistant = ChatMessage {
            tool_calls: calls.clone(),
            ..ChatMessage::assistant(completion.text)
        };
        request.messages.push(assistant.clone());
        result.added.push(assistant);
        for call in &calls {
            observer.on_tool_call(&call.id, &call.name, &call.arguments);
        }
        let cancel = CancellationToken::new();
        let outcomes = tokio::select! {
            biased;
            _ = abort.cancelled() => Err(TurnEnd::Aborted),
            _ = shutdown.cancelled() => Err(TurnEnd::Interrupted),
            outcomes = run_calls(&tools.set, &calls, &tools.context, limits.calls, &cancel) => Ok(outcomes),
        };
        let outcomes = match outcomes {
            Ok(outcomes) => outcomes,
            Err(end) => {
                cancel.cancel();
                // Every call keeps its result, so the transcript never holds
                // a call without an answer (providers refuse that history).
                for call in &calls {
                    result.added.push(ChatMessage::tool_result(
                        call.id.clone(),
                        "error: cancelled",
                    ));
                }
                result.text.clear();
                result.end = end;
                return result;
            }
        };
        for outcome in outcomes {
            observer.on_tool_result(
                &outcome.call.id,
                &outcome.call.name,
                &outcome.result,
                outcome.elapsed,
            );
            if let Err(error) = &outcome.result {
                tracing::debug!(tool = %outcome.call.name, %error, "tool call failed");
            }
            let answer = ChatMessage::tool_result(
                outcome.call.id.clone(),
                outcome.model_text(limits.calls.max_result_chars),
            );
            request.messages.push(answer.clone());
            result.added.push(answer);
        }
    }
    unreachable!("the last step always returns")
}

fn stopped_text(partial: &str, steps: u32) -> String {
    if partial.trim().is_empty() {
        format!("I stopped after {steps} steps without reaching an answer.")
    } else {
        partial.to_owned()
    }
}

/// One model call. Returns the completion and, if the turn must end here for
/// a reason other than a finished answer, that reason.
async fn call_model(
    provider: &dyn Provider,
    request: ChatRequest,
    abort: &CancellationToken,
    shutdown: &CancellationToken,
    observer: &mut dyn TurnObserver,
    result: &mut TurnResult,
    started: Instant,
) -> (Completion, Option<TurnEnd>) {
    let mut completion = Completion::default();
    let stream = tokio::select! {
        biased;
        _ = abort.cancelled() => return (completion, Some(TurnEnd::Aborted)),
        _ = shutdown.cancelled() => return (completion, Some(TurnEnd::Interrupted)),
        stream = provider.chat(request) => stream,
    };
    let mut stream = match stream {
        Ok(stream) => stream,
        Err(error) => return (completion, Some(TurnEnd::Failed(error))),
    };
    loop {
        // Dropping `stream` on abort or shutdown cancels the model request.
        let event = tokio::select! {
            biased;
            _ = abort.cancelled() => return (completion, Some(TurnEnd::Aborted)),
            _ = shutdown.cancelled() => return (completion, Some(TurnEnd::Interrupted)),
            event = stream.next() => event,
        };
        if result.first_event_after.is_none() {
            result.first_event_after = Some(started.elapsed());
        }
        match event {
            None => return (completion, None),
            Some(Err(error)) => return (completion, Some(TurnEnd::Failed(error))),
            Some(Ok(event)) => {
                completion.apply(&event);
                if let ChatEvent::TextDelta(delta) = &event {
                    observer.on_delta(delta, &completion.text);
                }
            }
        }
    }
}
