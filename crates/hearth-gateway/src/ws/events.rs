//! Maps a run's events onto OpenClaw's `agent` events (streams `lifecycle`,
//! `assistant`, `tool`, `usage`) and `chat` events (states `delta`, `final`,
//! `aborted`, `error`), in the order OpenClaw emits them.

use hearth_agent::{RunEvent, RunEventKind, RunSummary};
use hearth_core::RunState;
use serde_json::{Value, json};

use crate::protocol::events::{
    AgentEvent, AgentStream, ChatEvent, ChatMessageBody, ChatState, TokenUsage,
};

fn agent(event: &RunEvent, stream: AgentStream, data: Value) -> (&'static str, Value) {
    let payload = AgentEvent {
        run_id: event.run_id.to_string(),
        session_key: event.session_key.to_string(),
        agent_id: event.agent_id.to_string(),
        stream,
        data,
        seq: event.seq,
        ts: event.at_ms,
    };
    ("agent", json!(payload))
}

/// A `chat` event with the fields every state has; the caller sets the rest.
fn chat(event: &RunEvent, state: ChatState, message: ChatMessageBody) -> ChatEvent {
    ChatEvent {
        run_id: event.run_id.to_string(),
        session_key: event.session_key.to_string(),
        agent_id: event.agent_id.to_string(),
        seq: event.seq,
        state,
        delta_text: None,
        message,
        stop_reason: None,
        error_message: None,
        usage: None,
    }
}

/// An assistant message in OpenClaw's content-block shape.
pub(crate) fn assistant_message(text: &str, at_ms: i64) -> Value {
    json!(ChatMessageBody::assistant(text, at_ms))
}

/// The frames one run event becomes, as (event name, payload).
pub(crate) fn frames_for(event: &RunEvent) -> Vec<(&'static str, Value)> {
    match &event.kind {
        RunEventKind::Started { model } => vec![
            agent(
                event,
                AgentStream::Lifecycle,
                json!({ "phase": "start", "startedAt": event.at_ms }),
            ),
            agent(
                event,
                AgentStream::Lifecycle,
                json!({ "phase": "model", "model": model }),
            ),
        ],
        RunEventKind::Delta { delta, text } => {
            let mut delta_event = chat(
                event,
                ChatState::Delta,
                ChatMessageBody::assistant(text, event.at_ms),
            );
            delta_event.delta_text = Some(delta.clone());
            vec![
                agent(
                    event,
                    AgentStream::Assistant,
                    json!({ "text": text, "delta": delta }),
                ),
                ("chat", json!(delta_event)),
            ]
        }
        RunEventKind::ToolCall {
            id,
            name,
            arguments,
        } => {
            // Arguments as JSON when they parse, as the model's text when not.
            let args = serde_json::from_str::<Value>(arguments)
                .unwrap_or_else(|_| Value::String(arguments.clone()));
            vec![agent(
                event,
                AgentStream::Tool,
                json!({ "phase": "start", "name": name, "toolCallId": id, "args": args }),
            )]
        }
        RunEventKind::ToolResult {
            id,
            name,
            ok,
            output,
            elapsed_ms,
        } => vec![agent(
            event,
            AgentStream::Tool,
            json!({
                "phase": "result",
                "name": name,
                "toolCallId": id,
                "isError": !ok,
                "result": output,
                "durationMs": elapsed_ms,
            }),
        )],
        RunEventKind::Finished(summary) => finished(event, summary),
    }
}

fn finished(event: &RunEvent, s: &RunSummary) -> Vec<(&'static str, Value)> {
    let aborted = s.state == RunState::Aborted;
    let mut frames = vec![
        agent(
            event,
            AgentStream::Usage,
            json!({ "inputTokens": s.usage.input_tokens, "outputTokens": s.usage.output_tokens }),
        ),
        agent(
            event,
            AgentStream::Lifecycle,
            json!({
                "phase": "end",
                "startedAt": s.started_at_ms,
                "endedAt": s.ended_at_ms,
                "aborted": aborted,
                "stopReason": s.stop_reason,
                "terminalReply": { "disposition": "visible", "text": s.text },
            }),
        ),
    ];
    let message = ChatMessageBody::assistant(&s.text, s.ended_at_ms);
    let last = match s.state {
        RunState::Aborted => ChatEvent {
            stop_reason: Some("aborted".into()),
            ..chat(event, ChatState::Aborted, message)
        },
        RunState::Failed => ChatEvent {
            stop_reason: Some("error".into()),
            error_message: Some(s.error.clone().unwrap_or_default()),
            ..chat(event, ChatState::Error, message)
        },
        _ => ChatEvent {
            stop_reason: Some(s.stop_reason.clone()),
            usage: Some(TokenUsage {
                input: s.usage.input_tokens,
                output: s.usage.output_tokens,
                total: s.usage.input_tokens + s.usage.output_tokens,
            }),
            ..chat(event, ChatState::Final, message)
        },
    };
    frames.push(("chat", json!(last)));
    frames
}

#[cfg(test)]
mod tests {
    use super::*;
    use hearth_core::{AgentId, SessionKey, Usage};
    use std::sync::Arc;

    fn event(kind: RunEventKind) -> RunEvent {
        RunEvent {
            run_id: Arc::from("r1"),
            session_key: SessionKey::new("agent:main:x").unwrap(),
            agent_id: AgentId::main(),
            seq: 3,
            at_ms: 1000,
            kind,
        }
    }

    #[test]
    fn a_delta_becomes_an_assistant_event_and_a_chat_delta() {
        let frames = frames_for(&event(RunEventKind::Delta {
            delta: "lo".into(),
            text: "Hello".into(),
        }));
        assert_eq!(frames[0].0, "agent");
        assert_eq!(frames[0].1["stream"], "assistant");
        assert_eq!(frames[0].1["data"]["text"], "Hello");
        assert_eq!(frames[1].0, "chat");
        assert_eq!(frames[1].1["state"], "delta");
        assert_eq!(frames[1].1["deltaText"], "lo");
        assert_eq!(frames[1].1["message"]["content"][0]["text"], "Hello");
        assert_eq!(frames[1].1["seq"], 3);
    }

    #[test]
    fn the_end_of_a_run_maps_to_final_aborted_or_error() {
        let summary = |state| RunSummary {
            state,
            text: "done".into(),
            stop_reason: "stop".into(),
            error: Some("boom".into()),
            usage: Usage {
                input_tokens: 2,
                output_tokens: 1,
            },
            model: "m".into(),
            accepted_at_ms: 0,
            started_at_ms: 1,
            ended_at_ms: 2,
        };
        let last = |state| {
            frames_for(&event(RunEventKind::Finished(summary(state))))
                .pop()
                .unwrap()
                .1
        };
        assert_eq!(last(RunState::Done)["state"], "final");
        assert_eq!(
            last(RunState::Done)["message"]["content"][0]["text"],
            "done"
        );
        assert_eq!(last(RunState::Aborted)["state"], "aborted");
        assert_eq!(last(RunState::Failed)["errorMessage"], "boom");
    }
}
