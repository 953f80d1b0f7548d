//! The delivery half of a chat channel. Receiving is adapter-specific (a
//! webhook, a socket, a poll loop) and ends in `Store::accept`; sending is
//! the same for all, so it is the trait.

use crate::OutboundMessage;
use async_trait::async_trait;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ChannelError {
    /// Worth retrying later (network, 5xx, rate limit).
    #[error("temporary delivery failure: {message}")]
    Transient {
        message: String,
        retry_after: Option<Duration>,
    },
    /// Retrying cannot help (target gone, message rejected); the outbox
    /// records it as failed.
    #[error("permanent delivery failure: {0}")]
    Permanent(String),
}

/// Sends replies to one platform. Implementations must pass
/// `OutboundMessage::idempotency_key` to the platform where it has such a
/// notion, since the outbox retries after a crash between send and commit.
#[async_trait]
pub trait Channel: Send + Sync + 'static {
    /// The name inbound messages carry in `InboundMessage::channel`.
    fn name(&self) -> &str;

    async fn send(&self, message: &OutboundMessage) -> Result<(), ChannelError>;

    /// True for channels whose clients read replies from the store (the
    /// gateway's own WebSocket and HTTP clients): committing the reply *is*
    /// delivering it, so no separate send or outbox round trip is needed.
    fn delivers_on_commit(&self) -> bool {
        false
    }
}
