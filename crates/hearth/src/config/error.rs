//! [`ConfigError`]: everything that can be wrong with the configuration,
//! worded for the person who has to fix it — each message says where
//! (file:line:column, environment variable, or `[table] key`) and why.

use crate::paths::NoDefaultDir;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "no config file at {}: run `hearth init` to create one, or pass --config (or set HEARTH_CONFIG) to use another file",
        path.display()
    )]
    NotFound { path: PathBuf },

    // The io error is in the message rather than `#[source]` so that `{}`
    // alone tells the whole story and `{:#}` does not repeat it.
    #[error("cannot read {}: {error}", path.display())]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },

    /// TOML syntax, an unknown key or a bad value in the file.
    #[error("{}: {message}", location(path, *position))]
    Parse {
        path: PathBuf,
        /// 1-based line and column, when the parser knows them.
        position: Option<(usize, usize)>,
        message: String,
    },

    /// An environment override that is malformed or gives a bad value.
    #[error("environment variable {var}: {message}")]
    Env { var: String, message: String },

    /// The file parsed but its values do not make sense together.
    #[error("{}", invalid(path.as_deref(), problems))]
    Invalid {
        /// The file, when known (set by `Config::load`).
        path: Option<PathBuf>,
        /// One line per problem, each naming its table and key.
        problems: Vec<String>,
    },

    #[error(transparent)]
    NoDefaultDir(#[from] NoDefaultDir),
}

impl ConfigError {
    /// Attaches the file to a validation error.
    pub(crate) fn in_file(self, file: &Path) -> Self {
        match self {
            ConfigError::Invalid {
                path: None,
                problems,
            } => ConfigError::Invalid {
                path: Some(file.to_path_buf()),
                problems,
            },
            other => other,
        }
    }
}

fn location(path: &Path, position: Option<(usize, usize)>) -> String {
    match position {
        Some((line, column)) => format!("{}:{line}:{column}", path.display()),
        None => path.display().to_string(),
    }
}

fn invalid(path: Option<&Path>, problems: &[String]) -> String {
    let mut out = String::from("invalid configuration");
    if let Some(path) = path {
        let _ = write!(out, " in {}", path.display());
    }
    if let [one] = problems {
        let _ = write!(out, ": {one}");
    } else {
        out.push(':');
        for problem in problems {
            let _ = write!(out, "\n  - {problem}");
        }
    }
    out
}

/// 1-based (line, column) of byte `offset` in `text`, the column counted
/// in characters so it matches what an editor shows.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}
