//! Schedules (cron jobs and one-shot reminders): the only writer of the
//! `schedules` table.

use hearth_core::{
    AgentId, NewSchedule, Origin, ScheduleKind, ScheduleRecord, SessionKey, StoreError, now_ms,
};
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::backend;

const COLUMNS: &str = "id, agent_id, session_key, channel, origin, text, label, kind, cron, timezone, \
     next_fire_at_ms, last_fired_at_ms, created_by, created_at_ms, enabled";

/// Soonest first; schedules that will not fire again last.
const ORDER: &str =
    "ORDER BY enabled DESC, next_fire_at_ms IS NULL, next_fire_at_ms, created_at_ms, id";

/// A row as SQLite gives it, before the typed fields are checked.
struct Raw {
    id: String,
    agent_id: String,
    session_key: String,
    channel: String,
    origin: Option<String>,
    text: String,
    label: Option<String>,
    kind: String,
    cron: Option<String>,
    timezone: String,
    next_fire_at_ms: Option<i64>,
    last_fired_at_ms: Option<i64>,
    created_by: String,
    created_at_ms: i64,
    enabled: bool,
}

fn from_row(row: &Row<'_>) -> rusqlite::Result<Raw> {
    Ok(Raw {
        id: row.get(0)?,
        agent_id: row.get(1)?,
        session_key: row.get(2)?,
        channel: row.get(3)?,
        origin: row.get(4)?,
        text: row.get(5)?,
        label: row.get(6)?,
        kind: row.get(7)?,
        cron: row.get(8)?,
        timezone: row.get(9)?,
        next_fire_at_ms: row.get(10)?,
        last_fired_at_ms: row.get(11)?,
        created_by: row.get(12)?,
        created_at_ms: row.get(13)?,
        enabled: row.get(14)?,
    })
}

fn corrupt(id: &str, what: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("schedule {id}: {what}"))
}

fn build(raw: Raw) -> Result<ScheduleRecord, StoreError> {
    let id = raw.id;
    let origin = raw
        .origin
        .map(|json| serde_json::from_str::<Origin>(&json))
        .transpose()
        .map_err(|e| corrupt(&id, e))?;
    Ok(ScheduleRecord {
        agent_id: AgentId::new(raw.agent_id).map_err(|e| corrupt(&id, e))?,
        session_key: SessionKey::new(raw.session_key).map_err(|e| corrupt(&id, e))?,
        kind: ScheduleKind::parse(&raw.kind)
            .ok_or_else(|| corrupt(&id, format!("unknown kind {:?}", raw.kind)))?,
        channel: raw.channel,
        origin,
        text: raw.text,
        label: raw.label,
        cron: raw.cron,
        timezone: raw.timezone,
        next_fire_at_ms: raw.next_fire_at_ms,
        last_fired_at_ms: raw.last_fired_at_ms,
        created_by: raw.created_by,
        created_at_ms: raw.created_at_ms,
        enabled: raw.enabled,
        id,
    })
}

fn query(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<ScheduleRecord>, StoreError> {
    let raws = conn
        .prepare_cached(sql)
        .and_then(|mut st| {
            st.query_map(params, from_row)?
                .collect::<Result<Vec<_>, _>>()
        })
        .map_err(backend)?;
    raws.into_iter().map(build).collect()
}

/// A fresh id: `s` and 8 hex digits. Short enough for a model to repeat
/// without mistakes; 32 random bits, and a collision is simply retried.
fn new_id() -> String {
    let bytes = uuid::Uuid::new_v4();
    let hex = bytes.simple().to_string();
    format!("s{}", &hex[..8])
}

fn exists(conn: &Connection, id: &str) -> Result<bool, StoreError> {
    conn.prepare_cached("SELECT 1 FROM schedules WHERE id = ?1")
        .and_then(|mut st| st.exists([id]))
        .map_err(backend)
}

pub(crate) fn insert(
    conn: &Connection,
    new: &NewSchedule,
    max_per_agent: usize,
) -> Result<ScheduleRecord, StoreError> {
    let count: i64 = conn
        .prepare_cached("SELECT count(*) FROM schedules WHERE agent_id = ?1")
        .and_then(|mut st| st.query_row([new.agent_id.as_str()], |row| row.get(0)))
        .map_err(backend)?;
    if count as usize >= max_per_agent {
        return Err(StoreError::Invalid(format!(
            "agent {} already has {count} schedules, the most allowed; remove one first",
            new.agent_id
        )));
    }
    let origin = new
        .origin
        .as_ref()
        .map(serde_json::to_string)
        .transpose()
        .map_err(|e| StoreError::Invalid(e.to_string()))?;
    let mut id = new_id();
    while exists(conn, &id)? {
        id = new_id();
    }
    let created_at_ms = now_ms();
    conn.prepare_cached(&format!(
        "INSERT INTO schedules ({COLUMNS})
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, NULL, ?12, ?13, 1)"
    ))
    .and_then(|mut st| {
        st.execute(params![
            id,
            new.agent_id.as_str(),
            new.session_key.as_str(),
            new.channel,
            origin,
            new.text,
            new.label,
            new.kind.as_str(),
            new.cron,
            new.timezone,
            new.next_fire_at_ms,
            new.created_by,
            created_at_ms,
        ])
    })
    .map_err(backend)?;
    Ok(ScheduleRecord {
        id,
        agent_id: new.agent_id.clone(),
        session_key: new.session_key.clone(),
        channel: new.channel.clone(),
        origin: new.origin.clone(),
        text: new.text.clone(),
        label: new.label.clone(),
        kind: new.kind,
        cron: new.cron.clone(),
        timezone: new.timezone.clone(),
        next_fire_at_ms: Some(new.next_fire_at_ms),
        last_fired_at_ms: None,
        created_by: new.created_by.clone(),
        created_at_ms,
        enabled: true,
    })
}

