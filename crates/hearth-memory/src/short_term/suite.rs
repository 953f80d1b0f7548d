//! The one contract suite every backend runs: each case is written once,
//! against `&dyn ShortTermMemory`, and expanded into a test per backend by
//! [`suite_cases!`].
//!
//! Times are multiples of a backend's `unit`: minutes under paused tokio
//! time in process, 100 ms of real time against Redis, whose clock we
//! cannot pause.

use std::time::Duration;

use super::{Entry, MAX_SESSION_BYTES, ShortTermError, ShortTermLimits, ShortTermMemory};

/// How a backend's test lets time pass.
#[derive(Debug, Clone, Copy)]
pub(super) enum Clock {
    /// Tokio's paused clock: `advance` is instant and exact.
    Paused,
    /// The wall clock, for stores with their own (Redis).
    Real,
}

impl Clock {
    pub async fn advance(self, by: Duration) {
        match self {
            Clock::Paused => tokio::time::advance(by).await,
            Clock::Real => tokio::time::sleep(by).await,
        }
    }
}

/// A store under test, with the clock and time unit it runs on.
#[derive(Debug)]
pub(super) struct Tester {
    pub store: Box<dyn ShortTermMemory>,
    pub clock: Clock,
    pub unit: Duration,
}

/// Limits every suite store is built with, scaled to its time unit.
pub(super) fn suite_limits(unit: Duration) -> ShortTermLimits {
    ShortTermLimits {
        default_ttl: unit * 20,
        max_ttl: unit * 40,
        max_entries_per_session: 4,
        max_key_bytes: 16,
        max_value_bytes: 64,
        max_sessions: 1000,
    }
}

/// Expands into one test per suite case. `$setup` is an expression giving a
/// bench with `tester()` and an async `finish()`; `#[$test]` is the test
/// attribute, so each backend picks its runtime and clock.
macro_rules! suite_cases {
    (#[$test:meta] $setup:expr) => {
        $crate::short_term::suite::suite_cases!(@each #[$test] $setup;
            round_trip_put_get_list_remove_clear,
            overwrite_replaces_value_ttl_and_order,
            entry_expires_after_its_ttl,
            default_ttl_applies_when_none_is_given,
            ttl_is_capped_at_max_ttl,
            ttl_remaining_decreases_with_time,
            size_bound_evicts_the_oldest_written,
            expired_entries_do_not_count_against_the_bound,
            sessions_are_isolated_even_with_colons,
            invalid_input_is_rejected_and_changes_nothing,
            inputs_at_the_limits_are_accepted
        );
    };
    (@each #[$test:meta] $setup:expr; $($case:ident),*) => {$(
        #[$test]
        async fn $case() {
            let bench = $setup.await;
            $crate::short_term::suite::$case(bench.tester()).await;
            bench.finish().await;
        }
    )*};
}
pub(super) use suite_cases;

fn keys(entries: &[Entry]) -> Vec<&str> {
    entries.iter().map(|e| e.key.as_str()).collect()
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).expect("test durations fit in u64 ms")
}

async fn ttl_left(t: &Tester, session: &str, key: &str) -> u64 {
    let entry = t.store.get(session, key).await.unwrap();
    entry
        .unwrap_or_else(|| panic!("{key} should be live"))
        .ttl_remaining_ms
}

pub(super) async fn round_trip_put_get_list_remove_clear(t: &Tester) {
    let s = "agent:main:telegram:dm:42";
    let store = &t.store;
    assert_eq!(store.get(s, "a").await.unwrap(), None, "empty store");
    assert!(store.list(s).await.unwrap().is_empty());
    store.put(s, "a", "1", None).await.unwrap();
    store.put(s, "b", "", None).await.unwrap();
    store.put(s, "clé", "日本語 🙂", None).await.unwrap();

    let a = store.get(s, "a").await.unwrap().expect("a was just put");
    assert_eq!((a.key.as_str(), a.value.as_str()), ("a", "1"));
    assert_eq!(
        store.get(s, "b").await.unwrap().unwrap().value,
        "",
        "empty value kept"
    );
    assert_eq!(
        store.get(s, "clé").await.unwrap().unwrap().value,
        "日本語 🙂"
    );
    assert_eq!(
        keys(&store.list(s).await.unwrap()),
        ["clé", "b", "a"],
        "newest first"
    );

    assert!(store.remove(s, "b").await.unwrap());
    assert!(
        !store.remove(s, "b").await.unwrap(),
        "second remove finds nothing"
    );
    assert!(!store.remove(s, "never").await.unwrap());
    assert_eq!(keys(&store.list(s).await.unwrap()), ["clé", "a"]);

    assert_eq!(store.clear(s).await.unwrap(), 2);
    assert!(store.list(s).await.unwrap().is_empty());
    assert_eq!(store.get(s, "a").await.unwrap(), None);
    assert_eq!(
        store.clear(s).await.unwrap(),
        0,
        "clearing an empty session"
    );
}

