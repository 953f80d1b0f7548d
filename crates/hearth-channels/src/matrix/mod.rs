//! Matrix: an account on any homeserver through the client-server API.
//! Direct chats (rooms the bot was invited to as a DM, or with two
//! members) are under the DM policy; other rooms answer mentions (a pill,
//! `m.mentions`, the bot's name, or a reply to the bot). Replies are
//! Matrix HTML with the markdown as the plain body, in the thread they
//! answer. End-to-end encrypted rooms are not readable: the bot says so.
//!
//! - `config.rs`: `[channels.<name>]` with `type = "matrix"`.
//! - `wire.rs`: the API's JSON (private).
//! - `client.rs`: the calls, with errors classified.
//! - `state.rs`: the sync position and DM flags, kept across restarts.
//! - `adapter.rs`: login, sync, normalize, send, typing.

mod adapter;
mod client;
mod config;
mod state;
mod wire;

#[cfg(test)]
mod tests;

pub use adapter::MatrixChannel;
pub use config::MatrixConfig;
