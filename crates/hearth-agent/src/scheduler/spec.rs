//! When a schedule fires: cron expressions read in a time zone, one-shot
//! times given as a timestamp or as a delay, and the next fire time after a
//! given instant. Pure: no store, no clock of its own. Every error is a
//! sentence written for the model that asked.

use std::str::FromStr;
use std::time::Duration;

use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};
use jiff::tz::TimeZone;
use jiff::{Span, Timestamp, Unit, Zoned};

/// How many upcoming firings are checked against the minimum interval.
/// The gaps between a cron expression's matches repeat with its period (an
/// hour, a day, a month), so a too-short gap shows among the first matches;
/// a bound keeps the check cheap for patterns that match once a year.
const INTERVAL_SAMPLES: usize = 64;

/// A time zone and the name it is stored under.
#[derive(Debug, Clone)]
pub(crate) struct Zone {
    pub tz: TimeZone,
    pub name: String,
}

impl Zone {
    /// `UTC`, or an IANA name such as `Europe/Oslo`.
    pub fn named(name: &str) -> Result<Self, String> {
        let name = name.trim();
        if name.eq_ignore_ascii_case("utc") || name == "Z" {
            return Ok(Self::utc());
        }
        let tz = TimeZone::get(name).map_err(|_| {
            format!(
                "unknown time zone {name:?}; use an IANA name such as \"Europe/Paris\" or \"America/New_York\", or \"UTC\""
            )
        })?;
        let name = tz.iana_name().unwrap_or(name).to_owned();
        Ok(Self { tz, name })
    }

    pub fn utc() -> Self {
        Self {
            tz: TimeZone::UTC,
            name: "UTC".to_owned(),
        }
    }

    /// The machine's own zone when it has an IANA name, else UTC.
    pub fn system() -> Self {
        match TimeZone::try_system() {
            Ok(tz) => match tz.iana_name() {
                Some(name) => Self {
                    name: name.to_owned(),
                    tz,
                },
                None => Self::utc(),
            },
            Err(_) => Self::utc(),
        }
    }
}

/// A parsed cron expression and the zone it is read in.
#[derive(Debug, Clone)]
pub(crate) struct CronSpec {
    cron: Cron,
    zone: Zone,
}

impl CronSpec {
    /// Standard 5-field crontab syntax (minute hour day-of-month month
    /// day-of-week) or a macro (`@hourly`, `@daily`, `@weekly`, `@monthly`,
    /// `@yearly`). No seconds field: nothing fires more than once a minute.
    pub fn parse(expression: &str, zone: Zone) -> Result<Self, String> {
        let expression = expression.trim();
        if expression.is_empty() {
            return Err("the cron expression is empty".into());
        }
        let fields = expression.split_whitespace().count();
        if !expression.starts_with('@') && fields != 5 {
            return Err(format!(
                "cron expression {expression:?} has {fields} fields; use exactly 5: minute hour day-of-month month day-of-week (e.g. \"30 8 * * 1-5\" for 08:30 on weekdays). Seconds are not supported"
            ));
        }
        let parser = CronParser::builder()
            .seconds(Seconds::Disallowed)
            .year(Year::Disallowed)
            .build();
        let cron = parser.parse(expression).map_err(|e| {
            format!(
                "invalid cron expression {expression:?} ({e}); use 5 fields: minute hour day-of-month month day-of-week, e.g. \"0 9 * * *\" for 09:00 every day, or @hourly/@daily/@weekly/@monthly/@yearly"
            )
        })?;
        Ok(Self { cron, zone })
    }

    /// The first match strictly after `after_ms`, or `None` if the
    /// expression never matches again (e.g. `0 0 30 2 *`).
    pub fn next_after(&self, after_ms: i64) -> Option<i64> {
        let after = Timestamp::from_millisecond(after_ms)
            .ok()?
            .to_zoned(self.zone.tz.clone());
        self.cron
            .find_next_occurrence(&after, false)
            .ok()
            .map(|next| next.timestamp().as_millisecond())
    }

