//! The durable inbox: the only writer of the `inbox` table. A row is a run:
//! the accepted message, its state, and (once finished) its reply.

use hearth_core::{
    AgentId, InboundMessage, RunRecord, RunState, SessionKey, StoreError, Usage, now_ms,
};
use rusqlite::{Connection, OptionalExtension, Row, params};

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
    usage: Usage,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE inbox SET state = ?2, reply = ?3, error = ?4, finished_at_ms = ?5,
             input_tokens = ?6, output_tokens = ?7
         WHERE run_id = ?1",
    )
    .and_then(|mut st| {
        st.execute(params![
            run_id,
            state.as_str(),
            reply,
            error,
            now_ms(),
            usage.input_tokens,
            usage.output_tokens
        ])
    })
    .map_err(backend)?;
    Ok(())
}

/// The columns of a run, as read, before validation.
struct RunRow {
    run_id: String,
    session_key: String,
    agent_id: String,
    state: String,
    reply: Option<String>,
    error: Option<String>,
    accepted_at_ms: i64,
    finished_at_ms: Option<i64>,
    usage: Usage,
}

impl RunRow {
    fn read(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            run_id: row.get(0)?,
            session_key: row.get(1)?,
            agent_id: row.get(2)?,
            state: row.get(3)?,
            reply: row.get(4)?,
            error: row.get(5)?,
            accepted_at_ms: row.get(6)?,
            finished_at_ms: row.get(7)?,
            usage: Usage {
                input_tokens: row.get(8)?,
                output_tokens: row.get(9)?,
            },
        })
    }

    fn into_record(self) -> Result<RunRecord, StoreError> {
        let corrupt =
            |e: String| StoreError::Backend(format!("corrupt inbox row {}: {e}", self.run_id));
        Ok(RunRecord {
            session_key: SessionKey::new(self.session_key.clone())
                .map_err(|e| corrupt(e.to_string()))?,
            agent_id: AgentId::new(self.agent_id.clone()).map_err(|e| corrupt(e.to_string()))?,
            state: RunState::parse(&self.state)
                .ok_or_else(|| corrupt(format!("unknown state {:?}", self.state)))?,
            reply: self.reply,
            error: self.error,
            accepted_at_ms: self.accepted_at_ms,
            finished_at_ms: self.finished_at_ms,
            usage: self.usage,
            run_id: self.run_id,
        })
    }
}

pub(crate) fn get(conn: &Connection, run_id: &str) -> Result<Option<RunRecord>, StoreError> {
    conn.prepare_cached(
        "SELECT run_id, session_key, agent_id, state, reply, error, accepted_at_ms, finished_at_ms,
                input_tokens, output_tokens
         FROM inbox WHERE run_id = ?1",
    )
    .and_then(|mut st| st.query_row([run_id], RunRow::read).optional())
    .map_err(backend)?
    .map(RunRow::into_record)
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
