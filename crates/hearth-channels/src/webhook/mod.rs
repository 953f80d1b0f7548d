//! A generic webhook: any system that can send a signed HTTP POST talks
//! to the assistant. Requests arrive at `POST /hooks/<channel>` on the
//! gateway's port, signed with HMAC-SHA256 over `<timestamp>.<body>`;
//! the reply is the response to the request, or a signed POST to a
//! callback URL.
//!
//! - `config.rs`: `[channels.<name>]` with `type = "webhook"`.
//! - `wire.rs`: bodies and signatures (private).
//! - `adapter.rs`: verify, normalize, wait or call back.

mod adapter;
mod config;
mod wire;

#[cfg(test)]
mod tests;

pub use adapter::WebhookChannel;
pub use config::WebhookConfig;

/// Signs `body` as the channel expects (`X-Hearth-Signature`), for
/// clients written in Rust and for tests.
pub fn signature(secret: &str, timestamp: &str, body: &[u8]) -> String {
    wire::sign(secret, timestamp, body)
}
