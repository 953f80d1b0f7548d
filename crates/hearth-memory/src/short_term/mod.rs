//! Per-session working memory: recent facts and scratch state that expire
//! on their own and never outgrow a fixed bound.
//!
//! - [`ShortTermMemory`] is the contract; [`Entry`] what it returns.
//! - [`LocalShortTerm`] keeps it in process (the default, one gateway).
//! - [`RedisShortTerm`] keeps it in Redis, so gateways in a cluster share it.
//! - [`ShortTermLimits`] bounds both: TTLs, entries per session, key and
//!   value sizes, sessions held in process.
//!
//! Every request is checked against the limits before anything changes, so
//! bad input gets [`ShortTermError::Invalid`] and leaves the store as it was.
//! Expired entries are dropped lazily, on access, so neither backend runs a
//! background task that shutdown would have to stop.

use std::time::Duration;

use async_trait::async_trait;
use serde::Serialize;

mod error;
mod limits;
mod local;
mod redis_backend;
mod redis_scripts;

pub use error::ShortTermError;
pub use limits::{MAX_SESSION_BYTES, ShortTermLimits};
pub use local::LocalShortTerm;
pub use redis_backend::RedisShortTerm;

#[cfg(test)]
mod suite;
#[cfg(test)]
mod tests_local;
#[cfg(test)]
mod tests_redis;

/// One session's working memory, keyed by short strings.
///
/// Sessions are opaque names (Hearth session keys such as
/// `agent:main:telegram:dm:42`); a session exists while it holds a live
/// entry. Every entry has a TTL: working memory that nobody refreshes should
/// fade, and a TTL makes that the default instead of a chore.
#[async_trait]
pub trait ShortTermMemory: Send + Sync + std::fmt::Debug {
    /// Sets `key` in `session`'s working memory, replacing any old value.
    /// `ttl` None means `limits.default_ttl`; longer than `limits.max_ttl` is
    /// shortened to it. Past `max_entries_per_session`, the session's
    /// oldest-written entry is evicted.
    async fn put(
        &self,
        session: &str,
        key: &str,
        value: &str,
        ttl: Option<Duration>,
    ) -> Result<(), ShortTermError>;

    /// The live entry under `key`, if any.
    async fn get(&self, session: &str, key: &str) -> Result<Option<Entry>, ShortTermError>;

    /// Live entries, most recently written first.
    async fn list(&self, session: &str) -> Result<Vec<Entry>, ShortTermError>;

    /// Removes `key`; true if a live entry was there.
    async fn remove(&self, session: &str, key: &str) -> Result<bool, ShortTermError>;

    /// Removes the whole session; returns how many live entries it held.
    async fn clear(&self, session: &str) -> Result<usize, ShortTermError>;

    /// Which backend this is: "memory" or "redis".
    fn backend(&self) -> &'static str;
}

/// A live entry as read back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub key: String,
    pub value: String,
    /// Milliseconds until the entry expires; at least 1 for a live entry.
    pub ttl_remaining_ms: u64,
}
