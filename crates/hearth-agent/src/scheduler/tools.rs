//! The tools the agent schedules with: `schedule_add`, `schedule_list`,
//! `schedule_remove`. A schedule belongs to the agent that made it and
//! answers into the conversation it was made in.

use std::sync::Arc;

use async_trait::async_trait;
use hearth_core::{
    NewSchedule, Origin, ScheduleKind, ScheduleRecord, Store, StoreError, ToolContext, ToolError,
    ToolResult, TypedTool,
};
use schemars::JsonSchema;
use serde::Deserialize;
use tokio::sync::Notify;

use super::SchedulerConfig;
use super::spec::{self, CronSpec, Zone};

/// Longest `text` a schedule keeps, in bytes: it is a prompt, not a document.
const MAX_TEXT_BYTES: usize = 4096;
/// Longest label, in characters.
const MAX_LABEL_CHARS: usize = 80;
/// How much of each schedule's text `schedule_list` shows.
const LIST_TEXT_CHARS: usize = 100;

/// What the three tools share.
pub(crate) struct Shared {
    pub store: Arc<dyn Store>,
    pub notify: Arc<Notify>,
    pub config: SchedulerConfig,
    /// The zone for cron expressions and local times given without one.
    pub zone: Zone,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("config", &self.config)
            .field("zone", &self.zone.name)
            .finish_non_exhaustive()
    }
}

fn store_failed(error: StoreError) -> ToolError {
    match error {
        StoreError::Invalid(reason) => ToolError::Denied(reason),
        other => ToolError::Failed(other.to_string()),
    }
}

/// The conversation to answer in, without what belonged to the one
/// message that asked (its id, attachments): a reply to a reminder is a new
/// message, not a reply to the request made days ago.
fn delivery_origin(origin: &Option<Origin>) -> Option<Origin> {
    origin.as_ref().map(|origin| Origin {
        conversation: origin.conversation.clone(),
        sender: origin.sender.clone(),
        message_id: None,
        reply_to: None,
        mentioned: true,
        attachments: Vec::new(),
    })
}

fn shorten(text: &str, max_chars: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &flat[..cut]),
        None => flat,
    }
}

#[derive(Debug)]
pub(crate) struct ScheduleAdd(pub Arc<Shared>);

/// Arguments of `schedule_add`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AddArgs {
    /// What you will be told when it fires, written as an instruction to yourself, e.g. "Remind the user to take the laundry out".
    pub text: String,
    /// Repeat on a cron schedule: 5 fields "minute hour day-of-month month day-of-week", e.g. "0 9 * * 1-5" (09:00 on weekdays) or "*/30 * * * *" (every 30 minutes); or @hourly, @daily, @weekly, @monthly, @yearly. Give exactly one of `cron`, `at` and `in`.
    #[serde(default)]
    pub cron: Option<String>,
    /// Fire once at this time: RFC 3339 such as "2025-06-01T09:00:00+02:00" or "2025-06-01T07:00:00Z", or a local "2025-06-01T09:00" read in `timezone`.
    #[serde(default)]
    pub at: Option<String>,
    /// Fire once after this delay from now, e.g. "10m", "2h", "1d", "1h30m".
    #[serde(default, rename = "in")]
    pub in_: Option<String>,
    /// IANA time zone such as "Europe/Paris", or "UTC", in which `cron` and a local `at` are read. Defaults to the server's time zone.
    #[serde(default)]
    pub timezone: Option<String>,
    /// A short name for the schedule, shown in listings and when it fires.
    #[serde(default)]
    pub label: Option<String>,
}

fn invalid(reason: impl Into<String>) -> ToolError {
    ToolError::InvalidArguments(reason.into())
}

impl ScheduleAdd {
    /// Checks the arguments and computes the first fire time, touching
    /// nothing.
    pub(crate) fn validate(&self, args: &AddArgs, now_ms: i64) -> Result<NewPlan, ToolError> {
        let text = args.text.trim();
        if text.is_empty() {
            return Err(invalid(
                "`text` is empty; say what should happen when it fires",
            ));
        }
        if text.len() > MAX_TEXT_BYTES {
            return Err(invalid(format!(
                "`text` is {} bytes; keep it under {MAX_TEXT_BYTES}",
                text.len()
            )));
        }
        let label = match args.label.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(label) if label.chars().count() > MAX_LABEL_CHARS => {
                return Err(invalid(format!(
                    "`label` is too long; keep it under {MAX_LABEL_CHARS} characters"
                )));
            }
            Some(label) if label.chars().any(char::is_control) => {
                return Err(invalid("`label` must be one line of text"));
            }
            Some(label) => Some(label.to_owned()),
        };
        let zone = match &args.timezone {
            Some(name) => Zone::named(name).map_err(invalid)?,
            None => self.0.zone.clone(),
        };
        let once = |at: i64| {
            if at <= now_ms {
                return Err(invalid(format!(
                    "{} is in the past (it is now {}); give a future time",
                    spec::rfc3339(at),
                    spec::rfc3339(now_ms)
                )));
            }
            Ok((ScheduleKind::Once, None, at))
        };
        let (kind, cron, first) = match (&args.cron, &args.at, &args.in_) {
            (Some(expression), None, None) => {
                let cron = CronSpec::parse(expression, zone.clone()).map_err(invalid)?;
                let first = cron
                    .first_fire(now_ms, self.0.config.min_interval)
                    .map_err(invalid)?;
                (
                    ScheduleKind::Cron,
                    Some(expression.trim().to_owned()),
                    first,
                )
            }
            (None, Some(at), None) => once(spec::parse_at(at, &zone).map_err(invalid)?)?,
            (None, None, Some(delay)) => {
                once(spec::parse_in(delay, now_ms, &zone).map_err(invalid)?)?
            }
            _ => {
                return Err(invalid(
                    "give exactly one of `cron` (repeating), `at` (a time) or `in` (a delay such as \"10m\")",
                ));
            }
        };
        Ok(NewPlan {
            text: text.to_owned(),
            label,
            kind,
            cron,
            zone,
            first,
        })
    }
}

