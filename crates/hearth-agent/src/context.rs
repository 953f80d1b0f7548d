//! Context assembly: system prompt, history and the new message, trimmed
//! to the agent's token budget.
//!
//! History is cut into *turns*, each starting at a user message and holding
//! everything after it (assistant answers, tool calls, tool results) up to
//! the next user message. Whole turns are dropped oldest first, so a tool
//! call is never separated from its result.

use hearth_core::{ChatMessage, Role};

/// Rough token count: ~4 characters per token for English text plus a fixed
/// cost per message for role markers. Deliberately simple and a little
/// pessimistic; exact counts need the model's tokenizer, which the
/// in-process engine applies on its side.
pub fn estimate_tokens(message: &ChatMessage) -> usize {
    let calls: usize = message
        .tool_calls
        .iter()
        .map(|c| c.name.len() + c.arguments.len())
        .sum();
    (message.content.len() + calls).div_ceil(4) + 4
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the message needs about {needed} tokens with the system prompt, over this agent's context budget of {budget}; send a shorter message or raise context_tokens"
)]
pub struct OverBudget {
    pub needed: usize,
    pub budget: usize,
}

/// The message list for one model call, and what did not fit.
#[derive(Debug, Clone, PartialEq)]
pub struct Assembled {
    pub messages: Vec<ChatMessage>,
    /// Leading messages of the stored history left out (whole turns, plus
    /// any orphan rows before the first user message).
    pub dropped: usize,
}

/// Builds the message list for one model call.
///
/// `history` is the stored transcript (oldest first); `client_context` is
/// history a stateless client sent itself. Both are budgeted the same way.
/// `recalled` (memories, as a system message) goes after the system prompt
/// when it fits beside the message; it is left out rather than failing the
/// turn.
pub fn assemble(
    system_prompt: &str,
    recalled: Option<ChatMessage>,
    history: &[ChatMessage],
    client_context: &[ChatMessage],
    user_text: &str,
    budget: usize,
) -> Result<Assembled, OverBudget> {
    let system = ChatMessage::system(system_prompt);
    let user = ChatMessage::user(user_text);
    let mut fixed = estimate_tokens(&system) + estimate_tokens(&user);
    if fixed > budget {
        return Err(OverBudget {
            needed: fixed,
            budget,
        });
    }
    let recalled = recalled.filter(|m| fixed + estimate_tokens(m) <= budget);
    fixed += recalled.as_ref().map_or(0, estimate_tokens);
    let past: Vec<&ChatMessage> = history
        .iter()
        .chain(client_context.iter().filter(|m| m.role != Role::System))
        .collect();
    let turns = split_turns(&past);

    // Keep the newest turns that fit.
    let mut remaining = budget - fixed;
    let mut first_kept = turns.len();
    for (index, turn) in turns.iter().enumerate().rev() {
        let cost: usize = turn.iter().map(|m| estimate_tokens(m)).sum();
        if cost > remaining {
            break;
        }
        remaining -= cost;
        first_kept = index;
    }

    let mut messages = Vec::with_capacity(past.len() + 3);
    messages.push(system);
    messages.extend(recalled);
    let kept: Vec<&ChatMessage> = turns[first_kept..].iter().flatten().copied().collect();
    messages.extend(kept.iter().map(|m| (*m).clone()));
    messages.push(user);
    // Everything of the stored history before the first kept message.
    let dropped = past.len() - kept.len();
    Ok(Assembled {
        messages,
        dropped: dropped.min(history.len()),
    })
}

/// Groups messages into turns. Rows before the first user message (left by
/// a history limit that cut a turn in half) are dropped: they could hold a
/// tool result whose call is gone.
fn split_turns<'a>(messages: &[&'a ChatMessage]) -> Vec<Vec<&'a ChatMessage>> {
    let mut turns: Vec<Vec<&ChatMessage>> = Vec::new();
    for message in messages {
        if message.role == Role::User {
            turns.push(vec![message]);
        } else if let Some(turn) = turns.last_mut() {
            turn.push(message);
        }
    }
    turns
}

#[cfg(test)]
mod tests {
    use super::*;
    use hearth_core::ToolCall;

    fn tool_turn(n: usize) -> Vec<ChatMessage> {
        let call = ToolCall {
            id: format!("c{n}"),
            name: "lookup".into(),
            arguments: "{}".into(),
        };
        vec![
            ChatMessage::user(format!("question {n}")),
            ChatMessage {
                tool_calls: vec![call],
                ..ChatMessage::assistant("")
            },
            ChatMessage::tool_result(format!("c{n}"), "x".repeat(40)),
            ChatMessage::assistant(format!("answer {n}")),
        ]
    }

