//! The client the official MCP conformance runner drives
//! (`conformance client --command <this binary> --scenario <name>`): it
//! appends the test server's URL to the command line and names the
//! scenario in `MCP_CONFORMANCE_SCENARIO`. This connects through
//! `McpManager`, the daemon's own path, and does what the scenario asks
//! (the runner checks the traffic). Exit code 0 when the client side went
//! as expected.

use std::process::ExitCode;
use std::time::Duration;

use hearth_core::{AgentId, SessionKey, ToolContext};
use hearth_mcp::{McpManager, McpServerConfig, ServerState};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

const SERVER: &str = "conformance";

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "hearth_mcp=debug,rmcp=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let Some(url) = std::env::args().nth(1) else {
        eprintln!("usage: conformance_client <server url>");
        return ExitCode::from(2);
    };
    let scenario = std::env::var("MCP_CONFORMANCE_SCENARIO").unwrap_or_default();
    eprintln!("scenario {scenario:?} against {url}");

    let mut config = McpServerConfig::http(SERVER, url);
    config.call_timeout_secs = 20;
    config.startup_timeout_secs = 20;
    let manager = McpManager::start(vec![config], CancellationToken::new());
    let status = manager.settled(Duration::from_secs(25)).await;
    eprintln!("{status:#?}");
    let ready = status
        .iter()
        .all(|s| matches!(s.state, ServerState::Ready { .. }));
    let outcome = if !ready {
        Err("the server did not become ready".to_owned())
    } else {
        run(&manager, &scenario).await
    };
    manager.shutdown().await;
    match outcome {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("failed: {error}");
            ExitCode::FAILURE
        }
    }
}

/// What each scenario asks of a client beyond connecting.
async fn run(manager: &McpManager, scenario: &str) -> Result<String, String> {
    match scenario {
        "tools_call" => {
            let text = call(manager, "add_numbers", json!({"a": 5, "b": 3})).await?;
            if text.contains('8') {
                Ok(text)
            } else {
                Err(format!("unexpected sum: {text}"))
            }
        }
        "sse-retry" => call(manager, "test_reconnection", json!({})).await,
        "elicitation-sep1034-client-defaults" => {
            call(manager, "test_client_elicitation_defaults", json!({})).await
        }
        // `initialize` and anything new: the handshake and the listing are
        // the test.
        _ => Ok(format!("connected; tools: {:?}", names(manager))),
    }
}

fn names(manager: &McpManager) -> Vec<String> {
    manager.tools().iter().map(|t| t.spec().name).collect()
}

async fn call(manager: &McpManager, tool: &str, args: Value) -> Result<String, String> {
    let name = format!("{SERVER}__{tool}");
    let tool = manager
        .tools()
        .into_iter()
        .find(|t| t.spec().name == name)
        .ok_or_else(|| format!("no tool {name}; have {:?}", names(manager)))?;
    let context = ToolContext {
        agent_id: AgentId::main(),
        session_key: SessionKey::for_agent(&AgentId::main(), "conformance")
            .map_err(|e| e.to_string())?,
        run_id: "conformance".into(),
        call_id: "1".into(),
        channel: "conformance".into(),
        origin: None,
        cancel: CancellationToken::new(),
    };
    tool.call(&context, args).await.map_err(|e| e.to_string())
}
