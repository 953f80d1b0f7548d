//! The Redis backend, for gateways in a cluster that must share working
//! memory. TTLs are Redis's own, so expiry needs no task here either.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::limits::check_session;
use super::redis_scripts::Scripts;
use super::{Entry, ShortTermError, ShortTermLimits, ShortTermMemory};

/// Bound on `connect`, and on each connection attempt and each reply after.
/// Long enough for a remote Redis under load, short enough that a gateway
/// with a wrong URL fails at startup instead of hanging.
const TIMEOUT: Duration = Duration::from_secs(3);

/// Reconnection attempts after a connection drops (and at connect), with
/// backoff from `RETRY_MIN_DELAY`. Few, because the caller gets a Backend
/// error meanwhile and can retry itself; the manager reconnects on next use.
const RETRIES: usize = 2;
const RETRY_MIN_DELAY: Duration = Duration::from_millis(100);
const RETRY_MAX_DELAY: Duration = Duration::from_secs(1);

/// Longest key prefix accepted; it is repeated in every Redis key.
const MAX_PREFIX_BYTES: usize = 64;

/// Working memory in Redis.
///
/// Layout, with session and key hex-encoded so that `:` or braces in them can
/// neither collide nor break the hash tag:
///
/// - `{prefix}:{<hex session>}:v:<hex key>`: the value, with PX ttl;
/// - `{prefix}:{<hex session>}:idx`: a sorted set of the session's hex keys,
///   scored by write order, expiring with its longest-lived value.
///
/// The only tasks involved are the redis crate's own connection tasks, which
/// end when the store (and so its `ConnectionManager`) is dropped.
pub struct RedisShortTerm {
    conn: ConnectionManager,
    prefix: String,
    limits: ShortTermLimits,
    scripts: Scripts,
    /// The URL with any password replaced, for error messages.
    shown_url: String,
}

impl fmt::Debug for RedisShortTerm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisShortTerm")
            .field("url", &self.shown_url)
            .field("prefix", &self.prefix)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl RedisShortTerm {
    /// Connects to Redis at `url`, keeping keys under `prefix`.
    ///
    /// Bad limits, prefix or URL give `Invalid` before any network use; an
    /// unreachable server gives `Backend` within about [`TIMEOUT`].
    pub async fn connect(
        url: &str,
        prefix: &str,
        limits: ShortTermLimits,
    ) -> Result<Self, ShortTermError> {
        limits.validate()?;
        check_prefix(prefix)?;
        let shown_url = redact(url);
        let client = redis::Client::open(url)
            .map_err(|e| ShortTermError::Invalid(format!("redis url {shown_url}: {e}")))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(TIMEOUT))
            .set_response_timeout(Some(TIMEOUT))
            .set_number_of_retries(RETRIES)
            .set_min_delay(RETRY_MIN_DELAY)
            .set_max_delay(RETRY_MAX_DELAY);
        let backend =
            |cause: String| ShortTermError::Backend(format!("redis at {shown_url}: {cause}"));
        let conn =
            tokio::time::timeout(TIMEOUT, ConnectionManager::new_with_config(client, config))
                .await
                .map_err(|_| backend(format!("no connection within {TIMEOUT:?}")))?
                .map_err(|e| backend(e.to_string()))?;
        Ok(Self {
            conn,
            prefix: prefix.to_owned(),
            limits,
            scripts: Scripts::new(),
            shown_url,
        })
    }

    /// The session's key base: everything before `idx` or `v:<hex key>`.
    fn session_base(&self, session: &str) -> String {
        format!("{}:{{{}}}:", self.prefix, hex(session))
    }

    fn backend_error(&self, e: redis::RedisError) -> ShortTermError {
        ShortTermError::Backend(format!("redis at {}: {e}", self.shown_url))
    }
}

#[async_trait]
impl ShortTermMemory for RedisShortTerm {
    async fn put(
        &self,
        session: &str,
        key: &str,
        value: &str,
        ttl: Option<Duration>,
    ) -> Result<(), ShortTermError> {
        let ttl = self.limits.check_put(session, key, value, ttl)?;
        let base = self.session_base(session);
        let member = hex(key);
        // PX takes whole milliseconds; round up so a tiny TTL is not zero.
        let ttl_ms = u64::try_from(ttl.as_nanos().div_ceil(1_000_000)).unwrap_or(u64::MAX);
        self.scripts
            .put
            .key(format!("{base}idx"))
            .key(format!("{base}v:{member}"))
            .arg(&member)
            .arg(value)
            .arg(ttl_ms)
            .arg(self.limits.max_entries_per_session)
            .arg(format!("{base}v:"))
            .invoke_async::<i64>(&mut self.conn.clone())
            .await
            .map_err(|e| self.backend_error(e))?;
        Ok(())
    }

