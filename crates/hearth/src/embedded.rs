//! The `provider = "embedded"` models of the config: their engine settings
//! checked without IO, their files resolved against the model store, and
//! the loaded handles the router serves and `hearth models` reports.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use hearth_engine::store::ModelStore;
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
