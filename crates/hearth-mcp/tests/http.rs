//! Streamable HTTP against server-everything (`streamableHttp` mode). The
//! server binds every interface and has no host setting, so each test runs
//! in a network namespace of its own, where only loopback exists.

use std::time::Duration;

use hearth_mcp::{McpServerConfig, ServerState};
use serde_json::json;
use tokio::process::{Child, Command};

use crate::support::{bin, call, eventually, in_network_namespace, start, status_of};

/// Any port: the namespace is new, nothing else listens in it.
const PORT: u16 = 3001;

async fn spawn_server() -> Child {
    let child = Command::new(bin("mcp-server-everything"))
        .arg("streamableHttp")
        .env("PORT", PORT.to_string())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start server-everything");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while tokio::net::TcpStream::connect(("127.0.0.1", PORT))
        .await
        .is_err()
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the HTTP server did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    child
}

#[test]
fn streamable_http_serves_calls_and_survives_a_server_restart() {
    in_network_namespace(|| async {
        let links = std::process::Command::new("ip")
            .args(["-o", "link", "show"])
            .output()
            .unwrap();
        let links = String::from_utf8_lossy(&links.stdout);
        assert_eq!(links.lines().count(), 1, "only loopback: {links}");

        let mut server = spawn_server().await;
        let url = format!("http://127.0.0.1:{PORT}/mcp");
        let manager = start(vec![McpServerConfig::http("web", &url)]).await;
        assert_eq!(
            call(&manager, "web__echo", json!({"message": "over http"})).await,
            Ok("Echo: over http".into())
        );
        let sum = call(&manager, "web__get-sum", json!({"a": 1, "b": 2}))
            .await
            .unwrap();
        assert!(sum.contains("is 3"), "{sum}");
        let status = status_of(&manager, "web");
        assert_eq!(status.transport, "http");
        assert_eq!(status.target, url);
        assert!(
            matches!(status.state, ServerState::Ready { .. }),
            "{status:?}"
        );

        // The server goes away, and a new one (which knows nothing of the
        // old session) takes its place.
        server.kill().await.unwrap();
        let _server = spawn_server().await;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            let error = match call(&manager, "web__echo", json!({"message": "again"})).await {
                Ok(text) => {
                    assert_eq!(text, "Echo: again");
                    break;
                }
                Err(error) => error,
            };
            assert!(
                tokio::time::Instant::now() < deadline,
                "no call succeeded after the restart; last error {error:?}; {:?}",
                manager.status()
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }

        // The server stays away: calls fail (they do not hang), the
        // connection is found dead and retried until the server is back.
        drop(_server);
        let started = tokio::time::Instant::now();
        let down = call(&manager, "web__echo", json!({"message": "nobody"})).await;
        assert!(down.is_err(), "{down:?}");
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{:?}",
            started.elapsed()
        );
        eventually(
            "the connection to be found down",
            Duration::from_secs(30),
            || matches!(status_of(&manager, "web").state, ServerState::Failed { .. }),
        )
        .await;
        let _server = spawn_server().await;
        eventually("the reconnection", Duration::from_secs(90), || {
            let status = status_of(&manager, "web");
            status.reconnects >= 1 && matches!(status.state, ServerState::Ready { .. })
        })
        .await;
        assert_eq!(
            call(&manager, "web__echo", json!({"message": "back"})).await,
            Ok("Echo: back".into())
        );
        manager.shutdown().await;
    });
}

#[tokio::test]
async fn an_unreachable_server_is_reported_plainly() {
    crate::support::init_tracing();
    // Port 1 on loopback: nothing listens there.
    let manager = hearth_mcp::McpManager::start(
        vec![McpServerConfig::http("gone", "http://127.0.0.1:1/mcp")],
        tokio_util::sync::CancellationToken::new(),
    );
    let status = manager.settled(Duration::from_secs(30)).await;
    match &status[0].state {
        ServerState::Failed { error, retry_in } => {
            assert!(retry_in.is_some());
            assert!(error.starts_with("handshake: "), "{error}");
            assert!(!error.contains("rmcp::"), "type names in {error}");
        }
        other => panic!("{other:?}"),
    }
    assert!(manager.tools().is_empty());
    manager.shutdown().await;
}
