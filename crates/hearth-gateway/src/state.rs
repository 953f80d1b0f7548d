//! What the gateway's handlers share: the pipeline, auth, limits, and
//! identity of this server process.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use hearth_agent::Runtime;
use serde::Serialize;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::auth::Auth;
use crate::presence::Presence;

#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// Largest WebSocket frame accepted after `connect`.
    pub max_payload_bytes: usize,
    pub tick_interval_ms: u64,
    /// Shown in `hello-ok` and `/v1/models`.
    pub server_version: String,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        Self {
            max_payload_bytes: 25 * 1024 * 1024,
            tick_interval_ms: 30_000,
            server_version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }
}

/// A configured model, as listed by `models.list` and `/v1/models`-adjacent
/// status output.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelListing {
    /// The config name (`[models.<name>]`).
    pub id: String,
    /// The provider's own model name.
    pub name: String,
    pub provider: String,
    /// `closed`, `open` or `half_open`.
    pub breaker: String,
    /// For an embedded model: loaded or not, its file, slots and counters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub embedded: Option<serde_json::Value>,
}

/// The answer of a model load or unload, or why it failed.
pub type ModelAction = futures::future::BoxFuture<'static, Result<serde_json::Value, String>>;

/// Lists the configured models; implemented by the binary over the router.
pub trait ModelCatalog: Send + Sync + 'static {
    fn models(&self) -> Vec<ModelListing>;

    /// Loads (or reloads) the model called `name`; only embedded models
    /// can be loaded.
    fn load(&self, name: &str) -> ModelAction {
        let message = format!("model {name:?} cannot be loaded: only embedded models can");
        Box::pin(async move { Err(message) })
    }

    /// Frees the model called `name`.
    fn unload(&self, name: &str) -> ModelAction {
        let message = format!("model {name:?} cannot be unloaded: only embedded models can");
        Box::pin(async move { Err(message) })
    }
}

/// The answer of a memory method, or why it failed.
pub type MemoryAction =
    futures::future::BoxFuture<'static, Result<serde_json::Value, MemoryApiError>>;

/// A memory method's failure: the caller's mistake (`invalid`), or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryApiError {
    pub invalid: bool,
    pub message: String,
}

/// The `memory.*` methods; implemented by the binary over `hearth-memory`.
pub trait MemoryApi: Send + Sync + 'static {
    fn call(&self, method: &str, params: serde_json::Value) -> MemoryAction;
}

/// The `channels.*` and `pairing.*` methods and the channels' health;
/// implemented by the binary over `hearth-channels` and the store.
pub trait ChannelsApi: Send + Sync + 'static {
    fn call(&self, method: &str, params: serde_json::Value) -> MemoryAction;

    /// Every channel's name, type and health, for `status` and `/metrics`.
    fn statuses(&self) -> serde_json::Value;
}

pub struct GatewayState {
    pub runtime: Runtime,
    pub auth: Auth,
    pub config: GatewayConfig,
    pub models: Arc<dyn ModelCatalog>,
    pub started: Instant,
    pub boot_id: String,
    /// Set once recovery has run and the listener is up.
    pub ready: AtomicBool,
    /// Cancelled when the server shuts down: connections close.
    pub shutdown: CancellationToken,
    /// Every connection task, so shutdown can wait for them.
    pub tasks: TaskTracker,
    pub presence: Presence,
    /// Set when the daemon runs with memory enabled.
    pub memory: std::sync::OnceLock<Arc<dyn MemoryApi>>,
    /// Set when the daemon hosts chat channels.
    pub channels: std::sync::OnceLock<Arc<dyn ChannelsApi>>,
    /// Channels receiving over HTTP, by name (`POST /hooks/<name>`).
    pub webhooks: std::sync::OnceLock<
        std::collections::HashMap<String, Arc<dyn hearth_core::WebhookHandler>>,
    >,
    /// Set when tools may ask operators for approval (`exec` under `ask`).
    pub approvals: std::sync::OnceLock<Arc<hearth_agent::tools::ApprovalBroker>>,
}

impl std::fmt::Debug for GatewayState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayState")
            .field("boot_id", &self.boot_id)
            .finish_non_exhaustive()
    }
}

impl GatewayState {
    pub fn new(
        runtime: Runtime,
        auth: Auth,
        config: GatewayConfig,
        models: Arc<dyn ModelCatalog>,
    ) -> Arc<Self> {
        Arc::new(Self {
            runtime,
            auth,
            config,
            models,
            started: Instant::now(),
            boot_id: uuid::Uuid::new_v4().to_string(),
            ready: AtomicBool::new(false),
            shutdown: CancellationToken::new(),
            tasks: TaskTracker::new(),
            presence: Presence::default(),
            memory: std::sync::OnceLock::new(),
            channels: std::sync::OnceLock::new(),
            webhooks: std::sync::OnceLock::new(),
            approvals: std::sync::OnceLock::new(),
        })
    }

    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::SeqCst) && !self.shutdown.is_cancelled()
    }

    pub fn set_ready(&self) {
        self.ready.store(true, Ordering::SeqCst);
    }

    pub fn uptime_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }
}
