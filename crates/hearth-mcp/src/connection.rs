//! One server's connection, kept up in the background: connect, list its
//! tools, serve calls, list again when the server says its tools changed,
//! and reconnect with backoff when the transport dies.
//!
//! ```text
//!  Connecting ──handshake + tools/list──▶ Ready ──child exits / HTTP gone──▶ Failed (backoff) ─┐
//!      ▲                                                                                         │
//!      └─────────────────────────────────────────────────────────────────────────────────────────┘
//! ```
//!
//! The connection publishes its state on a `watch` channel that every tool
//! of the server reads through its [`Link`], and its tools in a snapshot the
//! manager hands out.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hearth_core::{Tool, ToolError};
use rmcp::model::{ClientRequest, PingRequest};
use rmcp::{Peer, RoleClient};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::client::{Event, Session, SessionInfo};
use crate::config::{McpServerConfig, Transport};
use crate::manager::{ServerState, ServerStatus};

/// The first retry's delay; it doubles per failure up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
/// A server down for long is retried once a minute: cheap for a local
/// child, polite to a remote host.
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// A session that lived this long resets the backoff; one that dies sooner
/// (a server that crashes right after its handshake) keeps it growing.
const STABLE_AFTER: Duration = Duration::from_secs(30);
/// How long a ping may take when a call suspects the connection.
const PING_TIMEOUT: Duration = Duration::from_secs(5);

/// Where a server's connection is.
#[derive(Debug, Clone)]
pub(crate) enum LinkState {
    /// Not started: disabled, or its config is invalid.
    Off(Option<String>),
    Connecting,
    Up(Peer<RoleClient>),
    Down {
        error: String,
        retry_at: Instant,
    },
    /// Shut down.
    Stopped,
}

/// What a server's tools hold to make calls: the live peer, when there is
/// one, and the settings calls use.
#[derive(Debug)]
pub(crate) struct Link {
    pub server: String,
    pub call_timeout: Duration,
    state: watch::Receiver<LinkState>,
    suspect: mpsc::Sender<()>,
}

impl Link {
    /// The live peer. While the connection is being made this waits (the
    /// caller bounds the wait with the call's timeout); a server that is
    /// down answers at once.
    pub(crate) async fn peer(&self) -> Result<Peer<RoleClient>, ToolError> {
        let mut state = self.state.clone();
        let current = state
            .wait_for(|s| !matches!(s, LinkState::Connecting))
            .await
            .map_err(|_| ToolError::Cancelled)?;
        match &*current {
            LinkState::Up(peer) => Ok(peer.clone()),
            LinkState::Down { error, retry_at } => Err(ToolError::Failed(format!(
                "MCP server {} is unavailable ({error}); retrying in {} s",
                self.server,
                retry_at.saturating_duration_since(Instant::now()).as_secs() + 1
            ))),
            LinkState::Off(_) => Err(ToolError::Failed(format!(
                "MCP server {} is not running",
                self.server
            ))),
            LinkState::Stopped => Err(ToolError::Cancelled),
            LinkState::Connecting => unreachable!("waited past it"),
        }
    }

    /// A call failed in the transport: have the connection check itself.
    pub(crate) fn suspect(&self) {
        let _ = self.suspect.try_send(());
    }
}

/// One configured server, shared by the manager and its connection task.
#[derive(Debug)]
pub(crate) struct Server {
    pub config: McpServerConfig,
    pub link: Arc<Link>,
    state: watch::Sender<LinkState>,
    /// The tools of the current session. A plain mutex: held only to swap
    /// or clone an `Arc`, never across an await.
    tools: Mutex<Arc<Vec<Arc<dyn Tool>>>>,
    info: Mutex<Option<SessionInfo>>,
    reconnects: AtomicU32,
}

