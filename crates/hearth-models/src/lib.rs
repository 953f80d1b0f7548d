//! Hearth's remote model providers and the router that spreads an agent's
//! calls over them.
//!
//! How a call flows:
//!
//! ```text
//! agent ──ChatRequest──▶ Route (router/route.rs)
//!          for each model in [primary, fallbacks...]:
//!            breaker allows? (router/breaker.rs)
//!            Provider::chat ──HTTP──▶ openai/ | anthropic/ | echo.rs
//!              non-2xx ──▶ http_error.rs classifies (Auth, RateLimited, ...)
//!              2xx SSE ──▶ sse.rs drives the provider's decoder (wire.rs)
//!            retry with backoff / next model / give up
//!        ◀──ChatEvent stream── (first event seen: no more retries)
//! ```
//!
//! The parts:
//! - [`config`]: [`ModelConfig`], one `[models.<name>]` table; pure
//!   [`ModelConfig::validate`], then [`ModelConfig::build`] into a
//!   [`ModelEntry`] (a provider plus its limits and reachability probe).
//! - [`router`]: [`Router`], the registry of named models with their circuit
//!   breakers; [`Router::route`] gives an agent a [`Route`] (primary +
//!   fallbacks) that is itself a [`hearth_core::Provider`].
//! - [`openai`]: OpenAI-compatible Chat Completions (OpenAI, Ollama, vLLM,
//!   llama.cpp server, LM Studio, DeepSeek, Qwen, OpenRouter).
//! - [`anthropic`]: the Anthropic Messages API.
//! - [`echo`]: a mirror provider for benchmarks and tests only.
//! - `http_error` and `sse` (private): error classification and SSE stream
//!   driving shared by the HTTP providers.
//!
//! **API boundary:** each API's JSON types stay private to its module
//! (`wire.rs`); callers see only `hearth_core` types and this crate's
//! configuration and router types.

pub mod anthropic;
pub mod config;
pub mod echo;
mod http_client;
mod http_error;
pub mod openai;
pub mod router;
mod sse;

#[cfg(test)]
mod testing;

pub use anthropic::{AnthropicConfig, AnthropicProvider};
pub use config::{ApiKey, AttemptLimits, BuildError, ModelConfig, ModelEntry, ProviderKind};
pub use echo::EchoProvider;
pub use openai::{OpenAiConfig, OpenAiProvider};
pub use router::{BreakerState, ModelInfo, Route, Routed, Router, RouterSettings, UnknownModel};
