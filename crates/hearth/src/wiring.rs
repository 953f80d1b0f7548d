//! Glue between the crates: the model router as the agents' provider
//! factory and as the gateway's model catalog.

use std::sync::Arc;

use hearth_agent::{AgentSettings, ProviderFactory};
use hearth_core::Provider;
use hearth_gateway::{ModelCatalog, ModelListing};
use hearth_models::Router;

/// Builds each agent's provider as a route over the named models.
#[derive(Debug, Clone)]
pub struct Routes(pub Router);

impl ProviderFactory for Routes {
    fn build(&self, settings: &AgentSettings) -> Result<Arc<dyn Provider>, String> {
        let route = self
            .0
            .route(&settings.model, &settings.fallbacks)
            .map_err(|e| e.to_string())?;
        Ok(Arc::new(route))
    }
}

impl ModelCatalog for Routes {
    fn models(&self) -> Vec<ModelListing> {
        self.0
            .models()
            .into_iter()
            .map(|m| ModelListing {
                id: m.name,
                name: m.model,
                provider: m.provider,
                breaker: format!("{:?}", m.breaker).to_lowercase(),
            })
            .collect()
    }
}
