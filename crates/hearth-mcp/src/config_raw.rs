//! The TOML shape of `[mcp.servers.<name>]`: flat, with `command` (stdio)
//! or `url` (streamable HTTP) choosing the transport, turned into
//! [`McpServerConfig`] and back. The JSON Schema is this shape's.

use std::collections::BTreeMap;
use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::config::{McpServerConfig, Transport};

pub(crate) fn default_call_timeout() -> u64 {
    60
}
pub(crate) fn default_startup_timeout() -> u64 {
    30
}
fn default_true() -> bool {
    true
}

/// The TOML shape: flat, with `command` or `url` choosing the transport.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "McpServerConfig")]
pub(crate) struct RawServerConfig {
    /// Stdio: the program to run (looked up on `PATH`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    command: Option<String>,
    /// Stdio: its arguments.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    args: Vec<String>,
    /// Stdio: environment variables added to the minimal environment the
    /// server gets (`HOME`, `LOGNAME`, `PATH`, `SHELL`, `TERM`, `USER`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    env: BTreeMap<String, String>,
    /// Stdio: the working directory; default the daemon's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cwd: Option<PathBuf>,
    /// Streamable HTTP: the endpoint, e.g. `https://example.com/mcp`.
    /// Plain `http://` only to a loopback address unless
    /// `allow_insecure_http = true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    /// Streamable HTTP: headers sent with every request, e.g.
    /// `Authorization = "Bearer ..."`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    headers: BTreeMap<String, String>,
    /// Streamable HTTP: allow `http://` to a host that is not loopback
    /// (headers and results then cross the network in clear).
    #[serde(default, skip_serializing_if = "is_false")]
    allow_insecure_http: bool,
    /// Only these tools (the server's own names) are offered to the agent;
    /// absent offers all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    allow: Option<Vec<String>>,
    /// Tools never offered, even when `allow` lists them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    deny: Vec<String>,
    /// Offer `<server>__list_resources` and `<server>__read_resource`
    /// (default false).
    #[serde(default)]
    expose_resources: bool,
    /// Offer `<server>__list_prompts` and `<server>__get_prompt` (default
    /// false).
    #[serde(default)]
    expose_prompts: bool,
    /// Seconds one call may take before it is cancelled (default 60).
    #[serde(default = "default_call_timeout")]
    call_timeout_secs: u64,
    /// Seconds starting the server and its handshake may take (default 30).
    #[serde(default = "default_startup_timeout")]
    startup_timeout_secs: u64,
    /// Start this server (default true).
    #[serde(default = "default_true")]
    enabled: bool,
}

fn is_false(b: &bool) -> bool {
    !b
}

impl TryFrom<RawServerConfig> for McpServerConfig {
    type Error = String;

    fn try_from(raw: RawServerConfig) -> Result<Self, String> {
        let transport = match (raw.command, raw.url) {
            (Some(_), Some(_)) => {
                return Err("give `command` (stdio) or `url` (streamable HTTP), not both".into());
            }
            (None, None) => {
                return Err("give `command` (stdio) or `url` (streamable HTTP)".into());
            }
            (Some(command), None) => {
                if !raw.headers.is_empty() || raw.allow_insecure_http {
                    return Err("`headers` and `allow_insecure_http` are for `url` servers".into());
                }
                Transport::Stdio {
                    command,
                    args: raw.args,
                    env: raw.env,
                    cwd: raw.cwd,
                }
            }
            (None, Some(url)) => {
                if !raw.args.is_empty() || !raw.env.is_empty() || raw.cwd.is_some() {
                    return Err("`args`, `env` and `cwd` are for `command` servers".into());
                }
                Transport::Http {
                    url,
                    headers: raw.headers,
                    allow_insecure_http: raw.allow_insecure_http,
                }
            }
        };
        Ok(McpServerConfig {
            name: String::new(),
            transport,
            allow: raw.allow,
            deny: raw.deny,
            expose_resources: raw.expose_resources,
            expose_prompts: raw.expose_prompts,
            call_timeout_secs: raw.call_timeout_secs,
            startup_timeout_secs: raw.startup_timeout_secs,
            enabled: raw.enabled,
        })
    }
}

impl From<McpServerConfig> for RawServerConfig {
    fn from(config: McpServerConfig) -> Self {
        let mut raw = RawServerConfig {
            command: None,
            args: Vec::new(),
            env: BTreeMap::new(),
            cwd: None,
            url: None,
            headers: BTreeMap::new(),
            allow_insecure_http: false,
            allow: config.allow,
            deny: config.deny,
            expose_resources: config.expose_resources,
            expose_prompts: config.expose_prompts,
            call_timeout_secs: config.call_timeout_secs,
            startup_timeout_secs: config.startup_timeout_secs,
            enabled: config.enabled,
        };
        match config.transport {
            Transport::Stdio {
                command,
                args,
                env,
                cwd,
            } => {
                raw.command = Some(command);
                raw.args = args;
                raw.env = env;
                raw.cwd = cwd;
            }
            Transport::Http {
                url,
                headers,
                allow_insecure_http,
            } => {
                raw.url = Some(url);
                raw.headers = headers;
                raw.allow_insecure_http = allow_insecure_http;
            }
        }
        raw
    }
}

// The schema is the TOML shape's: the enum is an in-memory convenience.
impl JsonSchema for McpServerConfig {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "McpServerConfig".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        RawServerConfig::json_schema(generator)
    }
}