/// A checked `schedule_add`.
pub(crate) struct NewPlan {
    text: String,
    label: Option<String>,
    kind: ScheduleKind,
    cron: Option<String>,
    zone: Zone,
    first: i64,
}

#[async_trait]
impl TypedTool for ScheduleAdd {
    type Args = AddArgs;
    const NAME: &'static str = "schedule_add";

    fn description(&self) -> String {
        format!(
            "Schedule a task for yourself: a one-time reminder (`at` a time, or `in` a delay) or a repeating job (`cron`). \
             When it fires you receive `text` as a message in this conversation, and your answer is sent here. \
             Times without a zone are read in {zone}. At most {max} schedules; a cron job may fire at most once every {min}. \
             Returns the schedule's id and its first fire time.",
            zone = self.0.zone.name,
            max = self.0.config.max_per_agent,
            min = spec::describe(self.0.config.min_interval),
        )
    }

    async fn run(&self, context: &ToolContext, args: AddArgs) -> ToolResult {
        let plan = self.validate(&args, hearth_core::now_ms())?;
        let new = NewSchedule {
            agent_id: context.agent_id.clone(),
            session_key: context.session_key.clone(),
            channel: context.channel.clone(),
            origin: delivery_origin(&context.origin),
            text: plan.text,
            label: plan.label,
            kind: plan.kind,
            cron: plan.cron,
            timezone: plan.zone.name,
            next_fire_at_ms: plan.first,
            created_by: context.caller(),
        };
        let record = self
            .0
            .store
            .add_schedule(&new, self.0.config.max_per_agent)
            .await
            .map_err(store_failed)?;
        // The engine may be asleep until a later schedule: wake it. A
        // permit is stored if it is busy, so the wake-up is not lost.
        self.0.notify.notify_one();
        Ok(format!("Scheduled {}.", describe_schedule(&record)))
    }
}

/// One line about a schedule, for the model.
fn describe_schedule(record: &ScheduleRecord) -> String {
    let mut line = record.id.clone();
    if let Some(label) = &record.label {
        line.push_str(&format!(" ({label:?})"));
    }
    match (&record.kind, &record.cron) {
        (ScheduleKind::Cron, Some(cron)) => {
            line.push_str(&format!(": cron {cron:?} in {}", record.timezone));
            match record.next_fire_at_ms {
                Some(next) if record.enabled => {
                    line.push_str(&format!(", next at {}", spec::rfc3339(next)));
                }
                _ => line.push_str(", disabled (it will not fire)"),
            }
        }
        _ => match record.next_fire_at_ms {
            Some(at) if record.enabled => {
                line.push_str(&format!(": once at {}", spec::rfc3339(at)));
            }
            _ => line.push_str(": once, disabled (it will not fire)"),
        },
    }
    line
}

#[derive(Debug)]
pub(crate) struct ScheduleList(pub Arc<Shared>);

/// `schedule_list` takes no arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListArgs {}

#[async_trait]
impl TypedTool for ScheduleList {
    type Args = ListArgs;
    const NAME: &'static str = "schedule_list";

    fn description(&self) -> String {
        "List your schedules (reminders and cron jobs): id, when each fires next (RFC 3339, UTC) and what it asks. Use the id with schedule_remove.".to_owned()
    }

    async fn run(&self, context: &ToolContext, _args: ListArgs) -> ToolResult {
        let schedules = self
            .0
            .store
            .schedules(Some(&context.agent_id))
            .await
            .map_err(store_failed)?;
        if schedules.is_empty() {
            return Ok("No schedules.".to_owned());
        }
        let mut out = format!(
            "{} schedule{}:",
            schedules.len(),
            if schedules.len() == 1 { "" } else { "s" }
        );
        for record in &schedules {
            out.push_str(&format!(
                "\n- {}; asks: {:?}",
                describe_schedule(record),
                shorten(&record.text, LIST_TEXT_CHARS)
            ));
        }
        Ok(out)
    }
}

#[derive(Debug)]
pub(crate) struct ScheduleRemove(pub Arc<Shared>);

/// Arguments of `schedule_remove`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RemoveArgs {
    /// The schedule's id, as schedule_add or schedule_list gave it (e.g. "s1a2b3c4d").
    pub id: String,
}

#[async_trait]
impl TypedTool for ScheduleRemove {
    type Args = RemoveArgs;
    const NAME: &'static str = "schedule_remove";

    fn description(&self) -> String {
        "Remove one of your schedules by id, so it never fires again.".to_owned()
    }

    async fn run(&self, context: &ToolContext, args: RemoveArgs) -> ToolResult {
        let id = args.id.trim();
        let removed = self
            .0
            .store
            .remove_schedule(id, &context.agent_id)
            .await
            .map_err(store_failed)?;
        if removed {
            Ok(format!("Removed {id}."))
        } else {
            Err(ToolError::Failed(format!(
                "you have no schedule {id:?}; schedule_list shows your schedules and their ids"
            )))
        }
    }
}
