//! The Redis backend against a real server: the shared suite in real time,
//! plus connection failures, key hygiene and sharing between gateways.
//!
//! These tests need Redis (`HEARTH_TEST_REDIS`, default
//! `redis://127.0.0.1:6379`) and fail, never skip, without it.

use std::time::{Duration, Instant};

use super::suite::{self, Clock, Tester, suite_limits};
use super::{RedisShortTerm, ShortTermError, ShortTermLimits, ShortTermMemory};

/// Redis keeps real time, so the unit is short; 250 ms leaves room for a
/// busy machine (CI builds and runs tests on 2 cores) between a write and
/// the check that it is still there.
const UNIT: Duration = Duration::from_millis(250);

fn redis_url() -> String {
    std::env::var("HEARTH_TEST_REDIS").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// A prefix no other test uses, so tests run in parallel and clean up
/// only their own keys.
fn unique_prefix() -> String {
    format!("hearth-test-stm:{}", uuid::Uuid::new_v4().simple())
}

async fn connect(prefix: &str, limits: ShortTermLimits) -> RedisShortTerm {
    let url = redis_url();
    RedisShortTerm::connect(&url, prefix, limits)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "these tests need Redis at {url} ({e}). Start one with \
             `redis-server --daemonize yes`, or point HEARTH_TEST_REDIS at one."
            )
        })
}

/// A plain connection for looking under the store, at its raw keys.
async fn raw() -> redis::aio::MultiplexedConnection {
    let client = redis::Client::open(redis_url()).unwrap();
    client
        .get_multiplexed_async_connection()
        .await
        .expect("Redis reachable")
}

async fn keys_under(prefix: &str) -> Vec<String> {
    let pattern = format!("{prefix}:*");
    redis::cmd("KEYS")
        .arg(pattern)
        .query_async(&mut raw().await)
        .await
        .unwrap()
}

async fn delete_under(prefix: &str) {
    let keys = keys_under(prefix).await;
    if !keys.is_empty() {
        let _: i64 = redis::cmd("DEL")
            .arg(keys)
            .query_async(&mut raw().await)
            .await
            .unwrap();
    }
}

struct RedisBench {
    tester: Tester,
    prefix: String,
}

impl RedisBench {
    fn tester(&self) -> &Tester {
        &self.tester
    }

    /// Deletes the test's keys. A test that panics first leaves them, but
    /// every key has a TTL of at most 40 units, so they go on their own.
    async fn finish(self) {
        delete_under(&self.prefix).await;
    }
}

async fn redis_bench() -> RedisBench {
    let prefix = unique_prefix();
    let store = connect(&prefix, suite_limits(UNIT)).await;
    let tester = Tester {
        store: Box::new(store),
        clock: Clock::Real,
        unit: UNIT,
    };
    RedisBench { tester, prefix }
}

suite::suite_cases!(
    #[tokio::test]
    redis_bench()
);

#[tokio::test]
async fn connect_to_a_closed_port_fails_fast_with_a_backend_error() {
    // Bind then drop a listener: the port is now almost surely closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("redis://:s3cret@127.0.0.1:{port}");
    let started = Instant::now();
    let err = RedisShortTerm::connect(&url, "p", ShortTermLimits::default())
        .await
        .unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, ShortTermError::Backend(_)), "{err:?}");
    assert!(
        message.contains(&format!("127.0.0.1:{port}")),
        "names the server: {message}"
    );
    assert!(!message.contains("s3cret"), "hides the password: {message}");
    assert!(
        started.elapsed() < Duration::from_millis(3500),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn bad_prefix_url_or_limits_are_rejected_before_connecting() {
    let ok = ShortTermLimits::default();
    let url = redis_url();
    for prefix in ["", "has space", "{tag}", &"p".repeat(65)] {
        let err = RedisShortTerm::connect(&url, prefix, ok.clone())
            .await
            .unwrap_err();
        assert!(
            matches!(err, ShortTermError::Invalid(_)),
            "prefix {prefix:?}: {err:?}"
        );
    }
    let err = RedisShortTerm::connect("not a url", "p", ok.clone())
        .await
        .unwrap_err();
    assert!(matches!(err, ShortTermError::Invalid(_)), "{err:?}");
    let bad = ShortTermLimits {
        max_key_bytes: 0,
        ..ok
    };
    let err = RedisShortTerm::connect(&url, "p", bad).await.unwrap_err();
    assert!(err.to_string().contains("max_key_bytes"), "{err}");
}

#[tokio::test]
async fn every_key_expires_and_clear_leaves_none() {
    let prefix = unique_prefix();
    let store = connect(&prefix, ShortTermLimits::default()).await;
    assert_eq!(store.backend(), "redis");
    store
        .put("s", "short", "v", Some(Duration::from_secs(5)))
        .await
        .unwrap();
    store
        .put("s", "long", "v", Some(Duration::from_secs(50)))
        .await
        .unwrap();
    let keys = keys_under(&prefix).await;
    assert_eq!(keys.len(), 3, "two values and one index: {keys:?}");
    for key in &keys {
        let pttl: i64 = redis::cmd("PTTL")
            .arg(key)
            .query_async(&mut raw().await)
            .await
            .unwrap();
        assert!(pttl > 0, "{key} must expire, PTTL {pttl}");
        if key.ends_with(":idx") {
            assert!(
                pttl > 45_000,
                "the index lives as long as its longest value: {pttl}"
            );
        }
    }
    assert_eq!(store.clear("s").await.unwrap(), 2);
    assert_eq!(keys_under(&prefix).await, Vec::<String>::new());
}

#[tokio::test]
async fn two_gateways_share_one_session() {
    let prefix = unique_prefix();
    let first = connect(&prefix, ShortTermLimits::default()).await;
    let second = connect(&prefix, ShortTermLimits::default()).await;
    first
        .put("agent:main:dm:7", "topic", "tea", None)
        .await
        .unwrap();
    let seen = second.get("agent:main:dm:7", "topic").await.unwrap();
    assert_eq!(seen.map(|e| e.value).as_deref(), Some("tea"));
    assert!(second.remove("agent:main:dm:7", "topic").await.unwrap());
    assert!(first.list("agent:main:dm:7").await.unwrap().is_empty());
    delete_under(&prefix).await;
}
