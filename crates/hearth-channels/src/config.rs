//! `[channels.<name>]`: one table per channel account, its `type` naming
//! the adapter. Validation is pure (no network, no files), so `hearth
//! config check` and hot reload can refuse a bad table before anything
//! connects.

use std::sync::Arc;

use hearth_core::{Channel, WebhookHandler};
use serde::{Deserialize, Serialize};

use crate::access::AccessConfig;

/// One channel account's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ChannelConfig {
    /// `type = "irc"`: an IRC network.
    #[cfg(feature = "irc")]
    Irc(crate::irc::IrcConfig),
    /// `type = "mqtt"`: devices on an MQTT broker.
    #[cfg(feature = "mqtt")]
    Mqtt(crate::mqtt::MqttConfig),
    /// `type = "webhook"`: signed HTTP POSTs to `/hooks/<name>`.
    #[cfg(feature = "webhook")]
    Webhook(crate::webhook::WebhookConfig),
    /// `type = "telegram"`: a Telegram bot.
    #[cfg(feature = "telegram")]
    Telegram(crate::telegram::TelegramConfig),
    /// `type = "xmpp"`: an XMPP account, chats and MUC rooms.
    #[cfg(feature = "xmpp")]
    Xmpp(crate::xmpp::XmppConfig),
    /// `type = "email"`: a mailbox over IMAP and SMTP.
    #[cfg(feature = "email")]
    Email(crate::email::EmailConfig),
    /// `type = "matrix"`: a Matrix account.
    #[cfg(feature = "matrix")]
    Matrix(crate::matrix::MatrixConfig),
}

/// An adapter, built and not yet started.
pub struct Built {
    pub channel: Arc<dyn Channel>,
    /// Set for channels that receive at `POST /hooks/<name>`.
    pub webhook: Option<Arc<dyn WebhookHandler>>,
}

impl std::fmt::Debug for Built {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Built")
            .field("channel", &self.channel.name())
            .field("webhook", &self.webhook.is_some())
            .finish()
    }
}

impl Built {
    fn socket(channel: Arc<dyn Channel>) -> Self {
        Self {
            channel,
            webhook: None,
        }
    }
}

/// Names that are taken by the gateway's own clients.
const RESERVED: &[&str] = &["gateway", "openai", "person"];

/// A channel name: 1–32 of a-z, 0-9, `-`, `_`. It appears in session keys,
/// pairing commands and metrics labels.
pub fn validate_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 32
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if !ok {
        return Err(format!(
            "channel name {name:?}: use 1 to 32 of a-z, 0-9, '-' and '_'"
        ));
    }
    if RESERVED.contains(&name) {
        return Err(format!("channel name {name:?} is reserved"));
    }
    Ok(())
}

