//! all-MiniLM-L6-v2 in-process: the `tokenizers` crate for word pieces,
//! candle's BERT for the forward pass, then mean pooling over real tokens
//! and L2 normalisation (what sentence-transformers does for this model).
//!
//! Two details matter for speed: the shipped `tokenizer.json` pads every
//! input to 128 tokens, so padding is switched to the batch's longest input
//! (about 10× faster on short sentences); and inputs are sorted by length
//! before batching, so each batch pads little.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

use super::fetch::{DEFAULT_EMBEDDER, MODEL_FILES};
use super::{EmbedError, Embedder, EmbedderInfo, normalize};

/// sentence-transformers' `max_seq_length` for this model: it was trained
/// on 128-token inputs and is used up to 256.
const MAX_TOKENS: usize = 256;
/// Texts per forward pass: large enough to amortise the per-call cost,
/// small enough that one long batch does not hold a big activation buffer.
const BATCH: usize = 32;

pub struct LocalEmbedder {
    inner: Arc<Model>,
    info: EmbedderInfo,
}

struct Model {
    bert: BertModel,
    tokenizer: Tokenizer,
    device: Device,
}

impl std::fmt::Debug for LocalEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalEmbedder")
            .field("info", &self.info)
            .finish()
    }
}

impl LocalEmbedder {
    /// Loads the model from a directory holding `model.safetensors`,
    /// `tokenizer.json` and `config.json`.
    pub fn load(dir: &Path) -> Result<Self, EmbedError> {
        Self::check_files(dir)?;
        let config: Config = serde_json::from_slice(&read(dir, "config.json")?)
            .map_err(|e| bad(dir, "config.json", e))?;
        let mut tokenizer = Tokenizer::from_file(dir.join("tokenizer.json"))
            .map_err(|e| bad(dir, "tokenizer.json", e))?;
        let mut padding = tokenizer.get_padding().cloned().unwrap_or_default();
        padding.strategy = PaddingStrategy::BatchLongest;
        tokenizer.with_padding(Some(PaddingParams { ..padding }));
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: MAX_TOKENS,
                ..Default::default()
            }))
            .map_err(|e| bad(dir, "tokenizer.json", e))?;
        let device = Device::Cpu;
        // Buffered, not memory-mapped: mapping needs `unsafe`, and the
        // buffer is dropped once the weights are tensors.
        let weights = read(dir, "model.safetensors")?;
        let vars = VarBuilder::from_buffered_safetensors(weights, DType::F32, &device)
            .map_err(|e| bad(dir, "model.safetensors", e))?;
        let bert = BertModel::load(vars, &config).map_err(|e| bad(dir, "model.safetensors", e))?;
        let info = EmbedderInfo {
            id: format!("local:{DEFAULT_EMBEDDER}"),
            dimensions: config.hidden_size,
            max_tokens: MAX_TOKENS,
        };
        Ok(Self {
            inner: Arc::new(Model {
                bert,
                tokenizer,
                device,
            }),
            info,
        })
    }

    /// The three files are there and non-empty (cheap; `load` parses them).
    pub fn check_files(dir: &Path) -> Result<(), EmbedError> {
        for file in MODEL_FILES {
            let path = dir.join(file);
            match std::fs::metadata(&path) {
                Ok(m) if m.len() > 0 => {}
                Ok(_) => return Err(EmbedError::Model(format!("{} is empty", path.display()))),
                Err(e) => {
                    return Err(EmbedError::Model(format!(
                        "{} is missing ({e}); run `hearth models pull {DEFAULT_EMBEDDER}`",
                        path.display()
                    )));
                }
            }
        }
        Ok(())
    }

    /// Word pieces the model reads for `texts` (special tokens included,
    /// truncation applied, no padding): what embedding cost scales with.
    pub fn count_tokens(&self, texts: &[String]) -> usize {
        texts
            .iter()
            .filter_map(|t| self.inner.tokenizer.encode(t.as_str(), true).ok())
            .map(|e| e.get_attention_mask().iter().filter(|&&m| m == 1).count())
            .sum()
    }

    /// Embeds on the calling thread (the async [`Embedder::embed`] moves
    /// this to the blocking pool).
    pub fn embed_blocking(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        self.inner.embed(texts)
    }
}

impl Model {
    fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        // Sort by length so each batch pads to a similar size; answer in
        // the caller's order.
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| texts[i].len());
        let mut out = vec![Vec::new(); texts.len()];
        for batch in order.chunks(BATCH) {
            let inputs: Vec<&str> = batch.iter().map(|&i| texts[i].as_str()).collect();
            let vectors = self
                .forward(&inputs)
                .map_err(|e| EmbedError::Compute(e.to_string()))?;
            for (&i, vector) in batch.iter().zip(vectors) {
                out[i] = vector;
            }
        }
        Ok(out)
    }

    fn forward(&self, inputs: &[&str]) -> candle_core::Result<Vec<Vec<f32>>> {
        let encodings = self
            .tokenizer
            .encode_batch(inputs.to_vec(), true)
            .map_err(candle_core::Error::msg)?;
        let rows = encodings.len();
        let width = encodings.first().map_or(0, |e| e.get_ids().len());
        let ids: Vec<u32> = encodings
            .iter()
            .flat_map(|e| e.get_ids().to_vec())
            .collect();
        let mask: Vec<u32> = encodings
            .iter()
            .flat_map(|e| e.get_attention_mask().to_vec())
            .collect();
        let ids = Tensor::from_vec(ids, (rows, width), &self.device)?;
        let mask = Tensor::from_vec(mask, (rows, width), &self.device)?;
        let token_types = ids.zeros_like()?;
        let hidden = self.bert.forward(&ids, &token_types, Some(&mask))?;
        // Mean over real tokens only: padding must not dilute the average.
        let mask = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
        let summed = hidden.broadcast_mul(&mask)?.sum(1)?;
        let counts = mask.sum(1)?;
        let mean = summed.broadcast_div(&counts)?;
        let mut vectors: Vec<Vec<f32>> = mean.to_vec2()?;
        vectors.iter_mut().for_each(|v| normalize(v));
        Ok(vectors)
    }
}

#[async_trait]
impl Embedder for LocalEmbedder {
    fn info(&self) -> &EmbedderInfo {
        &self.info
    }

    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let model = self.inner.clone();
        let texts = texts.to_vec();
        tokio::task::spawn_blocking(move || model.embed(&texts))
            .await
            .map_err(|e| EmbedError::Compute(format!("the embedding task failed: {e}")))?
    }
}

fn read(dir: &Path, file: &str) -> Result<Vec<u8>, EmbedError> {
    let path = dir.join(file);
    std::fs::read(&path)
        .map_err(|e| EmbedError::Model(format!("cannot read {}: {e}", path.display())))
}

fn bad(dir: &Path, file: &str, error: impl std::fmt::Display) -> EmbedError {
    EmbedError::Model(format!(
        "{} is not usable: {error}",
        dir.join(file).display()
    ))
}
