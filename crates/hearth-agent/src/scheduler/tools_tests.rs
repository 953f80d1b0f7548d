//! Tests of the schedule tools (validation, results, ownership, limits) and
//! of the time arithmetic behind them.

use std::sync::Arc;
use std::time::Duration;

use hearth_core::{
    AgentId, Conversation, Origin, ScheduleKind, Sender, SessionKey, Store, Tool, ToolContext,
    ToolError,
};
use hearth_store::{SqliteOptions, SqliteStore};
use serde_json::json;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::spec::{CronSpec, Zone, parse_at, parse_in, rfc3339};
use super::{SchedulerConfig, schedule_tools, schedule_tools_with};

struct Tools {
    _dir: tempfile::TempDir,
    store: Arc<SqliteStore>,
    notify: Arc<Notify>,
    tools: Vec<Arc<dyn Tool>>,
}

impl Tools {
    fn get(&self, name: &str) -> &Arc<dyn Tool> {
        self.tools
            .iter()
            .find(|t| t.spec().name == name)
            .unwrap_or_else(|| panic!("no tool {name}"))
    }

    async fn call(
        &self,
        ctx: &ToolContext,
        name: &str,
        args: serde_json::Value,
    ) -> Result<String, ToolError> {
        self.get(name).call(ctx, args).await
    }
}

/// Tools over a fresh store: UTC by default, cron at most every 5 minutes,
/// at most 3 schedules per agent.
fn tools() -> Tools {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(
        SqliteStore::open(dir.path().join("hearth.db"), SqliteOptions::default()).unwrap(),
    );
    let notify = Arc::new(Notify::new());
    let config = SchedulerConfig {
        max_per_agent: 3,
        min_interval: Duration::from_secs(5 * 60),
        default_timezone: Some("UTC".into()),
    };
    let tools = schedule_tools_with(store.clone(), notify.clone(), config);
    Tools {
        _dir: dir,
        store,
        notify,
        tools,
    }
}

fn context(agent: &str) -> ToolContext {
    ToolContext {
        agent_id: AgentId::new(agent).unwrap(),
        session_key: SessionKey::new(format!("agent:{agent}:irc:group:#home")).unwrap(),
        run_id: "r1".into(),
        call_id: "c1".into(),
        channel: "irc".into(),
        origin: Some(Origin {
            conversation: Conversation::group("#home"),
            sender: Sender {
                id: "bob".into(),
                name: None,
            },
            message_id: Some("m-42".into()),
            reply_to: None,
            mentioned: true,
            attachments: vec![],
        }),
        cancel: CancellationToken::new(),
    }
}

fn invalid(result: Result<String, ToolError>) -> String {
    match result {
        Err(ToolError::InvalidArguments(reason)) => reason,
        other => panic!("expected invalid arguments, got {other:?}"),
    }
}

#[test]
fn the_tools_have_their_names_and_documented_schemas() {
    let t = tools();
    let names: Vec<_> = t.tools.iter().map(|t| t.spec().name).collect();
    assert_eq!(names, ["schedule_add", "schedule_list", "schedule_remove"]);
    let add = t.get("schedule_add").spec();
    let props = &add.parameters["properties"];
    for field in ["text", "cron", "at", "in", "timezone", "label"] {
        let description = props[field]["description"].as_str().unwrap_or_default();
        // One line each: small models read line breaks in schemas badly.
        assert!(
            !description.is_empty() && !description.contains('\n'),
            "{field}: {description:?}"
        );
    }
    assert_eq!(add.parameters["required"], json!(["text"]));
    assert_eq!(add.parameters["additionalProperties"], false);
    assert!(add.description.contains("UTC"), "{}", add.description);
    assert_eq!(
        t.get("schedule_remove").spec().parameters["required"],
        json!(["id"])
    );
    // The default set has the same three tools.
    let defaults = schedule_tools(t.store.clone(), t.notify.clone());
    assert_eq!(defaults.len(), 3);
}

