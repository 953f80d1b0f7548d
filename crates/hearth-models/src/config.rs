//! The `[models.<name>]` configuration entry, its pure validation, and the
//! build step that turns it into a runnable [`ModelEntry`].
//!
//! Validation never touches a file, the environment or the network, so
//! `hearth config check` and hot reload can reject a bad file without side
//! effects; [`ModelConfig::build`] then reads the API key's environment
//! variable and creates the HTTP client.

use crate::anthropic::{AnthropicConfig, AnthropicProvider};
use crate::echo::EchoProvider;
use crate::openai::{OpenAiConfig, OpenAiProvider};
use hearth_core::{Provider, ProviderError};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Which API a model speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// OpenAI Chat Completions and every server that copies it (Ollama,
    /// vLLM, llama.cpp server, LM Studio, DeepSeek, Qwen, OpenRouter).
    Openai,
    /// The Anthropic Messages API.
    Anthropic,
    /// The built-in echo provider, for benchmarks and tests only.
    Echo,
    /// A GGUF model run in-process by the embedded engine. `model` names a
    /// model in the model store (`hearth models list`) or a `.gguf` path.
    /// Built by the `hearth` binary, which owns the engine.
    Embedded,
}

impl ProviderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::Openai => "openai",
            ProviderKind::Anthropic => "anthropic",
            ProviderKind::Echo => "echo",
            ProviderKind::Embedded => "embedded",
        }
    }
}

/// An API key. Its `Debug` output is redacted so a logged config never
/// shows it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey([redacted])")
    }
}

/// One `[models.<name>]` table.
///
/// ```toml
/// [models.fast]
/// provider = "openai"
/// base_url = "http://127.0.0.1:11434/v1"   # Ollama
/// model = "llama3.2"
///
/// [models.smart]
/// provider = "anthropic"
/// model = "claude-sonnet-4-5"
/// api_key_env = "ANTHROPIC_API_KEY"
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// `"openai"`, `"anthropic"` or `"echo"`.
    pub provider: ProviderKind,
    /// The provider's own model name (`gpt-4o-mini`, `llama3.2`,
    /// `claude-sonnet-4-5`). Required except for `echo`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub model: String,
    /// API root. Defaults: `https://api.openai.com/v1` for `openai`,
    /// `https://api.anthropic.com` for `anthropic`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// The key itself. Prefer `api_key_env`; at most one of the two.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<ApiKey>,
    /// Name of an environment variable holding the key, read at build time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_env: Option<String>,
    /// Seconds to wait for the first streamed event of an attempt
    /// (connection, queueing and prompt processing). Default 120: a local
    /// model on a small CPU can take that long on a long prompt.
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
    /// Seconds allowed between two streamed events once the answer has
    /// started. Default 60.
    #[serde(default = "default_idle_timeout_secs")]
    pub idle_timeout_secs: u64,
    /// Retries on this model for rate limits, overload and network errors
    /// before falling back to the next model. Default 2.
    #[serde(default = "default_max_retries")]
    pub max_retries: u32,
    /// Answer length cap when the request sets none. Anthropic requires
    /// one (default 4096); others default to the server's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// Extra HTTP headers sent with every request (e.g. OpenRouter's
    /// `HTTP-Referer`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// `[models.<name>.engine]`, for `provider = "embedded"` only: threads,
    /// slots, context, sampling. Checked by the binary, which knows the
    /// engine's settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine: Option<serde_json::Value>,
}

fn default_timeout_secs() -> u64 {
    120
}
fn default_idle_timeout_secs() -> u64 {
    60
}
fn default_max_retries() -> u32 {
    2
}

/// The most retries one model may be configured for: beyond this a
/// failing model only delays the fallback.
const MAX_RETRIES_LIMIT: u32 = 10;

impl ModelConfig {
    /// A config with every default, for `provider` and `model`.
    pub fn new(provider: ProviderKind, model: impl Into<String>) -> Self {
        Self {
            provider,
            model: model.into(),
            base_url: None,
            api_key: None,
            api_key_env: None,
            timeout_secs: default_timeout_secs(),
            idle_timeout_secs: default_idle_timeout_secs(),
            max_retries: default_max_retries(),
            max_tokens: None,
            headers: BTreeMap::new(),
            engine: None,
        }
    }

    /// The router's time limits for this model.
    pub fn limits(&self) -> AttemptLimits {
        AttemptLimits {
            timeout: Duration::from_secs(self.timeout_secs),
            idle_timeout: Duration::from_secs(self.idle_timeout_secs),
            max_retries: self.max_retries,
        }
    }

