//! `[mcp.servers.<name>]`: how to reach each MCP server (a command run over
//! stdio, or a streamable HTTP URL), which of its tools the agent sees, and
//! the pure `validate()` run before anything starts.
//!
//! ```toml
//! [mcp.servers.files]
//! command = "mcp-server-filesystem"
//! args = ["/home/me/notes"]
//! allow = ["read_text_file", "list_directory"]
//!
//! [mcp.servers.tracker]
//! url = "https://mcp.example.com/mcp"
//! headers = { Authorization = "Bearer ..." }
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::config_raw::{RawServerConfig, default_call_timeout, default_startup_timeout};

/// The longest server name: `<server>__` must leave room for the tool's own
/// name within the 64 characters model APIs accept.
pub const MAX_SERVER_NAME: usize = 32;

/// The `[mcp]` table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct McpConfig {
    /// One entry per server, keyed by its name (`[mcp.servers.<name>]`).
    #[serde(default)]
    pub servers: BTreeMap<String, McpServerConfig>,
}

impl McpConfig {
    /// Checks every server without touching a file or the network.
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (name, server) in &self.servers {
            server.validate_as(name)?;
        }
        Ok(())
    }

    /// The servers with their names filled in from the table keys.
    pub fn into_servers(self) -> Vec<McpServerConfig> {
        self.servers
            .into_iter()
            .map(|(name, mut server)| {
                server.name = name;
                server
            })
            .collect()
    }
}

/// One MCP server. In TOML, give `command` (stdio) or `url` (streamable
/// HTTP); the other fields are shared.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawServerConfig", into = "RawServerConfig")]
pub struct McpServerConfig {
    /// The table key; prefixes every tool the server brings (`<name>__...`).
    pub name: String,
    pub transport: Transport,
    /// Only these tools (by the server's own names) are offered to the
    /// agent; `None` offers all of them.
    pub allow: Option<Vec<String>>,
    /// Tools never offered, even when `allow` lists them.
    pub deny: Vec<String>,
    /// Offer `<name>__list_resources` and `<name>__read_resource`.
    pub expose_resources: bool,
    /// Offer `<name>__list_prompts` and `<name>__get_prompt`.
    pub expose_prompts: bool,
    /// How long one call may take before it is cancelled.
    pub call_timeout_secs: u64,
    /// How long starting the server and the `initialize` handshake may take.
    pub startup_timeout_secs: u64,
    /// A disabled server is listed by `status()` and never started.
    pub enabled: bool,
}

/// How the server is reached.
#[derive(Clone, PartialEq, Eq)]
pub enum Transport {
    /// A child process speaking JSON-RPC on stdin/stdout. It gets a minimal
    /// environment (`HOME`, `LOGNAME`, `PATH`, `SHELL`, `TERM`, `USER`) plus
    /// `env`, never the daemon's secrets.
    Stdio {
        command: String,
        args: Vec<String>,
        env: BTreeMap<String, String>,
        cwd: Option<PathBuf>,
    },
    /// Streamable HTTP. `headers` go with every request (e.g.
    /// `Authorization`).
    Http {
        url: String,
        headers: BTreeMap<String, String>,
        /// Allows `http://` to a host that is not loopback.
        allow_insecure_http: bool,
    },
}

// Header and env values often hold tokens: never print them.
impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Transport::Stdio {
                command,
                args,
                env,
                cwd,
            } => f
                .debug_struct("Stdio")
                .field("command", command)
                .field("args", args)
                .field("env", &env.keys().collect::<Vec<_>>())
                .field("cwd", cwd)
                .finish(),
            Transport::Http {
                url,
                headers,
                allow_insecure_http,
            } => f
                .debug_struct("Http")
                .field("url", url)
                .field("headers", &headers.keys().collect::<Vec<_>>())
                .field("allow_insecure_http", allow_insecure_http)
                .finish(),
        }
    }
}

impl fmt::Debug for McpServerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("McpServerConfig")
            .field("name", &self.name)
            .field("transport", &self.transport)
            .field("allow", &self.allow)
            .field("deny", &self.deny)
            .field("expose_resources", &self.expose_resources)
            .field("expose_prompts", &self.expose_prompts)
            .field("call_timeout_secs", &self.call_timeout_secs)
            .field("startup_timeout_secs", &self.startup_timeout_secs)
            .field("enabled", &self.enabled)
            .finish()
    }
}

/// A config the servers cannot start with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("mcp.servers.{server}: {message}")]
pub struct ConfigError {
    pub server: String,
    pub message: String,
}

/// Headers the transport sets itself.
const RESERVED_HEADERS: &[&str] = &[
    "accept",
    "content-type",
    "content-length",
    "host",
    "last-event-id",
    "mcp-protocol-version",
    "mcp-session-id",
];