impl ChannelConfig {
    /// The adapter type, as written in `type`.
    pub fn kind(&self) -> &'static str {
        match self {
            #[cfg(feature = "irc")]
            ChannelConfig::Irc(_) => "irc",
            #[cfg(feature = "mqtt")]
            ChannelConfig::Mqtt(_) => "mqtt",
            #[cfg(feature = "webhook")]
            ChannelConfig::Webhook(_) => "webhook",
            #[cfg(feature = "telegram")]
            ChannelConfig::Telegram(_) => "telegram",
            #[cfg(feature = "xmpp")]
            ChannelConfig::Xmpp(_) => "xmpp",
            #[cfg(feature = "email")]
            ChannelConfig::Email(_) => "email",
            #[cfg(feature = "matrix")]
            ChannelConfig::Matrix(_) => "matrix",
        }
    }

    /// The agent named in the table, if any.
    pub fn agent(&self) -> Option<&str> {
        match self {
            #[cfg(feature = "irc")]
            ChannelConfig::Irc(c) => c.agent.as_deref(),
            #[cfg(feature = "mqtt")]
            ChannelConfig::Mqtt(c) => c.agent.as_deref(),
            #[cfg(feature = "webhook")]
            ChannelConfig::Webhook(c) => c.agent.as_deref(),
            #[cfg(feature = "telegram")]
            ChannelConfig::Telegram(c) => c.agent.as_deref(),
            #[cfg(feature = "xmpp")]
            ChannelConfig::Xmpp(c) => c.agent.as_deref(),
            #[cfg(feature = "email")]
            ChannelConfig::Email(c) => c.agent.as_deref(),
            #[cfg(feature = "matrix")]
            ChannelConfig::Matrix(c) => c.agent.as_deref(),
        }
    }

    pub fn access(&self) -> &AccessConfig {
        match self {
            #[cfg(feature = "irc")]
            ChannelConfig::Irc(c) => &c.access,
            #[cfg(feature = "mqtt")]
            ChannelConfig::Mqtt(c) => &c.access,
            #[cfg(feature = "webhook")]
            ChannelConfig::Webhook(c) => &c.access,
            #[cfg(feature = "telegram")]
            ChannelConfig::Telegram(c) => &c.access,
            #[cfg(feature = "xmpp")]
            ChannelConfig::Xmpp(c) => &c.access,
            #[cfg(feature = "email")]
            ChannelConfig::Email(c) => &c.access,
            #[cfg(feature = "matrix")]
            ChannelConfig::Matrix(c) => &c.access,
        }
    }

    /// Checks that need no IO.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            #[cfg(feature = "irc")]
            ChannelConfig::Irc(c) => c.validate(),
            #[cfg(feature = "mqtt")]
            ChannelConfig::Mqtt(c) => c.validate(),
            #[cfg(feature = "webhook")]
            ChannelConfig::Webhook(c) => c.validate(),
            #[cfg(feature = "telegram")]
            ChannelConfig::Telegram(c) => c.validate(),
            #[cfg(feature = "xmpp")]
            ChannelConfig::Xmpp(c) => c.validate(),
            #[cfg(feature = "email")]
            ChannelConfig::Email(c) => c.validate(),
            #[cfg(feature = "matrix")]
            ChannelConfig::Matrix(c) => c.validate(),
        }
    }

    /// The adapter, not connected yet. `data_dir` is the daemon's state
    /// directory: attachments go to `<data_dir>/channels/<name>/files/`.
    pub fn build(&self, name: &str, data_dir: &std::path::Path) -> Built {
        let files_dir = data_dir.join("channels").join(name).join("files");
        let _ = &files_dir;
        match self {
            #[cfg(feature = "irc")]
            ChannelConfig::Irc(c) => Built::socket(crate::irc::channel(name, c.clone())),
            #[cfg(feature = "mqtt")]
            ChannelConfig::Mqtt(c) => Built::socket(crate::mqtt::channel(name, c.clone())),
            #[cfg(feature = "webhook")]
            ChannelConfig::Webhook(c) => {
                let channel = Arc::new(crate::webhook::WebhookChannel::new(name, c.clone()));
                Built {
                    channel: channel.clone(),
                    webhook: Some(channel),
                }
            }
            #[cfg(feature = "telegram")]
            ChannelConfig::Telegram(c) => {
                let files = crate::files::FileStore::new(files_dir, c.max_attachment_bytes);
                let channel = Arc::new(crate::telegram::TelegramChannel::new(
                    name,
                    c.clone(),
                    files,
                ));
                let webhook: Option<Arc<dyn WebhookHandler>> = (c.mode
                    == crate::telegram::TelegramMode::Webhook)
                    .then(|| channel.clone() as _);
                Built { channel, webhook }
            }
            #[cfg(feature = "xmpp")]
            ChannelConfig::Xmpp(c) => {
                Built::socket(Arc::new(crate::xmpp::XmppChannel::new(name, c.clone())))
            }
            #[cfg(feature = "email")]
            ChannelConfig::Email(c) => {
                Built::socket(Arc::new(crate::email::EmailChannel::new(name, c.clone())))
            }
            #[cfg(feature = "matrix")]
            ChannelConfig::Matrix(c) => {
                let files = crate::files::FileStore::new(files_dir, c.max_attachment_bytes);
                let state = data_dir
                    .join("channels")
                    .join(name)
                    .join("matrix-sync.json");
                Built::socket(Arc::new(crate::matrix::MatrixChannel::new(
                    name,
                    c.clone(),
                    files,
                    Some(state),
                )))
            }
        }
    }
}
