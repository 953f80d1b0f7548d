//! One session with one server through rmcp: start the transport (a child
//! process or streamable HTTP), run the `initialize` handshake, list what
//! the server offers within bounds, and hear its notifications.
//!
//! rmcp does the JSON-RPC framing, request ids, `notifications/cancelled`
//! for dropped requests and, over HTTP, SSE resumption and the new session
//! after a 404. This file only chooses its settings.

use std::collections::BTreeMap;
use std::future::Future;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use rmcp::model::{
    ClientCapabilities, ClientConfig, Implementation, PaginatedRequestParams, ProtocolVersion,
};
use rmcp::service::{ClientInitializeError, NotificationContext};
use rmcp::transport::TokioChildProcess;
use rmcp::{ClientHandler, Peer, RoleClient, ServiceError, ServiceExt};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::{McpServerConfig, Transport};

/// The most tools taken from one server. Every tool's schema goes into
/// every model request: past a few hundred the model cannot choose well
/// anyway, and the prompt would be mostly schemas.
pub const MAX_TOOLS_PER_SERVER: usize = 512;

/// The most pages read for one list: a server that hands out cursors
/// forever must not keep a connection busy forever.
const MAX_PAGES: usize = 64;

/// Variables a stdio server inherits from the daemon (the same set the
/// reference TypeScript client passes). Everything else (API keys, tokens)
/// stays out unless the server's `env` names it.
const INHERITED_ENV: &[&str] = &["HOME", "LOGNAME", "PATH", "SHELL", "TERM", "USER"];

/// The longest stderr line of a server logged as one line.
const MAX_LOG_LINE: usize = 2048;

/// What a live session tells its connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Event {
    /// `notifications/tools/list_changed`: list the tools again.
    ToolsChanged,
}

/// Our side of the protocol: the client's identity and capabilities, and
/// the server's notifications.
#[derive(Debug, Clone)]
struct Handler {
    server: Arc<str>,
    events: mpsc::Sender<Event>,
}

impl ClientHandler for Handler {
    fn get_info(&self) -> ClientConfig {
        // No sampling, roots or elicitation: the agent cannot answer a
        // server's questions in the middle of a call. The newest version
        // with an `initialize` handshake (rmcp's default would be the
        // discover-era one, which today's servers do not speak).
        ClientConfig::new(
            ClientCapabilities::default(),
            Implementation::new("hearth", env!("CARGO_PKG_VERSION")),
        )
        .with_protocol_version(ProtocolVersion::LATEST_WITH_INITIALIZE)
    }

    async fn on_tool_list_changed(&self, _context: NotificationContext<RoleClient>) {
        // Capacity 1: changes arriving while one refresh is pending are
        // covered by it.
        tracing::debug!(server = %self.server, "mcp tools/list_changed");
        let _ = self.events.try_send(Event::ToolsChanged);
    }
}

/// A live session.
pub(crate) struct Session {
    pub peer: Peer<RoleClient>,
    pub info: SessionInfo,
    cancel: CancellationToken,
    /// Cancelled when rmcp's service loop has ended (and closed the
    /// transport).
    done: CancellationToken,
}

/// What the server said about itself in the handshake.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionInfo {
    /// `serverInfo.name` and `version`.
    pub server: Option<String>,
    pub protocol_version: String,
    pub has_tools: bool,
    pub has_resources: bool,
    pub has_prompts: bool,
    /// The process id of a stdio server.
    pub pid: Option<u32>,
}

/// How long a session's transport may take to close (a child gets EOF on
/// stdin, then SIGTERM, then SIGKILL). A child still running after this is
/// killed when its handle drops.
pub(crate) const CLOSE_BOUND: Duration = Duration::from_secs(5);

