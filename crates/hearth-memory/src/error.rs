//! Errors of long-term memory. `Invalid` is the caller's fault and names
//! the field; the others are the machine's.

use crate::embed::EmbedError;

#[derive(Debug, thiserror::Error)]
pub enum MemoryError {
    #[error("invalid memory: {0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    #[error(transparent)]
    Embed(#[from] EmbedError),
    #[error("memory database: {0}")]
    Db(#[from] rusqlite::Error),
    #[error("vector index: {0}")]
    Index(String),
    #[error("{0}")]
    Io(String),
}

impl MemoryError {
    /// Whether the caller sent something wrong (as opposed to a failure
    /// here): maps to an invalid-request answer on the protocol.
    pub fn is_invalid(&self) -> bool {
        matches!(self, Self::Invalid(_) | Self::NotFound(_))
    }
}
