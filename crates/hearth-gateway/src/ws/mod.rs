//! The WebSocket control plane: one task per connection running the
//! OpenClaw handshake, then dispatching requests and forwarding run events.
//!
//! - `connection`: the per-connection loop (handshake, limits, tick, shutdown).
//! - `handlers`: one function per method.
//! - `events`: run events → OpenClaw `agent` / `chat` event payloads.
//! - `payloads`: shared payload builders (sessions, health, status, hello).

mod connection;
mod events;
mod handlers;
mod payloads;

pub use connection::ws_handler;
