//! The OpenAI-compatible Chat Completions provider. One implementation
//! serves OpenAI itself and every server that copies its API: Ollama, vLLM,
//! llama.cpp server, LM Studio, DeepSeek, Qwen (DashScope), OpenRouter.
//!
//! - `config.rs`: [`OpenAiConfig`], what to connect to.
//! - `wire.rs`: the API's JSON shapes (private) and the SSE chunk decoder.
//! - `provider.rs`: [`OpenAiProvider`], request mapping and the probe.

mod config;
mod provider;
mod wire;

#[cfg(test)]
mod tests;

pub use config::OpenAiConfig;
pub use provider::OpenAiProvider;
