//! What an OpenAI-compatible provider connects to and how long it waits.

use crate::config::ApiKey;
use std::time::Duration;

/// Settings of one OpenAI-compatible endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenAiConfig {
    /// API root that `/chat/completions` and `/models` hang off, e.g.
    /// `https://api.openai.com/v1` or `http://127.0.0.1:11434/v1` (Ollama).
    pub base_url: String,
    /// Sent as `Authorization: Bearer`. Local servers usually need none.
    pub api_key: Option<ApiKey>,
    /// Used when a request leaves [`hearth_core::ChatRequest::model`] empty.
    pub model: String,
    /// Bound on connecting and receiving the response headers. The body is
    /// not bounded: an answer may stream for minutes (the router bounds the
    /// gaps between events instead).
    pub timeout: Duration,
    /// Sent as `max_tokens` when the request sets none.
    pub max_tokens: Option<u32>,
    /// Extra headers for every request (OpenRouter's `HTTP-Referer`,
    /// a proxy's token).
    pub headers: Vec<(String, String)>,
}

impl OpenAiConfig {
    pub const DEFAULT_BASE_URL: &'static str = "https://api.openai.com/v1";

    pub fn new(base_url: impl Into<String>, model: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            api_key: None,
            model: model.into(),
            timeout: Duration::from_secs(120),
            max_tokens: None,
            headers: Vec::new(),
        }
    }
}
