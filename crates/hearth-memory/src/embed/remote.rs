//! Any OpenAI-compatible `/v1/embeddings` (OpenAI, Ollama, vLLM, llama.cpp
//! server, LM Studio...). The dimension is configured, not discovered, so
//! the index can be opened before the first call and a server that answers
//! with another size is caught instead of corrupting the index.

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{EmbedError, Embedder, EmbedderInfo, normalize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoteEmbedderConfig {
    /// Base URL up to `/v1`, e.g. `http://127.0.0.1:11434/v1`.
    pub base_url: String,
    /// The server's model name, e.g. `nomic-embed-text`.
    pub model: String,
    /// Vector size the model returns.
    pub dimensions: usize,
    /// Environment variable holding the API key, if the server needs one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_env: Option<String>,
    /// The model's input limit in tokens (documents are chunked below it).
    #[serde(default = "default_max_tokens")]
    pub max_tokens: usize,
    /// Texts per request.
    #[serde(default = "default_batch")]
    pub batch: usize,
}

fn default_max_tokens() -> usize {
    512
}

fn default_batch() -> usize {
    64
}

#[derive(Debug)]
pub struct RemoteEmbedder {
    config: RemoteEmbedderConfig,
    api_key: Option<String>,
    client: reqwest::Client,
    info: EmbedderInfo,
}

#[derive(Serialize)]
struct Request<'a> {
    model: &'a str,
    input: &'a [String],
}

#[derive(Deserialize)]
struct Response {
    data: Vec<Datum>,
}

#[derive(Deserialize)]
struct Datum {
    index: usize,
    embedding: Vec<f32>,
}

impl RemoteEmbedder {
    pub fn new(config: RemoteEmbedderConfig) -> Result<Self, EmbedError> {
        if config.dimensions == 0 || config.batch == 0 {
            return Err(EmbedError::Remote(
                "dimensions and batch must be at least 1".into(),
            ));
        }
        let api_key = match &config.api_key_env {
            Some(var) => Some(std::env::var(var).map_err(|_| {
                EmbedError::Remote(format!("the API key variable {var} is not set"))
            })?),
            None => None,
        };
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .build()
            .map_err(|e| EmbedError::Remote(e.to_string()))?;
        let base = config.base_url.trim_end_matches('/');
        let info = EmbedderInfo {
            id: format!("openai:{base}:{}", config.model),
            dimensions: config.dimensions,
            max_tokens: config.max_tokens,
        };
        Ok(Self {
            config,
            api_key,
            client,
            info,
        })
    }

    async fn request(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let url = format!("{}/embeddings", self.config.base_url.trim_end_matches('/'));
        let mut request = self.client.post(&url).json(&Request {
            model: &self.config.model,
            input: texts,
        });
        if let Some(key) = &self.api_key {
            request = request.bearer_auth(key);
        }
        let response = request
            .send()
            .await
            .map_err(|e| EmbedError::Remote(format!("{url}: {e}")))?;
        let status = response.status();
        if !status.is_success() {
            let body = response.text().await.unwrap_or_default();
            let body: String = body.chars().take(300).collect();
            return Err(EmbedError::Remote(format!(
                "{url} answered {status}: {body}"
            )));
        }
        let mut answer: Response = response
            .json()
            .await
            .map_err(|e| EmbedError::Remote(format!("{url}: unreadable answer: {e}")))?;
        if answer.data.len() != texts.len() {
            return Err(EmbedError::Remote(format!(
                "{url} returned {} vectors for {} inputs",
                answer.data.len(),
                texts.len()
            )));
        }
        answer.data.sort_by_key(|d| d.index);
        answer
            .data
            .into_iter()
            .map(|d| {
                let mut vector = d.embedding;
                if vector.len() != self.info.dimensions {
                    return Err(EmbedError::Remote(format!(
                        "{url} returned {} dimensions; the config says {}",
                        vector.len(),
                        self.info.dimensions
                    )));
                }
                normalize(&mut vector);
                Ok(vector)
            })
            .collect()
    }
}

#[async_trait]
impl Embedder for RemoteEmbedder {
    fn info(&self) -> &EmbedderInfo {
        &self.info
    }

    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let mut out = Vec::with_capacity(texts.len());
        for batch in texts.chunks(self.config.batch) {
            out.extend(self.request(batch).await?);
        }
        Ok(out)
    }
}
