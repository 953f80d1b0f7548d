//! The Anthropic Messages API provider (`POST /v1/messages`, streamed).
//!
//! - `config.rs`: [`AnthropicConfig`], what to connect to.
//! - `wire.rs`: the API's JSON shapes (private), the mapping of Hearth's
//!   messages onto content blocks, and the SSE event decoder.
//! - `provider.rs`: [`AnthropicProvider`] and its reachability probe.

mod config;
mod provider;
mod wire;

#[cfg(test)]
mod tests;

pub use config::AnthropicConfig;
pub use provider::AnthropicProvider;
