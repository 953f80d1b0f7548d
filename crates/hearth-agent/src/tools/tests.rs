//! The tool loop driven by a scripted model: call → result → answer,
//! invalid arguments, the step limit and the time budget, parallel calls,
//! time-outs and aborts; the approval broker; policies per turn.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use hearth_core::{
    AgentId, ApprovalDecision, ApprovalRequest, Approver, ChatMessage, ChatRequest, FinishReason,
    Role, SessionKey, ToolChoice, ToolContext, ToolError, ToolResult, TypedTool, typed,
};
use hearth_testkit::provider::{Reply, ScriptedProvider};
use schemars::JsonSchema;
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use super::*;
use crate::turn::{TurnEnd, TurnLimits, TurnObserver, TurnTools, run_turn};

#[derive(Debug, Default)]
struct Add {
    calls: AtomicUsize,
}

#[derive(Debug)]
struct AddTool(Arc<Add>);

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct AddArgs {
    /// First number.
    a: i64,
    /// Second number.
    b: i64,
}

#[async_trait]
impl TypedTool for AddTool {
    type Args = AddArgs;
    const NAME: &'static str = "add";
    fn description(&self) -> String {
        "Adds two numbers.".into()
    }
    async fn run(&self, _context: &ToolContext, args: AddArgs) -> ToolResult {
        self.0.calls.fetch_add(1, Ordering::SeqCst);
        Ok((args.a + args.b).to_string())
    }
}

/// Sleeps `ms` (or until cancelled), recording how many run at once.
#[derive(Debug, Default)]
struct Sleep {
    running: AtomicUsize,
    max_running: AtomicUsize,
    cancelled: AtomicUsize,
}

#[derive(Debug)]
struct SleepTool(Arc<Sleep>);

#[derive(Debug, Deserialize, JsonSchema)]
struct SleepArgs {
    ms: u64,
}

#[async_trait]
impl TypedTool for SleepTool {
    type Args = SleepArgs;
    const NAME: &'static str = "sleep";
    fn description(&self) -> String {
        "Waits.".into()
    }
    async fn run(&self, context: &ToolContext, args: SleepArgs) -> ToolResult {
        let this = &self.0;
        let now = this.running.fetch_add(1, Ordering::SeqCst) + 1;
        this.max_running.fetch_max(now, Ordering::SeqCst);
        let result = tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(args.ms)) => Ok(format!("slept {}", args.ms)),
            _ = context.cancel.cancelled() => {
                this.cancelled.fetch_add(1, Ordering::SeqCst);
                Err(ToolError::Cancelled)
            }
        };
        this.running.fetch_sub(1, Ordering::SeqCst);
        result
    }
}

#[derive(Debug, Default)]
struct Recorder {
    events: Vec<String>,
}

impl TurnObserver for Recorder {
    fn on_delta(&mut self, _delta: &str, _text: &str) {}
    fn on_tool_call(&mut self, id: &str, name: &str, arguments: &str) {
        self.events.push(format!("call {id} {name} {arguments}"));
    }
    fn on_tool_result(&mut self, id: &str, _name: &str, result: &ToolResult, _elapsed: Duration) {
        let outcome = match result {
            Ok(text) => format!("ok {text}"),
            Err(error) => format!("error {error}"),
        };
        self.events.push(format!("result {id} {outcome}"));
    }
}

fn context() -> ToolContext {
    ToolContext {
        agent_id: AgentId::main(),
        session_key: SessionKey::for_agent(&AgentId::main(), "main").unwrap(),
        run_id: "run-1".into(),
        call_id: String::new(),
        channel: "gateway".into(),
        origin: None,
        cancel: CancellationToken::new(),
    }
}

fn tools(list: Vec<Arc<dyn hearth_core::Tool>>) -> TurnTools {
    TurnTools {
        set: ToolSet::new(list),
        context: context(),
    }
}

fn request() -> ChatRequest {
    ChatRequest {
        messages: vec![ChatMessage::user("what is 2 + 3?")],
        ..Default::default()
    }
}

async fn turn(
    provider: &ScriptedProvider,
    tools: &TurnTools,
    limits: TurnLimits,
) -> (crate::turn::TurnResult, Recorder) {
    let mut recorder = Recorder::default();
    let never = CancellationToken::new();
    let result = run_turn(
        provider,
        request(),
        Some(tools),
        limits,
        &never,
        &never,
        &mut recorder,
    )
    .await;
    (result, recorder)
}

