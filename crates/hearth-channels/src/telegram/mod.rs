//! Telegram: a bot account through the Bot API. Private chats are direct
//! conversations under the DM policy; groups answer @mentions, commands
//! addressed to the bot and replies to its messages. Updates arrive by
//! long polling (default) or webhook; replies are Telegram HTML.
//!
//! - `config.rs`: `[channels.<name>]` with `type = "telegram"`.
//! - `wire.rs`: the Bot API's JSON (private).
//! - `adapter.rs`: getMe, polling / webhook, normalize, send, typing.

mod adapter;
mod config;
mod wire;

#[cfg(test)]
mod tests;

pub use adapter::TelegramChannel;
pub use config::{TelegramConfig, TelegramMode};
