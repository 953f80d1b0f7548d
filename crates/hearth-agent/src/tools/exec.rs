//! Running the calls of one model answer: each is resolved and validated,
//! then all run concurrently, each under its own time limit, and the
//! results come back in the order the model asked.

use std::time::Duration;
use tokio::time::Instant;

use futures::future::join_all;
use hearth_core::{ToolCall, ToolContext, ToolError, ToolResult};
use tokio_util::sync::CancellationToken;

use super::ToolSet;

/// Bounds on the calls of a turn.
#[derive(Debug, Clone, Copy)]
pub struct CallLimits {
    /// Time one call may take, unless the tool says it needs longer
    /// (a command waiting for an operator's approval).
    pub call_timeout: Duration,
    /// Longest result text fed back to the model; the rest is cut with a
    /// note, so one large file cannot push the conversation out of the
    /// context window.
    pub max_result_chars: usize,
}

impl Default for CallLimits {
    fn default() -> Self {
        Self {
            call_timeout: Duration::from_secs(120),
            max_result_chars: 16_000,
        }
    }
}

/// One call's result.
#[derive(Debug, Clone)]
pub struct CallOutcome {
    pub call: ToolCall,
    pub result: ToolResult,
    pub elapsed: Duration,
}

impl CallOutcome {
    /// The text the model reads as the call's result.
    pub fn model_text(&self, max_chars: usize) -> String {
        match &self.result {
            Ok(text) => truncate(text, max_chars),
            Err(error) => truncate(&format!("error: {error}"), max_chars),
        }
    }
}

/// Runs `calls` concurrently with contexts made from `template`. Cancelling
/// `cancel` cancels every call's context; the caller drops this future
/// after that (abort, shutdown).
pub async fn run_calls(
    set: &ToolSet,
    calls: &[ToolCall],
    template: &ToolContext,
    limits: CallLimits,
    cancel: &CancellationToken,
) -> Vec<CallOutcome> {
    let runs = calls.iter().map(|call| async move {
        let started = Instant::now();
        let result = run_one(set, call, template, limits, cancel).await;
        CallOutcome {
            call: call.clone(),
            result,
            elapsed: started.elapsed(),
        }
    });
    join_all(runs).await
}

async fn run_one(
    set: &ToolSet,
    call: &ToolCall,
    template: &ToolContext,
    limits: CallLimits,
    cancel: &CancellationToken,
) -> ToolResult {
    let (tool, arguments) = set.resolve(call)?;
    let context = ToolContext {
        call_id: call.id.clone(),
        cancel: cancel.child_token(),
        ..template.clone()
    };
    let limit = tool.max_duration().unwrap_or(limits.call_timeout);
    let guard = context.cancel.clone().drop_guard();
    let result = tokio::select! {
        biased;
        _ = cancel.cancelled() => Err(ToolError::Cancelled),
        result = tokio::time::timeout(limit, tool.call(&context, arguments)) => {
            result.unwrap_or(Err(ToolError::TimedOut(limit.as_secs())))
        }
    };
    // Whatever the tool left waiting on its token learns the call is over.
    drop(guard);
    result
}

/// Cuts `text` to at most `max_chars` characters, saying how much was cut.
pub fn truncate(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        None => text.to_owned(),
        Some((end, _)) => {
            let total = text.chars().count();
            format!(
                "{}\n[… cut: {} of {total} characters not shown]",
                &text[..end],
                total - max_chars
            )
        }
    }
}