pub(super) async fn overwrite_replaces_value_ttl_and_order(t: &Tester) {
    let (s, u) = ("s", t.unit);
    t.store.put(s, "a", "old", Some(u * 5)).await.unwrap();
    t.store.put(s, "b", "2", None).await.unwrap();
    t.store.put(s, "a", "new", Some(u * 30)).await.unwrap();
    let list = t.store.list(s).await.unwrap();
    assert_eq!(keys(&list), ["a", "b"], "the rewrite is the newest");
    assert_eq!(list[0].value, "new");
    assert!(
        list[0].ttl_remaining_ms > ms(u * 29),
        "the new ttl applies: {list:?}"
    );
    t.clock.advance(u * 6).await;
    assert_eq!(
        t.store.get(s, "a").await.unwrap().unwrap().value,
        "new",
        "old ttl forgotten"
    );
}

pub(super) async fn entry_expires_after_its_ttl(t: &Tester) {
    let (s, u) = ("s", t.unit);
    t.store.put(s, "short", "x", Some(u * 5)).await.unwrap();
    t.store.put(s, "long", "y", Some(u * 30)).await.unwrap();
    t.clock.advance(u * 4).await;
    assert!(
        t.store.get(s, "short").await.unwrap().is_some(),
        "alive before its ttl"
    );
    t.clock.advance(u * 2).await;
    assert_eq!(
        t.store.get(s, "short").await.unwrap(),
        None,
        "gone after its ttl"
    );
    assert_eq!(keys(&t.store.list(s).await.unwrap()), ["long"]);
    assert!(
        !t.store.remove(s, "short").await.unwrap(),
        "an expired entry is not removed"
    );
    assert_eq!(
        t.store.clear(s).await.unwrap(),
        1,
        "clear counts live entries only"
    );
}

pub(super) async fn default_ttl_applies_when_none_is_given(t: &Tester) {
    let u = t.unit;
    t.store.put("s", "a", "x", None).await.unwrap();
    let left = ttl_left(t, "s", "a").await;
    assert!(
        left <= ms(u * 20) && left > ms(u * 19),
        "default ttl is 20 units; {left} ms left"
    );
}

pub(super) async fn ttl_is_capped_at_max_ttl(t: &Tester) {
    let u = t.unit;
    t.store.put("s", "a", "x", Some(u * 1000)).await.unwrap();
    let left = ttl_left(t, "s", "a").await;
    assert!(
        left <= ms(u * 40) && left > ms(u * 39),
        "max ttl is 40 units; {left} ms left"
    );
}

pub(super) async fn ttl_remaining_decreases_with_time(t: &Tester) {
    let u = t.unit;
    t.store.put("s", "a", "x", Some(u * 10)).await.unwrap();
    let before = ttl_left(t, "s", "a").await;
    t.clock.advance(u * 3).await;
    let after = ttl_left(t, "s", "a").await;
    // At least 3 units passed; 1 ms of slack for rounding to whole ms.
    assert!(
        after + ms(u * 3) <= before + 1,
        "{before} ms, then {after} ms after 3 units"
    );
    assert!(after > 0);
}

pub(super) async fn size_bound_evicts_the_oldest_written(t: &Tester) {
    let s = "s";
    for i in 0..5 {
        t.store.put(s, &format!("k{i}"), "v", None).await.unwrap();
    }
    assert_eq!(
        keys(&t.store.list(s).await.unwrap()),
        ["k4", "k3", "k2", "k1"]
    );
    assert_eq!(t.store.get(s, "k0").await.unwrap(), None, "k0 evicted");
    t.store.put(s, "k1", "rewritten", None).await.unwrap();
    t.store.put(s, "k5", "v", None).await.unwrap();
    assert_eq!(
        keys(&t.store.list(s).await.unwrap()),
        ["k5", "k1", "k4", "k3"],
        "k2 is now the oldest-written, not k1"
    );
}