    /// Checks the entry without any IO.
    pub fn validate(&self) -> Result<(), BuildError> {
        if self.provider != ProviderKind::Echo && self.model.trim().is_empty() {
            return Err(BuildError::MissingModel);
        }
        if self.engine.is_some() && self.provider != ProviderKind::Embedded {
            return Err(BuildError::EngineTable);
        }
        if self.api_key.is_some() && self.api_key_env.is_some() {
            return Err(BuildError::TwoKeys);
        }
        if let Some(var) = &self.api_key_env
            && (var.is_empty() || var.contains('='))
        {
            return Err(BuildError::BadKeyEnv(var.clone()));
        }
        if self.provider == ProviderKind::Anthropic
            && self.api_key.is_none()
            && self.api_key_env.is_none()
        {
            return Err(BuildError::MissingApiKey);
        }
        if self.timeout_secs == 0 {
            return Err(BuildError::Zero("timeout_secs"));
        }
        if self.idle_timeout_secs == 0 {
            return Err(BuildError::Zero("idle_timeout_secs"));
        }
        if self.max_retries > MAX_RETRIES_LIMIT {
            return Err(BuildError::TooManyRetries(self.max_retries));
        }
        if self.max_tokens == Some(0) {
            return Err(BuildError::ZeroMaxTokens);
        }
        if let Some(url) = &self.base_url {
            check_base_url(url)?;
        }
        header_map(&self.headers)?;
        Ok(())
    }

    /// Validates, resolves the API key and builds the provider. `name` is
    /// the table's name (`[models.<name>]`).
    pub fn build(&self, name: &str) -> Result<ModelEntry, BuildError> {
        self.build_with_env(name, |var| std::env::var(var).ok())
    }

    /// [`ModelConfig::build`] with an injected environment lookup, for tests
    /// and for callers that keep secrets elsewhere.
    pub fn build_with_env(
        &self,
        name: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<ModelEntry, BuildError> {
        self.validate()?;
        let api_key = match (&self.api_key, &self.api_key_env) {
            (Some(key), _) => Some(key.clone()),
            (None, Some(var)) => match env(var) {
                Some(key) if !key.trim().is_empty() => Some(ApiKey::new(key.trim())),
                _ => return Err(BuildError::KeyEnvUnset(var.clone())),
            },
            (None, None) => None,
        };
        let timeout = Duration::from_secs(self.timeout_secs);
        let headers = self
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let backend = match self.provider {
            ProviderKind::Openai => {
                let mut config = OpenAiConfig::new(
                    self.base_url
                        .as_deref()
                        .unwrap_or(OpenAiConfig::DEFAULT_BASE_URL),
                    &self.model,
                );
                config.api_key = api_key;
                config.timeout = timeout;
                config.max_tokens = self.max_tokens;
                config.headers = headers;
                Backend::Openai(Arc::new(OpenAiProvider::new(config)?))
            }
            ProviderKind::Anthropic => {
                let key = api_key.ok_or(BuildError::MissingApiKey)?;
                let mut config = AnthropicConfig::new(
                    self.base_url
                        .as_deref()
                        .unwrap_or(AnthropicConfig::DEFAULT_BASE_URL),
                    key,
                    &self.model,
                );
                config.timeout = timeout;
                if let Some(max) = self.max_tokens {
                    config.max_tokens = max;
                }
                config.headers = headers;
                Backend::Anthropic(Arc::new(AnthropicProvider::new(config)?))
            }
            ProviderKind::Echo => Backend::Echo(Arc::new(EchoProvider::new())),
            ProviderKind::Embedded => return Err(BuildError::Embedded),
        };
        Ok(ModelEntry {
            name: name.to_string(),
            kind: self.provider.as_str().to_string(),
            model: self.model.clone(),
            limits: AttemptLimits {
                timeout,
                idle_timeout: Duration::from_secs(self.idle_timeout_secs),
                max_retries: self.max_retries,
            },
            backend,
        })
    }
}

/// A configuration error, found by [`ModelConfig::validate`] or at build.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    #[error("`model` is required")]
    MissingModel,
    #[error("set `api_key` or `api_key_env`, not both")]
    TwoKeys,
    #[error("an API key is required: set `api_key_env` (or `api_key`)")]
    MissingApiKey,
    #[error("`api_key_env` {0:?} is not a valid variable name")]
    BadKeyEnv(String),
    #[error("environment variable {0} (from `api_key_env`) is not set")]
    KeyEnvUnset(String),
    #[error("`{0}` must be at least 1")]
    Zero(&'static str),
    #[error("`max_retries` = {0} is more than the limit of {MAX_RETRIES_LIMIT}")]
    TooManyRetries(u32),
    #[error("`max_tokens` must be at least 1")]
    ZeroMaxTokens,
    #[error("an `engine` table is only for `provider = \"embedded\"`")]
    EngineTable,
    #[error("embedded models are built by the hearth binary, not by ModelConfig::build")]
    Embedded,
    #[error("`base_url` {url:?} is invalid: {reason}")]
    BadBaseUrl { url: String, reason: String },
    #[error("header {0:?} is not a valid HTTP header")]
    BadHeader(String),
    #[error("cannot create the HTTP client: {0}")]
    Client(String),
    #[error("model {0:?} is defined twice")]
    DuplicateModel(String),
    #[error("`backoff_max_ms` must not be less than `backoff_base_ms`")]
    BackoffOrder,
    #[error("[models.{name}]: {error}")]
    InModel {
        name: String,
        error: Box<BuildError>,
    },
}

impl BuildError {
    /// Names the `[models.<name>]` table the error is in.
    pub fn in_model(self, name: &str) -> BuildError {
        BuildError::InModel {
            name: name.to_string(),
            error: Box::new(self),
        }
    }
}

pub(crate) fn check_base_url(url: &str) -> Result<(), BuildError> {
    let bad = |reason: &str| BuildError::BadBaseUrl {
        url: url.to_string(),
        reason: reason.to_string(),
    };
    let parsed = reqwest::Url::parse(url).map_err(|e| bad(&e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(bad("the scheme must be http or https"));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(bad("it must not have a query or fragment"));
    }
    Ok(())
}

pub(crate) fn header_map<'a>(
    headers: impl IntoIterator<Item = (&'a String, &'a String)>,
) -> Result<HeaderMap, BuildError> {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        let bad = || BuildError::BadHeader(name.clone());
        let name_h = HeaderName::from_bytes(name.as_bytes()).map_err(|_| bad())?;
        let mut value_h = HeaderValue::from_str(value).map_err(|_| bad())?;
        // Extra headers may carry tokens (proxies, gateways).
        value_h.set_sensitive(true);
        map.insert(name_h, value_h);
    }
    Ok(map)
}