#[tokio::test]
async fn add_refuses_bad_arguments_and_records_nothing() {
    let t = tools();
    let ctx = context("main");
    let cases = [
        (
            json!({"text": "x", "cron": "0 9 * * *", "at": "2999-01-01T00:00:00Z"}),
            "exactly one of",
        ),
        (json!({"text": "x"}), "exactly one of"),
        (
            json!({"text": "x", "at": "2001-01-01T00:00:00Z"}),
            "in the past",
        ),
        (json!({"text": "x", "at": "next tuesday"}), "RFC 3339"),
        (json!({"text": "x", "in": "-5m"}), "positive"),
        (json!({"text": "x", "in": "soonish"}), "\"10m\""),
        (json!({"text": "x", "cron": "61 * * * *"}), "invalid cron"),
        (json!({"text": "x", "cron": "0 9 * *"}), "has 4 fields"),
        (
            json!({"text": "x", "cron": "* * * * * *"}),
            "Seconds are not supported",
        ),
        (
            json!({"text": "x", "cron": "*/2 * * * *"}),
            "would fire twice within 2m; the shortest allowed interval between firings is 5m",
        ),
        (
            json!({"text": "x", "cron": "0,3 9 * * *"}),
            "twice within 3m",
        ),
        (json!({"text": "x", "cron": "0 0 30 2 *"}), "never matches"),
        (
            json!({"text": "x", "in": "1h", "timezone": "Mars/Olympus"}),
            "unknown time zone",
        ),
        (json!({"text": "  ", "in": "1h"}), "`text` is empty"),
        (
            json!({"text": "x", "in": "1h", "label": "a".repeat(81)}),
            "`label` is too long",
        ),
    ];
    for (args, expected) in cases {
        let reason = invalid(t.call(&ctx, "schedule_add", args.clone()).await);
        assert!(reason.contains(expected), "{args}: {reason}");
    }
    // Unknown fields are refused by the type, before any check of ours.
    let unknown = t
        .call(
            &ctx,
            "schedule_add",
            json!({"text": "x", "in": "1h", "every": "day"}),
        )
        .await;
    assert!(invalid(unknown).contains("unknown field"));
    assert!(t.store.schedules(None).await.unwrap().is_empty());
}

#[tokio::test]
async fn add_schedules_into_the_current_conversation_and_wakes_the_engine() {
    let t = tools();
    let ctx = context("main");
    let before = hearth_core::now_ms();
    let result = t
        .call(
            &ctx,
            "schedule_add",
            json!({"text": "Remind Bob to stretch", "in": "10m", "label": "stretch"}),
        )
        .await
        .unwrap();
    let stored = t.store.schedules(None).await.unwrap();
    assert_eq!(stored.len(), 1);
    let s = &stored[0];
    assert!(
        result.starts_with(&format!("Scheduled {} (\"stretch\"): once at ", s.id)),
        "{result}"
    );
    assert_eq!(s.kind, ScheduleKind::Once);
    assert_eq!(s.channel, "irc");
    assert_eq!(s.session_key, ctx.session_key);
    assert_eq!(s.created_by, "irc:bob");
    let origin = s.origin.as_ref().unwrap();
    assert_eq!(origin.conversation, Conversation::group("#home"));
    assert_eq!(
        origin.message_id, None,
        "a firing does not reply to the request"
    );
    let at = s.next_fire_at_ms.unwrap();
    assert!((before + 599_000..=hearth_core::now_ms() + 601_000).contains(&at));
    assert!(result.ends_with(&format!("{}.", rfc3339(at))), "{result}");
    // The engine is told (a permit waits for it).
    tokio::time::timeout(Duration::from_secs(1), t.notify.notified())
        .await
        .expect("notified");

    let cron = t
        .call(
            &ctx,
            "schedule_add",
            json!({"text": "Say good morning", "cron": "0 7 * * *", "timezone": "Europe/Oslo"}),
        )
        .await
        .unwrap();
    assert!(
        cron.contains(": cron \"0 7 * * *\" in Europe/Oslo, next at "),
        "{cron}"
    );
}

