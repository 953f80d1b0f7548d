//! The in-process backend: the shared suite under paused time, plus what
//! only a process-local store has (its session bound and sweep) and the
//! limits checks.

use std::time::Duration;

use super::suite::{self, Clock, Tester, suite_limits};
use super::{LocalShortTerm, ShortTermError, ShortTermLimits, ShortTermMemory};

const UNIT: Duration = Duration::from_secs(60);

struct LocalBench(Tester);

impl LocalBench {
    fn tester(&self) -> &Tester {
        &self.0
    }

    async fn finish(self) {}
}

async fn local_bench() -> LocalBench {
    let store = LocalShortTerm::new(suite_limits(UNIT)).unwrap();
    LocalBench(Tester {
        store: Box::new(store),
        clock: Clock::Paused,
        unit: UNIT,
    })
}

suite::suite_cases!(
    #[tokio::test(start_paused = true)]
    local_bench()
);

fn small(max_sessions: usize) -> LocalShortTerm {
    LocalShortTerm::new(ShortTermLimits {
        max_sessions,
        ..suite_limits(UNIT)
    })
    .unwrap()
}

#[tokio::test(start_paused = true)]
async fn least_recently_used_session_is_evicted_past_max_sessions() {
    let store = small(3);
    for s in ["s1", "s2", "s3"] {
        store.put(s, "k", s, None).await.unwrap();
    }
    store
        .get("s1", "k")
        .await
        .unwrap()
        .expect("a read counts as use");
    store.put("s4", "k", "s4", None).await.unwrap();
    assert_eq!(store.session_count(), 3);
    assert_eq!(
        store.get("s2", "k").await.unwrap(),
        None,
        "s2 was least recently used"
    );
    for s in ["s1", "s3", "s4"] {
        assert!(store.get(s, "k").await.unwrap().is_some(), "{s} kept");
    }
}

#[tokio::test(start_paused = true)]
async fn churn_never_holds_more_than_max_sessions() {
    let store = small(100);
    for i in 0..10_000 {
        store
            .put(&format!("session-{i}"), "k", "v", None)
            .await
            .unwrap();
        assert!(store.session_count() <= 100);
    }
}

#[tokio::test(start_paused = true)]
async fn expired_sessions_are_swept_without_a_background_task() {
    let store = small(1000);
    for i in 0..100 {
        store
            .put(&format!("idle-{i}"), "k", "v", Some(UNIT))
            .await
            .unwrap();
    }
    tokio::time::advance(UNIT * 2).await;
    assert_eq!(
        store.session_count(),
        100,
        "nothing runs while nobody writes"
    );
    // Four sessions are visited per write, so 25 writes would reach all 100
    // if the round-robin never landed on the busy session itself; it does
    // once per lap, so allow a few more.
    for i in 0..30 {
        store
            .put("busy", &format!("k{}", i % 4), "v", None)
            .await
            .unwrap();
    }
    assert_eq!(store.session_count(), 1, "only the busy session is left");
}

#[tokio::test(start_paused = true)]
async fn clear_and_remove_of_the_last_entry_forget_the_session() {
    let store = small(10);
    store.put("a", "k", "v", None).await.unwrap();
    store.put("b", "k", "v", None).await.unwrap();
    assert!(store.remove("a", "k").await.unwrap());
    assert_eq!(store.clear("b").await.unwrap(), 1);
    assert_eq!(store.session_count(), 0);
}

#[test]
fn bad_limits_are_rejected_with_the_field_named() {
    let ok = ShortTermLimits::default();
    let cases = [
        (
            ShortTermLimits {
                max_ttl: Duration::ZERO,
                ..ok.clone()
            },
            "limits.max_ttl_ms is 0",
        ),
        (
            ShortTermLimits {
                default_ttl: ok.max_ttl * 2,
                ..ok.clone()
            },
            "limits.default_ttl_ms is 172800000",
        ),
        (
            ShortTermLimits {
                max_entries_per_session: 0,
                ..ok.clone()
            },
            "max_entries_per_session",
        ),
        (
            ShortTermLimits {
                max_key_bytes: 1 << 20,
                ..ok.clone()
            },
            "max_key_bytes is 1048576",
        ),
        (
            ShortTermLimits {
                max_value_bytes: 0,
                ..ok.clone()
            },
            "max_value_bytes is 0",
        ),
        (
            ShortTermLimits {
                max_sessions: 0,
                ..ok.clone()
            },
            "max_sessions is 0",
        ),
    ];
    for (limits, why) in cases {
        match LocalShortTerm::new(limits) {
            Err(ShortTermError::Invalid(message)) => assert!(message.contains(why), "{message}"),
            other => panic!("expected Invalid mentioning {why:?}, got {other:?}"),
        }
    }
    ok.validate().expect("the defaults are valid");
}

#[test]
fn limits_read_from_config_with_units_in_the_names() {
    let json = r#"{"default_ttl_ms": 1500, "max_entries_per_session": 8}"#;
    let limits: ShortTermLimits = serde_json::from_str(json).unwrap();
    assert_eq!(limits.default_ttl, Duration::from_millis(1500));
    assert_eq!(limits.max_entries_per_session, 8);
    assert_eq!(
        limits.max_ttl,
        ShortTermLimits::default().max_ttl,
        "unset fields default"
    );
    let back: ShortTermLimits =
        serde_json::from_value(serde_json::to_value(&limits).unwrap()).unwrap();
    assert_eq!(back, limits);
    let typo = serde_json::from_str::<ShortTermLimits>(r#"{"default_ttl": 5}"#);
    assert!(typo.unwrap_err().to_string().contains("unknown field"));
}

#[test]
fn backend_is_named() {
    assert_eq!(small(1).backend(), "memory");
}
