//! `hearth init`: writes the commented default config (readable only by
//! its owner, since it holds the gateway token), the data directory, and
//! the default agent's workspace with its persona files.
//!
//! Order matters: the config file is written first, with `create_new`, so
//! a refused init (file exists, no `--force`) changes nothing at all.

use super::schema::{Config, Token};
use super::template;
use crate::paths::{self, NoDefaultDir};
use hearth_core::AgentId;
use std::fs::{DirBuilder, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// What [`init`] wrote, for the CLI to print.
#[derive(Debug, Clone)]
pub struct InitReport {
    pub config_file: PathBuf,
    /// The previous config, kept when `force` replaced one.
    pub backup: Option<PathBuf>,
    pub data_dir: PathBuf,
    /// The default agent's workspace.
    pub workspace: PathBuf,
    /// Persona files created (existing ones are never overwritten).
    pub persona_files: Vec<PathBuf>,
    /// The generated gateway token, so the CLI can show how to connect.
    pub token: Token,
}

#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error(
        "{} already exists; nothing was changed. Pass --force to replace it (the old file is kept as a backup)",
        path.display()
    )]
    AlreadyExists { path: PathBuf },
    #[error("cannot {action} {}: {error}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        error: io::Error,
    },
    #[error("the data directory {} is not valid UTF-8, which the config file cannot hold", path.display())]
    NotUtf8 { path: PathBuf },
    #[error(transparent)]
    NoDefaultDir(#[from] NoDefaultDir),
    /// The rendered template failed to load: a bug, caught before writing.
    #[error("internal error: the generated config is invalid: {0}")]
    Template(String),
}

/// Writes a fresh config to `config_path` and prepares the data directory.
///
/// `data_dir`: `None` uses the XDG default (and leaves `[state] dir`
/// commented out); `Some` is written into the file. With `force`, an
/// existing config is first copied to `config.toml.bak.<unix-ts>` and then
/// replaced atomically.
pub fn init(
    config_path: &Path,
    data_dir: Option<&Path>,
    force: bool,
) -> Result<InitReport, InitError> {
    let (data, dir_setting) = match data_dir {
        Some(dir) => {
            // Stored in the file, so it must not depend on today's cwd.
            let dir = std::path::absolute(dir).map_err(io_err("resolve", dir))?;
            let text = dir
                .to_str()
                .ok_or_else(|| InitError::NotUtf8 { path: dir.clone() })?
                .to_string();
            (dir, Some(text))
        }
        None => (paths::default_data_dir()?, None),
    };
    let token = Token::generate();
    let text = template::render(&token, dir_setting.as_deref());
    // Never write a file `hearth start` would then reject.
    Config::parse(config_path, &text, std::iter::empty())
        .and_then(|c| c.validate())
        .map_err(|e| InitError::Template(e.to_string()))?;

    if let Some(parent) = config_path.parent().filter(|p| !p.as_os_str().is_empty()) {
        private_dir(parent)?;
    }
    let backup = if force {
        replace_config(config_path, &text)?
    } else {
        write_private(config_path, text.as_bytes()).map_err(|e| {
            if e.kind() == io::ErrorKind::AlreadyExists {
                InitError::AlreadyExists {
                    path: config_path.to_path_buf(),
                }
            } else {
                io_err("write", config_path)(e)
            }
        })?;
        None
    };

    private_dir(&data)?;
    let workspace = paths::agent_workspace(&data, &AgentId::main());
    private_dir(&workspace)?;
    let persona_files =
        hearth_agent::persona::write_defaults(&workspace).map_err(io_err("write", &workspace))?;
    Ok(InitReport {
        config_file: config_path.to_path_buf(),
        backup,
        data_dir: data,
        workspace,
        persona_files,
        token,
    })
}

/// `--force`: back up the existing file (if any), then swap the new one in
/// with a rename so a crash never leaves a half-written config.
pub fn replace_config(path: &Path, text: &str) -> Result<Option<PathBuf>, InitError> {
    let backup = match std::fs::read(path) {
        Ok(old) => Some(write_backup(path, &old)?),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(io_err("read", path)(e)),
    };
    let tmp = sibling(path, &format!("tmp.{}", std::process::id()));
    // A leftover from a crashed init of the same pid would block create_new.
    let _ = std::fs::remove_file(&tmp);
    write_private(&tmp, text.as_bytes()).map_err(io_err("write", &tmp))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io_err("replace", path)(e)
    })?;
    Ok(backup)
}

/// `config.toml.bak.<unix-ts>`, with `.1`, `.2`, ... appended if two
/// forced inits land in the same second. The backup holds the old token,
/// so it is created private like the config itself.
fn write_backup(path: &Path, contents: &[u8]) -> Result<PathBuf, InitError> {
    let ts = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let base = format!("bak.{ts}");
    for n in 0..100 {
        let suffix = if n == 0 {
            base.clone()
        } else {
            format!("{base}.{n}")
        };
        let backup = sibling(path, &suffix);
        match write_private(&backup, contents) {
            Ok(()) => return Ok(backup),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(io_err("write", &backup)(e)),
        }
    }
    Err(io_err("write", &sibling(path, &base))(io::Error::new(
        io::ErrorKind::AlreadyExists,
        "too many backups in one second",
    )))
}

/// `path` with `.suffix` appended to its file name.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".");
    name.push(suffix);
    path.with_file_name(name)
}

/// Creates `path` (which must not exist) with mode 0600 from the first
/// instant: a chmod after creation would leave a window where another user
/// could open the token.
fn write_private(path: &Path, contents: &[u8]) -> io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

/// Creates `path` and missing parents with mode 0700 (existing directories
/// keep their mode: they may be shared on purpose).
fn private_dir(path: &Path) -> Result<(), InitError> {
    let mut builder = DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(path).map_err(io_err("create", path))
}

fn io_err(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> InitError {
    let path = path.to_path_buf();
    move |error| InitError::Io {
        action,
        path,
        error,
    }
}
