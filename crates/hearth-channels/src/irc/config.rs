//! `[channels.<name>]` with `type = "irc"`: the server, the bot's nick,
//! authentication, channels to join and flood control.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::access::AccessConfig;

/// An IRC network account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IrcConfig {
    /// `host:port` of the server, e.g. `irc.libera.chat:6697`.
    pub server: String,
    /// Connect with TLS (port 6697 on most networks). Default false.
    #[serde(default)]
    pub tls: bool,
    /// A PEM file of extra CA certificates to trust, for a server with a
    /// self-signed certificate. The system's web roots are always trusted.
    #[serde(default)]
    pub tls_ca_file: Option<PathBuf>,
    /// The bot's nick. If it is taken, `_` is appended.
    pub nick: String,
    /// The user name sent at registration; defaults to the nick.
    #[serde(default)]
    pub username: Option<String>,
    /// The "real name" shown in WHOIS. Default "Hearth assistant".
    #[serde(default = "default_realname")]
    pub realname: String,
    /// The server password (`PASS`), if the server requires one.
    #[serde(default)]
    pub server_password: Option<String>,
    /// SASL PLAIN login (NickServ account) at connect time.
    #[serde(default)]
    pub sasl: Option<SaslConfig>,
    /// Channels to join, e.g. `["#hearth"]`. A key may follow a space:
    /// `"#private secret"`.
    #[serde(default)]
    pub channels: Vec<String>,
    /// Lines the bot may send at once before pacing starts. Default 4.
    #[serde(default = "default_flood_burst")]
    pub flood_burst: u32,
    /// Pause between lines once the burst is spent, in milliseconds.
    /// Default 700, under the usual servers' flood limits.
    #[serde(default = "default_flood_interval_ms")]
    pub flood_interval_ms: u64,
    /// Longest text of one line, in bytes; longer replies are cut into
    /// several lines. Default 400 (an IRC line is 512 bytes with its
    /// prefix and command).
    #[serde(default = "default_max_line_bytes")]
    pub max_line_bytes: usize,
    /// Seconds of silence from the server before the bot pings it; as long
    /// again without an answer and it reconnects. Default 120.
    #[serde(default = "default_ping_secs")]
    pub ping_secs: u64,
    /// The agent that answers on this channel; default the default agent.
    #[serde(default)]
    pub agent: Option<String>,
    /// Who may talk to the assistant here.
    #[serde(default)]
    pub access: AccessConfig,
}

/// SASL PLAIN credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SaslConfig {
    pub username: String,
    pub password: String,
}

fn default_realname() -> String {
    "Hearth assistant".into()
}
fn default_flood_burst() -> u32 {
    4
}
fn default_flood_interval_ms() -> u64 {
    700
}
fn default_max_line_bytes() -> usize {
    400
}
fn default_ping_secs() -> u64 {
    120
}

impl IrcConfig {
    /// Checks that need no network or file access.
    pub fn validate(&self) -> Result<(), String> {
        let (host, port) = self
            .server
            .rsplit_once(':')
            .ok_or_else(|| format!("server {:?} must be host:port", self.server))?;
        if host.is_empty() || port.parse::<u16>().is_err() {
            return Err(format!("server {:?} must be host:port", self.server));
        }
        let nick_ok = !self.nick.is_empty()
            && self.nick.len() <= 30
            && !self
                .nick
                .starts_with(|c: char| c.is_ascii_digit() || c == '-')
            && self
                .nick
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-[]\\`^{}|".contains(c));
        if !nick_ok {
            return Err(format!(
                "nick {:?} is not a valid IRC nick (letters, digits, _-[]\\`^{{}}|, not starting with a digit)",
                self.nick
            ));
        }
        for channel in &self.channels {
            if !super::wire::is_channel(channel) || channel.contains([',', '\r', '\n', '\u{7}']) {
                return Err(format!(
                    "channels: {channel:?} is not a channel name (it starts with #)"
                ));
            }
        }
        if !(64..=450).contains(&self.max_line_bytes) {
            return Err("max_line_bytes must be between 64 and 450".into());
        }
        if self.flood_burst == 0 || self.flood_interval_ms == 0 {
            return Err("flood_burst and flood_interval_ms must be at least 1".into());
        }
        if self.ping_secs < 5 {
            return Err("ping_secs must be at least 5".into());
        }
        self.access.validate()
    }
}
