//! XMPP (Jabber): an account on any XMPP server. One-to-one chats are
//! direct conversations under the DM policy; in group chat rooms (MUC)
//! the bot answers messages that address its nickname.
//!
//! - `config.rs`: `[channels.<name>]` with `type = "xmpp"`.
//! - `adapter.rs`: tokio-xmpp client, joins, normalize and send.

mod adapter;
mod config;

pub use adapter::XmppChannel;
pub use config::{XmppConfig, XmppSecurity};
