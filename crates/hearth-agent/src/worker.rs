//! A lane's worker: runs its session's queued messages one at a time, each
//! as a full turn, and commits and delivers the result.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use hearth_core::{
    ChatMessage, ChatRequest, InboundMessage, OutboundMessage, Role, RunState, SessionKey,
    StoreError, ToolContext, ToolResult, TurnOutcome, now_ms,
};
use tokio_util::sync::CancellationToken;

use crate::context;
use crate::events::TOOL_OUTPUT_EVENT_CHARS;
use crate::events::{RunEvent, RunEventKind, RunSummary};
use crate::hooks::{HookPipeline, Stage};
use crate::metrics::StateLabel;
use crate::persona;
use crate::runtime::{ActiveRun, Inner};
use crate::screening::screen;
use crate::tools::exec::truncate;
use crate::turn::{TurnEnd, TurnLimits, TurnObserver, TurnTools, run_turn};

/// Retries of a failed `finish_run` commit before giving up on the run for
/// this process lifetime (it stays unfinished and resumes at the next start).
const FINISH_RETRIES: u32 = 5;

pub(crate) async fn run_lane(inner: Arc<Inner>, key: SessionKey) {
    loop {
        if inner.stopping.is_cancelled() {
            // Queued runs stay `queued` in the store and resume at next start.
            inner.lanes.lock().remove(&key);
            return;
        }
        let abort = CancellationToken::new();
        let message = {
            let mut lanes = inner.lanes.lock();
            let Some(lane) = lanes.get_mut(&key) else {
                return;
            };
            match lane.queue.pop_front() {
                Some(message) => {
                    lane.active = Some(ActiveRun {
                        run_id: message.id.clone(),
                        abort: abort.clone(),
                    });
                    message
                }
                None => {
                    lanes.remove(&key);
                    return;
                }
            }
        };
        let permit = tokio::select! {
            permit = inner.permits.acquire() => permit,
            _ = inner.stopping.cancelled() => continue,
        };
        let Ok(_permit) = permit else { return };
        run_one(&inner, message, &abort).await;
        if let Some(lane) = inner.lanes.lock().get_mut(&key) {
            lane.active = None;
        }
    }
}

struct Emitter<'a> {
    inner: &'a Arc<Inner>,
    message: &'a InboundMessage,
    run_id: Arc<str>,
    seq: u64,
    /// Set when outbound hooks will rewrite the answer: no deltas.
    quiet_deltas: bool,
    /// The channel's "working…" status, sent at the first tool call.
    working: Option<OutboundMessage>,
}

impl Emitter<'_> {
    fn emit(&mut self, kind: RunEventKind) {
        self.seq += 1;
        self.inner.events.publish(RunEvent {
            run_id: self.run_id.clone(),
            session_key: self.message.session_key.clone(),
            agent_id: self.message.agent_id.clone(),
            seq: self.seq,
            at_ms: now_ms(),
            kind,
        });
    }
}

impl TurnObserver for Emitter<'_> {
    fn on_delta(&mut self, delta: &str, text: &str) {
        if self.quiet_deltas {
            return;
        }
        self.emit(RunEventKind::Delta {
            delta: delta.to_owned(),
            text: text.to_owned(),
        });
    }

    fn on_tool_call(&mut self, id: &str, name: &str, arguments: &str) {
        if let Some(status) = self.working.take() {
            // Through the outbox, keyed by the run: sent once even if the
            // run is resumed after a crash. Tracked, so shutdown waits.
            let runtime = crate::runtime::Runtime {
                inner: self.inner.clone(),
            };
            let run_id = self.run_id.clone();
            self.inner.tasks.spawn(async move {
                if let Err(error) = runtime.send_message(&run_id, status).await {
                    tracing::warn!(%error, "could not queue the working status");
                }
            });
        }
        self.emit(RunEventKind::ToolCall {
            id: id.to_owned(),
            name: name.to_owned(),
            arguments: arguments.to_owned(),
        });
    }

    fn on_tool_result(&mut self, id: &str, name: &str, result: &ToolResult, elapsed: Duration) {
        let (ok, output) = match result {
            Ok(text) => (true, truncate(text, TOOL_OUTPUT_EVENT_CHARS)),
            Err(error) => (false, truncate(&error.to_string(), TOOL_OUTPUT_EVENT_CHARS)),
        };
        self.inner.metrics.tool_call(name, ok, elapsed);
        self.emit(RunEventKind::ToolResult {
            id: id.to_owned(),
            name: name.to_owned(),
            ok,
            output,
            elapsed_ms: elapsed.as_millis() as u64,
        });
    }
}