    #[test]
    fn everything_fits_in_a_large_budget() {
        let history: Vec<_> = (0..3).flat_map(tool_turn).collect();
        let out = assemble("sys", None, &history, &[], "now", 10_000)
            .unwrap()
            .messages;
        assert_eq!(out.len(), history.len() + 2);
        assert_eq!(out[0].role, Role::System);
        assert_eq!(out.last().unwrap().content, "now");
    }

    #[test]
    fn oldest_turns_go_first_and_tool_pairs_stay_together() {
        let history: Vec<_> = (0..10).flat_map(tool_turn).collect();
        let per_turn: usize = tool_turn(0).iter().map(estimate_tokens).sum();
        let fixed = estimate_tokens(&ChatMessage::system("sys"))
            + estimate_tokens(&ChatMessage::user("now"));
        for kept in 0..4 {
            let budget = fixed + per_turn * kept + per_turn / 2;
            let out = assemble("sys", None, &history, &[], "now", budget)
                .unwrap()
                .messages;
            let middle = &out[1..out.len() - 1];
            assert_eq!(middle.len(), kept * 4, "budget for {kept} turns");
            if kept > 0 {
                assert_eq!(
                    middle[0].content,
                    format!("question {}", 10 - kept),
                    "newest turns are kept"
                );
            }
            // Every tool result's call is present.
            for (i, m) in middle.iter().enumerate() {
                if let Some(id) = &m.tool_call_id {
                    assert!(
                        middle[..i]
                            .iter()
                            .any(|p| p.tool_calls.iter().any(|c| &c.id == id))
                    );
                }
            }
        }
    }

    #[test]
    fn a_cut_turn_at_the_start_of_history_is_dropped() {
        let mut history = tool_turn(1);
        history.remove(0); // the limit cut off the user message
        history.remove(0); // and the call: only its result remains
        history.extend(tool_turn(2));
        let out = assemble("sys", None, &history, &[], "now", 10_000)
            .unwrap()
            .messages;
        assert_eq!(out[1].content, "question 2");
    }

    #[test]
    fn a_message_over_budget_is_a_clear_error() {
        let err = assemble("sys", None, &[], &[], &"x".repeat(4000), 300).unwrap_err();
        assert!(err.to_string().contains("context budget of 300"), "{err}");
    }

    #[test]
    fn client_context_is_budgeted_and_its_system_messages_ignored() {
        let context = vec![
            ChatMessage::system("override?"),
            ChatMessage::user("a"),
            ChatMessage::assistant("b"),
        ];
        let out = assemble("sys", None, &[], &context, "c", 10_000)
            .unwrap()
            .messages;
        let roles: Vec<_> = out.iter().map(|m| m.role).collect();
        assert_eq!(
            roles,
            [Role::System, Role::User, Role::Assistant, Role::User]
        );
        assert_eq!(out[0].content, "sys");
    }

    #[test]
    fn recalled_memories_follow_the_system_prompt_and_dropped_turns_are_counted() {
        let history: Vec<_> = (0..10).flat_map(tool_turn).collect();
        let per_turn: usize = tool_turn(0).iter().map(estimate_tokens).sum();
        let memory = crate::memory::recalled_message(&["the cat is called Pixel".into()]);
        let fixed = estimate_tokens(&ChatMessage::system("sys"))
            + estimate_tokens(&ChatMessage::user("now"))
            + estimate_tokens(memory.as_ref().unwrap());
        let out = assemble(
            "sys",
            memory.clone(),
            &history,
            &[],
            "now",
            fixed + per_turn * 3,
        )
        .unwrap();
        assert_eq!(out.messages[1].role, Role::System);
        assert!(out.messages[1].content.contains("Pixel"));
        assert!(
            out.messages[1]
                .content
                .contains("not part of the user's message")
        );
        assert_eq!(out.dropped, 7 * 4, "seven whole turns left out");
        assert_eq!(out.messages.len(), 3 * 4 + 3);
        // Memory that does not fit beside the message is left out, not an error.
        let tight = estimate_tokens(&ChatMessage::system("sys"))
            + estimate_tokens(&ChatMessage::user("now"));
        let out = assemble("sys", memory, &[], &[], "now", tight).unwrap();
        assert_eq!(out.messages.len(), 2);
    }
}
