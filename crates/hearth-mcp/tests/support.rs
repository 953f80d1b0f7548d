//! What the integration tests share: where the MCP servers from npm are,
//! a tool context, starting a manager and waiting for it, and running a
//! test inside a network namespace of its own.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hearth_core::{AgentId, SessionKey, Tool, ToolContext, ToolResult};
use hearth_mcp::{McpManager, McpServerConfig, ServerState, ServerStatus};
use tokio_util::sync::CancellationToken;

/// Where `scripts/install-mcp-servers.sh` put the servers: `HEARTH_MCP_DIR`,
/// or its default. Missing servers fail the test with the command that
/// installs them; they are never skipped.
pub fn mcp_dir() -> PathBuf {
    let dir = std::env::var_os("HEARTH_MCP_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let cache = std::env::var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
                .expect("neither XDG_CACHE_HOME nor HOME is set");
            cache.join("hearth/mcp")
        });
    let probe = dir.join("bin/mcp-server-everything");
    assert!(
        probe.exists(),
        "the MCP test servers are not installed in {} ({} is missing).\n\
         Install them with:  scripts/install-mcp-servers.sh\n\
         (or point HEARTH_MCP_DIR at an install)",
        dir.display(),
        probe.display()
    );
    dir
}

/// The absolute path of an installed wrapper (`mcp-server-everything`, ...).
pub fn bin(name: &str) -> String {
    let path = mcp_dir().join("bin").join(name);
    assert!(
        path.exists(),
        "{} is missing: run scripts/install-mcp-servers.sh",
        path.display()
    );
    path.to_string_lossy().into_owned()
}

/// server-everything over stdio, named `name`.
pub fn everything(name: &str) -> McpServerConfig {
    McpServerConfig::stdio(name, bin("mcp-server-everything"), &["stdio"])
}

pub fn context() -> ToolContext {
    ToolContext {
        agent_id: AgentId::main(),
        session_key: SessionKey::for_agent(&AgentId::main(), "test").unwrap(),
        run_id: "run-1".into(),
        call_id: "call-1".into(),
        channel: "gateway".into(),
        origin: None,
        cancel: CancellationToken::new(),
    }
}

pub fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "hearth_mcp=debug".into()),
        )
        .with_test_writer()
        .try_init();
}

/// Starts `configs` and waits until every server is ready.
pub async fn start(configs: Vec<McpServerConfig>) -> McpManager {
    init_tracing();
    let manager = McpManager::start(configs, CancellationToken::new());
    let status = manager.settled(Duration::from_secs(60)).await;
    for server in &status {
        assert!(
            matches!(server.state, ServerState::Ready { .. }),
            "not ready: {status:#?}"
        );
    }
    manager
}

pub fn tool_names(manager: &McpManager) -> Vec<String> {
    let mut names: Vec<String> = manager.tools().iter().map(|t| t.spec().name).collect();
    names.sort();
    names
}

pub fn tool(manager: &McpManager, name: &str) -> Arc<dyn Tool> {
    manager
        .tools()
        .into_iter()
        .find(|t| t.spec().name == name)
        .unwrap_or_else(|| panic!("no tool {name}; have {:?}", tool_names(manager)))
}

pub async fn call(manager: &McpManager, name: &str, args: serde_json::Value) -> ToolResult {
    tool(manager, name).call(&context(), args).await
}

pub fn status_of(manager: &McpManager, name: &str) -> ServerStatus {
    manager
        .status()
        .into_iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no server {name}"))
}

/// Polls `check` every 100 ms until it holds, for at most `limit`.
pub async fn eventually(what: &str, limit: Duration, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + limit;
    while !check() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Whether process `pid` is gone (or a zombie nobody reaped yet).
pub fn process_gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z')),
    }
}

/// Sends SIGKILL to `pid`, a process this test started.
pub fn kill(pid: u32) {
    let status = std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -KILL {pid} failed");
}

/// Runs `test` on a thread of its own inside a new network namespace,
/// where only a loopback interface exists: servers that bind every
/// interface are then reachable from this thread (and the processes it
/// starts) alone. The namespace is per thread, so the test gets a
/// current-thread runtime on that thread. Needs root (CAP_SYS_ADMIN);
/// without it the test fails, naming what it needs.
pub fn in_network_namespace<F, Fut>(test: F)
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = ()>,
{
    let thread = std::thread::spawn(move || {
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET).unwrap_or_else(|e| {
            panic!(
                "this test runs its servers in a network namespace of their own and \
                 needs root (CAP_SYS_ADMIN) for it: unshare(CLONE_NEWNET): {e}"
            )
        });
        let up = std::process::Command::new("ip")
            .args(["link", "set", "lo", "up"])
            .status()
            .expect("run `ip` (Debian package iproute2)");
        assert!(up.success(), "ip link set lo up failed");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(test());
    });
    if let Err(panic) = thread.join() {
        std::panic::resume_unwind(panic);
    }
}
