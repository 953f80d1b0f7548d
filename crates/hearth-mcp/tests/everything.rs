//! Against `@modelcontextprotocol/server-everything` over stdio: tools,
//! errors, resources, prompts, allowlists, timeouts, cancellation,
//! reconnection and shutdown.

use std::time::{Duration, Instant};

use hearth_core::ToolError;
use hearth_mcp::{McpManager, ServerState};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::support::{
    call, context, eventually, everything, kill, process_gone, start, status_of, tool, tool_names,
};

#[tokio::test]
async fn stdio_lists_and_calls_tools() {
    let manager = start(vec![everything("ev")]).await;
    let names = tool_names(&manager);
    for expected in ["ev__echo", "ev__get-sum", "ev__get-tiny-image"] {
        assert!(names.contains(&expected.to_owned()), "{names:?}");
    }
    assert!(names.iter().all(|n| n.starts_with("ev__")), "{names:?}");
    // Resources and prompts are off by default.
    assert!(
        !names.iter().any(|n| n.ends_with("_resources")),
        "{names:?}"
    );
    assert!(!names.iter().any(|n| n.ends_with("_prompt")), "{names:?}");

    let echo = tool(&manager, "ev__echo").spec();
    assert_eq!(echo.description, "Echoes back the input string");
    assert_eq!(echo.parameters["type"], "object");
    assert_eq!(echo.parameters["properties"]["message"]["type"], "string");

    assert_eq!(
        call(&manager, "ev__echo", json!({"message": "hello"})).await,
        Ok("Echo: hello".into())
    );
    let sum = call(&manager, "ev__get-sum", json!({"a": 2, "b": 40}))
        .await
        .unwrap();
    assert!(sum.contains("is 42"), "{sum}");
    let image = call(&manager, "ev__get-tiny-image", json!({}))
        .await
        .unwrap();
    assert!(image.contains("[image: image/png, "), "{image}");

    let status = status_of(&manager, "ev");
    assert!(matches!(status.state, ServerState::Ready { tools } if tools == names.len()));
    assert_eq!(status.transport, "stdio");
    assert!(
        status
            .server
            .as_deref()
            .unwrap_or("")
            .contains("everything"),
        "{status:?}"
    );
    assert_eq!(status.protocol_version.as_deref(), Some("2025-11-25"));
    manager.shutdown().await;
}

#[tokio::test]
async fn errors_come_back_as_tool_errors() {
    let manager = start(vec![everything("ev")]).await;
    // The server validates the arguments and answers with an error.
    let missing = call(&manager, "ev__echo", json!({})).await;
    match missing {
        Err(ToolError::Failed(text)) | Err(ToolError::InvalidArguments(text)) => {
            assert!(text.to_lowercase().contains("message"), "{text}")
        }
        other => panic!("expected an error, got {other:?}"),
    }
    let not_object = call(&manager, "ev__echo", json!([1, 2])).await;
    assert!(
        matches!(not_object, Err(ToolError::InvalidArguments(_))),
        "{not_object:?}"
    );
    // The connection is fine afterwards.
    assert_eq!(
        call(&manager, "ev__echo", json!({"message": "still here"})).await,
        Ok("Echo: still here".into())
    );
    manager.shutdown().await;
}

#[tokio::test]
async fn resources_and_prompts_when_exposed() {
    let mut config = everything("ev");
    config.expose_resources = true;
    config.expose_prompts = true;
    let manager = start(vec![config]).await;
    let names = tool_names(&manager);
    for expected in [
        "ev__list_resources",
        "ev__read_resource",
        "ev__list_prompts",
        "ev__get_prompt",
    ] {
        assert!(names.contains(&expected.to_owned()), "{names:?}");
    }

    let listing = call(&manager, "ev__list_resources", json!({}))
        .await
        .unwrap();
    assert!(
        listing.contains("demo://resource/static/document/"),
        "{listing}"
    );
    assert!(listing.contains("URI templates:"), "{listing}");

    let text = call(
        &manager,
        "ev__read_resource",
        json!({"uri": "demo://resource/dynamic/text/1"}),
    )
    .await
    .unwrap();
    assert!(
        text.starts_with("[resource: demo://resource/dynamic/text/1]"),
        "{text}"
    );
    let blob = call(
        &manager,
        "ev__read_resource",
        json!({"uri": "demo://resource/dynamic/blob/1"}),
    )
    .await
    .unwrap();
    assert!(blob.contains(" bytes]"), "{blob}");
    let unknown = call(&manager, "ev__read_resource", json!({"uri": "demo://nope"})).await;
    assert!(unknown.is_err(), "{unknown:?}");
    let bad = call(&manager, "ev__read_resource", json!({"url": "x"})).await;
    assert!(
        matches!(bad, Err(ToolError::InvalidArguments(_))),
        "{bad:?}"
    );

    let prompts = call(&manager, "ev__list_prompts", json!({})).await.unwrap();
    assert!(prompts.contains("- simple-prompt"), "{prompts}");
    assert!(prompts.contains("- args-prompt"), "{prompts}");
    assert!(prompts.contains("city"), "{prompts}");

    let simple = call(&manager, "ev__get_prompt", json!({"name": "simple-prompt"}))
        .await
        .unwrap();
    assert!(simple.starts_with("user: "), "{simple}");
    let with_args = call(
        &manager,
        "ev__get_prompt",
        json!({"name": "args-prompt", "arguments": {"city": "Lisbon"}}),
    )
    .await
    .unwrap();
    assert!(with_args.contains("Lisbon"), "{with_args}");
    manager.shutdown().await;
}

