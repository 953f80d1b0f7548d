//! What the Anthropic provider connects to, and its request defaults.

use crate::config::ApiKey;
use std::time::Duration;

/// Settings of the Anthropic Messages API.
#[derive(Debug, Clone, PartialEq)]
pub struct AnthropicConfig {
    /// API root; `/v1/messages` is appended.
    pub base_url: String,
    /// Sent as `x-api-key`.
    pub api_key: ApiKey,
    /// Used when a request leaves [`hearth_core::ChatRequest::model`] empty.
    pub model: String,
    /// The API requires `max_tokens` on every request; this is sent when the
    /// request sets none.
    pub max_tokens: u32,
    /// Sent as `anthropic-version`.
    pub version: String,
    /// Bound on connecting and receiving the response headers (the streamed
    /// body is bounded by the router's idle timeout instead).
    pub timeout: Duration,
    /// Extra headers for every request (e.g. `anthropic-beta`).
    pub headers: Vec<(String, String)>,
}

impl AnthropicConfig {
    pub const DEFAULT_BASE_URL: &'static str = "https://api.anthropic.com";
    pub const DEFAULT_VERSION: &'static str = "2023-06-01";
    pub const DEFAULT_MAX_TOKENS: u32 = 4096;

    pub fn new(base_url: impl Into<String>, api_key: ApiKey, model: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            api_key,
            model: model.into(),
            max_tokens: Self::DEFAULT_MAX_TOKENS,
            version: Self::DEFAULT_VERSION.into(),
            timeout: Duration::from_secs(120),
            headers: Vec::new(),
        }
    }
}