impl Server {
    /// A server, and the receiving end of its calls' suspicions (for
    /// [`run`]). `refused` says why its config cannot be started.
    pub(crate) fn new(
        config: McpServerConfig,
        refused: Option<String>,
    ) -> (Arc<Server>, Suspicions) {
        let initial = match refused {
            Some(error) => LinkState::Off(Some(error)),
            None if !config.enabled => LinkState::Off(None),
            // Until its task runs, so nobody takes it for settled.
            None => LinkState::Connecting,
        };
        let (state, state_rx) = watch::channel(initial);
        // Capacity 1: one pending check covers any number of failed calls.
        let (suspect, suspicions) = mpsc::channel(1);
        let link = Arc::new(Link {
            server: config.name.clone(),
            call_timeout: Duration::from_secs(config.call_timeout_secs),
            state: state_rx,
            suspect,
        });
        let server = Arc::new(Server {
            config,
            link,
            state,
            tools: Mutex::new(Arc::default()),
            info: Mutex::new(None),
            reconnects: AtomicU32::new(0),
        });
        (server, Suspicions(suspicions))
    }

    /// The tools of the current session (none unless connected).
    pub(crate) fn tools(&self) -> Arc<Vec<Arc<dyn Tool>>> {
        self.tools.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn publish(&self, tools: Vec<Arc<dyn Tool>>) {
        *self.tools.lock().unwrap_or_else(|e| e.into_inner()) = Arc::new(tools);
    }

    fn set(&self, state: LinkState) {
        self.state.send_replace(state);
    }

    pub(crate) fn status(&self) -> ServerStatus {
        let state = match &*self.state.borrow() {
            LinkState::Off(None) => ServerState::Disabled,
            LinkState::Off(Some(error)) => ServerState::Failed {
                error: error.clone(),
                retry_in: None,
            },
            LinkState::Connecting => ServerState::Connecting,
            LinkState::Up(_) => ServerState::Ready {
                tools: self.tools().len(),
            },
            LinkState::Down { error, retry_at } => ServerState::Failed {
                error: error.clone(),
                retry_in: Some(retry_at.saturating_duration_since(Instant::now())),
            },
            LinkState::Stopped => ServerState::Stopped,
        };
        let info = self.info.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let (transport, target) = match &self.config.transport {
            Transport::Stdio { command, .. } => ("stdio", command.clone()),
            Transport::Http { url, .. } => ("http", url.clone()),
        };
        ServerStatus {
            name: self.config.name.clone(),
            transport,
            target,
            state,
            server: info.as_ref().and_then(|i| i.server.clone()),
            pid: info.as_ref().and_then(|i| i.pid),
            protocol_version: info.map(|i| i.protocol_version),
            reconnects: self.reconnects.load(Ordering::Relaxed),
        }
    }
}

/// Failed calls' requests for a connection check.
#[derive(Debug)]
pub(crate) struct Suspicions(mpsc::Receiver<()>);

/// Keeps `server` connected until `shutdown`. Every task it starts goes on
/// `tasks`.
pub(crate) async fn run(
    server: Arc<Server>,
    mut suspicions: Suspicions,
    tasks: TaskTracker,
    shutdown: CancellationToken,
) {
    let name = server.config.name.clone();
    let mut failures: u32 = 0;
    while !shutdown.is_cancelled() {
        server.set(LinkState::Connecting);
        let (events_tx, mut events) = mpsc::channel(1);
        let opened = tokio::select! {
            opened = Session::open(&server.config, events_tx, &tasks, shutdown.child_token()) => opened,
            _ = shutdown.cancelled() => break,
        };
        let error = match opened {
            Err(error) => error,
            Ok(session) => {
                let started = Instant::now();
                match serve(&server, session, &mut events, &mut suspicions, &shutdown).await {
                    None => break,
                    Some(error) => {
                        if started.elapsed() >= STABLE_AFTER {
                            failures = 0;
                        }
                        error
                    }
                }
            }
        };
        failures = failures.saturating_add(1);
        let delay = backoff(failures);
        tracing::warn!(server = %name, %error, retry_in = ?delay, "mcp server unavailable");
        server.set(LinkState::Down {
            error,
            retry_at: Instant::now() + delay,
        });
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = shutdown.cancelled() => break,
        }
        server.reconnects.fetch_add(1, Ordering::Relaxed);
    }
    server.publish(Vec::new());
    server.set(LinkState::Stopped);
}

