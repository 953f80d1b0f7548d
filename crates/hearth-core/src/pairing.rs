//! Durable state behind the direct-message access policy: senders an
//! operator approved, and pending pairing codes.
//!
//! The default policy answers an unknown sender with a short code instead
//! of the assistant; the operator approves the code (`hearth pairing
//! approve <channel> <code>` or the `pairing.approve` control method) and
//! the sender is allowed from then on. Codes expire and each channel holds
//! only a few at once, so strangers cannot fill the table.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::{Sender, StoreError};

/// A code waiting for the operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PairingRequest {
    pub channel: String,
    pub sender: Sender,
    pub code: String,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
}

/// A sender allowed on a channel by an operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApprovedSender {
    pub channel: String,
    pub sender: Sender,
    pub approved_at_ms: i64,
    pub approved_by: String,
}

/// The outcome of asking for a code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PairingOutcome {
    /// A new code was stored; tell the sender.
    Created(PairingRequest),
    /// The sender already has a live code (it is not re-sent each message).
    Existing(PairingRequest),
    /// The channel already holds its maximum of live codes.
    TooMany,
}

#[async_trait]
pub trait PairingStore: Send + Sync + 'static {
    async fn is_approved(&self, channel: &str, sender_id: &str) -> Result<bool, StoreError>;

    /// Stores `code` for the sender unless they hold a live one or the
    /// channel already has `max_pending` live codes. Expired codes are
    /// dropped first.
    async fn request_pairing(
        &self,
        channel: &str,
        sender: &Sender,
        code: &str,
        now_ms: i64,
        ttl_ms: i64,
        max_pending: usize,
    ) -> Result<PairingOutcome, StoreError>;

    /// Approves the live code (case-insensitive) and allows its sender.
    /// `None` if there is no such live code on the channel.
    async fn approve_pairing(
        &self,
        channel: &str,
        code: &str,
        approved_by: &str,
        now_ms: i64,
    ) -> Result<Option<ApprovedSender>, StoreError>;

    /// Live codes, oldest first; all channels when `channel` is `None`.
    async fn pairing_requests(
        &self,
        channel: Option<&str>,
        now_ms: i64,
    ) -> Result<Vec<PairingRequest>, StoreError>;

    async fn approved_senders(
        &self,
        channel: Option<&str>,
    ) -> Result<Vec<ApprovedSender>, StoreError>;

    /// Withdraws an approval. False if the sender was not approved.
    async fn revoke_sender(&self, channel: &str, sender_id: &str) -> Result<bool, StoreError>;
}
