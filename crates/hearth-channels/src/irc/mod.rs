//! IRC: one network account per channel entry. Channels (`#room`) are
//! groups, where the bot answers when addressed by nick (`hearth: hi`);
//! queries are direct chats under the DM policy. TLS and SASL PLAIN are
//! optional; replies are paced under the server's flood limits.
//!
//! - `config.rs`: `[channels.<name>]` with `type = "irc"`.
//! - `wire.rs`: IRC line parsing (private).
//! - `adapter.rs`: registration, the read loop, normalize and send.

mod adapter;
mod config;
mod wire;

#[cfg(test)]
mod tests;

pub use adapter::{IrcChannel, channel};
pub use config::{IrcConfig, SaslConfig};
