//! The one error type every short-term memory backend returns.

/// Why a short-term memory call failed.
///
/// The split matters to callers: `Invalid` means "fix the request" and is
/// never worth retrying; `Backend` means the store itself is unwell and the
/// same request may succeed later.
#[derive(Debug, thiserror::Error)]
pub enum ShortTermError {
    /// The session, key, value, ttl or limits break a rule; the message
    /// names the field and the limit. Nothing was changed.
    #[error("invalid short-term memory request: {0}")]
    Invalid(String),
    /// The backing store failed, e.g. "redis at redis://127.0.0.1:6379:
    /// connection refused". Whether the write happened is unknown.
    #[error("short-term memory backend failed: {0}")]
    Backend(String),
}
