//! Hooks around a turn: a message passes its channel's inbound hooks, then
//! its agent's, before the model sees it; a reply passes the agent's
//! outbound hooks, then the channel's, before it is recorded and sent. The
//! channel is the outer layer: its rules cover everything that arrives on
//! it and have the last word on everything sent through it.

use crate::hooks::{HookPipeline, Stage};

/// A text after the hooks of one stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Screened {
    pub text: String,
    /// The message to answer with instead, when a filter blocked the text.
    pub blocked: Option<String>,
}

/// Runs `layers` in order over `text`, stopping at the first block.
/// Flags and blocks are logged with the run id (the matched text is
/// already redacted by any redact hook before the filter).
pub(crate) fn screen(stage: Stage, layers: &[&HookPipeline], text: &str, run_id: &str) -> Screened {
    let mut text = text.to_owned();
    for pipeline in layers {
        if pipeline.is_empty_for(stage) {
            continue;
        }
        let outcome = pipeline.apply(stage, &text);
        for flag in &outcome.flags {
            tracing::warn!(run = %run_id, ?stage, hook = %flag.hook, matched = %flag.matched, "hook flagged a message");
        }
        if outcome.redactions > 0 {
            tracing::info!(run = %run_id, ?stage, redactions = outcome.redactions, "hooks redacted a message");
        }
        if let Some(blocked) = outcome.blocked {
            tracing::warn!(run = %run_id, ?stage, hook = %blocked.hook, reason = %blocked.reason, "hook blocked a message");
            return Screened {
                text: outcome.text,
                blocked: Some(blocked.message),
            };
        }
        text = outcome.text;
    }
    Screened {
        text,
        blocked: None,
    }
}
