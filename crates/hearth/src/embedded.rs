//! The `provider = "embedded"` models of the config: their engine settings
//! checked without IO, their files resolved against the model store, and
//! the loaded handles the router serves and `hearth models` reports.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use hearth_engine::store::{self as model_store, ModelStore, StoredModel};
use hearth_engine::{EmbeddedModel, EngineConfig};
use hearth_models::{ModelConfig, ProviderKind};

use crate::paths;

/// The engine settings of one `[models.<name>]` entry, with its file
/// resolved. Pure: reads no file.
pub fn engine_config(
    name: &str,
    model: &ModelConfig,
    data_dir: &Path,
) -> Result<EngineConfig, String> {
    let mut config: EngineConfig = match &model.engine {
        None => EngineConfig::new(""),
        Some(table) => serde_json::from_value(table.clone())
            .map_err(|e| format!("[models.{name}.engine]: {e}"))?,
    };
    config.path = store(data_dir).resolve(&model.model);
    config
        .validate()
        .map_err(|e| format!("[models.{name}.engine]: {e}"))?;
    Ok(config)
}

pub fn store(data_dir: &Path) -> ModelStore {
    ModelStore::new(paths::models_dir(data_dir))
}

/// Every embedded model of the config, unloaded.
pub fn from_config(
    models: &BTreeMap<String, ModelConfig>,
    data_dir: &Path,
) -> Result<BTreeMap<String, Arc<EmbeddedModel>>, String> {
    models
        .iter()
        .filter(|(_, m)| m.provider == ProviderKind::Embedded)
        .map(|(name, model)| {
            let config = engine_config(name, model, data_dir)?;
            Ok((
                name.clone(),
                Arc::new(EmbeddedModel::new(name.clone(), config)),
            ))
        })
        .collect()
}

/// The name of the known model (`hearth models pull` can fetch it) that a
/// store path like `<dir>/smollm2-135m.gguf` stands for.
pub fn known_stem(path: &Path) -> Option<&str> {
    path.file_stem()
        .and_then(|s| s.to_str())
        .filter(|stem| model_store::known_model(stem).is_some())
}

/// `hearth models pull`, off the async threads: pip and the copy block.
/// Progress goes to stderr; `HEARTH_PYTHON` picks the interpreter.
pub async fn pull(store: ModelStore, name: &str, force: bool) -> anyhow::Result<StoredModel> {
    let python = std::env::var("HEARTH_PYTHON").unwrap_or_else(|_| "python3".into());
    let name = name.to_owned();
    Ok(tokio::task::spawn_blocking(move || {
        store.pull(&name, force, &python, &mut |line| eprintln!("{line}"))
    })
    .await??)
}
