//! [`AnthropicProvider`]: sends Messages API requests, streams the answer,
//! and probes reachability for `hearth doctor`.

use super::config::AnthropicConfig;
use super::wire::{EventDecoder, PROVIDER, Request};
use crate::config::{BuildError, check_base_url, header_map};
use crate::{http_error, sse};
use async_trait::async_trait;
use hearth_core::{ChatRequest, ChatStream, ErrorKind, Provider, ProviderError};
use reqwest::header::{HeaderName, HeaderValue};

/// The Anthropic Messages API.
#[derive(Debug)]
pub struct AnthropicProvider {
    client: reqwest::Client,
    config: AnthropicConfig,
    messages_url: String,
    models_url: String,
}

impl AnthropicProvider {
    pub fn new(config: AnthropicConfig) -> Result<Self, BuildError> {
        check_base_url(&config.base_url)?;
        let mut headers = header_map(config.headers.iter().map(|(k, v)| (k, v)))?;
        let mut key = HeaderValue::from_str(config.api_key.expose())
            .map_err(|_| BuildError::BadHeader("x-api-key (api_key)".into()))?;
        key.set_sensitive(true);
        headers.insert(HeaderName::from_static("x-api-key"), key);
        headers.insert(
            HeaderName::from_static("anthropic-version"),
            HeaderValue::from_str(&config.version)
                .map_err(|_| BuildError::BadHeader("anthropic-version".into()))?,
        );
        let client = crate::http_client::build(headers)?;
        let base = config.base_url.trim_end_matches('/');
        Ok(Self {
            messages_url: format!("{base}/v1/messages"),
            models_url: format!("{base}/v1/models"),
            client,
            config,
        })
    }

    pub fn config(&self) -> &AnthropicConfig {
        &self.config
    }

    /// `GET {base_url}/v1/models`. Any HTTP answer (even 401) proves the
    /// endpoint is reachable; only transport failures and timeouts count as
    /// unreachable.
    pub async fn check_reachable(&self) -> Result<(), ProviderError> {
        let send = self.client.get(&self.models_url).send();
        match tokio::time::timeout(self.config.timeout, send).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(err)) => Err(http_error::from_transport(PROVIDER, err)),
            Err(_) => Err(ProviderError::new(
                ErrorKind::Transient,
                format!("{PROVIDER} did not answer within {:?}", self.config.timeout),
            )),
        }
    }
}

#[async_trait]
impl Provider for AnthropicProvider {
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
        let builder = self.client.post(&self.messages_url).json(&body);
        let secret = self.config.api_key.expose();
        sse::send(
            PROVIDER,
            builder,
            self.config.timeout,
            Some(secret),
            EventDecoder::new(Some(secret.to_string())),
        )
        .await
    }
}