#[tokio::test]
async fn list_and_remove_see_only_the_agents_own_schedules() {
    let t = tools();
    let (main, ops) = (context("main"), context("ops"));
    t.call(
        &main,
        "schedule_add",
        json!({"text": "a", "cron": "@daily"}),
    )
    .await
    .unwrap();
    t.call(&ops, "schedule_add", json!({"text": "b", "in": "1h"}))
        .await
        .unwrap();
    let listed = t.call(&main, "schedule_list", json!({})).await.unwrap();
    assert!(listed.starts_with("1 schedule:\n- s"), "{listed}");
    assert!(
        listed.contains(": cron \"@daily\" in UTC, next at ")
            && listed.ends_with("T00:00:00Z; asks: \"a\""),
        "{listed}"
    );

    let ops_id = t
        .store
        .schedules(Some(&AgentId::new("ops").unwrap()))
        .await
        .unwrap()[0]
        .id
        .clone();
    let refused = t
        .call(&main, "schedule_remove", json!({"id": ops_id}))
        .await;
    assert!(
        matches!(&refused, Err(ToolError::Failed(m)) if m.contains("no schedule")),
        "{refused:?}"
    );
    assert_eq!(t.store.schedules(None).await.unwrap().len(), 2);
    let removed = t
        .call(&ops, "schedule_remove", json!({"id": ops_id}))
        .await
        .unwrap();
    assert_eq!(removed, format!("Removed {ops_id}."));
    assert_eq!(
        t.call(&ops, "schedule_list", json!({})).await.unwrap(),
        "No schedules."
    );
}

#[tokio::test]
async fn an_agent_at_its_limit_is_told_to_remove_one() {
    let t = tools();
    let ctx = context("main");
    for _ in 0..3 {
        t.call(&ctx, "schedule_add", json!({"text": "x", "in": "1h"}))
            .await
            .unwrap();
    }
    let full = t
        .call(&ctx, "schedule_add", json!({"text": "x", "in": "1h"}))
        .await;
    assert!(
        matches!(&full, Err(ToolError::Denied(m)) if m.contains("remove one first")),
        "{full:?}"
    );
    assert_eq!(t.store.schedules(None).await.unwrap().len(), 3);
}

fn ms(rfc3339: &str) -> i64 {
    rfc3339.parse::<jiff::Timestamp>().unwrap().as_millisecond()
}

