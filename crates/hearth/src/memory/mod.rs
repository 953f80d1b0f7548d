//! The daemon's memory: opens `hearth-memory`'s three parts from the
//! `[memory]` config, feeds turns (recall before the model call, flush of
//! turns leaving the context window), imports each agent's Markdown notes
//! and watches them, and serves the `memory.*` control methods.

mod api;
mod graph_api;

pub use api::MemoryHandle;
mod turns;

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use hearth_agent::AgentRegistry;
use hearth_core::AgentId;
use hearth_memory::embed::{
    DEFAULT_EMBEDDER, Embedder, LocalEmbedder, RemoteEmbedder, embedder_dir, pull_embedder,
};
use hearth_memory::graph::Graph;
use hearth_memory::long_term::{LongTermMemory, Progress, watch_markdown};
use hearth_memory::short_term::{LocalShortTerm, RedisShortTerm, ShortTermMemory};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::{MemoryConfig, ShortTermBackend};
use crate::paths;

/// The memory database beside the main one.
pub const MEMORY_FILE: &str = "memory.db";

pub struct MemoryService {
    pub long_term: LongTermMemory,
    pub working: Arc<dyn ShortTermMemory>,
    pub graph: Arc<Graph>,
    agents: Arc<AgentRegistry>,
    config: MemoryConfig,
    shutdown: CancellationToken,
    tasks: TaskTracker,
}

impl std::fmt::Debug for MemoryService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryService")
            .field("long_term", &self.long_term)
            .finish_non_exhaustive()
    }
}

/// The embedder the config asks for; the default one is fetched first when
/// missing and `pull` is set.
pub async fn embedder(
    config: &MemoryConfig,
    data_dir: &Path,
    pull: bool,
) -> Result<Arc<dyn Embedder>> {
    if let Some(remote) = &config.remote {
        return Ok(Arc::new(
            RemoteEmbedder::new(remote.clone()).context("invalid [memory.remote]")?,
        ));
    }
    let dir = config
        .embedder_dir
        .clone()
        .unwrap_or_else(|| embedder_dir(&paths::models_dir(data_dir)));
    if LocalEmbedder::check_files(&dir).is_err() && pull && config.embedder_dir.is_none() {
        let models = paths::models_dir(data_dir);
        tokio::task::spawn_blocking(move || {
            let python = std::env::var("HEARTH_PYTHON").unwrap_or_else(|_| "python3".into());
            pull_embedder(&models, false, &python, &mut |m| eprintln!("{m}"))
        })
        .await
        .context("the pull task failed")?
        .context("cannot pull the embedding model")?;
    }
    if let Err(error) = LocalEmbedder::check_files(&dir) {
        return Err(crate::UsageError(format!(
            "{error}\nrun `hearth models pull {DEFAULT_EMBEDDER}` (or start with `hearth run --pull`), \
             or turn memory off with [memory] enabled = false"
        ))
        .into());
    }
    let started = std::time::Instant::now();
    let embedder = tokio::task::spawn_blocking(move || LocalEmbedder::load(&dir))
        .await
        .context("the embedder load task failed")??;
    tracing::info!(
        ms = started.elapsed().as_millis() as u64,
        "embedding model loaded"
    );
    Ok(Arc::new(embedder))
}

impl MemoryService {
    /// Opens memory, or `None` when `[memory] enabled = false`.
    pub async fn open(
        config: &MemoryConfig,
        data_dir: &Path,
        pull: bool,
        agents: Arc<AgentRegistry>,
    ) -> Result<Option<Arc<Self>>> {
        if !config.enabled {
            return Ok(None);
        }
        let embedder = embedder(config, data_dir, pull).await?;
        let path = data_dir.join(MEMORY_FILE);
        let progress = Arc::new(|p: Progress| match p {
            Progress::Reembed { done, total } => {
                tracing::info!(done, total, "re-embedding memory for a new embedder")
            }
            Progress::Rebuild { done, total } => {
                tracing::info!(done, total, "rebuilding the memory index")
            }
        });
        let long_term = LongTermMemory::open(&path, embedder, progress)
            .await
            .with_context(|| format!("cannot open the memory database {}", path.display()))?;
        let working: Arc<dyn ShortTermMemory> = match config.short_term.backend {
            ShortTermBackend::Memory => Arc::new(
                LocalShortTerm::new(config.short_term.limits.clone())
                    .context("invalid [memory.short_term.limits]")?,
            ),
            ShortTermBackend::Redis => Arc::new(
                RedisShortTerm::connect(
                    &config.short_term.redis_url,
                    &config.short_term.redis_prefix,
                    config.short_term.limits.clone(),
                )
                .await
                .context("cannot reach Redis for [memory.short_term]")?,
            ),
        };
        let graph =
            Arc::new(Graph::open(&path).with_context(|| {
                format!("cannot open the knowledge graph in {}", path.display())
            })?);
        let service = Arc::new(Self {
            long_term,
            working,
            graph,
            agents,
            config: config.clone(),
            shutdown: CancellationToken::new(),
            tasks: TaskTracker::new(),
        });
        if config.import_files {
            for agent in service.agents.list() {
                service.tasks.spawn(watch_markdown(
                    service.long_term.clone(),
                    agent.id.as_str().to_owned(),
                    agent.workspace.clone(),
                    service.shutdown.clone(),
                ));
            }
        }
        Ok(Some(service))
    }

    fn workspace(&self, agent: &AgentId) -> Option<std::path::PathBuf> {
        self.agents.get(agent).map(|a| a.workspace.clone())
    }

    /// Stops the file watchers and saves the vector index.
    pub async fn close(&self) {
        self.shutdown.cancel();
        self.tasks.close();
        self.tasks.wait().await;
        if let Err(error) = self.long_term.save_index().await {
            tracing::warn!(%error, "memory index not saved; it is rebuilt at the next start");
        }
    }
}
