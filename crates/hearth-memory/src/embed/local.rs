//! all-MiniLM-L6-v2 in-process: the `tokenizers` crate for word pieces,
//! candle's BERT for the forward pass, then mean pooling over real tokens
//! and L2 normalisation (what sentence-transformers does for this model).
//!
//! Two details matter for speed: the shipped `tokenizer.json` pads every
//! input to 128 tokens, so padding is done here, to each batch's longest
//! input (about 10× faster on short sentences); and inputs are tokenized
//! first and batched by their length in word pieces, so each batch pads
//! little.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use tokenizers::{Encoding, Tokenizer, TruncationParams};

use super::fetch::{DEFAULT_EMBEDDER, MODEL_FILES};
use super::{EmbedError, Embedder, EmbedderInfo, normalize};

/// sentence-transformers' `max_seq_length` for this model: it was trained
/// on 128-token inputs and is used up to 256.
const MAX_TOKENS: usize = 256;
/// Texts per forward pass: large enough to amortise the per-call cost
/// (64 embeds about 1.3× faster than 32 on 2 cores)...
const MAX_BATCH_ROWS: usize = 64;
/// ...and word pieces per pass (rows × padded width), so a batch of long
/// texts stays small: attention holds rows × 12 heads × width² floats.
const MAX_BATCH_TOKENS: usize = 64 * 64;

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
        // Padding is done per batch in `forward`: the shipped file pads
        // every input to 128 tokens.
        tokenizer.with_padding(None);
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
        let inputs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let encodings = self
            .tokenizer
            .encode_batch(inputs, true)
            .map_err(|e| EmbedError::Compute(e.to_string()))?;
        // Batch inputs of similar length in word pieces, so each batch pads
        // little; answer in the caller's order.
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| encodings[i].get_ids().len());
        let mut out = vec![Vec::new(); texts.len()];
        let mut start = 0;
        while start < order.len() {
            // Sorted by length, so the last text of a batch is its widest.
            let mut end = start + 1;
            while end < order.len()
                && end - start < MAX_BATCH_ROWS
                && (end - start + 1) * encodings[order[end]].get_ids().len() <= MAX_BATCH_TOKENS
            {
                end += 1;
            }
            let batch = &order[start..end];
            let batch_encodings: Vec<&Encoding> = batch.iter().map(|&i| &encodings[i]).collect();
            let vectors = self
                .forward(&batch_encodings)
                .map_err(|e| EmbedError::Compute(e.to_string()))?;
            for (&i, vector) in batch.iter().zip(vectors) {
                out[i] = vector;
            }
            start = end;
        }
        Ok(out)
    }

    fn forward(&self, encodings: &[&Encoding]) -> candle_core::Result<Vec<Vec<f32>>> {
        let rows = encodings.len();
        let width = encodings
            .iter()
            .map(|e| e.get_ids().len())
            .max()
            .unwrap_or(0);
        // Padding: id 0 ([PAD]) with mask 0, so it is neither attended to
        // nor averaged.
        let mut ids = vec![0u32; rows * width];
        let mut mask = vec![0u32; rows * width];
        for (row, encoding) in encodings.iter().enumerate() {
            let start = row * width;
            let len = encoding.get_ids().len();
            ids[start..start + len].copy_from_slice(encoding.get_ids());
            mask[start..start + len].copy_from_slice(encoding.get_attention_mask());
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embed::cosine;

    #[test]
    fn a_text_embeds_the_same_alone_and_in_a_padded_batch() {
        let embedder = LocalEmbedder::load(&hearth_testkit::model::minilm_dir()).unwrap();
        // Different lengths, given out of length order: the batch is
        // reordered and padded, the answer must not be.
        let texts: Vec<String> = [
            "The red kayak is stored in the garden shed behind the house, next to the bikes.",
            "Kayak",
            "Where is the kayak kept?",
            "Taxes are due in July.",
        ]
        .map(String::from)
        .to_vec();
        let batch = embedder.embed_blocking(&texts).unwrap();
        assert_eq!(batch.len(), texts.len());
        for (text, vector) in texts.iter().zip(&batch) {
            let alone = embedder.embed_blocking(std::slice::from_ref(text)).unwrap();
            let similarity = cosine(&alone[0], vector);
            assert!(similarity > 0.9999, "{text}: {similarity}");
            let norm: f32 = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
            assert!((norm - 1.0).abs() < 1e-4, "{text}: norm {norm}");
        }
        assert!(cosine(&batch[0], &batch[2]) > cosine(&batch[3], &batch[2]));
        let short = embedder.count_tokens(&texts[1..2]);
        assert!(short >= 3, "[CLS], the word, [SEP]: {short}");
        assert!(embedder.count_tokens(&texts[..1]) > 15);
    }
}
