//! Session rows: the only writer of the `sessions` table.

use hearth_core::{AgentId, SessionKey, SessionRecord, StoreError, Usage, now_ms};
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::backend;

const COLUMNS: &str = "key, agent_id, session_id, label, created_at_ms, updated_at_ms, message_count, input_tokens, output_tokens";

fn from_row(row: &Row<'_>) -> rusqlite::Result<(String, String, SessionRecordRest)> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        SessionRecordRest {
            session_id: row.get(2)?,
            label: row.get(3)?,
            created_at_ms: row.get(4)?,
            updated_at_ms: row.get(5)?,
            message_count: row.get(6)?,
            input_tokens: row.get(7)?,
            output_tokens: row.get(8)?,
        },
    ))
}

struct SessionRecordRest {
    session_id: String,
    label: Option<String>,
    created_at_ms: i64,
    updated_at_ms: i64,
    message_count: u64,
    input_tokens: u64,
    output_tokens: u64,
}

fn build(
    (key, agent, r): (String, String, SessionRecordRest),
) -> Result<SessionRecord, StoreError> {
    Ok(SessionRecord {
        key: SessionKey::new(key).map_err(|e| StoreError::Backend(e.to_string()))?,
        agent_id: AgentId::new(agent).map_err(|e| StoreError::Backend(e.to_string()))?,
        session_id: r.session_id,
        label: r.label,
        created_at_ms: r.created_at_ms,
        updated_at_ms: r.updated_at_ms,
        message_count: r.message_count,
        input_tokens: r.input_tokens,
        output_tokens: r.output_tokens,
    })
}

pub(crate) fn get(
    conn: &Connection,
    key: &SessionKey,
) -> Result<Option<SessionRecord>, StoreError> {
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM sessions WHERE key = ?1"))
        .and_then(|mut st| st.query_row([key.as_str()], from_row).optional())
        .map_err(backend)?
        .map(build)
        .transpose()
}

pub(crate) fn list(
    conn: &Connection,
    agent: Option<&AgentId>,
    limit: usize,
) -> Result<Vec<SessionRecord>, StoreError> {
    let mut st = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM sessions WHERE (?1 IS NULL OR agent_id = ?1) ORDER BY updated_at_ms DESC, key LIMIT ?2"
        ))
        .map_err(backend)?;
    let rows = st
        .query_map(params![agent.map(AgentId::as_str), limit as i64], from_row)
        .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
        .map_err(backend)?;
    rows.into_iter().map(build).collect()
}

/// Returns the session, inserting it with a fresh transcript id if missing.
pub(crate) fn ensure(
    conn: &Connection,
    key: &SessionKey,
    agent: &AgentId,
    label: Option<&str>,
) -> Result<SessionRecord, StoreError> {
    if let Some(existing) = get(conn, key)? {
        return Ok(existing);
    }
    let now = now_ms();
    conn.prepare_cached(
        "INSERT INTO sessions (key, agent_id, session_id, label, created_at_ms, updated_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
    )
    .and_then(|mut st| {
        st.execute(params![
            key.as_str(),
            agent.as_str(),
            uuid::Uuid::now_v7().to_string(),
            label,
            now
        ])
    })
    .map_err(backend)?;
    get(conn, key)?.ok_or_else(|| StoreError::Backend("session vanished after insert".into()))
}

pub(crate) fn record_turn(
    conn: &Connection,
    key: &SessionKey,
    added_messages: usize,
    usage: Usage,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE sessions SET updated_at_ms = ?2, message_count = message_count + ?3,
             input_tokens = input_tokens + ?4, output_tokens = output_tokens + ?5
         WHERE key = ?1",
    )
    .and_then(|mut st| {
        st.execute(params![
            key.as_str(),
            now_ms(),
            added_messages as i64,
            usage.input_tokens,
            usage.output_tokens
        ])
    })
    .map_err(backend)?;
    Ok(())
}

pub(crate) fn reset(conn: &Connection, key: &SessionKey) -> Result<bool, StoreError> {
    let changed = conn
        .execute(
            "UPDATE sessions SET session_id = ?2, message_count = 0, updated_at_ms = ?3 WHERE key = ?1",
            params![key.as_str(), uuid::Uuid::now_v7().to_string(), now_ms()],
        )
        .map_err(backend)?;
    Ok(changed > 0)
}

pub(crate) fn delete(conn: &Connection, key: &SessionKey) -> Result<bool, StoreError> {
    let changed = conn
        .execute("DELETE FROM sessions WHERE key = ?1", [key.as_str()])
        .map_err(backend)?;
    Ok(changed > 0)
}