    /// Checks that the expression fires after `now_ms` and never twice
    /// within `min_interval`; returns its first fire time.
    pub fn first_fire(&self, now_ms: i64, min_interval: Duration) -> Result<i64, String> {
        let Some(first) = self.next_after(now_ms) else {
            return Err(format!(
                "cron expression {:?} never matches a future time; check the day and month",
                self.cron.as_str()
            ));
        };
        let mut previous = first;
        for _ in 0..INTERVAL_SAMPLES {
            let Some(next) = self.next_after(previous) else {
                break;
            };
            let gap = next - previous;
            if gap < min_interval.as_millis() as i64 {
                return Err(format!(
                    "cron expression {:?} would fire twice within {}; the shortest allowed interval between firings is {}. Pick a less frequent schedule",
                    self.cron.as_str(),
                    describe(Duration::from_millis(gap as u64)),
                    describe(min_interval)
                ));
            }
            previous = next;
        }
        Ok(first)
    }
}

/// A one-shot time given as RFC 3339 (`2025-06-01T09:00:00+02:00`,
/// `...Z`), or as a local date and time (`2025-06-01T09:00`) read in `zone`.
pub(crate) fn parse_at(at: &str, zone: &Zone) -> Result<i64, String> {
    let at = at.trim();
    if let Ok(timestamp) = Timestamp::from_str(at) {
        return Ok(timestamp.as_millisecond());
    }
    let local = jiff::civil::DateTime::from_str(at).map_err(|_| {
        format!(
            "cannot read {at:?} as a time; use RFC 3339 such as \"2025-06-01T09:00:00+02:00\" or \"2025-06-01T07:00:00Z\""
        )
    })?;
    let zoned = local
        .to_zoned(zone.tz.clone())
        .map_err(|e| format!("{at:?} is not a time in {}: {e}", zone.name))?;
    Ok(zoned.timestamp().as_millisecond())
}

/// A delay such as `10m`, `2h`, `1d` or `1h30m` after `now_ms`. Days are
/// calendar days in `zone` (the same clock time, across a DST change).
pub(crate) fn parse_in(delay: &str, now_ms: i64, zone: &Zone) -> Result<i64, String> {
    let delay = delay.trim();
    let span = Span::from_str(delay).map_err(|_| {
        format!("cannot read {delay:?} as a delay; use a number and a unit, such as \"10m\", \"2h\", \"1d\" or \"1h30m\"")
    })?;
    if span.is_negative() || span.is_zero() {
        return Err(format!("the delay {delay:?} must be positive"));
    }
    let now = Timestamp::from_millisecond(now_ms)
        .map_err(|e| e.to_string())?
        .to_zoned(zone.tz.clone());
    let then: Zoned = now
        .checked_add(span)
        .map_err(|_| format!("the delay {delay:?} is too long"))?;
    // Whole seconds: what the model lists back reads better.
    let then = then
        .timestamp()
        .round(Unit::Second)
        .map_err(|e| e.to_string())?;
    Ok(then.as_millisecond())
}

/// `ms` as RFC 3339 in UTC, to the second.
pub(crate) fn rfc3339(ms: i64) -> String {
    match Timestamp::from_millisecond(ms) {
        Ok(ts) => ts
            .round(Unit::Second)
            .unwrap_or(ts)
            .strftime("%Y-%m-%dT%H:%M:%SZ")
            .to_string(),
        Err(_) => format!("{ms} ms"),
    }
}

/// A short human form of a duration: `30s`, `5m`, `2h`, `3d`, `1h30m`.
pub(crate) fn describe(duration: Duration) -> String {
    let secs = duration.as_secs();
    let (d, h, m, s) = (secs / 86_400, secs / 3_600 % 24, secs / 60 % 60, secs % 60);
    let mut out = String::new();
    for (value, unit) in [(d, "d"), (h, "h"), (m, "m"), (s, "s")] {
        if value > 0 {
            out.push_str(&format!("{value}{unit}"));
        }
    }
    if out.is_empty() {
        out.push_str("0s");
    }
    out
}