#[tokio::test]
async fn allow_and_deny_lists_hide_tools() {
    let mut only_echo = everything("one");
    only_echo.allow = Some(vec!["echo".into(), "no-such-tool".into()]);
    let mut no_echo = everything("two");
    no_echo.deny = vec!["echo".into()];
    let manager = start(vec![only_echo, no_echo]).await;
    let names = tool_names(&manager);
    let one: Vec<_> = names.iter().filter(|n| n.starts_with("one__")).collect();
    assert_eq!(one, ["one__echo"]);
    assert!(!names.contains(&"two__echo".to_owned()), "{names:?}");
    assert!(names.contains(&"two__get-sum".to_owned()), "{names:?}");
    manager.shutdown().await;
}

#[tokio::test]
async fn the_environment_is_minimal() {
    let mut config = everything("ev");
    if let hearth_mcp::Transport::Stdio { env, .. } = &mut config.transport {
        env.insert("HEARTH_TEST_MARKER".into(), "marker-4711".into());
    }
    let manager = start(vec![config]).await;
    let env = call(&manager, "ev__get-env", json!({})).await.unwrap();
    assert!(env.contains("marker-4711"), "{env}");
    // Cargo sets this for the test process; the server must not see it.
    assert!(std::env::var_os("CARGO_MANIFEST_DIR").is_some());
    assert!(!env.contains("CARGO_MANIFEST_DIR"), "{env}");
    manager.shutdown().await;
}

#[tokio::test]
async fn a_slow_call_times_out_and_the_connection_survives() {
    let mut config = everything("ev");
    config.call_timeout_secs = 1;
    let manager = start(vec![config]).await;
    let started = Instant::now();
    let result = call(
        &manager,
        "ev__trigger-long-running-operation",
        json!({"duration": 10, "steps": 5}),
    )
    .await;
    assert_eq!(result, Err(ToolError::TimedOut(1)));
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        call(&manager, "ev__echo", json!({"message": "after"})).await,
        Ok("Echo: after".into())
    );
    manager.shutdown().await;
}

#[tokio::test]
async fn a_cancelled_call_returns_at_once() {
    let manager = start(vec![everything("ev")]).await;
    let long = tool(&manager, "ev__trigger-long-running-operation");
    let ctx = context();
    let cancel = ctx.cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        cancel.cancel();
    });
    let started = Instant::now();
    let result = long.call(&ctx, json!({"duration": 10, "steps": 5})).await;
    assert_eq!(result, Err(ToolError::Cancelled));
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        call(&manager, "ev__echo", json!({"message": "after"})).await,
        Ok("Echo: after".into())
    );
    manager.shutdown().await;
}

#[tokio::test]
async fn a_killed_server_is_restarted_and_serves_again() {
    let manager = start(vec![everything("ev")]).await;
    let first = status_of(&manager, "ev")
        .pid
        .expect("a stdio server has a pid");
    kill(first);
    eventually("the restart", Duration::from_secs(30), || {
        let status = status_of(&manager, "ev");
        status.reconnects >= 1
            && matches!(status.state, ServerState::Ready { .. })
            && status.pid != Some(first)
    })
    .await;
    assert_eq!(
        call(&manager, "ev__echo", json!({"message": "again"})).await,
        Ok("Echo: again".into())
    );
    manager.shutdown().await;
}

#[tokio::test]
async fn shutdown_stops_the_server_process() {
    let manager = start(vec![everything("ev")]).await;
    let pid = status_of(&manager, "ev").pid.unwrap();
    let started = Instant::now();
    manager.shutdown().await;
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    eventually("the server process to exit", Duration::from_secs(5), || {
        process_gone(pid)
    })
    .await;
    assert!(matches!(
        status_of(&manager, "ev").state,
        ServerState::Stopped
    ));
    assert!(manager.tools().is_empty());
}

#[tokio::test]
async fn a_server_that_cannot_start_is_reported_and_retried() {
    crate::support::init_tracing();
    let mut disabled = everything("off");
    disabled.enabled = false;
    let mut invalid = everything("Bad Name");
    invalid.call_timeout_secs = 5;
    let manager = McpManager::start(
        vec![
            hearth_mcp::McpServerConfig::stdio("missing", "/nonexistent/mcp-server", &[]),
            disabled,
            invalid,
        ],
        CancellationToken::new(),
    );
    eventually(
        "the missing server to fail",
        Duration::from_secs(10),
        || {
            matches!(
                status_of(&manager, "missing").state,
                ServerState::Failed { .. }
            )
        },
    )
    .await;
    match status_of(&manager, "missing").state {
        ServerState::Failed { error, retry_in } => {
            assert!(error.contains("cannot run"), "{error}");
            assert!(retry_in.is_some());
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(status_of(&manager, "off").state, ServerState::Disabled);
    match status_of(&manager, "Bad Name").state {
        ServerState::Failed { error, retry_in } => {
            assert!(error.contains("server name"), "{error}");
            assert_eq!(retry_in, None);
        }
        other => panic!("{other:?}"),
    }
    assert!(manager.tools().is_empty());
    manager.shutdown().await;
}
