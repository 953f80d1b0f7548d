//! [`McpManager`]: starts one background connection per configured
//! server, hands out the current tools of those that are connected, and
//! reports each server's state.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use hearth_core::Tool;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::McpServerConfig;
use crate::connection::{self, Server};

/// The MCP servers of a daemon. Cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct McpManager {
    servers: Vec<Arc<Server>>,
    tasks: TaskTracker,
    shutdown: CancellationToken,
}

/// One server, for `hearth mcp list` and `hearth doctor`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerStatus {
    pub name: String,
    /// `stdio` or `http`.
    pub transport: &'static str,
    /// The command or the URL.
    pub target: String,
    pub state: ServerState,
    /// The server's own name and version, from its last handshake.
    pub server: Option<String>,
    /// The protocol version of its last handshake.
    pub protocol_version: Option<String>,
    /// How many times it was reconnected.
    pub reconnects: u32,
    /// The process id of a stdio server's current (or last) process.
    pub pid: Option<u32>,
}

/// Where a server is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerState {
    /// `enabled = false`.
    Disabled,
    /// Starting, or in its handshake.
    Connecting,
    /// Connected, offering this many tools to the agent.
    Ready { tools: usize },
    /// Not connected. `retry_in` is `None` when it will not be retried (an
    /// invalid config).
    Failed {
        error: String,
        retry_in: Option<Duration>,
    },
    /// Shut down.
    Stopped,
}

impl McpManager {
    /// Starts a connection task per enabled server and returns at once;
    /// servers connect in the background. A server whose config is invalid
    /// (or repeats an earlier name) is reported as failed and never
    /// started. Everything stops when `shutdown` is cancelled or
    /// [`McpManager::shutdown`] is called. Must be called within a tokio
    /// runtime.
    pub fn start(configs: Vec<McpServerConfig>, shutdown: CancellationToken) -> McpManager {
        let shutdown = shutdown.child_token();
        let tasks = TaskTracker::new();
        let mut names = HashSet::new();
        let mut servers = Vec::new();
        for config in configs {
            let refused = match config.validate() {
                Err(error) => Some(error.to_string()),
                Ok(()) if !names.insert(config.name.clone()) => Some(format!(
                    "mcp.servers.{}: the name is used twice",
                    config.name
                )),
                Ok(()) => None,
            };
            let enabled = config.enabled && refused.is_none();
            if let Some(error) = &refused {
                tracing::error!(%error, "mcp server not started");
            }
            let (server, suspicions) = Server::new(config, refused);
            if enabled {
                tasks.spawn(connection::run(
                    server.clone(),
                    suspicions,
                    tasks.clone(),
                    shutdown.clone(),
                ));
            }
            servers.push(server);
        }
        McpManager {
            servers,
            tasks,
            shutdown,
        }
    }

    /// The tools of every connected server, allowed by its config: a
    /// snapshot, to be taken again for each turn. A server that is down
    /// has no tools in it.
    pub fn tools(&self) -> Vec<Arc<dyn Tool>> {
        self.servers
            .iter()
            .flat_map(|server| server.tools().iter().cloned().collect::<Vec<_>>())
            .collect()
    }

    /// Every configured server's state, in config order.
    pub fn status(&self) -> Vec<ServerStatus> {
        self.servers.iter().map(|s| s.status()).collect()
    }

    /// Waits until no server is connecting (each is ready, failed, disabled
    /// or stopped) or `timeout` passes; returns the states then. For the
    /// CLI and tests: the daemon never needs to wait.
    pub async fn settled(&self, timeout: Duration) -> Vec<ServerStatus> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let status = self.status();
            let connecting = status
                .iter()
                .any(|s| matches!(s.state, ServerState::Connecting));
            if !connecting || tokio::time::Instant::now() >= deadline {
                return status;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops every connection (child processes get EOF, then SIGTERM, then
    /// SIGKILL) and waits for their tasks, a few seconds at most.
    pub async fn shutdown(&self) {
        self.shutdown.cancel();
        self.tasks.close();
        self.tasks.wait().await;
    }
}
