//! A named embedded model that can be loaded, unloaded and reloaded while
//! the daemon runs. It is the [`Provider`] the router holds, so routes stay
//! valid across reloads: requests go to whichever engine is loaded now;
//! streams already running finish on the engine they started on.

use crate::config::EngineConfig;
use crate::engine::{Engine, ModelInfo};
use crate::error::EngineError;
use async_trait::async_trait;
use hearth_core::{ChatRequest, ChatStream, ErrorKind, Provider, ProviderError};
use parking_lot::Mutex;
use serde::Serialize;
use std::sync::Arc;

#[derive(Debug)]
pub struct EmbeddedModel {
    name: String,
    state: Mutex<State>,
    /// Serialises load/unload so two reloads cannot race.
    transition: tokio::sync::Mutex<()>,
}

#[derive(Debug)]
struct State {
    config: EngineConfig,
    engine: Option<Arc<Engine>>,
    last_error: Option<String>,
}

/// What `hearth models` and the control protocol show for one model.
#[derive(Debug, Clone, Serialize)]
pub struct EmbeddedStatus {
    pub name: String,
    pub path: String,
    pub loaded: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub architecture: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub load_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub slots: usize,
    pub context: u32,
    pub threads: usize,
    pub active: usize,
    pub waiting: usize,
    pub prompt_tokens_processed: u64,
    pub prompt_tokens_reused: u64,
    pub tokens_generated: u64,
}

impl EmbeddedModel {
    /// An unloaded model; call [`EmbeddedModel::load`].
    pub fn new(name: impl Into<String>, config: EngineConfig) -> Self {
        Self {
            name: name.into(),
            state: Mutex::new(State {
                config,
                engine: None,
                last_error: None,
            }),
            transition: tokio::sync::Mutex::new(()),
        }
    }

    pub fn model_name(&self) -> &str {
        &self.name
    }

    /// Loads the configured file (a no-op if loaded). A failure is kept
    /// for status and every request answers with it until a load succeeds.
    pub async fn load(&self) -> Result<ModelInfo, EngineError> {
        let _guard = self.transition.lock().await;
        if let Some(engine) = self.state.lock().engine.clone() {
            return Ok(engine.info().clone());
        }
        let config = self.state.lock().config.clone();
        self.load_config(config).await
    }

    /// Loads `config` (a new file or new settings) and swaps it in; the old
    /// engine is dropped once its running answers finish. On failure the
    /// old engine stays.
    pub async fn reload(&self, config: EngineConfig) -> Result<ModelInfo, EngineError> {
        let _guard = self.transition.lock().await;
        self.load_config(config).await
    }

    async fn load_config(&self, config: EngineConfig) -> Result<ModelInfo, EngineError> {
        let for_load = config.clone();
        let loaded = tokio::task::spawn_blocking(move || Engine::load(for_load))
            .await
            .map_err(|e| EngineError::Context(format!("the load task failed: {e}")))?;
        let mut state = self.state.lock();
        match loaded {
            Ok(engine) => {
                let info = engine.info().clone();
                state.config = config;
                state.engine = Some(Arc::new(engine));
                state.last_error = None;
                Ok(info)
            }
            Err(error) => {
                tracing::warn!(model = %self.name, %error, "embedded model failed to load");
                if state.engine.is_none() {
                    state.config = config;
                }
                state.last_error = Some(error.to_string());
                Err(error)
            }
        }
    }

    /// Frees the model's memory. Answers already streaming finish first;
    /// new requests fail as unavailable until it is loaded again. Returns
    /// whether it was loaded.
    pub async fn unload(&self) -> bool {
        let _guard = self.transition.lock().await;
        let engine = self.state.lock().engine.take();
        engine.is_some()
    }

    /// The settings of the loaded engine (or of the next load).
    pub fn config(&self) -> EngineConfig {
        self.state.lock().config.clone()
    }

    pub fn engine(&self) -> Option<Arc<Engine>> {
        self.state.lock().engine.clone()
    }

    pub fn status(&self) -> EmbeddedStatus {
        let state = self.state.lock();
        let stats = state.engine.as_ref().map(|e| e.stats()).unwrap_or_default();
        let info = state.engine.as_ref().map(|e| e.info().clone());
        EmbeddedStatus {
            name: self.name.clone(),
            path: state.config.path.display().to_string(),
            loaded: state.engine.is_some(),
            architecture: info.as_ref().map(|i| i.gguf.architecture.clone()),
            load_ms: info.as_ref().map(|i| i.load_time.as_millis() as u64),
            error: state.last_error.clone(),
            slots: state.config.slots,
            context: state.config.context,
            threads: state.config.threads(),
            active: stats.active,
            waiting: stats.waiting,
            prompt_tokens_processed: stats.prompt_tokens_processed,
            prompt_tokens_reused: stats.prompt_tokens_reused,
            tokens_generated: stats.tokens_generated,
        }
    }
}

#[async_trait]
impl Provider for EmbeddedModel {
    fn name(&self) -> &str {
        "embedded"
    }

    async fn chat(&self, request: ChatRequest) -> Result<ChatStream, ProviderError> {
        let engine = {
            let state = self.state.lock();
            match (&state.engine, &state.last_error) {
                (Some(engine), _) => Arc::clone(engine),
                (None, Some(error)) => {
                    return Err(ProviderError::new(ErrorKind::Unavailable, error.clone()));
                }
                (None, None) => {
                    return Err(ProviderError::new(
                        ErrorKind::Unavailable,
                        format!("embedded model {:?} is not loaded", self.name),
                    ));
                }
            }
        };
        engine.chat(request).await
    }
}