#[tokio::test]
async fn a_call_runs_and_its_result_reaches_the_model() {
    let add = Arc::new(Add::default());
    let tools = tools(vec![typed(AddTool(add.clone()))]);
    let provider = ScriptedProvider::new(
        "m",
        [Reply::tool_calls(&[("c1", "add", r#"{"a":2,"b":3}"#)])],
        Reply::text("It is 5."),
    );
    let (result, recorder) = turn(&provider, &tools, TurnLimits::default()).await;
    assert_eq!(result.end, TurnEnd::Completed(FinishReason::Stop));
    assert_eq!(result.text, "It is 5.");
    assert_eq!(add.calls.load(Ordering::SeqCst), 1);
    let requests = provider.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].tools.len(), 1);
    assert_eq!(requests[0].tools[0].name, "add");
    assert_eq!(
        requests[0].tools[0].parameters["properties"]["a"]["description"],
        "First number."
    );
    let fed_back = requests[1].messages.last().unwrap();
    assert_eq!(fed_back.role, Role::Tool);
    assert_eq!(fed_back.tool_call_id.as_deref(), Some("c1"));
    assert_eq!(fed_back.content, "5");
    // The transcript keeps the call, its result and the answer, in order.
    let roles: Vec<Role> = result.added.iter().map(|m| m.role).collect();
    assert_eq!(roles, [Role::Assistant, Role::Tool, Role::Assistant]);
    assert_eq!(result.added[0].tool_calls[0].name, "add");
    assert_eq!(
        recorder.events,
        [r#"call c1 add {"a":2,"b":3}"#, "result c1 ok 5"]
    );
}

#[tokio::test]
async fn invalid_arguments_go_back_to_the_model_and_the_tool_does_not_run() {
    let add = Arc::new(Add::default());
    let tools = tools(vec![typed(AddTool(add.clone()))]);
    let provider = ScriptedProvider::new(
        "m",
        [Reply::tool_calls(&[
            ("c1", "add", r#"{"a":"two","b":3,"c":1}"#),
            ("c2", "add", "{not json"),
            ("c3", "subtract", r#"{"a":1}"#),
            ("c4", "add", "[1,2]"),
        ])],
        Reply::text("Sorry."),
    );
    let (result, _) = turn(&provider, &tools, TurnLimits::default()).await;
    assert_eq!(result.text, "Sorry.");
    assert_eq!(add.calls.load(Ordering::SeqCst), 0);
    let requests = provider.requests();
    let results: Vec<&str> = requests[1]
        .messages
        .iter()
        .filter(|m| m.role == Role::Tool)
        .map(|m| m.content.as_str())
        .collect();
    assert_eq!(results.len(), 4);
    assert!(
        results[0].starts_with("error: invalid arguments: "),
        "{}",
        results[0]
    );
    assert!(
        results[0].contains("/a") && results[0].contains("\"two\""),
        "{}",
        results[0]
    );
    assert!(
        results[0].contains("also"),
        "both faults reported: {}",
        results[0]
    );
    assert!(results[1].contains("not valid JSON"), "{}", results[1]);
    assert!(
        results[2].contains("no tool named \"subtract\"") && results[2].contains("add"),
        "{}",
        results[2]
    );
    assert!(
        results[3].contains("must be a JSON object"),
        "{}",
        results[3]
    );
}

#[tokio::test]
async fn the_step_limit_ends_with_an_answer_without_tools() {
    let add = Arc::new(Add::default());
    let tools = tools(vec![typed(AddTool(add.clone()))]);
    // A model that would call tools forever, and answers when told not to.
    let provider = ScriptedProvider::new(
        "m",
        [
            Reply::tool_calls(&[("c1", "add", r#"{"a":1,"b":1}"#)]),
            Reply::tool_calls(&[("c2", "add", r#"{"a":2,"b":2}"#)]),
        ],
        Reply::text("Here is what I found."),
    );
    let limits = TurnLimits {
        max_steps: 3,
        ..TurnLimits::default()
    };
    let (result, _) = turn(&provider, &tools, limits).await;
    let requests = provider.requests();
    assert_eq!(requests.len(), 3);
    assert_eq!(requests[0].tool_choice, ToolChoice::Auto);
    assert_eq!(requests[1].tool_choice, ToolChoice::Auto);
    assert_eq!(requests[2].tool_choice, ToolChoice::None);
    assert_eq!(result.text, "Here is what I found.");
    assert_eq!(add.calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_model_that_calls_anyway_on_the_last_step_never_shows_the_call() {
    let add = Arc::new(Add::default());
    let tools = tools(vec![typed(AddTool(add.clone()))]);
    let provider =
        ScriptedProvider::always("m", Reply::tool_calls(&[("c", "add", r#"{"a":1,"b":1}"#)]));
    let limits = TurnLimits {
        max_steps: 2,
        ..TurnLimits::default()
    };
    let (result, _) = turn(&provider, &tools, limits).await;
    assert_eq!(provider.call_count(), 2);
    assert_eq!(
        add.calls.load(Ordering::SeqCst),
        1,
        "no call runs on the last step"
    );
    assert_eq!(result.end, TurnEnd::Completed(FinishReason::Length));
    assert!(
        result.text.contains("stopped after 2 steps"),
        "{}",
        result.text
    );
    assert!(!result.text.contains('{'));
    let last = result.added.last().unwrap();
    assert!(last.tool_calls.is_empty() && last.role == Role::Assistant);
}

#[tokio::test(start_paused = true)]
async fn several_calls_run_at_once_and_answer_in_order() {
    let sleep = Arc::new(Sleep::default());
    let tools = tools(vec![typed(SleepTool(sleep.clone()))]);
    let provider = ScriptedProvider::new(
        "m",
        [Reply::tool_calls(&[
            ("c1", "sleep", r#"{"ms":300}"#),
            ("c2", "sleep", r#"{"ms":100}"#),
            ("c3", "sleep", r#"{"ms":200}"#),
        ])],
        Reply::text("done"),
    );
    let started = tokio::time::Instant::now();
    let (result, recorder) = turn(&provider, &tools, TurnLimits::default()).await;
    assert_eq!(result.text, "done");
    assert_eq!(sleep.max_running.load(Ordering::SeqCst), 3);
    assert!(
        started.elapsed() < Duration::from_millis(400),
        "{:?}",
        started.elapsed()
    );
    let requests = provider.requests();
    let results: Vec<&str> = requests[1]
        .messages
        .iter()
        .filter(|m| m.role == Role::Tool)
        .map(|m| m.content.as_str())
        .collect();
    assert_eq!(results, ["slept 300", "slept 100", "slept 200"]);
    assert_eq!(recorder.events.len(), 6);
}

#[tokio::test(start_paused = true)]
async fn a_slow_call_times_out_and_the_budget_ends_the_turn() {
    let sleep = Arc::new(Sleep::default());
    let tools = tools(vec![typed(SleepTool(sleep.clone()))]);
    let provider = ScriptedProvider::new(
        "m",
        [Reply::tool_calls(&[("c1", "sleep", r#"{"ms":60000}"#)])],
        Reply::text("It took too long."),
    );
    let limits = TurnLimits {
        budget: Duration::from_secs(5),
        calls: CallLimits {
            call_timeout: Duration::from_secs(10),
            ..CallLimits::default()
        },
        ..TurnLimits::default()
    };
    let (result, _) = turn(&provider, &tools, limits).await;
    let requests = provider.requests();
    let fed_back = requests[1].messages.last().unwrap();
    assert_eq!(fed_back.content, "error: timed out after 10 s");
    assert_eq!(
        sleep.cancelled.load(Ordering::SeqCst),
        0,
        "dropped, not cancelled, on time-out"
    );
    // 10 s spent > 5 s budget: the second call is the last, without tools.
    assert_eq!(requests[1].tool_choice, ToolChoice::None);
    assert_eq!(result.text, "It took too long.");
}

#[tokio::test(start_paused = true)]
async fn an_abort_cancels_running_calls_and_keeps_the_history_whole() {
    let sleep = Arc::new(Sleep::default());
    let tools = tools(vec![typed(SleepTool(sleep.clone()))]);
    let provider = ScriptedProvider::new(
        "m",
        [Reply::tool_calls(&[
            ("c1", "sleep", r#"{"ms":60000}"#),
            ("c2", "sleep", r#"{"ms":60000}"#),
        ])],
        Reply::text("never"),
    );
    let abort = CancellationToken::new();
    let never = CancellationToken::new();
    let aborter = abort.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(1)).await;
        aborter.cancel();
    });
    let mut recorder = Recorder::default();
    let result = run_turn(
        provider.as_ref(),
        request(),
        Some(&tools),
        TurnLimits::default(),
        &abort,
        &never,
        &mut recorder,
    )
    .await;
    assert_eq!(result.end, TurnEnd::Aborted);
    assert_eq!(provider.call_count(), 1);
    let answered: Vec<_> = result
        .added
        .iter()
        .filter(|m| m.role == Role::Tool)
        .map(|m| m.tool_call_id.clone().unwrap())
        .collect();
    assert_eq!(answered, ["c1", "c2"]);
}

#[tokio::test]
async fn without_tools_a_stray_call_is_not_shown() {
    let provider = ScriptedProvider::always("m", Reply::tool_calls(&[("c", "add", r#"{"a":1}"#)]));
    let mut recorder = Recorder::default();
    let never = CancellationToken::new();
    let result = run_turn(
        provider.as_ref(),
        request(),
        None,
        TurnLimits::default(),
        &never,
        &never,
        &mut recorder,
    )
    .await;
    assert_eq!(provider.call_count(), 1);
    assert!(provider.requests()[0].tools.is_empty());
    assert!(
        !result.text.contains("add") && !result.text.is_empty(),
        "{}",
        result.text
    );
}

fn approval_request() -> ApprovalRequest {
    ApprovalRequest {
        tool: "exec".into(),
        command: "rm -rf build".into(),
        cwd: None,
        agent_id: AgentId::main(),
        session_key: SessionKey::for_agent(&AgentId::main(), "main").unwrap(),
        caller: "irc:alice".into(),
    }
}

#[tokio::test]
async fn an_approved_request_is_answered_and_leaves_the_list() {
    let broker = ApprovalBroker::new(Duration::from_secs(60));
    let mut events = broker.subscribe();
    let waiter = {
        let broker = broker.clone();
        tokio::spawn(async move {
            broker
                .approve(approval_request(), &CancellationToken::new())
                .await
        })
    };
    let ApprovalEvent::Requested(pending) = events.recv().await.unwrap() else {
        panic!("first event is the request");
    };
    assert_eq!(pending.request.command, "rm -rf build");
    assert_eq!(pending.expires_at_ms - pending.created_at_ms, 60_000);
    assert_eq!(broker.pending(), std::slice::from_ref(&pending));
    broker.resolve(&pending.id, true, "operator").unwrap();
    assert_eq!(
        waiter.await.unwrap(),
        ApprovalDecision::Approved {
            by: "operator".into()
        }
    );
    assert!(broker.pending().is_empty());
    assert!(matches!(
        events.recv().await.unwrap(),
        ApprovalEvent::Resolved { id, .. } if id == pending.id
    ));
    // A second answer finds nothing.
    assert!(broker.resolve(&pending.id, false, "operator").is_err());
}

#[tokio::test(start_paused = true)]
async fn an_unanswered_request_expires() {
    let broker = ApprovalBroker::new(Duration::from_secs(30));
    let mut events = broker.subscribe();
    let decision = broker
        .approve(approval_request(), &CancellationToken::new())
        .await;
    assert_eq!(decision, ApprovalDecision::Expired);
    assert!(broker.pending().is_empty());
    let _requested = events.recv().await.unwrap();
    assert_eq!(
        events.recv().await.unwrap(),
        ApprovalEvent::Resolved {
            id: _requested_id(&_requested),
            decision: ApprovalDecision::Expired
        }
    );
}

fn _requested_id(event: &ApprovalEvent) -> String {
    match event {
        ApprovalEvent::Requested(p) => p.id.clone(),
        other => panic!("expected a request, got {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_run_withdraws_its_request_and_the_table_is_bounded() {
    let broker = ApprovalBroker::new(Duration::from_secs(600));
    let cancel = CancellationToken::new();
    let mut waiters = Vec::new();
    for _ in 0..approvals::MAX_PENDING_APPROVALS {
        let broker = broker.clone();
        let cancel = cancel.clone();
        waiters.push(tokio::spawn(async move {
            broker.approve(approval_request(), &cancel).await
        }));
    }
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert_eq!(broker.pending().len(), approvals::MAX_PENDING_APPROVALS);
    // One more is refused at once rather than queued.
    assert_eq!(
        broker
            .approve(approval_request(), &CancellationToken::new())
            .await,
        ApprovalDecision::Expired
    );
    cancel.cancel();
    for waiter in waiters {
        assert_eq!(waiter.await.unwrap(), ApprovalDecision::Cancelled);
    }
    assert!(broker.pending().is_empty());
}
