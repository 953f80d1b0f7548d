//! Hearth's MCP client: the tools of Model Context Protocol servers, and
//! optionally their resources and prompts, as plain [`hearth_core::Tool`]s.
//!
//! ```text
//! [mcp.servers.<name>] ─McpServerConfig─▶ McpManager::start
//!     one connection task per server (connection.rs):
//!       Session::open (client.rs: child process, or streamable HTTP via
//!       http.rs; rmcp's handshake) ─▶ tools/list ─▶ tools.rs / extra.rs
//!       build `<name>__<tool>` Tools ─▶ published; reconnect with backoff
//!       when the transport dies; list again on tools/list_changed
//! agent ─McpManager::tools()─▶ Arc<dyn Tool> ─call─▶ rmcp request ─▶ render.rs text
//! ```
//!
//! - [`config`]: `[mcp.servers.<name>]` and its pure `validate()`
//!   (`config_raw.rs`: the TOML shape).
//! - `client.rs`: one session through rmcp: the child process, the
//!   handshake, bounded listing, the server's notifications; `http.rs`:
//!   the streamable HTTP client under it.
//! - `connection.rs`: one server kept connected; the state calls read.
//! - `tools.rs`: MCP tools as `Tool`s; `extra.rs`: resources and prompts
//!   as four more.
//! - [`names`]: `<server>__<tool>` names valid for model APIs.
//! - `render.rs`: results as capped text.
//! - `manager.rs`: [`McpManager`], what the daemon calls.
//!
//! This crate is the only one that knows rmcp; nothing of the SDK crosses
//! its API.

mod client;
pub mod config;
mod config_raw;
mod connection;
mod extra;
mod http;
mod manager;
pub mod names;
mod render;
mod tools;

pub use client::MAX_TOOLS_PER_SERVER;
pub use config::{ConfigError, McpConfig, McpServerConfig, Transport};
pub use manager::{McpManager, ServerState, ServerStatus};
pub use render::MAX_RESULT_BYTES;
