//! `WebFetchConfig`: which addresses `web_fetch` may reach and how much it
//! reads, with a pure `validate()`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Settings of the `web_fetch` tool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct WebFetchConfig {
    /// Also fetch from private, loopback, link-local and other non-public
    /// addresses (the machine itself, the LAN, cloud metadata services).
    /// Default false: a page the model reads could otherwise steer it into
    /// the user's network.
    pub allow_private: bool,
    /// Hosts that may be fetched whatever they resolve to, such as a
    /// service on the LAN: host names (matched exactly, case-insensitive)
    /// or IP addresses, without scheme or port. A redirect from one of
    /// them to another host is checked as usual.
    pub allow_hosts: Vec<String>,
    /// Most bytes of a response body read; the rest is left unread and
    /// the result says it was cut. Default 2 MiB.
    pub max_bytes: u64,
    /// Time for the whole fetch (connection, redirects, body and
    /// conversion), in seconds. Default 20.
    pub timeout_secs: u64,
    /// Redirects followed before giving up. Default 5.
    pub max_redirects: u32,
    /// The `User-Agent` header sent.
    pub user_agent: String,
}

impl Default for WebFetchConfig {
    fn default() -> Self {
        Self {
            allow_private: false,
            allow_hosts: Vec::new(),
            max_bytes: 2 * 1024 * 1024,
            timeout_secs: 20,
            max_redirects: 5,
            user_agent: concat!("Hearth/", env!("CARGO_PKG_VERSION"), " (web_fetch)").into(),
        }
    }
}

/// Bounds on the settings: a body over 64 MiB is no longer something a
/// model reads, and a fetch that takes over 5 minutes holds a turn too long.
const MAX_BODY_LIMIT: u64 = 64 * 1024 * 1024;
const MAX_TIMEOUT_SECS: u64 = 300;
const MAX_REDIRECTS_LIMIT: u32 = 20;

impl WebFetchConfig {
    /// Checks the settings without touching the network.
    pub fn validate(&self) -> Result<(), String> {
        if self.max_bytes == 0 || self.max_bytes > MAX_BODY_LIMIT {
            return Err(format!(
                "max_bytes must be 1..={MAX_BODY_LIMIT}, not {}",
                self.max_bytes
            ));
        }
        if self.timeout_secs == 0 || self.timeout_secs > MAX_TIMEOUT_SECS {
            return Err(format!(
                "timeout_secs must be 1..={MAX_TIMEOUT_SECS}, not {}",
                self.timeout_secs
            ));
        }
        if self.max_redirects > MAX_REDIRECTS_LIMIT {
            return Err(format!(
                "max_redirects must be at most {MAX_REDIRECTS_LIMIT}, not {}",
                self.max_redirects
            ));
        }
        if self.user_agent.trim().is_empty()
            || self
                .user_agent
                .chars()
                .any(|c| c.is_control() || !c.is_ascii())
        {
            return Err("user_agent must be non-empty printable ASCII".into());
        }
        for host in &self.allow_hosts {
            let bare = host.trim_start_matches('[').trim_end_matches(']');
            let is_ip = bare.parse::<std::net::IpAddr>().is_ok();
            let is_name = !bare.is_empty()
                && bare
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_');
            if !is_ip && !is_name {
                return Err(format!(
                    "allow_hosts entry {host:?} must be a host name or an IP address, \
                     without scheme, port or path"
                ));
            }
        }
        Ok(())
    }
}
