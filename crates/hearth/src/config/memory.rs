//! `[memory]`: long-term memory, its embedder, recall into turns, file
//! import, and `[memory.short_term]` (working memory per session).

use std::path::PathBuf;

use hearth_memory::embed::RemoteEmbedderConfig;
use hearth_memory::short_term::ShortTermLimits;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MemoryConfig {
    /// Memory on: recall into turns, flush of old turns, Markdown import,
    /// `hearth memory`. Default true.
    pub enabled: bool,
    /// Folder of the in-process embedding model (`model.safetensors`,
    /// `tokenizer.json`, `config.json`). Default
    /// `<data dir>/models/all-minilm-l6-v2` (`hearth models pull
    /// all-minilm-l6-v2`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub embedder_dir: Option<PathBuf>,
    /// `[memory.remote]`: embed with an OpenAI-compatible `/v1/embeddings`
    /// instead. Changing embedder re-embeds every memory at the next start.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote: Option<RemoteEmbedderConfig>,
    /// Memories recalled into a turn at most. Default 5.
    pub recall_limit: usize,
    /// Score a memory needs to be recalled (0.0..=1.0). Default 0.35.
    pub recall_min_score: f32,
    /// Import `MEMORY.md` and `memory/**/*.md` from each agent's workspace,
    /// and re-import on change. Default true.
    pub import_files: bool,
    /// `[memory.short_term]`.
    pub short_term: ShortTermConfig,
}

impl Default for MemoryConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            embedder_dir: None,
            remote: None,
            recall_limit: 5,
            recall_min_score: 0.35,
            import_files: true,
            short_term: ShortTermConfig::default(),
        }
    }
}

/// Where working memory lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ShortTermBackend {
    /// In the daemon's memory (default; lost on restart, as working memory
    /// may be).
    #[default]
    Memory,
    /// In Redis, shared by gateway replicas in cluster mode.
    Redis,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ShortTermConfig {
    pub backend: ShortTermBackend,
    /// Default `redis://127.0.0.1:6379`.
    pub redis_url: String,
    /// Key prefix in Redis. Default `hearth:wm`.
    pub redis_prefix: String,
    /// `[memory.short_term.limits]`: TTLs and size bounds.
    pub limits: ShortTermLimits,
}

impl Default for ShortTermConfig {
    fn default() -> Self {
        Self {
            backend: ShortTermBackend::Memory,
            redis_url: "redis://127.0.0.1:6379".into(),
            redis_prefix: "hearth:wm".into(),
            limits: ShortTermLimits::default(),
        }
    }
}

impl MemoryConfig {
    pub fn problems(&self, problems: &mut Vec<String>) {
        if !(0.0..=1.0).contains(&self.recall_min_score) {
            problems.push(format!(
                "[memory] recall_min_score {} is outside 0.0..=1.0",
                self.recall_min_score
            ));
        }
        if !(1..=50).contains(&self.recall_limit) {
            problems.push(format!(
                "[memory] recall_limit {} is outside 1..=50",
                self.recall_limit
            ));
        }
        if let Some(remote) = &self.remote
            && (remote.dimensions == 0 || remote.base_url.trim().is_empty())
        {
            problems.push("[memory.remote] needs base_url and dimensions".into());
        }
    }
}