pub(super) async fn expired_entries_do_not_count_against_the_bound(t: &Tester) {
    let (s, u) = ("s", t.unit);
    t.store.put(s, "brief", "v", Some(u * 2)).await.unwrap();
    for key in ["b", "c", "d"] {
        t.store.put(s, key, "v", Some(u * 30)).await.unwrap();
    }
    t.clock.advance(u * 3).await;
    t.store.put(s, "e", "v", None).await.unwrap();
    assert_eq!(
        keys(&t.store.list(s).await.unwrap()),
        ["e", "d", "c", "b"],
        "b kept"
    );
}

pub(super) async fn sessions_are_isolated_even_with_colons(t: &Tester) {
    let store = &t.store;
    store.put("a:b", "c", "1", None).await.unwrap();
    store.put("a", "b:c", "2", None).await.unwrap();
    store.put("a", "v:c", "3", None).await.unwrap();
    store.put("a:v", "c", "4", None).await.unwrap();
    assert_eq!(store.get("a:b", "c").await.unwrap().unwrap().value, "1");
    assert_eq!(store.get("a", "b:c").await.unwrap().unwrap().value, "2");
    assert_eq!(store.get("a:v", "c").await.unwrap().unwrap().value, "4");
    assert_eq!(keys(&store.list("a").await.unwrap()), ["v:c", "b:c"]);
    assert_eq!(store.clear("a:b").await.unwrap(), 1);
    assert_eq!(
        store.get("a", "b:c").await.unwrap().unwrap().value,
        "2",
        "other session kept"
    );
    assert_eq!(store.list("a:v").await.unwrap().len(), 1);
}

pub(super) async fn invalid_input_is_rejected_and_changes_nothing(t: &Tester) {
    let (s, store) = ("s", &t.store);
    store.put(s, "k", "original", None).await.unwrap();
    let before = store.list(s).await.unwrap();
    let long_session = "x".repeat(MAX_SESSION_BYTES + 1);
    let bad_puts: [(&str, &str, &str, Option<Duration>, &str); 8] = [
        ("", "k", "v", None, "session is empty"),
        ("s\n", "k", "v", None, "control character"),
        (&long_session, "k", "v", None, "session is 513 bytes"),
        (s, "", "v", None, "key is empty"),
        (s, "seventeen-bytes!!", "v", None, "max_key_bytes is 16"),
        (s, "k\t", "v", None, "control character"),
        (s, "k", &"v".repeat(65), None, "max_value_bytes is 64"),
        (s, "k", "v", Some(Duration::ZERO), "ttl is zero"),
    ];
    for (session, key, value, ttl, why) in bad_puts {
        match store.put(session, key, value, ttl).await {
            Err(ShortTermError::Invalid(message)) => {
                assert!(message.contains(why), "{message:?} should say {why:?}")
            }
            other => panic!("put({session:?}, {key:?}) should be Invalid, got {other:?}"),
        }
    }
    let invalid = |r: Result<(), ShortTermError>| matches!(r, Err(ShortTermError::Invalid(_)));
    assert!(invalid(store.get("", "k").await.map(drop)));
    assert!(invalid(store.get(s, "").await.map(drop)));
    assert!(invalid(store.list("\u{7}").await.map(drop)));
    assert!(invalid(store.remove(s, &"k".repeat(17)).await.map(drop)));
    assert!(invalid(store.clear("").await.map(drop)));
    // Real time passes on Redis: compare what was stored, and check the
    // TTL only ran down (a write would have reset it).
    let after = store.list(s).await.unwrap();
    let stored = |entries: &[Entry]| -> Vec<(String, String)> {
        entries
            .iter()
            .map(|e| (e.key.clone(), e.value.clone()))
            .collect()
    };
    assert_eq!(stored(&after), stored(&before), "nothing changed");
    assert!(after[0].ttl_remaining_ms <= before[0].ttl_remaining_ms);
}

pub(super) async fn inputs_at_the_limits_are_accepted(t: &Tester) {
    let session = "s".repeat(MAX_SESSION_BYTES);
    let key = "k".repeat(16);
    let value = "v".repeat(64);
    t.store
        .put(&session, &key, &value, Some(t.unit * 40))
        .await
        .unwrap();
    assert_eq!(
        t.store.get(&session, &key).await.unwrap().unwrap().value,
        value
    );
    assert_eq!(t.store.clear(&session).await.unwrap(), 1);
}