    async fn get(&self, session: &str, key: &str) -> Result<Option<Entry>, ShortTermError> {
        check_session(session)?;
        self.limits.check_key(key)?;
        let base = self.session_base(session);
        let found: Option<(String, i64)> = self
            .scripts
            .get
            .key(format!("{base}v:{}", hex(key)))
            .invoke_async(&mut self.conn.clone())
            .await
            .map_err(|e| self.backend_error(e))?;
        Ok(found.map(|(value, ttl)| Entry {
            key: key.to_owned(),
            value,
            ttl_remaining_ms: remaining(ttl),
        }))
    }

    async fn list(&self, session: &str) -> Result<Vec<Entry>, ShortTermError> {
        check_session(session)?;
        let base = self.session_base(session);
        let rows: Vec<(String, String, i64)> = self
            .scripts
            .list
            .key(format!("{base}idx"))
            .arg(format!("{base}v:"))
            .invoke_async(&mut self.conn.clone())
            .await
            .map_err(|e| self.backend_error(e))?;
        rows.into_iter()
            .map(|(member, value, ttl)| {
                let key = unhex(&member).ok_or_else(|| {
                    ShortTermError::Backend(format!(
                        "redis at {}: index {base}idx holds a member that is not a hex key: {member:?}",
                        self.shown_url
                    ))
                })?;
                Ok(Entry { key, value, ttl_remaining_ms: remaining(ttl) })
            })
            .collect()
    }

    async fn remove(&self, session: &str, key: &str) -> Result<bool, ShortTermError> {
        check_session(session)?;
        self.limits.check_key(key)?;
        let base = self.session_base(session);
        let member = hex(key);
        let removed: i64 = self
            .scripts
            .remove
            .key(format!("{base}idx"))
            .key(format!("{base}v:{member}"))
            .arg(&member)
            .invoke_async(&mut self.conn.clone())
            .await
            .map_err(|e| self.backend_error(e))?;
        Ok(removed > 0)
    }

    async fn clear(&self, session: &str) -> Result<usize, ShortTermError> {
        check_session(session)?;
        let base = self.session_base(session);
        let removed: u64 = self
            .scripts
            .clear
            .key(format!("{base}idx"))
            .arg(format!("{base}v:"))
            .invoke_async(&mut self.conn.clone())
            .await
            .map_err(|e| self.backend_error(e))?;
        Ok(usize::try_from(removed).unwrap_or(usize::MAX))
    }

    fn backend(&self) -> &'static str {
        "redis"
    }
}

/// PTTL is -1 (no expiry) or -2 (gone) only if something else wrote the
/// key; a value we return is live, so report at least 1 ms.
fn remaining(pttl: i64) -> u64 {
    u64::try_from(pttl).unwrap_or(0).max(1)
}

fn check_prefix(prefix: &str) -> Result<(), ShortTermError> {
    let bad = prefix.is_empty()
        || prefix.len() > MAX_PREFIX_BYTES
        || prefix
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '{' || c == '}');
    if bad {
        return Err(ShortTermError::Invalid(format!(
            "redis prefix {prefix:?} must be 1 to {MAX_PREFIX_BYTES} bytes without spaces, \
             control characters or braces (braces would break the hash tag)"
        )));
    }
    Ok(())
}

fn hex(text: &str) -> String {
    use std::fmt::Write;
    text.bytes()
        .fold(String::with_capacity(text.len() * 2), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}

fn unhex(member: &str) -> Option<String> {
    if member.len() % 2 != 0 {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..member.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(member.get(i..i + 2)?, 16).ok())
        .collect();
    String::from_utf8(bytes?).ok()
}

/// The URL without its password: error messages end up in logs.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://***@{}", &rest[at + 1..]),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn hex_round_trips_any_text() {
        for text in ["a", "agent:main:telegram:dm:42", "{}:é", "\u{1F600}"] {
            assert_eq!(unhex(&hex(text)).as_deref(), Some(text));
        }
        assert_eq!(unhex("zz"), None);
        assert_eq!(unhex("abc"), None);
    }

    #[test]
    fn redact_hides_the_password_only() {
        assert_eq!(
            redact("redis://:s3cret@host:6379/0"),
            "redis://***@host:6379/0"
        );
        assert_eq!(redact("redis://user:pw@host"), "redis://***@host");
        assert_eq!(redact("redis://127.0.0.1:6379"), "redis://127.0.0.1:6379");
    }
}