async fn run_one(inner: &Arc<Inner>, mut message: InboundMessage, abort: &CancellationToken) {
    let started = Instant::now();
    let started_at_ms = now_ms();
    let agent = inner.agents.get(&message.agent_id);
    let channel_hooks = inner.channel_hooks.get(&message.channel);
    // Inbound hooks first: the model, the transcript and memory see only
    // the screened text.
    let mut blocked_inbound = None;
    if let Some(agent) = &agent {
        let layers: Vec<&HookPipeline> = channel_hooks.into_iter().chain([&agent.hooks]).collect();
        let screened = screen(Stage::Inbound, &layers, &message.text, &message.id);
        message.text = screened.text;
        blocked_inbound = screened.blocked;
    }
    // With outbound hooks, live deltas would show the reply before the
    // hooks rewrite it: only the screened final answer goes out.
    let quiet_deltas = agent
        .as_ref()
        .is_some_and(|a| !a.hooks.is_empty_for(Stage::Outbound))
        || channel_hooks.is_some_and(|h| !h.is_empty_for(Stage::Outbound));
    let working = inner
        .tools
        .as_ref()
        .and_then(|t| t.channels.get(&message.channel))
        .and_then(|policy| policy.working_message.clone())
        .zip(message.origin.as_ref())
        .map(|(text, origin)| OutboundMessage {
            idempotency_key: format!("{}:working", message.id),
            session_key: message.session_key.clone(),
            channel: message.channel.clone(),
            text,
            to: Some(origin.conversation.clone()),
            reply_to: None,
        });
    let mut emitter = Emitter {
        inner,
        message: &message,
        run_id: Arc::from(message.id.as_str()),
        seq: 0,
        quiet_deltas,
        working,
    };
    if let Err(error) = inner.store.mark_running(&message.id).await {
        tracing::warn!(run = %message.id, %error, "could not mark run as running");
    }
    let model = agent
        .as_ref()
        .map_or_else(String::new, |a| a.settings.model.clone());
    emitter.emit(RunEventKind::Started {
        model: model.clone(),
    });
    inner.metrics.active_runs.inc();

    let (state, mut text, mut added, usage, error, stop_reason) = match &agent {
        None => failed(format!(
            "agent {:?} no longer exists",
            message.agent_id.as_str()
        )),
        Some(_) if let Some(reply) = &blocked_inbound => (
            RunState::Done,
            reply.clone(),
            vec![ChatMessage::assistant(reply.clone())],
            hearth_core::Usage::default(),
            None,
            "blocked".to_owned(),
        ),
        Some(agent) => match build_request(inner, agent, &message).await {
            Err(reason) => failed(reason),
            Ok((request, tools)) => {
                let limits = TurnLimits {
                    max_steps: agent.settings.max_steps,
                    budget: Duration::from_secs(agent.settings.turn_budget_secs.into()),
                    ..TurnLimits::default()
                };
                let result = run_turn(
                    agent.provider.as_ref(),
                    request,
                    tools.as_ref(),
                    limits,
                    abort,
                    &inner.interrupt,
                    &mut emitter,
                )
                .await;
                if let Some(after) = result.first_event_after {
                    inner
                        .metrics
                        .provider_first_event_seconds
                        .observe(after.as_secs_f64());
                }
                match result.end {
                    TurnEnd::Interrupted => {
                        inner.metrics.active_runs.dec();
                        inner.in_flight.lock().remove(&message.id);
                        tracing::info!(run = %message.id, "turn interrupted by shutdown; it resumes at the next start");
                        return;
                    }
                    TurnEnd::Completed(reason) => (
                        RunState::Done,
                        result.text,
                        result.added,
                        result.usage,
                        None,
                        reason.as_str().to_owned(),
                    ),
                    TurnEnd::Aborted => (
                        RunState::Aborted,
                        result.text,
                        result.added,
                        result.usage,
                        None,
                        "aborted".to_owned(),
                    ),
                    TurnEnd::Failed(error) => {
                        inner.metrics.error(error.kind.as_str());
                        let (state, text, added, usage, error, reason) = failed(error.to_string());
                        (
                            state,
                            text,
                            added,
                            usage.max_with(result.usage),
                            error,
                            reason,
                        )
                    }
                }
            }
        },
    };
    inner.metrics.active_runs.dec();
    if let Some(agent) = &agent
        && blocked_inbound.is_none()
        && matches!(state, RunState::Done | RunState::Aborted)
        && !text.is_empty()
    {
        let layers: Vec<&HookPipeline> = [&agent.hooks].into_iter().chain(channel_hooks).collect();
        let screened = screen(Stage::Outbound, &layers, &text, &message.id);
        let screened = screened.blocked.unwrap_or(screened.text);
        if screened != text {
            // The answer is the last assistant message; the transcript
            // keeps what was sent, not what the hooks removed.
            if let Some(last) = added.iter_mut().rev().find(|m| m.role == Role::Assistant) {
                last.content = screened.clone();
            }
            text = screened;
        }
    }

    let mut transcript = Vec::with_capacity(added.len() + 1);
    transcript.push(ChatMessage::user(message.text.clone()));
    transcript.extend(added);
    let reply = OutboundMessage {
        idempotency_key: message.id.clone(),
        session_key: message.session_key.clone(),
        channel: message.channel.clone(),
        text: text.clone(),
        to: message.origin.as_ref().map(|o| o.conversation.clone()),
        reply_to: message.origin.as_ref().and_then(|o| o.message_id.clone()),
    };
    let delivered_on_commit = inner
        .channels
        .get(&reply.channel)
        .is_some_and(|channel| channel.delivers_on_commit());
    let outcome = TurnOutcome {
        state,
        transcript,
        reply: reply.clone(),
        delivered: delivered_on_commit,
        error: error.clone(),
        usage,
    };

    // Claim the delivery before the commit makes the outbox row visible.
    if !delivered_on_commit {
        inner
            .delivering
            .lock()
            .insert(reply.idempotency_key.clone());
    }
    let committed = commit(inner, &message.id, &outcome).await;
    // Out of the in-flight set after the commit and before the final event:
    // a waiter that finds the run not in flight then finds it in the store.
    inner.in_flight.lock().remove(&message.id);
    let outbox_id = match committed {
        Ok(Some(id)) => id,
        Ok(None) => {
            // Computed twice (it was queued twice): the first result stands
            // and was delivered; this one must not be.
            inner.delivering.lock().remove(&reply.idempotency_key);
            inner.pending.fetch_sub(1, Ordering::SeqCst);
            tracing::warn!(run = %message.id, "run was already finished; not delivering it again");
            return;
        }
        Err(error) => {
            inner.delivering.lock().remove(&reply.idempotency_key);
            inner.metrics.error("store");
            tracing::error!(run = %message.id, %error, "could not record the finished turn; it resumes at the next start");
            return;
        }
    };
    inner.pending.fetch_sub(1, Ordering::SeqCst);
    inner
        .metrics
        .queue_depth
        .set(inner.pending.load(Ordering::SeqCst) as i64);
    inner
        .metrics
        .turn_seconds
        .observe(started.elapsed().as_secs_f64());
    inner
        .metrics
        .turns
        .get_or_create(&StateLabel {
            state: state.as_str().to_owned(),
        })
        .inc();

    emitter.emit(RunEventKind::Finished(RunSummary {
        state,
        text,
        stop_reason,
        error,
        usage,
        model,
        accepted_at_ms: message.received_at_ms,
        started_at_ms,
        ended_at_ms: now_ms(),
    }));
    if !delivered_on_commit {
        crate::delivery::deliver(inner, outbox_id, &reply).await;
        inner.delivering.lock().remove(&reply.idempotency_key);
    }
}

