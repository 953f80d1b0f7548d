//! Shared-token authentication with a constant-time comparison and a
//! per-address limit on failures, so a token cannot be guessed by timing or
//! by brute force.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use subtle::ConstantTimeEq;

/// Failures allowed per address within [`FAILURE_WINDOW`] before it is
/// locked out for [`LOCKOUT`].
pub const MAX_FAILURES: u32 = 10;
pub const FAILURE_WINDOW: Duration = Duration::from_secs(60);
pub const LOCKOUT: Duration = Duration::from_secs(60);
/// Addresses tracked at once; past it the oldest entries are dropped, so a
/// flood of spoofed sources cannot grow memory without bound.
const MAX_TRACKED: usize = 4096;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    Missing,
    Mismatch,
    /// Too many failures from this address; retry after this long.
    RateLimited(Duration),
}

#[derive(Debug)]
struct Failures {
    count: u32,
    window_start: Instant,
    locked_until: Option<Instant>,
}

#[derive(Debug)]
pub struct Auth {
    /// `None` means no auth (allowed only on loopback; the config refuses
    /// a non-loopback bind without a token).
    token: Option<String>,
    failures: Mutex<HashMap<IpAddr, Failures>>,
}

impl Auth {
    pub fn new(token: Option<String>) -> Self {
        Self {
            token: token.filter(|t| !t.is_empty()),
            failures: Mutex::default(),
        }
    }

    pub fn required(&self) -> bool {
        self.token.is_some()
    }

    /// Checks a presented token for a peer at `addr`.
    pub fn check(&self, addr: IpAddr, presented: Option<&str>) -> Result<(), AuthError> {
        let Some(expected) = &self.token else {
            return Ok(());
        };
        let now = Instant::now();
        if let Some(until) = self.failures.lock().get(&addr).and_then(|f| f.locked_until)
            && until > now
        {
            return Err(AuthError::RateLimited(until - now));
        }
        let result = match presented {
            None | Some("") => Err(AuthError::Missing),
            // ct_eq on slices of different lengths returns false at once; the
            // length of the token is not a secret worth hiding.
            Some(token) if bool::from(token.as_bytes().ct_eq(expected.as_bytes())) => Ok(()),
            Some(_) => Err(AuthError::Mismatch),
        };
        match &result {
            Ok(()) => {
                self.failures.lock().remove(&addr);
            }
            Err(_) => self.record_failure(addr, now),
        }
        result
    }

    fn record_failure(&self, addr: IpAddr, now: Instant) {
        let mut failures = self.failures.lock();
        if failures.len() >= MAX_TRACKED && !failures.contains_key(&addr) {
            let oldest = failures
                .iter()
                .min_by_key(|(_, f)| f.window_start)
                .map(|(a, _)| *a);
            if let Some(oldest) = oldest {
                failures.remove(&oldest);
            }
        }
        let entry = failures.entry(addr).or_insert(Failures {
            count: 0,
            window_start: now,
            locked_until: None,
        });
        if now.duration_since(entry.window_start) > FAILURE_WINDOW {
            *entry = Failures {
                count: 0,
                window_start: now,
                locked_until: None,
            };
        }
        entry.count += 1;
        if entry.count >= MAX_FAILURES {
            entry.locked_until = Some(now + LOCKOUT);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn right_token_passes_wrong_and_missing_fail() {
        let auth = Auth::new(Some("secret".into()));
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        assert_eq!(auth.check(ip, Some("secret")), Ok(()));
        assert_eq!(auth.check(ip, Some("secreT")), Err(AuthError::Mismatch));
        assert_eq!(
            auth.check(ip, Some("secret-longer")),
            Err(AuthError::Mismatch)
        );
        assert_eq!(auth.check(ip, None), Err(AuthError::Missing));
        assert!(Auth::new(None).check(ip, None).is_ok());
    }

    #[test]
    fn repeated_failures_lock_the_address_out_even_for_the_right_token() {
        let auth = Auth::new(Some("secret".into()));
        let attacker: IpAddr = "10.0.0.9".parse().unwrap();
        for _ in 0..MAX_FAILURES {
            assert_eq!(
                auth.check(attacker, Some("guess")),
                Err(AuthError::Mismatch)
            );
        }
        assert!(matches!(
            auth.check(attacker, Some("secret")),
            Err(AuthError::RateLimited(_))
        ));
        // Another address is unaffected.
        assert_eq!(
            auth.check("127.0.0.1".parse().unwrap(), Some("secret")),
            Ok(())
        );
    }
}
