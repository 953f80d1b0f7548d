//! `[channels.<name>]` with `type = "matrix"`: the homeserver, the bot's
//! account (a password, or an access token made elsewhere), and how it
//! syncs.

use serde::{Deserialize, Serialize};

use crate::access::AccessConfig;

/// A Matrix account on a homeserver.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatrixConfig {
    /// The homeserver's client-server API base, e.g.
    /// `https://matrix.example.org`. Plain `http://` only to a loopback
    /// address: the password and every message would cross in clear.
    pub homeserver: String,
    /// The bot's full user id, `@hearth:example.org`.
    pub user_id: String,
    /// The account's password: Hearth logs in as `device_id` and logs in
    /// again if the server ends the session. Give this or `access_token`.
    #[serde(default)]
    pub password: Option<String>,
    /// An access token made elsewhere (e.g. in Element's settings), used as
    /// is; when the server revokes it the channel stops until it is
    /// replaced. Give this or `password`.
    #[serde(default)]
    pub access_token: Option<String>,
    /// The device Hearth logs in as. Keeping it fixed keeps one device in
    /// the account's device list across restarts, and makes the server's
    /// duplicate-send protection (per device) hold across logins.
    #[serde(default = "default_device_id")]
    pub device_id: String,
    /// Long-poll wait per `/sync`, in seconds. Default 30.
    #[serde(default = "default_sync_timeout")]
    pub sync_timeout_secs: u64,
    /// Accept room invitations (default true). The access policy still
    /// decides who is answered; with `groups = "disabled"` only direct
    /// chats are joined.
    #[serde(default = "default_true")]
    pub auto_join: bool,
    /// Largest attachment downloaded, in bytes; larger ones are noted in
    /// the text instead. Default 20 MB.
    #[serde(default = "default_max_attachment")]
    pub max_attachment_bytes: u64,
    /// Show the answer while the model writes it: one message, edited
    /// about every 1.5 s, that becomes the reply. Default false.
    #[serde(default)]
    pub stream_previews: bool,
    /// The agent that answers on this channel; default the default agent.
    #[serde(default)]
    pub agent: Option<String>,
    /// Who may talk to the assistant here (senders are Matrix user ids,
    /// rooms are room ids).
    #[serde(default)]
    pub access: AccessConfig,
}

fn default_device_id() -> String {
    "HEARTH".into()
}
fn default_sync_timeout() -> u64 {
    30
}
fn default_true() -> bool {
    true
}
fn default_max_attachment() -> u64 {
    20 * 1024 * 1024
}

impl MatrixConfig {
    pub fn validate(&self) -> Result<(), String> {
        let url = reqwest::Url::parse(&self.homeserver)
            .map_err(|e| format!("homeserver {:?}: {e}", self.homeserver))?;
        let host = url
            .host_str()
            .ok_or_else(|| format!("homeserver {:?} has no host", self.homeserver))?
            .trim_start_matches('[')
            .trim_end_matches(']');
        let loopback = host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        match url.scheme() {
            "https" => {}
            "http" if loopback => {}
            _ => {
                return Err(format!(
                    "homeserver {:?}: use https:// (plain http only to a loopback address)",
                    self.homeserver
                ));
            }
        }
        let user_ok = self.user_id.strip_prefix('@').is_some_and(|rest| {
            rest.split_once(':')
                .is_some_and(|(local, server)| !local.is_empty() && !server.is_empty())
        });
        if !user_ok {
            return Err(format!(
                "user_id {:?} must be a full Matrix id like @hearth:example.org",
                self.user_id
            ));
        }
        match (&self.password, &self.access_token) {
            (Some(_), Some(_)) => {
                return Err("give password or access_token, not both".into());
            }
            (None, None) => return Err("give password or access_token".into()),
            (Some(p), None) if p.is_empty() => return Err("password is empty".into()),
            (None, Some(t)) if t.is_empty() => return Err("access_token is empty".into()),
            _ => {}
        }
        let device_ok = !self.device_id.is_empty()
            && self.device_id.len() <= 64
            && self
                .device_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !device_ok {
            return Err("device_id: use 1 to 64 of A-Z a-z 0-9 _ -".into());
        }
        if !(1..=120).contains(&self.sync_timeout_secs) {
            return Err("sync_timeout_secs must be between 1 and 120".into());
        }
        self.access.validate()
    }

    /// The localpart of `user_id` (`hearth` in `@hearth:example.org`), the
    /// name people type to address the bot.
    pub fn localpart(&self) -> &str {
        self.user_id
            .trim_start_matches('@')
            .split(':')
            .next()
            .unwrap_or_default()
    }
}