/// The time limits of one attempt on one model, enforced by the router.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttemptLimits {
    /// Until the first streamed event.
    pub timeout: Duration,
    /// Between two events after the first.
    pub idle_timeout: Duration,
    /// Retries of retryable errors before falling back.
    pub max_retries: u32,
}

impl Default for AttemptLimits {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(default_timeout_secs()),
            idle_timeout: Duration::from_secs(default_idle_timeout_secs()),
            max_retries: default_max_retries(),
        }
    }
}

/// A built model: a named provider with its model name and limits, ready to
/// be registered in a [`crate::Router`].
#[derive(Clone)]
pub struct ModelEntry {
    name: String,
    kind: String,
    model: String,
    limits: AttemptLimits,
    backend: Backend,
}

/// The concrete provider, kept so [`ModelEntry::check_reachable`] can use
/// each API's own probe.
#[derive(Clone)]
enum Backend {
    Openai(Arc<OpenAiProvider>),
    Anthropic(Arc<AnthropicProvider>),
    Echo(Arc<EchoProvider>),
    Custom(Arc<dyn Provider>),
}

impl ModelEntry {
    /// An entry around any provider (the embedded engine, a test fake).
    /// `model` is passed to it as [`hearth_core::ChatRequest::model`].
    pub fn new(
        name: impl Into<String>,
        provider: Arc<dyn Provider>,
        model: impl Into<String>,
        limits: AttemptLimits,
    ) -> Self {
        Self {
            name: name.into(),
            kind: provider.name().to_string(),
            model: model.into(),
            limits,
            backend: Backend::Custom(provider),
        }
    }

    /// The `[models.<name>]` name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The provider kind (`openai`, `anthropic`, `echo`, or a custom
    /// provider's [`Provider::name`]).
    pub fn provider_kind(&self) -> &str {
        &self.kind
    }

    /// The provider's model name.
    pub fn model(&self) -> &str {
        &self.model
    }

    pub fn limits(&self) -> AttemptLimits {
        self.limits
    }

    pub fn provider(&self) -> Arc<dyn Provider> {
        match &self.backend {
            Backend::Openai(p) => p.clone(),
            Backend::Anthropic(p) => p.clone(),
            Backend::Echo(p) => p.clone(),
            Backend::Custom(p) => p.clone(),
        }
    }

