//! The binary's configuration: the `config.toml` schema, loading it with
//! environment overrides and precise errors, pure validation, the
//! conversions into each crate's own settings, and `hearth init`.
//!
//! ```text
//! config.toml ─▶ toml::Table ─▶ + HEARTH_* overrides ─▶ Config ─▶ validate()
//!                                                          │
//!      runtime_config() / sqlite_options() / agents() / data_dir() ◀─┘
//! ```
//!
//! - `schema.rs`: [`Config`] and its tables, with defaults.
//! - `load.rs`: [`Config::load`], the override rules, error locations.
//! - `validate.rs`: [`Config::validate`], the checks that need no IO.
//! - `memory.rs`: `[memory]`.
//! - `tools.rs`: `[tools]`, `[hooks]` (and `[mcp]`'s place).
//! - `error.rs`: [`ConfigError`].
//! - `template.rs`: the commented file `hearth init` writes.
//! - `init.rs`: [`init`], writing the file and the data directory.

mod error;
mod init;
mod load;
mod memory;
mod schema;
mod template;
mod tools;
mod validate;

#[cfg(test)]
mod tests;

pub use error::ConfigError;
pub use init::{InitError, init, replace_config};
pub use load::process_env;
pub use memory::{MemoryConfig, ShortTermBackend};
pub use schema::{Config, DEFAULT_PORT, LogFormat, SyncMode};
pub use tools::{HooksConfig, ToolsConfig};

// Only the tests use these names at this level.
#[cfg(test)]
use schema::{GatewayConfig, LogConfig, PipelineConfig, Token};
#[cfg(test)]
use template::render as render_template;

use crate::paths;
use hearth_agent::{AgentSettings, RuntimeConfig};
use hearth_core::AgentId;
use hearth_store::{SqliteOptions, Synchronous};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

impl Config {
    /// The agent runtime's bounds from `[pipeline]`.
    pub fn runtime_config(&self) -> RuntimeConfig {
        let p = &self.pipeline;
        RuntimeConfig {
            max_concurrent_turns: p.max_concurrent_turns,
            max_pending: p.max_pending,
            max_pending_per_session: p.max_pending_per_session,
            drain_timeout: Duration::from_secs(p.drain_timeout_secs),
        }
    }

    /// The SQLite store's options from `[state]`.
    pub fn sqlite_options(&self) -> SqliteOptions {
        SqliteOptions {
            synchronous: match self.state.sqlite_synchronous {
                SyncMode::Normal => Synchronous::Normal,
                SyncMode::Full => Synchronous::Full,
            },
        }
    }

    /// `[state] dir` with `~/` expanded, else the XDG data directory. Fails
    /// only when neither is available (no `$HOME`).
    pub fn data_dir(&self) -> Result<PathBuf, ConfigError> {
        Ok(match &self.state.dir {
            Some(dir) => paths::expand_tilde(dir)?,
            None => paths::default_data_dir()?,
        })
    }

    /// `<data dir>/hearth.db`.
    pub fn database_file(&self) -> Result<PathBuf, ConfigError> {
        Ok(paths::database_file(&self.data_dir()?))
    }

    /// The `[agents]` tables keyed by their parsed ids, as
    /// `hearth_agent::AgentRegistry::load` takes them.
    pub fn agents(&self) -> Result<BTreeMap<AgentId, AgentSettings>, ConfigError> {
        self.agents
            .iter()
            .map(|(id, settings)| {
                let id = AgentId::new(id.as_str()).map_err(|e| ConfigError::Invalid {
                    path: None,
                    problems: vec![format!("[agents.{id}] {e}")],
                })?;
                Ok((id, settings.clone()))
            })
            .collect()
    }

    /// `default_agent` as an [`AgentId`].
    pub fn default_agent_id(&self) -> Result<AgentId, ConfigError> {
        AgentId::new(self.default_agent.as_str()).map_err(|e| ConfigError::Invalid {
            path: None,
            problems: vec![format!("default_agent: {e}")],
        })
    }
}
