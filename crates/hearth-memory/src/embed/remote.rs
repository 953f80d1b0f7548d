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

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A one-request HTTP server answering `status` with `body`; returns
    /// its base URL and the request it received.
    async fn serve_once(
        status: &'static str,
        body: String,
    ) -> (String, tokio::task::JoinHandle<String>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/v1", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut request = Vec::new();
            let mut buffer = [0u8; 4096];
            // Read headers, then the body by Content-Length.
            loop {
                let n = socket.read(&mut buffer).await.unwrap();
                request.extend_from_slice(&buffer[..n]);
                let text = String::from_utf8_lossy(&request).to_string();
                if let Some(end) = text.find("\r\n\r\n") {
                    let length: usize = text
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse().unwrap())
                        })
                        .unwrap_or(0);
                    if request.len() >= end + 4 + length {
                        break;
                    }
                }
            }
            let response = format!(
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            socket.write_all(response.as_bytes()).await.unwrap();
            String::from_utf8_lossy(&request).to_string()
        });
        (url, task)
    }

    fn config(url: String, dimensions: usize) -> RemoteEmbedderConfig {
        RemoteEmbedderConfig {
            base_url: url,
            model: "nomic-embed-text".into(),
            dimensions,
            api_key_env: None,
            max_tokens: 512,
            batch: 64,
        }
    }

    #[tokio::test]
    async fn vectors_come_back_in_input_order_and_unit_length() {
        // Answers out of order, as the API allows (each datum has an index).
        let body = r#"{"object":"list","data":[
            {"object":"embedding","index":1,"embedding":[0.0,3.0,4.0]},
            {"object":"embedding","index":0,"embedding":[2.0,0.0,0.0]}],
            "model":"nomic-embed-text","usage":{"prompt_tokens":4,"total_tokens":4}}"#;
        let (url, request) = serve_once("200 OK", body.into()).await;
        let embedder = RemoteEmbedder::new(config(url.clone(), 3)).unwrap();
        assert_eq!(embedder.info().id, format!("openai:{url}:nomic-embed-text"));
        let vectors = embedder
            .embed(&["first".into(), "second".into()])
            .await
            .unwrap();
        assert_eq!(vectors, vec![vec![1.0, 0.0, 0.0], vec![0.0, 0.6, 0.8]]);
        let request = request.await.unwrap();
        assert!(request.starts_with("POST /v1/embeddings"), "{request}");
        assert!(
            request.contains(r#""input":["first","second"]"#),
            "{request}"
        );
    }

    #[tokio::test]
    async fn a_wrong_dimension_or_an_error_status_is_a_clear_error() {
        let body = r#"{"data":[{"index":0,"embedding":[1.0,2.0]}]}"#;
        let (url, _) = serve_once("200 OK", body.into()).await;
        let error = RemoteEmbedder::new(config(url, 3))
            .unwrap()
            .embed(&["x".into()])
            .await
            .unwrap_err();
        assert!(
            error
                .to_string()
                .contains("returned 2 dimensions; the config says 3"),
            "{error}"
        );

        let (url, _) = serve_once(
            "500 Internal Server Error",
            r#"{"error":"model not loaded"}"#.into(),
        )
        .await;
        let error = RemoteEmbedder::new(config(url, 3))
            .unwrap()
            .embed(&["x".into()])
            .await
            .unwrap_err();
        assert!(
            error.to_string().contains("500") && error.to_string().contains("model not loaded"),
            "{error}"
        );
    }
}
