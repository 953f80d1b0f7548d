//! `[channels.<name>]` with `type = "telegram"`: the bot token, the Bot
//! API server, and how updates arrive (long polling or webhook).

use serde::{Deserialize, Serialize};

use crate::access::AccessConfig;

/// How updates reach Hearth.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TelegramMode {
    /// `getUpdates` long polling: works behind NAT, no public URL needed.
    #[default]
    Polling,
    /// Telegram POSTs updates to `webhook_url` (which must reach
    /// `/hooks/<name>` on the gateway, over HTTPS).
    Webhook,
}

/// A Telegram bot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelegramConfig {
    /// The bot's token from @BotFather (`123456:ABC-...`).
    pub token: String,
    /// The Bot API server. Default `https://api.telegram.org`; a local
    /// Bot API server (or a test server) otherwise.
    #[serde(default = "default_api_url")]
    pub api_url: String,
    /// `polling` (default) or `webhook`.
    #[serde(default)]
    pub mode: TelegramMode,
    /// Webhook mode: the public URL Telegram posts to, ending in
    /// `/hooks/<name>`.
    #[serde(default)]
    pub webhook_url: Option<String>,
    /// Webhook mode: the secret Telegram sends back in
    /// `X-Telegram-Bot-Api-Secret-Token` (1–256 of A-Z a-z 0-9 _ -).
    #[serde(default)]
    pub webhook_secret: Option<String>,
    /// Long-polling wait per request, in seconds. Default 25.
    #[serde(default = "default_poll_timeout")]
    pub poll_timeout_secs: u64,
    /// Largest attachment downloaded, in bytes; larger ones are noted in
    /// the text instead. Default 20 MB (the Bot API's own limit).
    #[serde(default = "default_max_attachment")]
    pub max_attachment_bytes: u64,
    /// Show the answer while the model writes it: one message, edited
    /// about every 1.5 s, that becomes the reply. Default false.
    #[serde(default)]
    pub stream_previews: bool,
    /// The agent that answers on this channel; default the default agent.
    #[serde(default)]
    pub agent: Option<String>,
    /// Who may talk to the assistant here (senders are numeric user ids).
    #[serde(default)]
    pub access: AccessConfig,
}

fn default_api_url() -> String {
    "https://api.telegram.org".into()
}
fn default_poll_timeout() -> u64 {
    25
}
fn default_max_attachment() -> u64 {
    20 * 1024 * 1024
}

impl TelegramConfig {
    pub fn validate(&self) -> Result<(), String> {
        let token_ok = self.token.split_once(':').is_some_and(|(id, secret)| {
            !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) && secret.len() >= 8
        });
        if !token_ok {
            return Err("token must look like 123456789:AA... (from @BotFather)".into());
        }
        if !(self.api_url.starts_with("http://") || self.api_url.starts_with("https://")) {
            return Err(format!("api_url {:?} must be an http(s) URL", self.api_url));
        }
        if !(1..=50).contains(&self.poll_timeout_secs) {
            return Err("poll_timeout_secs must be between 1 and 50".into());
        }
        if self.mode == TelegramMode::Webhook {
            let url = self.webhook_url.as_deref().unwrap_or_default();
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(
                    "mode = \"webhook\" needs webhook_url (https://.../hooks/<name>)".into(),
                );
            }
            let secret = self.webhook_secret.as_deref().unwrap_or_default();
            let secret_ok = (1..=256).contains(&secret.len())
                && secret
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
            if !secret_ok {
                return Err(
                    "mode = \"webhook\" needs webhook_secret: 1-256 of A-Z a-z 0-9 _ -".into(),
                );
            }
        }
        self.access.validate()
    }
}