type Outcome = (
    RunState,
    String,
    Vec<ChatMessage>,
    hearth_core::Usage,
    Option<String>,
    String,
);

fn failed(reason: String) -> Outcome {
    let text = format!("Sorry, I could not answer: {reason}");
    let added = vec![ChatMessage::assistant(text.clone())];
    (
        RunState::Failed,
        text,
        added,
        hearth_core::Usage::default(),
        Some(reason),
        "error".to_owned(),
    )
}

trait UsageExt {
    fn max_with(self, other: Self) -> Self;
}

impl UsageExt for hearth_core::Usage {
    fn max_with(self, other: Self) -> Self {
        Self {
            input_tokens: self.input_tokens.max(other.input_tokens),
            output_tokens: self.output_tokens.max(other.output_tokens),
        }
    }
}

/// The turn's tools: the source's, narrowed by the agent's and the
/// channel's policies; `None` when the daemon has no tools or none is left.
fn turn_tools(
    inner: &Inner,
    agent: &crate::registry::Agent,
    message: &InboundMessage,
) -> Option<TurnTools> {
    let set = inner.tools.as_ref()?.for_turn(agent, &message.channel);
    if set.is_empty() {
        return None;
    }
    Some(TurnTools {
        set,
        context: ToolContext {
            agent_id: message.agent_id.clone(),
            session_key: message.session_key.clone(),
            run_id: message.id.clone(),
            call_id: String::new(),
            channel: message.channel.clone(),
            origin: message.origin.clone(),
            cancel: CancellationToken::new(),
        },
    })
}