#[test]
fn cron_times_follow_the_zone_across_daylight_saving() {
    let oslo = Zone::named("Europe/Oslo").unwrap();
    let nine = CronSpec::parse("0 9 * * *", oslo.clone()).unwrap();
    // Winter: UTC+1. Summer time starts on 30 March 2025: UTC+2.
    assert_eq!(
        nine.next_after(ms("2025-01-10T12:00:00Z")),
        Some(ms("2025-01-11T08:00:00Z"))
    );
    assert_eq!(
        nine.next_after(ms("2025-03-29T12:00:00Z")),
        Some(ms("2025-03-30T07:00:00Z"))
    );
    // Strictly after: a match at the instant itself is not the next one.
    assert_eq!(
        nine.next_after(ms("2025-01-11T08:00:00Z")),
        Some(ms("2025-01-12T08:00:00Z"))
    );
    let daily = CronSpec::parse("@daily", Zone::utc()).unwrap();
    assert_eq!(
        daily.next_after(ms("2025-01-10T12:00:00Z")),
        Some(ms("2025-01-11T00:00:00Z"))
    );
    // Weekdays, standard numbering (0 = Sunday): 2025-01-11 is a Saturday.
    let weekdays = CronSpec::parse("30 8 * * 1-5", Zone::utc()).unwrap();
    assert_eq!(
        weekdays.next_after(ms("2025-01-10T12:00:00Z")),
        Some(ms("2025-01-13T08:30:00Z"))
    );
    let utc = |expression| CronSpec::parse(expression, Zone::utc()).unwrap();
    let friday_noon = ms("2025-01-10T12:00:00Z");
    let sunday = ms("2025-01-12T00:00:00Z");
    assert_eq!(
        utc("0 18 * * FRI").next_after(friday_noon),
        Some(ms("2025-01-10T18:00:00Z"))
    );
    assert_eq!(utc("0 0 * * 7").next_after(friday_noon), Some(sunday));
    assert_eq!(utc("@weekly").next_after(friday_noon), Some(sunday));
    assert_eq!(
        utc("0 9 L * *").next_after(friday_noon),
        Some(ms("2025-01-31T09:00:00Z"))
    );
    assert_eq!(
        utc("0 9 * * 1#2").next_after(friday_noon),
        Some(ms("2025-01-13T09:00:00Z"))
    );
    // Both day fields restricted: either matches (Vixie cron), so the
    // 13th, a Monday, comes before the next Friday.
    assert_eq!(
        utc("0 12 13 * 5").next_after(ms("2025-01-10T13:00:00Z")),
        Some(ms("2025-01-13T12:00:00Z"))
    );
    // 02:30 does not exist in Oslo on 30 March 2025: it fires when the gap
    // ends (03:00 CEST). On 26 October it happens twice: it fires once, at
    // the first.
    let half_past_two = CronSpec::parse("30 2 * * *", oslo.clone()).unwrap();
    assert_eq!(
        half_past_two.next_after(ms("2025-03-29T12:00:00Z")),
        Some(ms("2025-03-30T01:00:00Z"))
    );
    let first = half_past_two.next_after(ms("2025-10-25T12:00:00Z"));
    assert_eq!(first, Some(ms("2025-10-26T00:30:00Z")));
    assert_eq!(
        half_past_two.next_after(first.unwrap()),
        Some(ms("2025-10-27T01:30:00Z"))
    );
    let every_five = CronSpec::parse("*/5 * * * *", Zone::utc()).unwrap();
    let now = ms("2025-01-10T12:01:00Z");
    assert_eq!(
        every_five.first_fire(now, Duration::from_secs(300)),
        Ok(ms("2025-01-10T12:05:00Z"))
    );
}

#[test]
fn one_shot_times_read_as_timestamps_local_times_and_delays() {
    let oslo = Zone::named("Europe/Oslo").unwrap();
    assert_eq!(
        parse_at("2025-06-01T09:00:00+02:00", &oslo),
        Ok(ms("2025-06-01T07:00:00Z"))
    );
    assert_eq!(
        parse_at("2025-06-01T07:00:00Z", &oslo),
        Ok(ms("2025-06-01T07:00:00Z"))
    );
    assert_eq!(
        parse_at("2025-06-01T09:00", &oslo),
        Ok(ms("2025-06-01T07:00:00Z"))
    );
    assert_eq!(
        parse_at("2025-06-01T09:00", &Zone::utc()),
        Ok(ms("2025-06-01T09:00:00Z"))
    );
    let now = ms("2025-03-29T12:00:00Z");
    assert_eq!(parse_in("1h30m", now, &oslo), Ok(now + 90 * 60_000));
    assert_eq!(parse_in("10m", now, &oslo), Ok(now + 10 * 60_000));
    assert_eq!(parse_in("30s", now, &oslo), Ok(now + 30_000));
    assert_eq!(parse_in("1w", now, &Zone::utc()), Ok(now + 7 * 86_400_000));
    // A day is a calendar day: the same clock time after the DST change,
    // 23 hours later.
    assert_eq!(parse_in("1d", now, &oslo), Ok(ms("2025-03-30T11:00:00Z")));
    assert!(parse_in("0m", now, &oslo).is_err());
    assert_eq!(
        rfc3339(ms("2025-06-01T07:00:00Z") + 400),
        "2025-06-01T07:00:00Z"
    );
    assert_eq!(Zone::named("utc").unwrap().name, "UTC");
}
