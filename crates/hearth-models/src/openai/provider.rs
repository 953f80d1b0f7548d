//! [`OpenAiProvider`]: sends Chat Completions requests, streams the answer,
//! and probes reachability for `hearth doctor`.

use super::config::OpenAiConfig;
use super::wire::{ChunkDecoder, PROVIDER, Request};
use crate::config::{BuildError, check_base_url, header_map};
use crate::{http_error, sse};
use async_trait::async_trait;
use hearth_core::{ChatRequest, ChatStream, ErrorKind, Provider, ProviderError};
use reqwest::header::{AUTHORIZATION, HeaderValue};

/// An OpenAI-compatible endpoint.
#[derive(Debug)]
pub struct OpenAiProvider {
    client: reqwest::Client,
    config: OpenAiConfig,
    chat_url: String,
    models_url: String,
}

impl OpenAiProvider {
    pub fn new(config: OpenAiConfig) -> Result<Self, BuildError> {
        check_base_url(&config.base_url)?;
        let mut headers = header_map(config.headers.iter().map(|(k, v)| (k, v)))?;
        if let Some(key) = &config.api_key {
            let mut value = HeaderValue::from_str(&format!("Bearer {}", key.expose()))
                .map_err(|_| BuildError::BadHeader("Authorization (api_key)".into()))?;
            value.set_sensitive(true);
            headers.insert(AUTHORIZATION, value);
        }
        let client = crate::http_client::build(headers)?;
        let base = config.base_url.trim_end_matches('/');
        Ok(Self {
            chat_url: format!("{base}/chat/completions"),
            models_url: format!("{base}/models"),
            client,
            config,
        })
    }

    pub fn config(&self) -> &OpenAiConfig {
        &self.config
    }

    fn secret(&self) -> Option<&str> {
        self.config.api_key.as_ref().map(|k| k.expose())
    }

    /// `GET {base_url}/models`: proves the server is up and the key is
    /// accepted, without spending tokens.
    pub async fn check_reachable(&self) -> Result<(), ProviderError> {
        let send = self.client.get(&self.models_url).send();
        let response = match tokio::time::timeout(self.config.timeout, send).await {
            Ok(Ok(response)) => response,
            Ok(Err(err)) => return Err(http_error::from_transport(PROVIDER, err)),
            Err(_) => {
                return Err(ProviderError::new(
                    ErrorKind::Transient,
                    format!("{PROVIDER} did not answer within {:?}", self.config.timeout),
                ));
            }
        };
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let headers = response.headers().clone();
        let body = response.text().await.unwrap_or_default();
        Err(http_error::classify(
            PROVIDER,
            status,
            &headers,
            &body,
            self.secret(),
        ))
    }
}

#[async_trait]
impl Provider for OpenAiProvider {
    fn name(&self) -> &str {
        PROVIDER
    }

    async fn chat(&self, request: ChatRequest) -> Result<ChatStream, ProviderError> {
        let model = if request.model.is_empty() {
            &self.config.model
        } else {
            &request.model
        };
        let body = Request::new(&request, model, self.config.max_tokens);
        let builder = self.client.post(&self.chat_url).json(&body);
        let secret = self.secret();
        sse::send(
            PROVIDER,
            builder,
            self.config.timeout,
            secret,
            ChunkDecoder::new(secret.map(str::to_string)),
        )
        .await
    }
}
