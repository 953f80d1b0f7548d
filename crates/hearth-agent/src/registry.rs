//! The agents this daemon serves: those from the config file (read-only at
//! runtime) and those created over the control protocol (kept in the store).
//! Each entry holds the provider route built for it, so a turn does no
//! lookups beyond one map read.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use hearth_core::{AgentId, AgentRecord, Provider, Store, StoreError, now_ms};
use parking_lot::RwLock;

use crate::hooks::HookPipeline;
use crate::settings::AgentSettings;

/// Builds the provider an agent's settings name (primary + fallbacks).
/// Implemented by the binary over the model router, so this crate needs no
/// knowledge of concrete providers.
pub trait ProviderFactory: Send + Sync + 'static {
    fn build(&self, settings: &AgentSettings) -> Result<Arc<dyn Provider>, String>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentSource {
    /// Defined in the config file; edit the file to change it.
    Config,
    /// Created at runtime; stored in the database.
    Runtime,
}

pub struct Agent {
    pub id: AgentId,
    pub settings: AgentSettings,
    pub provider: Arc<dyn Provider>,
    pub source: AgentSource,
    /// The folder with the persona files.
    pub workspace: PathBuf,
    /// `settings.hooks`, compiled.
    pub hooks: HookPipeline,
}

impl std::fmt::Debug for Agent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Agent")
            .field("id", &self.id)
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

impl Agent {
    pub fn display_name(&self) -> &str {
        self.settings.name.as_deref().unwrap_or(self.id.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("unknown agent {0:?}")]
    Unknown(String),
    #[error("agent {0:?} already exists")]
    Exists(String),
    #[error("agent {0:?} is defined in the config file; edit the file to change it")]
    FromConfig(String),
    #[error("invalid agent settings: {0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub struct AgentRegistry {
    agents: RwLock<BTreeMap<AgentId, Arc<Agent>>>,
    factory: Arc<dyn ProviderFactory>,
    store: Arc<dyn Store>,
    /// Where agents without an explicit workspace keep their files.
    agents_dir: PathBuf,
    default_agent: AgentId,
}

impl std::fmt::Debug for AgentRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentRegistry")
            .field("agents", &self.agents.read().keys().collect::<Vec<_>>())
            .finish()
    }
}

impl AgentRegistry {
    /// Builds the registry from the config's agents, then adds the runtime
    /// agents the store remembers (skipping, with a warning, any that no
    /// longer build, e.g. because their model was removed from the config).
    pub async fn load(
        config_agents: BTreeMap<AgentId, AgentSettings>,
        default_agent: AgentId,
        factory: Arc<dyn ProviderFactory>,
        store: Arc<dyn Store>,
        agents_dir: PathBuf,
    ) -> Result<Self, AgentError> {
        let registry = Self {
            agents: RwLock::default(),
            factory,
            store,
            agents_dir,
            default_agent: default_agent.clone(),
        };
        for (id, settings) in config_agents {
            let agent = registry.build(id, settings, AgentSource::Config)?;
            registry
                .agents
                .write()
                .insert(agent.id.clone(), Arc::new(agent));
        }
        for record in registry.store.agents().await? {
            if registry.agents.read().contains_key(&record.id) {
                tracing::warn!(agent = %record.id, "stored agent shadowed by the config file's agent of the same id");
                continue;
            }
            let built = serde_json::from_value::<AgentSettings>(record.settings)
                .map_err(|e| e.to_string())
                .and_then(|settings| {
                    registry
                        .build(record.id.clone(), settings, AgentSource::Runtime)
                        .map_err(|e| e.to_string())
                });
            match built {
                Ok(agent) => {
                    registry
                        .agents
                        .write()
                        .insert(agent.id.clone(), Arc::new(agent));
                }
                Err(error) => tracing::warn!(agent = %record.id, %error, "skipping stored agent"),
            }
        }
        if !registry.agents.read().contains_key(&default_agent) {
            return Err(AgentError::Unknown(default_agent.to_string()));
        }
        Ok(registry)
    }

    fn build(
        &self,
        id: AgentId,
        settings: AgentSettings,
        source: AgentSource,
    ) -> Result<Agent, AgentError> {
        settings.validate().map_err(AgentError::Invalid)?;
        let hooks = HookPipeline::build(&settings.hooks)
            .map_err(|e| AgentError::Invalid(format!("hooks: {e}")))?;
        let provider = self.factory.build(&settings).map_err(AgentError::Invalid)?;
        let workspace = settings
            .workspace
            .clone()
            .unwrap_or_else(|| self.agents_dir.join(id.as_str()));
        Ok(Agent {
            id,
            settings,
            provider,
            source,
            workspace,
            hooks,
        })
    }

    pub fn get(&self, id: &AgentId) -> Option<Arc<Agent>> {
        self.agents.read().get(id).cloned()
    }

    pub fn default_agent(&self) -> &AgentId {
        &self.default_agent
    }

    pub fn list(&self) -> Vec<Arc<Agent>> {
        self.agents.read().values().cloned().collect()
    }

    pub async fn create(
        &self,
        id: AgentId,
        settings: AgentSettings,
    ) -> Result<Arc<Agent>, AgentError> {
        if self.get(&id).is_some() {
            return Err(AgentError::Exists(id.to_string()));
        }
        let agent = Arc::new(self.build(id.clone(), settings.clone(), AgentSource::Runtime)?);
        let now = now_ms();
        let record = AgentRecord {
            id: id.clone(),
            settings: to_json(&settings)?,
            created_at_ms: now,
            updated_at_ms: now,
        };
        self.store
            .put_agent(&record, true)
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => AgentError::Exists(id.to_string()),
                other => other.into(),
            })?;
        crate::persona::write_defaults(&agent.workspace).map_err(|e| {
            AgentError::Invalid(format!(
                "cannot create workspace {}: {e}",
                agent.workspace.display()
            ))
        })?;
        self.agents.write().insert(id, agent.clone());
        Ok(agent)
    }

    pub async fn update(
        &self,
        id: &AgentId,
        settings: AgentSettings,
    ) -> Result<Arc<Agent>, AgentError> {
        self.writable(id)?;
        let agent = Arc::new(self.build(id.clone(), settings.clone(), AgentSource::Runtime)?);
        let record = AgentRecord {
            id: id.clone(),
            settings: to_json(&settings)?,
            created_at_ms: 0,
            updated_at_ms: now_ms(),
        };
        self.store.put_agent(&record, false).await?;
        self.agents.write().insert(id.clone(), agent.clone());
        Ok(agent)
    }

    /// Removes a runtime agent. Its sessions and workspace are kept.
    pub async fn delete(&self, id: &AgentId) -> Result<(), AgentError> {
        self.writable(id)?;
        if id == &self.default_agent {
            return Err(AgentError::Invalid(
                "the default agent cannot be deleted".into(),
            ));
        }
        self.store.delete_agent(id).await?;
        self.agents.write().remove(id);
        Ok(())
    }

    fn writable(&self, id: &AgentId) -> Result<(), AgentError> {
        match self.get(id) {
            None => Err(AgentError::Unknown(id.to_string())),
            Some(agent) if agent.source == AgentSource::Config => {
                Err(AgentError::FromConfig(id.to_string()))
            }
            Some(_) => Ok(()),
        }
    }
}

fn to_json(settings: &AgentSettings) -> Result<serde_json::Value, AgentError> {
    serde_json::to_value(settings).map_err(|e| AgentError::Invalid(e.to_string()))
}
