//! The durable inbox: the only writer of the `inbox` table. A row is a run:
//! the accepted message, its state, and (once finished) its reply.

use hearth_core::{AgentId, InboundMessage, RunRecord, RunState, SessionKey, StoreError, now_ms};
use rusqlite::{Connection, OptionalExtension, params};

use crate::backend;

pub(crate) fn insert(conn: &Connection, message: &InboundMessage) -> Result<(), StoreError> {
    let body = serde_json::to_string(message).map_err(|e| StoreError::Invalid(e.to_string()))?;
    conn.prepare_cached(
        "INSERT INTO inbox (run_id, session_key, agent_id, channel, body, state, accepted_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, 'queued', ?6)",
    )
    .and_then(|mut st| {
        st.execute(params![
            message.id,
            message.session_key.as_str(),
            message.agent_id.as_str(),
            message.channel,
            body,
            message.received_at_ms
        ])
    })
    .map_err(backend)?;
    Ok(())
}

pub(crate) fn set_running(conn: &Connection, run_id: &str) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE inbox SET state = 'running' WHERE run_id = ?1 AND state = 'queued'",
    )
    .and_then(|mut st| st.execute([run_id]))
    .map_err(backend)?;
    Ok(())
}

pub(crate) fn finish(
    conn: &Connection,
    run_id: &str,
    state: RunState,
    reply: &str,
    error: Option<&str>,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE inbox SET state = ?2, reply = ?3, error = ?4, finished_at_ms = ?5 WHERE run_id = ?1",
    )
    .and_then(|mut st| st.execute(params![run_id, state.as_str(), reply, error, now_ms()]))
    .map_err(backend)?;
    Ok(())
}

pub(crate) fn get(conn: &Connection, run_id: &str) -> Result<Option<RunRecord>, StoreError> {
    conn.prepare_cached(
        "SELECT run_id, session_key, agent_id, state, reply, error, accepted_at_ms, finished_at_ms
         FROM inbox WHERE run_id = ?1",
    )
    .and_then(|mut st| {
        st.query_row([run_id], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, Option<String>>(4)?,
                row.get::<_, Option<String>>(5)?,
                row.get::<_, i64>(6)?,
                row.get::<_, Option<i64>>(7)?,
            ))
        })
        .optional()
    })
    .map_err(backend)?
    .map(
        |(run_id, key, agent, state, reply, error, accepted_at_ms, finished_at_ms)| {
            Ok(RunRecord {
                run_id,
                session_key: SessionKey::new(key)
                    .map_err(|e| StoreError::Backend(e.to_string()))?,
                agent_id: AgentId::new(agent).map_err(|e| StoreError::Backend(e.to_string()))?,
                state: RunState::parse(&state)
                    .ok_or_else(|| StoreError::Backend(format!("unknown run state {state:?}")))?,
                reply,
                error,
                accepted_at_ms,
                finished_at_ms,
            })
        },
    )
    .transpose()
}

pub(crate) fn unfinished(conn: &Connection) -> Result<Vec<InboundMessage>, StoreError> {
    let mut st = conn
        .prepare_cached("SELECT body FROM inbox WHERE state IN ('queued', 'running') ORDER BY seq")
        .map_err(backend)?;
    let bodies = st
        .query_map([], |row| row.get::<_, String>(0))
        .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
        .map_err(backend)?;
    bodies
        .iter()
        .map(|body| {
            serde_json::from_str(body)
                .map_err(|e| StoreError::Backend(format!("corrupt inbox row: {e}")))
        })
        .collect()
}

pub(crate) fn delete_for_session(conn: &Connection, key: &SessionKey) -> Result<(), StoreError> {
    conn.execute("DELETE FROM inbox WHERE session_key = ?1", [key.as_str()])
        .map_err(backend)?;
    Ok(())
}
