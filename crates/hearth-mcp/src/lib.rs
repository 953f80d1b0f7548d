//! Hearth's MCP client: the tools of Model Context Protocol servers, and
//! optionally their resources and prompts, as plain [`hearth_core::Tool`]s.
//!
//! ```text
//! [mcp.servers.<name>] ─McpServerConfig─▶ McpManager::start
//!     one connection task per server (connection.rs):
//!       Session::open (client.rs: child process or streamable HTTP, rmcp
//!       handshake) ─▶ tools/list ─▶ tools.rs builds `<name>__<tool>` Tools
//!       ─▶ published; reconnect with backoff when the transport dies
//! agent ─McpManager::tools()─▶ Arc<dyn Tool> ─call─▶ rmcp request ─▶ render.rs text
//! ```
//!
//! - [`config`]: `[mcp.servers.<name>]` and its pure `validate()`.
//! - [`client`]: one session through rmcp: transports, handshake, bounded
//!   listing, the server's notifications.
//! - `http`: the streamable HTTP client rmcp runs on.
//! - [`connection`]: one server kept connected; the state calls read.
//! - [`tools`]: MCP tools, resources and prompts as `Tool`s.
//! - [`names`]: `<server>__<tool>` names valid for model APIs.
//! - [`render`]: results as capped text.
//! - [`manager`]: [`McpManager`], the API the daemon uses.
//!
//! This crate is the only one that knows rmcp; nothing of the SDK crosses
//! its API.

mod client;
pub mod config;
mod connection;
mod http;
mod manager;
pub mod names;
mod render;
mod tools;

pub use client::{MAX_TOOLS_PER_SERVER, SessionInfo};
pub use config::{ConfigError, McpConfig, McpServerConfig, Transport};
pub use manager::{McpManager, ServerState, ServerStatus};
pub use render::MAX_RESULT_BYTES;
