//! A loaded model: the weights (shared, read-only), its chat template, and
//! the scheduler thread that owns the decoding context. Dropping the
//! [`Engine`] closes the job channel; the thread finishes the jobs it holds
//! and exits, freeing the context and, with the last reference, the model.

use crate::backend::backend;
use crate::config::{EngineConfig, KvCache};
use crate::error::EngineError;
use crate::gguf::{self, GgufInfo};
use crate::scheduler::job::Job;
use crate::scheduler::{Limits, Scheduler};
use crate::stats::{Stats, StatsSnapshot};
use crate::template::ChatTemplate;
use llama_cpp_2::context::params::{KvCacheType, LlamaContextParams};
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::model::params::LlamaModelParams;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// What was loaded, for `hearth models list`, status and logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelInfo {
    pub gguf: GgufInfo,
    pub parameters: u64,
    pub size_bytes: u64,
    /// Context the model was trained with.
    pub trained_context: u32,
    pub load_time: Duration,
}

pub struct Engine {
    pub(crate) model: Arc<LlamaModel>,
    pub(crate) template: ChatTemplate,
    pub(crate) config: EngineConfig,
    /// Text of the BOS token, to avoid adding a second one when the
    /// template already wrote it.
    pub(crate) bos_text: String,
    pub(crate) jobs: mpsc::Sender<Job>,
    pub(crate) stats: Arc<Stats>,
    info: ModelInfo,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("path", &self.config.path)
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// Loads the GGUF and starts its scheduler. Blocking (reads the file):
    /// call it from `spawn_blocking` in async code.
    pub fn load(config: EngineConfig) -> Result<Self, EngineError> {
        config.validate().map_err(EngineError::Config)?;
        let started = Instant::now();
        let gguf = gguf::inspect(&config.path)?;
        let backend = backend()?;
        let model = LlamaModel::load_from_file(backend, &config.path, &LlamaModelParams::default())
            .map_err(|_| EngineError::Load {
                path: config.path.clone(),
            })?;
        let model = Arc::new(model);
        let vocab = model.vocab();
        let token_text =
            |token| String::from_utf8_lossy(&vocab.token_to_piece(token, true, None)).into_owned();
        let bos_text = token_text(vocab.bos());
        let eos_text = token_text(vocab.eos());
        let source = model
            .chat_template(None)
            .ok()
            .and_then(|t| t.to_string().ok())
            .unwrap_or_else(|| CHATML.to_owned());
        let template = ChatTemplate::new(&source, &bos_text, &eos_text)?;
        let info = ModelInfo {
            parameters: model.n_params(),
            size_bytes: model.size(),
            trained_context: model.n_ctx_train(),
            load_time: Duration::ZERO,
            gguf,
        };

        let stats = Arc::new(Stats::default());
        let (jobs, receiver) = mpsc::channel(config.max_queue.max(1));
        let (ready, ready_rx) = std::sync::mpsc::sync_channel(1);
        let thread_model = Arc::clone(&model);
        let thread_stats = Arc::clone(&stats);
        let thread_config = config.clone();
        std::thread::Builder::new()
            .name("hearth-engine".into())
            .spawn(move || {
                let model = thread_model;
                let context = match create_context(&model, &thread_config) {
                    Ok(context) => context,
                    Err(error) => {
                        let _ = ready.send(Err(error));
                        return;
                    }
                };
                let _ = ready.send(Ok(()));
                let limits = Limits {
                    context_per_slot: thread_config.context as usize,
                    prefill_chunk: thread_config.prefill_chunk,
                    max_waiting: thread_config.max_queue.max(1),
                };
                Scheduler::new(
                    &model,
                    context,
                    thread_config.slots,
                    receiver,
                    limits,
                    thread_stats,
                )
                .run();
                tracing::debug!("engine scheduler stopped");
            })
            .map_err(|e| EngineError::Context(format!("cannot start the engine thread: {e}")))?;
        ready_rx
            .recv()
            .map_err(|_| EngineError::Context("the engine thread died while starting".into()))??;
        let info = ModelInfo {
            load_time: started.elapsed(),
            ..info
        };
        tracing::info!(
            path = %config.path.display(),
            architecture = %info.gguf.architecture,
            slots = config.slots,
            context = config.context,
            threads = config.threads(),
            load_ms = info.load_time.as_millis() as u64,
            "embedded model loaded"
        );
        Ok(Self {
            model,
            template,
            config,
            bos_text,
            jobs,
            stats,
            info,
        })
    }

    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    pub fn stats(&self) -> StatsSnapshot {
        self.stats.snapshot()
    }
}

fn create_context<'m>(
    model: &'m LlamaModel,
    config: &EngineConfig,
) -> Result<llama_cpp_2::context::LlamaContext<'m>, EngineError> {
    let threads = config.threads() as i32;
    // One sequence per slot; without a unified cache llama.cpp gives each
    // sequence n_ctx / n_seq_max cells, which is exactly a slot's context.
    let total = config
        .context
        .checked_mul(config.slots as u32)
        .and_then(NonZeroU32::new)
        .ok_or_else(|| EngineError::Config("context × slots overflows".into()))?;
    let batch = (config.prefill_chunk + config.slots) as u32;
    let params = LlamaContextParams::default()
        .with_n_ctx(Some(total))
        .with_n_seq_max(config.slots as u32)
        .with_n_batch(batch)
        .with_n_ubatch(batch)
        .with_n_threads(threads)
        .with_n_threads_batch(threads)
        .with_kv_unified(false);
    let params = match config.kv_cache {
        KvCache::F16 => params,
        KvCache::Q8_0 => params
            .with_type_k(KvCacheType::Q8_0)
            .with_type_v(KvCacheType::Q8_0),
    };
    model
        .new_context(backend()?, params)
        .map_err(|e| EngineError::Context(e.to_string()))
}

/// Used when a GGUF carries no template: ChatML is what most small
/// instruction-tuned GGUFs without one expect.
const CHATML: &str = "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";
