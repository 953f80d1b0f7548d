//! The in-process backend: a map of sessions behind one mutex, with expiry
//! and eviction done inline so no background task exists.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use async_trait::async_trait;
use parking_lot::Mutex;
use tokio::time::Instant;

use super::limits::check_session;
use super::{Entry, ShortTermError, ShortTermLimits, ShortTermMemory};

/// Sessions visited per write to drop their expired entries. A handful per
/// write is enough to visit every session once per `max_sessions / 4`
/// writes, so expired memory is reclaimed at the rate new memory arrives.
const SWEEP_PER_PUT: usize = 4;

/// Working memory in this process.
///
/// Reads and writes both count as use of a session for the LRU bound.
/// Time comes from `tokio::time::Instant`, so tests drive expiry with
/// paused time.
#[derive(Debug)]
pub struct LocalShortTerm {
    limits: ShortTermLimits,
    // A blocking mutex is right here: every critical section is a few map
    // operations, never held across an `.await`, and cheaper than an async
    // lock (the reasoning of mini-redis `db.rs`).
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    sessions: HashMap<String, Session>,
    /// Sessions by last use, oldest first: the LRU order for eviction and
    /// the round-robin order for the sweep. Ticks are unique.
    by_use: BTreeMap<u64, String>,
    /// Next tick to hand out; orders both writes and session uses.
    tick: u64,
    /// Where the next sweep starts in `by_use`.
    sweep_from: u64,
}

#[derive(Debug)]
struct Session {
    entries: HashMap<String, Slot>,
    last_used: u64,
}

#[derive(Debug)]
struct Slot {
    value: String,
    expires_at: Instant,
    written: u64,
}

impl LocalShortTerm {
    /// An empty store; fails if `limits` do not validate.
    pub fn new(limits: ShortTermLimits) -> Result<Self, ShortTermError> {
        limits.validate()?;
        Ok(Self {
            limits,
            state: Mutex::new(State::default()),
        })
    }

    /// How many sessions are held, live or not yet swept.
    #[cfg(test)]
    pub(super) fn session_count(&self) -> usize {
        self.state.lock().sessions.len()
    }
}

#[async_trait]
impl ShortTermMemory for LocalShortTerm {
    async fn put(
        &self,
        session: &str,
        key: &str,
        value: &str,
        ttl: Option<Duration>,
    ) -> Result<(), ShortTermError> {
        let ttl = self.limits.check_put(session, key, value, ttl)?;
        let now = Instant::now();
        let mut state = self.state.lock();
        state.sweep(now);
        // Expired entries go first, so they never cost a live one its place.
        if !state.purge(session, now) {
            while state.sessions.len() >= self.limits.max_sessions {
                if !state.evict_least_recently_used() {
                    break;
                }
            }
        }
        let written = state.next_tick();
        let slots = state.touch_or_create(session);
        slots.insert(
            key.to_owned(),
            Slot {
                value: value.to_owned(),
                expires_at: now + ttl,
                written,
            },
        );
        if slots.len() > self.limits.max_entries_per_session {
            let oldest = slots
                .iter()
                .min_by_key(|(_, slot)| slot.written)
                .map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                slots.remove(&oldest);
            }
        }
        Ok(())
    }

    async fn get(&self, session: &str, key: &str) -> Result<Option<Entry>, ShortTermError> {
        check_session(session)?;
        self.limits.check_key(key)?;
        let now = Instant::now();
        let mut state = self.state.lock();
        let Some(slots) = state.live_session(session, now) else {
            return Ok(None);
        };
        Ok(slots.get(key).map(|slot| slot.entry(key, now)))
    }

    async fn list(&self, session: &str) -> Result<Vec<Entry>, ShortTermError> {
        check_session(session)?;
        let now = Instant::now();
        let mut state = self.state.lock();
        let Some(slots) = state.live_session(session, now) else {
            return Ok(Vec::new());
        };
        let mut newest_first: Vec<_> = slots.iter().collect();
        newest_first.sort_unstable_by_key(|(_, slot)| std::cmp::Reverse(slot.written));
        Ok(newest_first
            .into_iter()
            .map(|(key, slot)| slot.entry(key, now))
            .collect())
    }

    async fn remove(&self, session: &str, key: &str) -> Result<bool, ShortTermError> {
        check_session(session)?;
        self.limits.check_key(key)?;
        let now = Instant::now();
        let mut state = self.state.lock();
        let Some(slots) = state.live_session(session, now) else {
            return Ok(false);
        };
        let removed = slots.remove(key).is_some();
        if slots.is_empty() {
            state.drop_session(session);
        }
        Ok(removed)
    }

    async fn clear(&self, session: &str) -> Result<usize, ShortTermError> {
        check_session(session)?;
        let now = Instant::now();
        let mut state = self.state.lock();
        let live = state
            .live_session(session, now)
            .map_or(0, |slots| slots.len());
        state.drop_session(session);
        Ok(live)
    }

    fn backend(&self) -> &'static str {
        "memory"
    }
}

