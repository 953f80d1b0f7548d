//! One agent turn: call the model, stream its answer, run the tool calls it
//! asks for, and repeat until it answers in text.
//!
//! Tools arrive in a later part; until then every call is answered with a
//! tool-result error, which keeps the loop's shape (call → result → next
//! model call) exercised end to end.

use std::time::Instant;

use futures::StreamExt;
use hearth_core::{
    ChatEvent, ChatMessage, ChatRequest, Completion, FinishReason, Provider, ProviderError, Usage,
};
use tokio_util::sync::CancellationToken;

/// Model calls allowed in one turn, so a model that keeps calling tools
/// cannot loop forever.
pub const MAX_MODEL_CALLS: usize = 8;

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
    pub first_event_after: Option<std::time::Duration>,
}

/// Callbacks the turn reports progress through.
pub trait TurnObserver: Send {
    fn on_delta(&mut self, delta: &str, text: &str);
    fn on_tool_call(&mut self, id: &str, name: &str);
}

pub async fn run_turn(
    provider: &dyn Provider,
    mut request: ChatRequest,
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
    for _ in 0..MAX_MODEL_CALLS {
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
        if completion.tool_calls.is_empty() {
            result.added.push(ChatMessage::assistant(completion.text));
            result.end = TurnEnd::Completed(completion.finish_reason.unwrap_or(FinishReason::Stop));
            return result;
        }
        let calls = completion.tool_calls.clone();
        let assistant = ChatMessage {
            tool_calls: calls.clone(),
            ..ChatMessage::assistant(completion.text)
        };
        request.messages.push(assistant.clone());
        result.added.push(assistant);
        for call in calls {
            observer.on_tool_call(&call.id, &call.name);
            let answer = ChatMessage::tool_result(
                call.id.clone(),
                format!("error: tool {:?} is not available to this agent", call.name),
            );
            request.messages.push(answer.clone());
            result.added.push(answer);
        }
    }
    result.text = "I stopped after too many tool calls without an answer.".into();
    result
        .added
        .push(ChatMessage::assistant(result.text.clone()));
    result.end = TurnEnd::Completed(FinishReason::Length);
    result
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