impl Session {
    /// Starts the transport and runs the handshake, within the server's
    /// `startup_timeout_secs`. Its tasks (rmcp's loop watcher, a stdio
    /// server's stderr reader) go on `tasks`; cancelling `cancel` ends the
    /// session.
    pub(crate) async fn open(
        config: &McpServerConfig,
        events: mpsc::Sender<Event>,
        tasks: &TaskTracker,
        cancel: CancellationToken,
    ) -> Result<Session, String> {
        let handler = Handler {
            server: config.name.as_str().into(),
            events,
        };
        let startup = Duration::from_secs(config.startup_timeout_secs);
        let mut pid = None;
        let serve = async {
            match &config.transport {
                Transport::Stdio {
                    command,
                    args,
                    env,
                    cwd,
                } => {
                    let child =
                        spawn_child(&config.name, command, args, env, cwd, tasks, cancel.clone())?;
                    pid = child.id();
                    handler
                        .serve_with_ct(child, cancel.clone())
                        .await
                        .map_err(|e| format!("handshake: {}", describe_handshake(&e)))
                }
                Transport::Http { url, headers, .. } => {
                    let transport = crate::http::transport(url, headers)?;
                    handler
                        .serve_with_ct(transport, cancel.clone())
                        .await
                        .map_err(|e| format!("handshake: {}", describe_handshake(&e)))
                }
            }
        };
        // A transport dropped on the timeout kills its child process.
        let service = tokio::time::timeout(startup, serve)
            .await
            .map_err(|_| format!("no handshake within {} s", startup.as_secs()))??;
        let peer = service.peer().clone();
        let info = peer
            .peer_info()
            .map(|info| SessionInfo {
                server: info
                    .server_info
                    .as_ref()
                    .map(|s| format!("{} {}", s.name, s.version)),
                protocol_version: info.protocol_version.to_string(),
                has_tools: info.capabilities.tools.is_some(),
                has_resources: info.capabilities.resources.is_some(),
                has_prompts: info.capabilities.prompts.is_some(),
                pid,
            })
            .unwrap_or_default();
        // rmcp runs the session in a task of its own; this one waits for
        // it, so the tracker knows when the transport is closed. Bounded
        // once cancelled, so shutdown is.
        let done = CancellationToken::new();
        let done_tx = done.clone();
        let watch_cancel = cancel.clone();
        tasks.spawn(async move {
            let waiting = service.waiting();
            tokio::pin!(waiting);
            tokio::select! {
                _ = &mut waiting => {}
                _ = async {
                    watch_cancel.cancelled().await;
                    tokio::time::sleep(CLOSE_BOUND).await;
                } => tracing::debug!("mcp session still closing; left to its drop"),
            }
            done_tx.cancel();
        });
        Ok(Session {
            peer,
            info,
            cancel,
            done,
        })
    }

    /// Resolves when the session has ended by itself (the child exited,
    /// the HTTP transport gave up). Cancel-safe.
    pub(crate) async fn closed(&self) {
        self.done.cancelled().await;
    }

    /// Ends the session and waits (boundedly) for its transport to close.
    pub(crate) async fn close(self) {
        self.cancel.cancel();
        self.closed().await;
    }
}

