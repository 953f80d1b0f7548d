//! Glue between the crates: the model router as the agents' provider
//! factory and as the gateway's model catalog, with load / unload of
//! embedded models.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use hearth_agent::{AgentSettings, ProviderFactory};
use hearth_core::Provider;
use hearth_engine::EmbeddedModel;
use hearth_gateway::{ModelAction, ModelCatalog, ModelListing};
use hearth_models::Router;
use serde_json::json;

/// Builds each agent's provider as a route over the named models.
#[derive(Debug, Clone)]
pub struct Routes {
    pub router: Router,
    /// Embedded models by config name: the router's entries for them are
    /// these handles, so a reload swaps the engine under every route.
    pub embedded: BTreeMap<String, Arc<EmbeddedModel>>,
    /// Where the config came from: a load re-reads it, so edited engine
    /// settings (or a new file) apply without a restart.
    pub reload: Option<ReloadSource>,
}

#[derive(Debug, Clone)]
pub struct ReloadSource {
    pub config_file: PathBuf,
    pub data_dir: PathBuf,
}

impl ReloadSource {
    /// The config file as it is now, validated.
    fn read(&self) -> Result<crate::config::Config, String> {
        crate::config::Config::load(&self.config_file, crate::config::process_env())
            .map_err(|e| format!("the config does not load: {e:#}"))
    }
}

impl Routes {
    /// Re-reads the config and reloads each embedded model whose engine
    /// settings or file changed. A config that does not load changes
    /// nothing. Returns the reloaded names.
    pub async fn reload_changed(&self) -> Result<Vec<String>, String> {
        let Some(source) = &self.reload else {
            return Ok(Vec::new());
        };
        let config = source.read()?;
        // Validate every entry before touching any engine.
        let mut wanted = Vec::new();
        for (name, model) in &self.embedded {
            if let Some(entry) = config.models.get(name) {
                let engine = crate::embedded::engine_config(name, entry, &source.data_dir)?;
                if engine != model.config() {
                    wanted.push((name.clone(), model.clone(), engine));
                }
            }
        }
        let mut reloaded = Vec::new();
        for (name, model, engine) in wanted {
            model
                .reload(engine)
                .await
                .map_err(|e| format!("[models.{name}]: {e}"))?;
            reloaded.push(name);
        }
        Ok(reloaded)
    }
}

impl ProviderFactory for Routes {
    fn build(&self, settings: &AgentSettings) -> Result<Arc<dyn Provider>, String> {
        let route = self
            .router
            .route(&settings.model, &settings.fallbacks)
            .map_err(|e| e.to_string())?;
        Ok(Arc::new(route))
    }
}

impl ModelCatalog for Routes {
    fn models(&self) -> Vec<ModelListing> {
        self.router
            .models()
            .into_iter()
            .map(|m| ModelListing {
                embedded: self
                    .embedded
                    .get(&m.name)
                    .and_then(|e| serde_json::to_value(e.status()).ok()),
                id: m.name,
                name: m.model,
                provider: m.provider,
                breaker: format!("{:?}", m.breaker).to_lowercase(),
            })
            .collect()
    }

    fn load(&self, name: &str) -> ModelAction {
        let model = self.embedded.get(name).cloned();
        let reload = self.reload.clone();
        let name = name.to_owned();
        Box::pin(async move {
            let model = model.ok_or_else(|| format!("{name:?} is not an embedded model"))?;
            let info = match reload {
                // Fresh settings from the config file, validated first: a
                // bad edit is refused and the running engine stays.
                Some(source) => {
                    let config = source.read()?;
                    let entry = config
                        .models
                        .get(&name)
                        .ok_or_else(|| format!("[models.{name}] is no longer in the config"))?;
                    let engine = crate::embedded::engine_config(&name, entry, &source.data_dir)?;
                    model.reload(engine).await
                }
                None => model.load().await,
            }
            .map_err(|e| e.to_string())?;
            Ok(json!({
                "ok": true,
                "name": name,
                "architecture": info.gguf.architecture,
                "loadMs": info.load_time.as_millis() as u64,
                "status": model.status(),
            }))
        })
    }

    fn unload(&self, name: &str) -> ModelAction {
        let model = self.embedded.get(name).cloned();
        let name = name.to_owned();
        Box::pin(async move {
            let model = model.ok_or_else(|| format!("{name:?} is not an embedded model"))?;
            let was_loaded = model.unload().await;
            Ok(json!({ "ok": true, "name": name, "wasLoaded": was_loaded }))
        })
    }
}
