//! `exec`: each policy, chained commands never passing as an allowlisted
//! program, approvals through the real broker (ask → approve → runs;
//! ask → expire → refused), time-outs killing the whole process group,
//! capped output and a scrubbed environment.

use std::sync::Arc;
use std::time::Duration;

use hearth_agent::tools::{ApprovalBroker, ApprovalEvent};
use hearth_core::{Approver, Tool, ToolError, typed};
use hearth_tools::{Exec, ExecConfig, ExecPolicy};
use serde_json::json;

use super::{call, context};

fn exec(
    policy: ExecPolicy,
    allowlist: &[&str],
    dir: &std::path::Path,
    approver: Option<Arc<dyn Approver>>,
) -> Arc<dyn Tool> {
    let config = ExecConfig {
        policy,
        allowlist: allowlist.iter().map(|s| s.to_string()).collect(),
        timeout_secs: 5,
        max_output_bytes: 1024,
        ..ExecConfig::default()
    };
    typed(Exec::new(config, dir.to_path_buf(), approver))
}

#[tokio::test]
async fn full_runs_in_the_workspace_and_reports_exit_code_and_output() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("note.txt"), "hello").unwrap();
    let tool = exec(ExecPolicy::Full, &[], dir.path(), None);
    let out = call(
        tool.as_ref(),
        json!({"command": "cat note.txt; echo oops >&2; exit 3"}),
    )
    .await
    .unwrap();
    assert_eq!(out, "exit code: 3\nstdout:\nhello\nstderr:\noops\n");
}

#[tokio::test]
async fn deny_and_allowlist_refuse_without_running() {
    let dir = tempfile::tempdir().unwrap();
    let deny = exec(ExecPolicy::Deny, &["touch"], dir.path(), None);
    let error = call(deny.as_ref(), json!({"command": "touch a"}))
        .await
        .unwrap_err();
    assert!(matches!(error, ToolError::Denied(_)), "{error:?}");
    let allow = exec(ExecPolicy::Allowlist, &["touch", "ls -a"], dir.path(), None);
    call(allow.as_ref(), json!({"command": "touch b"}))
        .await
        .unwrap();
    assert!(dir.path().join("b").exists());
    // An allowlisted program chained with another command is not allowlisted.
    for chained in [
        "touch c; touch d",
        "touch c && touch d",
        "touch $(echo d)",
        "touch c | tee d",
        "touch `echo d`",
    ] {
        let error = call(allow.as_ref(), json!({"command": chained}))
            .await
            .unwrap_err();
        assert!(
            matches!(error, ToolError::Denied(_)),
            "{chained}: {error:?}"
        );
    }
    // A whole-line entry matches only that line.
    call(allow.as_ref(), json!({"command": "ls -a"}))
        .await
        .unwrap();
    assert!(
        call(allow.as_ref(), json!({"command": "ls -la"}))
            .await
            .is_err()
    );
    assert!(!dir.path().join("c").exists() && !dir.path().join("d").exists());
}

#[tokio::test]
async fn ask_waits_for_an_operator_and_runs_once_approved() {
    let dir = tempfile::tempdir().unwrap();
    let broker = ApprovalBroker::new(Duration::from_secs(30));
    let mut events = broker.subscribe();
    let tool = exec(ExecPolicy::Ask, &["ls"], dir.path(), Some(broker.clone()));
    // Allowlisted: no question.
    call(tool.as_ref(), json!({"command": "ls"})).await.unwrap();
    assert!(broker.pending().is_empty());
    let running = tokio::spawn({
        let tool = tool.clone();
        async move { call(tool.as_ref(), json!({"command": "touch approved"})).await }
    });
    let ApprovalEvent::Requested(request) = events.recv().await.unwrap() else {
        panic!("expected a request");
    };
    assert_eq!(request.request.command, "touch approved");
    assert_eq!(request.request.caller, "gateway");
    assert_eq!(
        request.request.cwd.as_deref(),
        Some(dir.path().to_str().unwrap())
    );
    assert!(
        !dir.path().join("approved").exists(),
        "nothing runs before the answer"
    );
    broker.resolve(&request.id, true, "operator").unwrap();
    let out = running.await.unwrap().unwrap();
    assert!(out.starts_with("exit code: 0"), "{out}");
    assert!(dir.path().join("approved").exists());
}

#[tokio::test(start_paused = true)]
async fn ask_refuses_when_nobody_answers_or_the_operator_says_no() {
    let dir = tempfile::tempdir().unwrap();
    let broker = ApprovalBroker::new(Duration::from_secs(30));
    let tool = exec(ExecPolicy::Ask, &[], dir.path(), Some(broker.clone()));
    let error = call(tool.as_ref(), json!({"command": "touch expired"}))
        .await
        .unwrap_err();
    assert_eq!(
        error,
        ToolError::Denied("no operator approved this command within 30 s; it did not run".into())
    );
    let mut events = broker.subscribe();
    let running = tokio::spawn({
        let tool = tool.clone();
        async move { call(tool.as_ref(), json!({"command": "touch denied"})).await }
    });
    let ApprovalEvent::Requested(request) = events.recv().await.unwrap() else {
        panic!("expected a request");
    };
    broker.resolve(&request.id, false, "operator").unwrap();
    assert!(matches!(running.await.unwrap(), Err(ToolError::Denied(_))));
    assert!(!dir.path().join("expired").exists() && !dir.path().join("denied").exists());
    // The tool's own limit leaves room for the wait.
    assert!(tool.max_duration().unwrap() >= Duration::from_secs(35));
}

#[tokio::test]
async fn a_time_out_kills_the_command_and_what_it_started() {
    let dir = tempfile::tempdir().unwrap();
    let config = ExecConfig {
        policy: ExecPolicy::Full,
        timeout_secs: 1,
        ..ExecConfig::default()
    };
    let tool = typed(Exec::new(config, dir.path().to_path_buf(), None));
    let started = std::time::Instant::now();
    // A background child that would touch a file after 2 s.
    let error = call(
        tool.as_ref(),
        json!({"command": "(sleep 2; touch late) & sleep 30"}),
    )
    .await
    .unwrap_err();
    assert_eq!(error, ToolError::TimedOut(1));
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(
        !dir.path().join("late").exists(),
        "the background child was killed too"
    );
}

#[tokio::test]
async fn output_is_capped_and_secrets_in_the_environment_stay_out() {
    let dir = tempfile::tempdir().unwrap();
    let tool = exec(ExecPolicy::Full, &[], dir.path(), None);
    let out = call(
        tool.as_ref(),
        json!({"command": "head -c 5000 /dev/zero | tr '\\0' x"}),
    )
    .await
    .unwrap();
    assert!(
        out.contains(&"x".repeat(1024)) && !out.contains(&"x".repeat(1025)),
        "{} bytes",
        out.len()
    );
    assert!(out.contains("[… 3976 more bytes not shown]"), "{out}");
    // `cargo test` runs this process with CARGO_* variables set.
    let out = call(tool.as_ref(), json!({"command": "env"}))
        .await
        .unwrap();
    assert!(out.contains("PATH="), "{out}");
    assert!(
        !out.contains("CARGO"),
        "the daemon's environment leaked: {out}"
    );
    assert!(context().caller() == "gateway");
}