fn spawn_child(
    server: &str,
    command: &str,
    args: &[String],
    env: &BTreeMap<String, String>,
    cwd: &Option<std::path::PathBuf>,
    tasks: &TaskTracker,
    cancel: CancellationToken,
) -> Result<TokioChildProcess, String> {
    let mut cmd = tokio::process::Command::new(command);
    cmd.args(args).env_clear();
    for key in INHERITED_ENV {
        if let Some(value) = std::env::var_os(key) {
            cmd.env(key, value);
        }
    }
    cmd.envs(env);
    if let Some(cwd) = cwd {
        cmd.current_dir(cwd);
    }
    // Its own process group, so stopping it also stops what it started
    // (`npx` runs the server as a grandchild); killed if the handle drops.
    let mut wrapped = process_wrap::tokio::CommandWrap::from(cmd);
    wrapped
        .wrap(process_wrap::tokio::ProcessGroup::leader())
        .wrap(process_wrap::tokio::KillOnDrop);
    let (child, stderr) = TokioChildProcess::builder(wrapped)
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {command:?}: {e}"))?;
    if let Some(stderr) = stderr {
        let server = server.to_owned();
        // Ends at EOF (the child exited), or a while after the session is
        // cancelled even if a grandchild still holds stderr open. Lines are
        // read at most MAX_LOG_LINE bytes at a time: a server printing
        // without newlines must not grow a buffer without end.
        tasks.spawn(async move {
            let mut reader = BufReader::new(stderr);
            let mut buf = Vec::with_capacity(256);
            let stop = async {
                cancel.cancelled().await;
                tokio::time::sleep(CLOSE_BOUND).await;
            };
            tokio::pin!(stop);
            loop {
                buf.clear();
                let limited = (&mut reader).take(MAX_LOG_LINE as u64);
                tokio::pin!(limited);
                let read = tokio::select! {
                    read = limited.read_until(b'\n', &mut buf) => read,
                    _ = &mut stop => break,
                };
                if !matches!(read, Ok(n) if n > 0) {
                    break;
                }
                let line = String::from_utf8_lossy(&buf);
                let line = line.trim_end();
                if !line.is_empty() {
                    tracing::debug!(server, "stderr: {line}");
                }
            }
        });
    }
    Ok(child)
}

/// An rmcp error as a person reads it: a transport error by its causes
/// (`... Connection refused`), without the transport's type name.
pub(crate) fn describe(error: &ServiceError) -> String {
    match error {
        ServiceError::TransportSend(e) => causes(&*e.error),
        other => other.to_string(),
    }
}

fn describe_handshake(error: &ClientInitializeError) -> String {
    match error {
        ClientInitializeError::TransportError { error, context } => {
            format!("{context}: {}", causes(&*error.error))
        }
        other => other.to_string(),
    }
}

/// An error and its sources, `: `-separated, each said once.
fn causes(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let said = cause.to_string();
        if !text.contains(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        source = cause.source();
    }
    text
}

/// Reads every page of a list, up to `max` items and [`MAX_PAGES`] pages,
/// all within `timeout`. Returns the items and whether any were left out.
pub(crate) async fn list_paged<T, F, Fut, P>(
    max: usize,
    timeout: Duration,
    mut page: F,
) -> Result<(Vec<T>, bool), String>
where
    F: FnMut(Option<PaginatedRequestParams>) -> Fut,
    Fut: Future<Output = Result<P, ServiceError>>,
    P: Page<T>,
{
    let pages = async {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let params = cursor
                .take()
                .map(|c| PaginatedRequestParams::default().with_cursor(Some(c)));
            let (page_items, next) = page(params).await.map_err(|e| describe(&e))?.into_parts();
            items.extend(page_items);
            if items.len() > max {
                items.truncate(max);
                return Ok((items, true));
            }
            match next {
                Some(next) => cursor = Some(next),
                None => return Ok((items, false)),
            }
        }
        Ok((items, true))
    };
    tokio::time::timeout(timeout, pages)
        .await
        .map_err(|_| format!("no complete list within {} s", timeout.as_secs()))?
}

/// A page of a paginated list.
pub(crate) trait Page<T> {
    fn into_parts(self) -> (Vec<T>, Option<String>);
}

macro_rules! page {
    ($result:ty, $item:ty, $field:ident) => {
        impl Page<$item> for $result {
            fn into_parts(self) -> (Vec<$item>, Option<String>) {
                (self.$field, self.next_cursor)
            }
        }
    };
}

page!(rmcp::model::ListToolsResult, rmcp::model::Tool, tools);
page!(
    rmcp::model::ListResourcesResult,
    rmcp::model::Resource,
    resources
);
page!(
    rmcp::model::ListResourceTemplatesResult,
    rmcp::model::ResourceTemplate,
    resource_templates
);
page!(rmcp::model::ListPromptsResult, rmcp::model::Prompt, prompts);
