//! The size and time bounds of working memory, and the pure checks of every
//! request against them.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::ShortTermError;

/// Longest session name accepted. Hearth session keys are a few dozen bytes;
/// the bound keeps one bad caller from making huge map or Redis keys.
pub const MAX_SESSION_BYTES: usize = 512;

// Ceilings on the limits themselves: working memory is for a few recent
// facts, not a blob store. They also keep the per-session linear scans
// (eviction, listing) cheap and a Redis script call small.
const CEILING_ENTRIES_PER_SESSION: usize = 10_000;
const CEILING_KEY_BYTES: usize = 1024;
const CEILING_VALUE_BYTES: usize = 1024 * 1024;
const CEILING_SESSIONS: usize = 1_000_000;
const CEILING_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

/// Bounds on one store's working memory. Check with [`validate`] before use;
/// every constructor does.
///
/// [`validate`]: ShortTermLimits::validate
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ShortTermLimits {
    /// TTL of an entry written without one (config: `default_ttl_ms`; 1 h).
    #[serde(rename = "default_ttl_ms", with = "millis")]
    pub default_ttl: Duration,
    /// Longest TTL kept; longer requests are shortened to it
    /// (config: `max_ttl_ms`; 24 h).
    #[serde(rename = "max_ttl_ms", with = "millis")]
    pub max_ttl: Duration,
    /// Live entries per session; writing one more evicts the oldest-written (32).
    pub max_entries_per_session: usize,
    /// Longest key in bytes (128).
    pub max_key_bytes: usize,
    /// Longest value in bytes (4 KiB).
    pub max_value_bytes: usize,
    /// Sessions held in process; one more evicts the least recently used
    /// (1024; with the other defaults at most 128 MiB of values in the
    /// worst case). Redis bounds itself with TTLs and its own maxmemory.
    pub max_sessions: usize,
}

impl Default for ShortTermLimits {
    fn default() -> Self {
        Self {
            default_ttl: Duration::from_secs(3600),
            max_ttl: Duration::from_secs(24 * 3600),
            max_entries_per_session: 32,
            max_key_bytes: 128,
            max_value_bytes: 4 * 1024,
            max_sessions: 1024,
        }
    }
}

impl ShortTermLimits {
    /// Checks the limits without touching any store, so config checks and
    /// reloads can reject them with no side effect.
    pub fn validate(&self) -> Result<(), ShortTermError> {
        let ttl_ms = |d: Duration| d.as_millis();
        if self.max_ttl.is_zero() || self.max_ttl > CEILING_TTL {
            return Err(invalid(format!(
                "limits.max_ttl_ms is {}; it must be between 1 and {}",
                ttl_ms(self.max_ttl),
                ttl_ms(CEILING_TTL)
            )));
        }
        if self.default_ttl.is_zero() || self.default_ttl > self.max_ttl {
            return Err(invalid(format!(
                "limits.default_ttl_ms is {}; it must be between 1 and limits.max_ttl_ms ({})",
                ttl_ms(self.default_ttl),
                ttl_ms(self.max_ttl)
            )));
        }
        let counts = [
            (
                "max_entries_per_session",
                self.max_entries_per_session,
                CEILING_ENTRIES_PER_SESSION,
            ),
            ("max_key_bytes", self.max_key_bytes, CEILING_KEY_BYTES),
            ("max_value_bytes", self.max_value_bytes, CEILING_VALUE_BYTES),
            ("max_sessions", self.max_sessions, CEILING_SESSIONS),
        ];
        for (name, value, ceiling) in counts {
            if value == 0 || value > ceiling {
                return Err(invalid(format!(
                    "limits.{name} is {value}; it must be between 1 and {ceiling}"
                )));
            }
        }
        Ok(())
    }

    /// The TTL a write gets: the default when none is asked for, never more
    /// than `max_ttl`. A zero TTL is refused rather than read as "forever"
    /// or "already gone".
    pub fn effective_ttl(&self, ttl: Option<Duration>) -> Result<Duration, ShortTermError> {
        match ttl {
            None => Ok(self.default_ttl),
            Some(ttl) if ttl.is_zero() => Err(invalid("ttl is zero; it must be positive".into())),
            Some(ttl) => Ok(ttl.min(self.max_ttl)),
        }
    }

    /// Checks a key against `max_key_bytes`.
    pub(super) fn check_key(&self, key: &str) -> Result<(), ShortTermError> {
        check_name("key", key, self.max_key_bytes, "limits.max_key_bytes")
    }

    /// Checks a value against `max_value_bytes`; an empty value is allowed.
    pub(super) fn check_value(&self, value: &str) -> Result<(), ShortTermError> {
        if value.len() > self.max_value_bytes {
            return Err(invalid(format!(
                "value is {} bytes; limits.max_value_bytes is {}",
                value.len(),
                self.max_value_bytes
            )));
        }
        Ok(())
    }

    /// Checks everything a write carries and returns the TTL to apply, so a
    /// backend can do all its checks before it changes anything.
    pub(super) fn check_put(
        &self,
        session: &str,
        key: &str,
        value: &str,
        ttl: Option<Duration>,
    ) -> Result<Duration, ShortTermError> {
        check_session(session)?;
        self.check_key(key)?;
        self.check_value(value)?;
        self.effective_ttl(ttl)
    }
}

/// Checks a session name: sessions are opaque, but must be non-empty,
/// at most [`MAX_SESSION_BYTES`], and free of control characters (they end
/// up in logs and Redis keys).
pub(super) fn check_session(session: &str) -> Result<(), ShortTermError> {
    check_name("session", session, MAX_SESSION_BYTES, "the session limit")
}

fn check_name(field: &str, name: &str, max: usize, limit: &str) -> Result<(), ShortTermError> {
    if name.is_empty() {
        return Err(invalid(format!("{field} is empty")));
    }
    if name.len() > max {
        return Err(invalid(format!(
            "{field} is {} bytes; {limit} is {max}",
            name.len()
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(invalid(format!(
            "{field} {name:?} contains a control character"
        )));
    }
    Ok(())
}

fn invalid(message: String) -> ShortTermError {
    ShortTermError::Invalid(message)
}

/// Durations as whole milliseconds in config: one number with its unit in
/// the field name reads better than serde's `{secs, nanos}`.
mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}