/// Runs one session until it ends. `None` when stopped by `shutdown`,
/// otherwise why the session ended.
async fn serve(
    server: &Server,
    session: Session,
    events: &mut mpsc::Receiver<Event>,
    suspicions: &mut Suspicions,
    shutdown: &CancellationToken,
) -> Option<String> {
    let listed = tokio::select! {
        listed = crate::tools::build(&server.config, &server.link, &session.peer, &session.info) => listed,
        _ = shutdown.cancelled() => {
            session.close().await;
            return None;
        }
    };
    let tools = match listed {
        Ok(tools) => tools,
        Err(error) => {
            session.close().await;
            return Some(format!("listing: {error}"));
        }
    };
    tracing::info!(
        server = %server.config.name,
        peer = session.info.server.as_deref().unwrap_or("?"),
        protocol = %session.info.protocol_version,
        tools = tools.len(),
        "mcp server ready"
    );
    server.publish(tools);
    *server.info.lock().unwrap_or_else(|e| e.into_inner()) = Some(session.info.clone());
    server.set(LinkState::Up(session.peer.clone()));
    let ended = 'serve: loop {
        tokio::select! {
            _ = shutdown.cancelled() => break None,
            _ = session.closed() => break Some("the connection closed".to_owned()),
            Some(Event::ToolsChanged) = events.recv() => {
                let build = crate::tools::build(&server.config, &server.link, &session.peer, &session.info);
                let rebuilt = tokio::select! {
                    rebuilt = build => rebuilt,
                    _ = shutdown.cancelled() => break 'serve None,
                    _ = session.closed() => break 'serve Some("the connection closed".to_owned()),
                };
                match rebuilt {
                    Ok(tools) => {
                        tracing::info!(server = %server.config.name, tools = tools.len(), "mcp tools changed");
                        server.publish(tools);
                    }
                    // The old list stays: most of it is likely still right.
                    Err(error) => tracing::warn!(server = %server.config.name, %error, "mcp tools/list failed"),
                }
            }
            Some(()) = suspicions.0.recv() => {
                let pinged = tokio::select! {
                    pinged = ping(&session.peer) => pinged,
                    _ = shutdown.cancelled() => break 'serve None,
                };
                if let Err(error) = pinged {
                    break Some(format!("ping failed: {error}"));
                }
            }
        }
    };
    server.publish(Vec::new());
    session.close().await;
    ended
}

async fn ping(peer: &Peer<RoleClient>) -> Result<(), String> {
    let request = ClientRequest::PingRequest(PingRequest {
        method: Default::default(),
        extensions: Default::default(),
    });
    match tokio::time::timeout(PING_TIMEOUT, peer.send_request(request)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(error)) => Err(crate::client::describe(&error)),
        Err(_) => Err(format!("no answer within {} s", PING_TIMEOUT.as_secs())),
    }
}

/// The delay before retry number `failures` (from 1): doubling from
/// [`FIRST_BACKOFF`] to [`MAX_BACKOFF`], less up to a fifth at random so
/// servers that failed together do not retry together.
fn backoff(failures: u32) -> Duration {
    let exp = failures.saturating_sub(1).min(16);
    let delay = FIRST_BACKOFF.saturating_mul(1 << exp).min(MAX_BACKOFF);
    // Sub-second clock noise is random enough to spread retries.
    let noise = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    delay - delay.mul_f64(f64::from(noise % 1000) / 5000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_a_minute() {
        let within = |failures, low: f64, high: f64| {
            let d = backoff(failures).as_secs_f64();
            assert!((low..=high).contains(&d), "{failures}: {d}");
        };
        within(1, 0.4, 0.5);
        within(2, 0.8, 1.0);
        within(5, 6.4, 8.0);
        within(8, 48.0, 60.0);
        within(100, 48.0, 60.0);
    }
}