    /// A cheap reachability probe for `hearth doctor`: no tokens are spent.
    /// Custom providers are assumed reachable.
    pub async fn check_reachable(&self) -> Result<(), ProviderError> {
        match &self.backend {
            Backend::Openai(p) => p.check_reachable().await,
            Backend::Anthropic(p) => p.check_reachable().await,
            Backend::Echo(_) | Backend::Custom(_) => Ok(()),
        }
    }
}

impl fmt::Debug for ModelEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ModelEntry")
            .field("name", &self.name)
            .field("provider", &self.kind)
            .field("model", &self.model)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<ModelConfig, String> {
        // The binary embeds these tables in TOML; serde_json is enough to
        // pin the field names and defaults without a toml dependency here.
        serde_json::from_str(json).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_and_field_names() {
        let c = parse(
            r#"{"provider":"openai","model":"llama3.2","base_url":"http://127.0.0.1:11434/v1"}"#,
        )
        .unwrap();
        assert_eq!(c.provider, ProviderKind::Openai);
        assert_eq!(c.timeout_secs, 120);
        assert_eq!(c.idle_timeout_secs, 60);
        assert_eq!(c.max_retries, 2);
        assert!(c.validate().is_ok());
        let back: ModelConfig = serde_json::from_value(serde_json::to_value(&c).unwrap()).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let err = parse(r#"{"provider":"openai","model":"m","temprature":1}"#).unwrap_err();
        assert!(err.contains("temprature"), "{err}");
        assert!(parse(r#"{"provider":"gemini","model":"m"}"#).is_err());
    }

    #[test]
    fn validation_catches_mistakes_without_io() {
        let ok = ModelConfig::new(ProviderKind::Openai, "m");
        let cases: Vec<(ModelConfig, BuildError)> = vec![
            (
                ModelConfig::new(ProviderKind::Openai, " "),
                BuildError::MissingModel,
            ),
            (
                ModelConfig {
                    api_key: Some(ApiKey::new("k")),
                    api_key_env: Some("K".into()),
                    ..ok.clone()
                },
                BuildError::TwoKeys,
            ),
            (
                ModelConfig::new(ProviderKind::Anthropic, "claude"),
                BuildError::MissingApiKey,
            ),
            (
                ModelConfig {
                    timeout_secs: 0,
                    ..ok.clone()
                },
                BuildError::Zero("timeout_secs"),
            ),
            (
                ModelConfig {
                    max_retries: 99,
                    ..ok.clone()
                },
                BuildError::TooManyRetries(99),
            ),
            (
                ModelConfig {
                    headers: [("bad header".to_string(), "v".to_string())].into(),
                    ..ok.clone()
                },
                BuildError::BadHeader("bad header".into()),
            ),
        ];
        for (config, want) in cases {
            assert_eq!(config.validate(), Err(want));
        }
        let ftp = ModelConfig {
            base_url: Some("ftp://host/v1".into()),
            ..ok.clone()
        };
        assert!(matches!(ftp.validate(), Err(BuildError::BadBaseUrl { .. })));
        assert!(ModelConfig::new(ProviderKind::Echo, "").validate().is_ok());
    }

    #[test]
    fn build_reads_the_key_from_the_injected_env() {
        let config = ModelConfig {
            api_key_env: Some("HEARTH_TEST_KEY".into()),
            ..ModelConfig::new(ProviderKind::Anthropic, "claude")
        };
        let err = config.build_with_env("smart", |_| None).unwrap_err();
        assert_eq!(err, BuildError::KeyEnvUnset("HEARTH_TEST_KEY".into()));
        let entry = config
            .build_with_env("smart", |v| (v == "HEARTH_TEST_KEY").then(|| "sk-1".into()))
            .unwrap();
        assert_eq!(entry.name(), "smart");
        assert_eq!(entry.provider_kind(), "anthropic");
        assert_eq!(entry.model(), "claude");
        assert_eq!(entry.provider().name(), "anthropic");
    }

    #[test]
    fn api_keys_never_show_in_debug_output() {
        let config = ModelConfig {
            api_key: Some(ApiKey::new("sk-very-secret")),
            ..ModelConfig::new(ProviderKind::Openai, "m")
        };
        assert!(!format!("{config:?}").contains("sk-very-secret"));
        let entry = config.build("x").unwrap();
        assert!(!format!("{entry:?}").contains("sk-very-secret"));
    }
}
