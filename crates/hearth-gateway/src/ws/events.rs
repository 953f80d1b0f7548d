//! Maps a run's events onto OpenClaw's `agent` events (streams `lifecycle`,
//! `assistant`, `tool`, `usage`) and `chat` events (states `delta`, `final`,
//! `aborted`, `error`), in the order OpenClaw emits them.

use hearth_agent::{RunEvent, RunEventKind, RunSummary};
use hearth_core::RunState;
use serde_json::{Value, json};

fn agent(event: &RunEvent, stream: &str, data: Value) -> (&'static str, Value) {
    (
        "agent",
        json!({
            "runId": &*event.run_id,
            "sessionKey": event.session_key.as_str(),
            "agentId": event.agent_id.as_str(),
            "stream": stream,
            "data": data,
            "seq": event.seq,
            "ts": event.at_ms,
        }),
    )
}

fn chat(event: &RunEvent, state: &str, mut fields: Value) -> (&'static str, Value) {
    let base = json!({
        "runId": &*event.run_id,
        "sessionKey": event.session_key.as_str(),
        "agentId": event.agent_id.as_str(),
        "seq": event.seq,
        "state": state,
    });
    if let (Value::Object(fields), Value::Object(base)) = (&mut fields, base) {
        fields.extend(base);
    }
    ("chat", fields)
}

/// An assistant message in OpenClaw's content-block shape.
pub(crate) fn assistant_message(text: &str, at_ms: i64) -> Value {
    json!({ "role": "assistant", "content": [{ "type": "text", "text": text }], "timestamp": at_ms })
}

/// The frames one run event becomes, as (event name, payload).
pub(crate) fn frames_for(event: &RunEvent) -> Vec<(&'static str, Value)> {
    match &event.kind {
        RunEventKind::Started { model } => vec![
            agent(
                event,
                "lifecycle",
                json!({ "phase": "start", "startedAt": event.at_ms }),
            ),
            agent(
                event,
                "lifecycle",
                json!({ "phase": "model", "model": model }),
            ),
        ],
        RunEventKind::Delta { delta, text } => vec![
            agent(event, "assistant", json!({ "text": text, "delta": delta })),
            chat(
                event,
                "delta",
                json!({ "deltaText": delta, "message": assistant_message(text, event.at_ms) }),
            ),
        ],
        RunEventKind::ToolCall { id, name } => {
            vec![agent(
                event,
                "tool",
                json!({ "phase": "start", "name": name, "toolCallId": id }),
            )]
        }
        RunEventKind::Finished(summary) => finished(event, summary),
    }
}

fn finished(event: &RunEvent, s: &RunSummary) -> Vec<(&'static str, Value)> {
    let aborted = s.state == RunState::Aborted;
    let usage = json!({ "input": s.usage.input_tokens, "output": s.usage.output_tokens,
                        "total": s.usage.input_tokens + s.usage.output_tokens });
    let mut frames = vec![
        agent(
            event,
            "usage",
            json!({ "inputTokens": s.usage.input_tokens, "outputTokens": s.usage.output_tokens }),
        ),
        agent(
            event,
            "lifecycle",
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
    let message = assistant_message(&s.text, s.ended_at_ms);
    frames.push(match s.state {
        RunState::Aborted => {
            chat(event, "aborted", json!({ "message": message, "stopReason": "aborted" }))
        }
        RunState::Failed => chat(
            event,
            "error",
            json!({ "message": message, "errorMessage": s.error.clone().unwrap_or_default(), "stopReason": "error" }),
        ),
        _ => chat(event, "final", json!({ "message": message, "stopReason": s.stop_reason, "usage": usage })),
    });
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
