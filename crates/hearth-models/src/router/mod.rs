//! The model router: a registry of named models, each with its own circuit
//! breaker, from which an agent gets a [`Route`] — a primary model and
//! ordered fallbacks that itself implements [`hearth_core::Provider`].
//!
//! - `breaker.rs`: the per-model circuit breaker.
//! - `route.rs`: [`Route`], the retry / fallback / timeout policy of one call.

mod breaker;
mod route;

#[cfg(test)]
mod tests;

pub use breaker::BreakerState;
pub use route::{Route, Routed};

use crate::config::{BuildError, ModelConfig, ModelEntry};
use breaker::Breaker;
use hearth_core::Provider;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// Router-wide policy (`[router]` in the config file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouterSettings {
    /// Consecutive failed attempts that open a model's circuit. Default 5.
    #[serde(default = "default_breaker_failures")]
    pub breaker_failures: u32,
    /// Seconds an open circuit skips its model before one trial request.
    /// Default 30.
    #[serde(default = "default_breaker_cooldown_secs")]
    pub breaker_cooldown_secs: u64,
    /// The longest `Retry-After` the router waits out, in seconds. A model
    /// asking for longer is given up on for this call (its fallback is tried,
    /// or, with none left, the wait is cut to this). Default 30.
    #[serde(default = "default_retry_after_cap_secs")]
    pub retry_after_cap_secs: u64,
    /// First retry delay when the provider gives no `Retry-After`; doubled
    /// on every retry, with jitter so that many sessions retrying together
    /// do not hit the server in lockstep. Default 500.
    #[serde(default = "default_backoff_base_ms")]
    pub backoff_base_ms: u64,
    /// Upper bound of the computed retry delay. Default 8000.
    #[serde(default = "default_backoff_max_ms")]
    pub backoff_max_ms: u64,
}

fn default_breaker_failures() -> u32 {
    5
}
fn default_breaker_cooldown_secs() -> u64 {
    30
}
fn default_retry_after_cap_secs() -> u64 {
    30
}
fn default_backoff_base_ms() -> u64 {
    500
}
fn default_backoff_max_ms() -> u64 {
    8000
}

impl Default for RouterSettings {
    fn default() -> Self {
        Self {
            breaker_failures: default_breaker_failures(),
            breaker_cooldown_secs: default_breaker_cooldown_secs(),
            retry_after_cap_secs: default_retry_after_cap_secs(),
            backoff_base_ms: default_backoff_base_ms(),
            backoff_max_ms: default_backoff_max_ms(),
        }
    }
}

impl RouterSettings {
    /// Checks the settings without any IO.
    pub fn validate(&self) -> Result<(), BuildError> {
        if self.breaker_failures == 0 {
            return Err(BuildError::Zero("breaker_failures"));
        }
        if self.backoff_max_ms < self.backoff_base_ms {
            return Err(BuildError::BackoffOrder);
        }
        Ok(())
    }
}

/// A registered model and its breaker, shared by every [`Route`] using it.
pub(crate) struct Slot {
    pub(crate) entry: ModelEntry,
    pub(crate) provider: Arc<dyn Provider>,
    pub(crate) breaker: Breaker,
}

/// The registry of named models. Cloning is cheap and shares breakers.
#[derive(Debug, Clone, Default)]
pub struct Router {
    slots: BTreeMap<String, Arc<Slot>>,
    settings: Arc<RouterSettings>,
}

/// A route named a model the router does not have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown model {0:?}")]
pub struct UnknownModel(pub String);

/// One model as `hearth status` and `hearth models` show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModelInfo {
    pub name: String,
    /// `openai`, `anthropic`, `echo`, or a custom provider's name.
    pub provider: String,
    /// The provider's model name.
    pub model: String,
    pub breaker: BreakerState,
    pub consecutive_failures: u32,
}

impl Router {
    pub fn new(settings: RouterSettings) -> Self {
        Self {
            slots: BTreeMap::new(),
            settings: Arc::new(settings),
        }
    }

    /// Builds every `[models.<name>]` entry. All entries and the settings
    /// are validated (without IO) before anything is built.
    pub fn from_config<'a>(
        models: impl IntoIterator<Item = (&'a String, &'a ModelConfig)>,
        settings: RouterSettings,
    ) -> Result<Self, BuildError> {
        settings.validate()?;
        let models: Vec<_> = models.into_iter().collect();
        for (name, config) in &models {
            config.validate().map_err(|e| e.in_model(name))?;
        }
        let mut router = Router::new(settings);
        for (name, config) in models {
            let entry = config.build(name).map_err(|e| e.in_model(name))?;
            router.add(entry)?;
        }
        Ok(router)
    }

    /// Registers a model under its name.
    pub fn add(&mut self, entry: ModelEntry) -> Result<(), BuildError> {
        let name = entry.name().to_string();
        if self.slots.contains_key(&name) {
            return Err(BuildError::DuplicateModel(name));
        }
        let slot = Slot {
            provider: entry.provider(),
            entry,
            breaker: Breaker::new(
                self.settings.breaker_failures,
                Duration::from_secs(self.settings.breaker_cooldown_secs),
            ),
        };
        self.slots.insert(name, Arc::new(slot));
        Ok(())
    }

    /// The route an agent uses: `primary`, then each of `fallbacks` in
    /// order (repeated names are tried once). Hold it as an
    /// `Arc<dyn Provider>`.
    pub fn route<S: AsRef<str>>(
        &self,
        primary: &str,
        fallbacks: &[S],
    ) -> Result<Route, UnknownModel> {
        let mut slots: Vec<Arc<Slot>> = Vec::with_capacity(1 + fallbacks.len());
        for name in std::iter::once(primary).chain(fallbacks.iter().map(AsRef::as_ref)) {
            let slot = self
                .slots
                .get(name)
                .ok_or_else(|| UnknownModel(name.to_string()))?;
            if !slots.iter().any(|s| Arc::ptr_eq(s, slot)) {
                slots.push(slot.clone());
            }
        }
        Ok(Route::new(slots, self.settings.clone()))
    }

    /// The registered model called `name`.
    pub fn entry(&self, name: &str) -> Option<&ModelEntry> {
        self.slots.get(name).map(|s| &s.entry)
    }

    /// Every model, sorted by name, with its breaker state.
    pub fn models(&self) -> Vec<ModelInfo> {
        self.slots
            .values()
            .map(|s| ModelInfo {
                name: s.entry.name().to_string(),
                provider: s.entry.provider_kind().to_string(),
                model: s.entry.model().to_string(),
                breaker: s.breaker.state(),
                consecutive_failures: s.breaker.consecutive_failures(),
            })
            .collect()
    }

    pub fn settings(&self) -> &RouterSettings {
        &self.settings
    }
}
