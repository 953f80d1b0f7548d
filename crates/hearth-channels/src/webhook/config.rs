//! `[channels.<name>]` with `type = "webhook"`: the shared secret, and
//! where replies go (the POST's own response, or a callback URL).

use serde::{Deserialize, Serialize};

use crate::access::AccessConfig;

/// A generic webhook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// The shared secret both sides sign with: HMAC-SHA256 over
    /// `<timestamp>.<body>`, sent as `X-Hearth-Signature: sha256=<hex>`
    /// beside `X-Hearth-Timestamp: <unix seconds>`. At least 16 characters.
    pub secret: String,
    /// Where replies are POSTed (signed the same way). Without it, a reply
    /// is the response to the request that asked, which waits up to
    /// `reply_timeout_secs`.
    #[serde(default)]
    pub callback_url: Option<String>,
    /// How long a request waits for its reply when there is no callback
    /// URL. Default 60; past it the answer is 202 and the reply is kept in
    /// the session's transcript only.
    #[serde(default = "default_reply_timeout")]
    pub reply_timeout_secs: u64,
    /// Oldest accepted `X-Hearth-Timestamp`, in seconds from now, so a
    /// captured request cannot be replayed later. Default 300.
    #[serde(default = "default_max_skew")]
    pub max_skew_secs: u64,
    /// Longest reply text per callback, in characters. Default 16000.
    #[serde(default = "default_max_text")]
    pub max_text: usize,
    /// The agent that answers on this channel; default the default agent.
    #[serde(default)]
    pub agent: Option<String>,
    /// Who may talk to the assistant here (senders are the `sender` field).
    #[serde(default)]
    pub access: AccessConfig,
}

fn default_reply_timeout() -> u64 {
    60
}
fn default_max_skew() -> u64 {
    300
}
fn default_max_text() -> usize {
    16_000
}

impl WebhookConfig {
    pub fn validate(&self) -> Result<(), String> {
        if self.secret.chars().count() < 16 {
            return Err("secret must be at least 16 characters".into());
        }
        if let Some(url) = &self.callback_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(format!("callback_url {url:?} must be an http(s) URL"));
        }
        if !(1..=600).contains(&self.reply_timeout_secs) {
            return Err("reply_timeout_secs must be between 1 and 600".into());
        }
        if !(10..=3600).contains(&self.max_skew_secs) {
            return Err("max_skew_secs must be between 10 and 3600".into());
        }
        if self.max_text < 100 {
            return Err("max_text must be at least 100".into());
        }
        self.access.validate()
    }
}
