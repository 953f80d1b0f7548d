//! Transcript rows: the only writer of the `messages` table. Tool calls are
//! stored as JSON next to the text so a history read rebuilds the exact
//! messages the model saw.

use hearth_core::{ChatMessage, Role, SessionKey, StoreError, TranscriptEntry};
use rusqlite::{Connection, params};

use crate::backend;

pub(crate) fn append(
    conn: &Connection,
    key: &SessionKey,
    session_id: &str,
    run_id: &str,
    message: &ChatMessage,
    at_ms: i64,
) -> Result<(), StoreError> {
    let tool_calls = if message.tool_calls.is_empty() {
        None
    } else {
        Some(
            serde_json::to_string(&message.tool_calls)
                .map_err(|e| StoreError::Invalid(e.to_string()))?,
        )
    };
    conn.prepare_cached(
        "INSERT INTO messages (session_key, session_id, run_id, role, content, tool_calls, tool_call_id, at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )
    .and_then(|mut st| {
        st.execute(params![
            key.as_str(),
            session_id,
            run_id,
            message.role.as_str(),
            message.content,
            tool_calls,
            message.tool_call_id,
            at_ms
        ])
    })
    .map_err(backend)?;
    Ok(())
}

/// The last `limit` rows of one transcript, oldest first.
pub(crate) fn tail(
    conn: &Connection,
    session_id: &str,
    limit: usize,
) -> Result<Vec<TranscriptEntry>, StoreError> {
    let mut st = conn
        .prepare_cached(
            "SELECT role, content, tool_calls, tool_call_id, run_id, at_ms FROM (
                SELECT id, role, content, tool_calls, tool_call_id, run_id, at_ms FROM messages
                WHERE session_id = ?1 ORDER BY id DESC LIMIT ?2
             ) ORDER BY id",
        )
        .map_err(backend)?;
    let rows = st
        .query_map(params![session_id, limit as i64], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, Option<String>>(2)?,
                row.get::<_, Option<String>>(3)?,
                row.get::<_, String>(4)?,
                row.get::<_, i64>(5)?,
            ))
        })
        .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
        .map_err(backend)?;
    rows.into_iter()
        .map(|(role, content, tool_calls, tool_call_id, run_id, at_ms)| {
            let role = Role::parse(&role)
                .ok_or_else(|| StoreError::Backend(format!("unknown role {role:?}")))?;
            let tool_calls = match tool_calls {
                Some(json) => serde_json::from_str(&json)
                    .map_err(|e| StoreError::Backend(format!("corrupt tool calls: {e}")))?,
                None => Vec::new(),
            };
            Ok(TranscriptEntry {
                message: ChatMessage {
                    role,
                    content,
                    tool_calls,
                    tool_call_id,
                },
                run_id,
                at_ms,
            })
        })
        .collect()
}

pub(crate) fn delete_for_session(conn: &Connection, key: &SessionKey) -> Result<(), StoreError> {
    conn.execute(
        "DELETE FROM messages WHERE session_key = ?1",
        [key.as_str()],
    )
    .map_err(backend)?;
    Ok(())
}