impl McpServerConfig {
    /// A stdio server with the defaults, for code and tests.
    pub fn stdio(name: &str, command: impl Into<String>, args: &[&str]) -> Self {
        Self::with_transport(
            name,
            Transport::Stdio {
                command: command.into(),
                args: args.iter().map(|a| a.to_string()).collect(),
                env: BTreeMap::new(),
                cwd: None,
            },
        )
    }

    /// A streamable HTTP server with the defaults, for code and tests.
    pub fn http(name: &str, url: impl Into<String>) -> Self {
        Self::with_transport(
            name,
            Transport::Http {
                url: url.into(),
                headers: BTreeMap::new(),
                allow_insecure_http: false,
            },
        )
    }

    fn with_transport(name: &str, transport: Transport) -> Self {
        Self {
            name: name.to_owned(),
            transport,
            allow: None,
            deny: Vec::new(),
            expose_resources: false,
            expose_prompts: false,
            call_timeout_secs: default_call_timeout(),
            startup_timeout_secs: default_startup_timeout(),
            enabled: true,
        }
    }

    /// Checks the server without touching a file or the network.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.validate_as(&self.name)
    }

    fn validate_as(&self, name: &str) -> Result<(), ConfigError> {
        let fail = |message: String| ConfigError {
            server: name.to_owned(),
            message,
        };
        let name_ok = !name.is_empty()
            && name.len() <= MAX_SERVER_NAME
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !name_ok {
            return Err(fail(format!(
                "server name {name:?}: use 1 to {MAX_SERVER_NAME} of a-z, 0-9, '-' and '_'"
            )));
        }
        // Tools are `<server>__<tool>`: with neither `__` inside a server's
        // name nor `_` at its end, the first `__` of a tool name ends the
        // server's, and two servers' tools can never share a name.
        if name.contains("__") || name.ends_with('_') {
            return Err(fail(format!(
                "server name {name:?}: no \"__\" inside and no '_' at the end \
                 (tool names are <server>__<tool>)"
            )));
        }
        match &self.transport {
            Transport::Stdio { command, env, .. } => {
                if command.trim().is_empty() {
                    return Err(fail("command is empty".into()));
                }
                if let Some(key) = env
                    .keys()
                    .find(|k| k.is_empty() || k.contains('=') || k.contains('\0'))
                {
                    return Err(fail(format!("env has an invalid variable name {key:?}")));
                }
            }
            Transport::Http {
                url,
                headers,
                allow_insecure_http,
            } => {
                validate_url(url, *allow_insecure_http).map_err(fail)?;
                for (key, value) in headers {
                    let header = http::HeaderName::from_bytes(key.as_bytes())
                        .map_err(|_| fail(format!("headers: {key:?} is not a header name")))?;
                    if RESERVED_HEADERS.contains(&header.as_str()) {
                        return Err(fail(format!(
                            "headers: {key} is set by the MCP transport itself"
                        )));
                    }
                    if http::HeaderValue::from_str(value).is_err() {
                        return Err(fail(format!(
                            "headers: the value of {key} is not a valid header value"
                        )));
                    }
                }
            }
        }
        for (field, list) in [
            ("allow", self.allow.as_deref().unwrap_or_default()),
            ("deny", &self.deny[..]),
        ] {
            if list.iter().any(|t| t.trim().is_empty()) {
                return Err(fail(format!("{field} has a blank entry")));
            }
        }
        for (field, secs) in [
            ("call_timeout_secs", self.call_timeout_secs),
            ("startup_timeout_secs", self.startup_timeout_secs),
        ] {
            if !(1..=86_400).contains(&secs) {
                return Err(fail(format!("{field} must be 1 to 86400")));
            }
        }
        Ok(())
    }

    /// Whether the agent may see the server's tool `tool`.
    pub fn allows(&self, tool: &str) -> bool {
        let allowed = self
            .allow
            .as_ref()
            .is_none_or(|allow| allow.iter().any(|a| a == tool));
        allowed && !self.deny.iter().any(|d| d == tool)
    }
}

fn validate_url(raw: &str, allow_insecure_http: bool) -> Result<(), String> {
    let url = url::Url::parse(raw).map_err(|e| format!("url {raw:?}: {e}"))?;
    let host = url
        .host()
        .ok_or_else(|| format!("url {raw:?} has no host"))?;
    let loopback = match host {
        url::Host::Domain(domain) => domain.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    };
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback || allow_insecure_http => Ok(()),
        "http" => Err(format!(
            "url {raw:?}: use https:// (plain http only to a loopback address, \
             or set allow_insecure_http = true)"
        )),
        other => Err(format!(
            "url {raw:?}: scheme {other:?} is not http or https"
        )),
    }
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
