//! The gateway: everything Hearth serves on its one port.
//!
//! - [`router`] builds the `axum::Router` (testable without a socket).
//! - [`serve`] runs it on a listener the caller owns until shutdown.
//! - [`protocol`]: the OpenClaw-compatible control protocol's types.
//! - `ws`: the WebSocket control plane.
//! - `http`: probes, metrics, the OpenAI-compatible API.
//! - [`auth`]: shared-token auth with failure rate limiting.
//! - `presence`: who is connected, announced as `presence` events.
//! - [`client`]: a small client of the control protocol (CLI, tests, bench).
//!
//! Data flow: a request becomes an `InboundMessage` submitted to the
//! [`hearth_agent::Runtime`]; its run events stream back to the connections
//! that follow the session, and the final answer is read from the store.

pub mod auth;
pub mod client;
mod http;
mod presence;
pub mod protocol;
pub mod state;
mod ws;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use tokio::net::TcpListener;

pub use auth::Auth;
pub use state::{
    ChannelsApi, GatewayConfig, GatewayState, MemoryAction, MemoryApi, MemoryApiError, ModelAction,
    ModelCatalog, ModelListing,
};

/// Largest HTTP request body (the OpenAI API's JSON), matching the
/// WebSocket payload limit.
fn body_limit(state: &GatewayState) -> axum::extract::DefaultBodyLimit {
    axum::extract::DefaultBodyLimit::max(state.config.max_payload_bytes)
}

pub fn router(state: Arc<GatewayState>) -> Router {
    Router::new()
        .route("/", get(ws::ws_handler))
        .route("/healthz", get(http::probes::healthz))
        .route("/health", get(http::probes::healthz))
        .route("/readyz", get(http::probes::readyz))
        .route("/ready", get(http::probes::readyz))
        .route("/startupz", get(http::probes::startupz))
        .route("/metrics", get(http::metrics::metrics))
        .route("/v1/chat/completions", post(http::openai::chat_completions))
        .route("/v1/models", get(http::openai::models))
        .route("/hooks/{channel}", post(http::hooks::hook))
        .layer(body_limit(&state))
        .with_state(state)
}

/// Serves until `state.shutdown` is cancelled, then waits for connections
/// to close.
pub async fn serve(listener: TcpListener, state: Arc<GatewayState>) -> std::io::Result<()> {
    use axum::serve::ListenerExt;
    let shutdown = state.shutdown.clone();
    let app = router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    // Replies are many small frames (an answer, then events): without
    // TCP_NODELAY each one after the first waits ~40 ms for the peer's
    // delayed ACK (Nagle), which measured as a flat 44 ms per WebSocket turn.
    let listener = listener.tap_io(|tcp| {
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::debug!(%error, "cannot set TCP_NODELAY");
        }
    });
    let result = axum::serve(listener, app)
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await;
    state.tasks.close();
    state.tasks.wait().await;
    result
}
