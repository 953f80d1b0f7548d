//! Where Hearth keeps its files: the config file and the data directory
//! (database, agent workspaces), following the XDG base directories.
//!
//! ```text
//! $XDG_CONFIG_HOME/hearth/config.toml   config (or --config, or $HEARTH_CONFIG)
//! $XDG_DATA_HOME/hearth/                data dir (or `[state] dir`)
//!   hearth.db                           the SQLite store
//!   agents/<id>/                        an agent's workspace (AGENTS.md, SOUL.md)
//! ```

use hearth_core::AgentId;
use std::path::{Path, PathBuf};

/// The environment variable naming the config file (the CLI's `--config`
/// wins over it).
pub const CONFIG_ENV: &str = "HEARTH_CONFIG";

/// The folder name under the XDG config and data directories.
const APP_DIR: &str = "hearth";
const CONFIG_FILE: &str = "config.toml";
const DATABASE_FILE: &str = "hearth.db";
const AGENTS_DIR: &str = "agents";

/// The user's config or data directory could not be found: neither the XDG
/// variable nor `$HOME` is set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "cannot find the user's {what} directory: set HOME or XDG_{upper}_HOME, or {hint}",
    upper = what.to_ascii_uppercase()
)]
pub struct NoDefaultDir {
    /// `"config"` or `"data"`.
    pub what: &'static str,
    /// What the user can pass instead.
    pub hint: &'static str,
}

/// `$XDG_CONFIG_HOME/hearth/config.toml`.
pub fn default_config_file() -> Result<PathBuf, NoDefaultDir> {
    let base = dirs::config_dir().ok_or(NoDefaultDir {
        what: "config",
        hint: "pass --config",
    })?;
    Ok(base.join(APP_DIR).join(CONFIG_FILE))
}

/// `$XDG_DATA_HOME/hearth`.
pub fn default_data_dir() -> Result<PathBuf, NoDefaultDir> {
    let base = dirs::data_dir().ok_or(NoDefaultDir {
        what: "data",
        hint: "set `dir` under [state] in the config file",
    })?;
    Ok(base.join(APP_DIR))
}

/// The config file to use: the `--config` flag, else `$HEARTH_CONFIG`
/// (when set and non-empty), else the XDG default.
pub fn config_file(flag: Option<&Path>) -> Result<PathBuf, NoDefaultDir> {
    if let Some(path) = flag {
        return Ok(path.to_path_buf());
    }
    match std::env::var_os(CONFIG_ENV) {
        Some(path) if !path.is_empty() => Ok(PathBuf::from(path)),
        _ => default_config_file(),
    }
}

/// The SQLite database inside `data_dir`.
pub fn database_file(data_dir: &Path) -> PathBuf {
    data_dir.join(DATABASE_FILE)
}

/// The model store: `<data dir>/models/<name>.gguf`.
pub fn models_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("models")
}

/// The folder holding every agent's default workspace (what
/// `hearth_agent::AgentRegistry::load` calls `agents_dir`).
pub fn agents_dir(data_dir: &Path) -> PathBuf {
    data_dir.join(AGENTS_DIR)
}

/// The default workspace of agent `id`. Agent ids are restricted to
/// `a-z0-9-_`, so the id is always a single, safe path component.
pub fn agent_workspace(data_dir: &Path, id: &AgentId) -> PathBuf {
    agents_dir(data_dir).join(id.as_str())
}

/// Expands a leading `~/` to the home directory, because users write
/// `dir = "~/hearth"` in TOML and no shell is there to expand it.
pub fn expand_tilde(path: &Path) -> Result<PathBuf, NoDefaultDir> {
    match path.strip_prefix("~") {
        Ok(rest) => {
            let home = dirs::home_dir().ok_or(NoDefaultDir {
                what: "home",
                hint: "write the path without `~`",
            })?;
            Ok(home.join(rest))
        }
        Err(_) => Ok(path.to_path_buf()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_under_the_data_dir() {
        let data = Path::new("/srv/hearth");
        assert_eq!(database_file(data), Path::new("/srv/hearth/hearth.db"));
        assert_eq!(
            agent_workspace(data, &AgentId::main()),
            Path::new("/srv/hearth/agents/main")
        );
    }

    #[test]
    fn flag_wins_and_tilde_expands() {
        let flag = Path::new("/etc/hearth.toml");
        assert_eq!(config_file(Some(flag)).unwrap(), flag);
        assert_eq!(
            expand_tilde(Path::new("/abs/x")).unwrap(),
            Path::new("/abs/x")
        );
        // `~user/` is not expanded: only the current user's home is known.
        assert_eq!(
            expand_tilde(Path::new("~bob/x")).unwrap(),
            Path::new("~bob/x")
        );
        if let Some(home) = dirs::home_dir() {
            assert_eq!(expand_tilde(Path::new("~/h")).unwrap(), home.join("h"));
        }
    }
}