async fn build_request(
    inner: &Inner,
    agent: &crate::registry::Agent,
    message: &InboundMessage,
) -> Result<(ChatRequest, Option<TurnTools>), String> {
    let tools = turn_tools(inner, agent, message);
    let history = inner
        .store
        .history(&message.session_key, agent.settings.history_limit as usize)
        .await
        .map_err(|e| e.to_string())?;
    let messages: Vec<ChatMessage> = history.iter().map(|entry| entry.message.clone()).collect();
    let mut system = persona::system_prompt(Some(&agent.workspace));
    if let (Some(source), Some(_)) = (&inner.tools, &tools) {
        let section = source.source.prompt_section(agent);
        if !section.is_empty() {
            system.push_str("\n\n");
            system.push_str(&section);
        }
    }
    let budget = agent.settings.context_tokens as usize;
    let recalled = match &inner.memory {
        Some(memory) if agent.settings.memory_tokens > 0 => {
            let budget = (agent.settings.memory_tokens as usize).min(budget / 4);
            crate::memory::recalled_message(&memory.recall(message, budget).await)
        }
        _ => None,
    };
    let assembled = context::assemble(
        &system,
        recalled,
        &messages,
        &message.context,
        &message.text,
        budget,
    )
    .map_err(|e| e.to_string())?;
    if let Some(memory) = &inner.memory {
        // At the row limit, the oldest turn leaves the window at the next
        // message even if it fits the budget now: keep it too.
        let mut leaving = assembled.dropped;
        if leaving == 0 && history.len() >= agent.settings.history_limit as usize {
            leaving = crate::memory::first_turn_len(&messages);
        }
        let turns = crate::memory::whole_turns(&history[..leaving]);
        if !turns.is_empty() {
            memory.flush(message, turns).await;
        }
    }
    let messages = assembled.messages;
    let request = ChatRequest {
        model: String::new(),
        messages,
        tools: Vec::new(),
        max_tokens: agent.settings.max_output_tokens,
        temperature: agent.settings.temperature,
        ..Default::default()
    };
    Ok((request, tools))
}

/// Commits the turn, retrying a few times on storage errors (a locked or
/// briefly full disk) with a doubling pause.
async fn commit(
    inner: &Inner,
    run_id: &str,
    outcome: &TurnOutcome,
) -> Result<Option<i64>, StoreError> {
    let mut pause = Duration::from_millis(50);
    let mut attempt = 0;
    loop {
        match inner.store.finish_run(run_id, outcome).await {
            Ok(id) => return Ok(id),
            Err(StoreError::Backend(error)) if attempt < FINISH_RETRIES => {
                tracing::warn!(run = %run_id, %error, "retrying commit");
                tokio::time::sleep(pause).await;
                pause *= 2;
                attempt += 1;
            }
            Err(error) => return Err(error),
        }
    }
}