pub(crate) fn list(
    conn: &Connection,
    agent: Option<&AgentId>,
) -> Result<Vec<ScheduleRecord>, StoreError> {
    query(
        conn,
        &format!("SELECT {COLUMNS} FROM schedules WHERE (?1 IS NULL OR agent_id = ?1) {ORDER}"),
        params![agent.map(AgentId::as_str)],
    )
}

pub(crate) fn remove(conn: &Connection, id: &str, agent: &AgentId) -> Result<bool, StoreError> {
    conn.prepare_cached("DELETE FROM schedules WHERE id = ?1 AND agent_id = ?2")
        .and_then(|mut st| st.execute(params![id, agent.as_str()]))
        .map(|n| n > 0)
        .map_err(backend)
}

pub(crate) fn due(
    conn: &Connection,
    now_ms: i64,
    limit: usize,
) -> Result<Vec<ScheduleRecord>, StoreError> {
    query(
        conn,
        &format!(
            "SELECT {COLUMNS} FROM schedules
             WHERE enabled = 1 AND next_fire_at_ms <= ?1
             ORDER BY next_fire_at_ms, id LIMIT ?2"
        ),
        params![now_ms, limit as i64],
    )
}

pub(crate) fn next_at(conn: &Connection) -> Result<Option<i64>, StoreError> {
    conn.prepare_cached("SELECT min(next_fire_at_ms) FROM schedules WHERE enabled = 1")
        .and_then(|mut st| st.query_row([], |row| row.get(0)))
        .map_err(backend)
}

pub(crate) fn fired(
    conn: &Connection,
    id: &str,
    fired_at_ms: i64,
    next_fire_at_ms: Option<i64>,
) -> Result<bool, StoreError> {
    let kind: Option<String> = conn
        .prepare_cached(
            "SELECT kind FROM schedules WHERE id = ?1 AND enabled = 1 AND next_fire_at_ms = ?2",
        )
        .and_then(|mut st| {
            st.query_row(params![id, fired_at_ms], |row| row.get(0))
                .optional()
        })
        .map_err(backend)?;
    let Some(kind) = kind else {
        // Removed meanwhile, or this slot was already recorded.
        return Ok(false);
    };
    let changed = match (next_fire_at_ms, kind.as_str()) {
        // A reminder that has fired is done with.
        (None, "once") => conn.execute("DELETE FROM schedules WHERE id = ?1", [id]),
        // A cron expression with no future match: keep it, visibly stopped.
        (None, _) => conn.execute(
            "UPDATE schedules SET enabled = 0, next_fire_at_ms = NULL, last_fired_at_ms = ?2
             WHERE id = ?1",
            params![id, fired_at_ms],
        ),
        (Some(next), _) => conn.execute(
            "UPDATE schedules SET next_fire_at_ms = ?3, last_fired_at_ms = ?2 WHERE id = ?1",
            params![id, fired_at_ms, next],
        ),
    }
    .map_err(backend)?;
    Ok(changed > 0)
}

pub(crate) fn disable(conn: &Connection, id: &str) -> Result<bool, StoreError> {
    conn.prepare_cached("UPDATE schedules SET enabled = 0 WHERE id = ?1")
        .and_then(|mut st| st.execute([id]))
        .map(|n| n > 0)
        .map_err(backend)
}