impl Slot {
    fn entry(&self, key: &str, now: Instant) -> Entry {
        // Rounded up so a live entry never reports 0 ms left.
        let left = self
            .expires_at
            .saturating_duration_since(now)
            .as_nanos()
            .div_ceil(1_000_000);
        Entry {
            key: key.to_owned(),
            value: self.value.clone(),
            ttl_remaining_ms: u64::try_from(left).unwrap_or(u64::MAX),
        }
    }
}

impl State {
    fn next_tick(&mut self) -> u64 {
        self.tick += 1;
        self.tick
    }

    /// Marks `session` as just used (creating it if new) and returns its entries.
    fn touch_or_create(&mut self, session: &str) -> &mut HashMap<String, Slot> {
        let tick = self.next_tick();
        let record = self
            .sessions
            .entry(session.to_owned())
            .or_insert_with(|| Session {
                entries: HashMap::new(),
                last_used: 0,
            });
        self.by_use.remove(&record.last_used);
        record.last_used = tick;
        self.by_use.insert(tick, session.to_owned());
        &mut record.entries
    }

    /// The session's entries after dropping expired ones, marked as used;
    /// None (and the session forgotten) if nothing live is left.
    fn live_session(&mut self, session: &str, now: Instant) -> Option<&mut HashMap<String, Slot>> {
        if !self.purge(session, now) {
            return None;
        }
        Some(self.touch_or_create(session))
    }

    /// Drops the session's expired entries, and the session if that empties
    /// it. True if the session still holds something.
    fn purge(&mut self, session: &str, now: Instant) -> bool {
        let Some(record) = self.sessions.get_mut(session) else {
            return false;
        };
        record.entries.retain(|_, slot| slot.expires_at > now);
        if record.entries.is_empty() {
            self.drop_session(session);
            return false;
        }
        true
    }

    fn drop_session(&mut self, session: &str) {
        if let Some(record) = self.sessions.remove(session) {
            self.by_use.remove(&record.last_used);
        }
    }

    fn evict_least_recently_used(&mut self) -> bool {
        let Some((_, session)) = self.by_use.pop_first() else {
            return false;
        };
        self.sessions.remove(&session);
        true
    }

    /// Purges the next few sessions in round-robin order, so sessions that
    /// nobody reads again still give their memory back.
    fn sweep(&mut self, now: Instant) {
        let mut due: Vec<(u64, String)> = self
            .by_use
            .range(self.sweep_from..)
            .take(SWEEP_PER_PUT)
            .map(|(tick, name)| (*tick, name.clone()))
            .collect();
        if due.len() < SWEEP_PER_PUT {
            let wrapped = self.by_use.iter().take(SWEEP_PER_PUT - due.len());
            due.extend(wrapped.map(|(tick, name)| (*tick, name.clone())));
        }
        for (tick, session) in due {
            self.sweep_from = tick + 1;
            self.purge(&session, now);
        }
    }
}
