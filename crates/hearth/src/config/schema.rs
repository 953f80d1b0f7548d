//! The shape of `config.toml`: one struct per table, every field documented
//! and defaulted, unknown keys rejected so a typo is an error, not a
//! silently ignored setting.

use hearth_agent::AgentSettings;
use hearth_models::{ModelConfig, RouterSettings};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

/// The whole configuration file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The agent that answers when a client names none. Must be a key of
    /// `[agents]`. Default `"main"`.
    #[serde(default = "default_agent")]
    pub default_agent: String,
    /// `[gateway]`: the WebSocket / HTTP listener.
    #[serde(default)]
    pub gateway: GatewayConfig,
    /// `[state]`: where data lives and how hard SQLite syncs.
    #[serde(default)]
    pub state: StateConfig,
    /// `[pipeline]`: concurrency and queue bounds of the agent runtime.
    #[serde(default)]
    pub pipeline: PipelineConfig,
    /// `[log]`: verbosity and format of the daemon's log.
    #[serde(default)]
    pub log: LogConfig,
    /// `[router]`: retry, backoff and circuit-breaker policy shared by all
    /// models.
    #[serde(default)]
    pub router: RouterSettings,
    /// `[models.<name>]`: the models agents may use, by name.
    #[serde(default)]
    pub models: BTreeMap<String, ModelConfig>,
    /// `[memory]`: long-term memory, working memory and recall.
    #[serde(default)]
    pub memory: super::MemoryConfig,
    /// `[agents.<id>]`: the agents defined by the file (more may be created
    /// at runtime over the control protocol; those live in the database).
    #[serde(default)]
    pub agents: BTreeMap<String, AgentSettings>,
    /// `[channels.<name>]`: chat platform accounts, each with a `type`
    /// (`irc`, ...) and that adapter's settings; see docs/channels/.
    #[serde(default)]
    pub channels: BTreeMap<String, hearth_channels::config::ChannelConfig>,
    /// `[tools]`: built-in tools' policies and limits, per-channel tool
    /// narrowing; see docs/tools.md.
    #[serde(default)]
    pub tools: super::ToolsConfig,
    /// `[hooks]`: channel-wide hooks; see docs/hooks.md.
    #[serde(default)]
    pub hooks: super::HooksConfig,
    /// `[mcp.servers.<name>]`: MCP servers whose tools agents can use; see
    /// docs/mcp.md.
    #[serde(default)]
    pub mcp: hearth_mcp::McpConfig,
    /// `[identity_links]`: one person's accounts on several channels, as
    /// `name = ["<channel>:<sender id>", ...]`; their direct chats share
    /// one session.
    #[serde(default)]
    pub identity_links: BTreeMap<String, Vec<String>>,
}

fn default_agent() -> String {
    "main".to_string()
}

/// `[gateway]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GatewayConfig {
    /// Listen address. Default `127.0.0.1:18789` (OpenClaw's port), loopback
    /// only so a fresh install is never reachable from the network. A
    /// non-loopback address requires `token`.
    pub bind: SocketAddr,
    /// Shared secret clients present (WebSocket `connect` `auth.token`,
    /// HTTP `Authorization: Bearer`). Empty means none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<Token>,
    /// Largest frame or request body accepted after authentication, in
    /// bytes. Default 25 MiB (OpenClaw's `maxPayload`): room for an image
    /// attachment, small enough that one client cannot exhaust memory.
    pub max_payload_bytes: usize,
    /// Interval of the server's keepalive tick to connected clients, in
    /// milliseconds. Default 30000.
    pub tick_interval_ms: u64,
}

/// Default port, shared with OpenClaw so existing clients find us.
pub const DEFAULT_PORT: u16 = 18789;

impl Default for GatewayConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], DEFAULT_PORT)),
            token: None,
            max_payload_bytes: 25 * 1024 * 1024,
            tick_interval_ms: 30_000,
        }
    }
}

impl GatewayConfig {
    /// The token, if one is set and non-empty (an empty string, e.g. from
    /// `HEARTH_GATEWAY__TOKEN=`, counts as no token).
    pub fn token(&self) -> Option<&str> {
        self.token
            .as_ref()
            .map(Token::expose)
            .filter(|t| !t.is_empty())
    }
}

/// The gateway's shared secret. `Debug` is redacted so a logged config
/// never shows it; [`Token::expose`] is the one way to read it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Token(String);

impl Token {
    #[cfg(test)]
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }

    /// 32 random bytes from the OS-seeded CSPRNG, hex-encoded: 256 bits is
    /// beyond guessing, and hex survives shells, URLs and HTTP headers
    /// without quoting.
    pub fn generate() -> Self {
        let bytes: [u8; 32] = rand::random();
        Self(bytes.iter().map(|b| format!("{b:02x}")).collect())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token([redacted])")
    }
}

/// `[state]`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StateConfig {
    /// Data directory (database, agent workspaces). Absolute or `~/...`.
    /// Default `$XDG_DATA_HOME/hearth` (usually `~/.local/share/hearth`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dir: Option<PathBuf>,
    /// SQLite durability: `"normal"` (default) survives a crash of the
    /// process, `"full"` also a power loss, at an fsync per commit.
    pub sqlite_synchronous: SyncMode,
}

/// `[state] sqlite_synchronous`. Mirrors `hearth_store::Synchronous`, which
/// has no serde derive because the store crate does not parse config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SyncMode {
    #[default]
    Normal,
    Full,
}

/// `[pipeline]`: the bounds of the agent runtime (see
/// `hearth_agent::RuntimeConfig`). Every queue is bounded so a flood of
/// messages is refused with "busy" instead of growing memory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PipelineConfig {
    /// Turns talking to a model at once, across all sessions. Default 16.
    pub max_concurrent_turns: usize,
    /// Accepted but unfinished messages, across all sessions. Default 1024.
    pub max_pending: usize,
    /// Messages queued behind one session's running turn. Default 32.
    pub max_pending_per_session: usize,
    /// Seconds shutdown waits for running turns before interrupting them
    /// (interrupted turns resume at the next start). Default 10.
    pub drain_timeout_secs: u64,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        Self {
            max_concurrent_turns: 16,
            max_pending: 1024,
            max_pending_per_session: 32,
            drain_timeout_secs: 10,
        }
    }
}

/// `[log]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// A `tracing` EnvFilter directive, e.g. `"info"` or
    /// `"info,hearth_models=debug"`. `RUST_LOG`, when set, wins.
    pub level: String,
    /// `"text"` for people, `"json"` for log collectors.
    pub format: LogFormat,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            level: "info".to_string(),
            format: LogFormat::Text,
        }
    }
}

/// `[log] format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}
