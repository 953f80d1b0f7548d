//! The outbox: the only writer of the `outbox` table. One row per reply,
//! keyed by its idempotency key; delivery marks it, failures count attempts.

use hearth_core::{OutboundMessage, OutboxItem, SessionKey, StoreError, now_ms};
use rusqlite::{Connection, params};

use crate::backend;

/// Inserts the reply and returns its row id. `delivered` records a reply
/// whose channel delivers on commit. Called once per run (`finish_run` skips
/// finished runs), and the UNIQUE idempotency key refuses a second reply.
pub(crate) fn insert(
    conn: &Connection,
    run_id: &str,
    message: &OutboundMessage,
    delivered: bool,
) -> Result<i64, StoreError> {
    let body = serde_json::to_string(message).map_err(|e| StoreError::Invalid(e.to_string()))?;
    let now = now_ms();
    conn.prepare_cached(
        "INSERT INTO outbox (idempotency_key, run_id, session_key, channel, body, state,
                             created_at_ms, delivered_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )
    .and_then(|mut st| {
        st.execute(params![
            message.idempotency_key,
            run_id,
            message.session_key.as_str(),
            message.channel,
            body,
            if delivered { "delivered" } else { "pending" },
            now,
            delivered.then_some(now)
        ])
    })
    .map_err(backend)?;
    Ok(conn.last_insert_rowid())
}

/// Inserts `message` as pending unless its idempotency key is there
/// already; returns the new row id, or `None` for a repeat.
pub(crate) fn insert_once(
    conn: &Connection,
    run_id: &str,
    message: &OutboundMessage,
) -> Result<Option<i64>, StoreError> {
    let exists = conn
        .prepare_cached("SELECT 1 FROM outbox WHERE idempotency_key = ?1")
        .and_then(|mut st| st.exists([&message.idempotency_key]))
        .map_err(backend)?;
    if exists {
        return Ok(None);
    }
    insert(conn, run_id, message, false).map(Some)
}

pub(crate) fn pending(conn: &Connection, limit: usize) -> Result<Vec<OutboxItem>, StoreError> {
    let mut st = conn
        .prepare_cached(
            "SELECT id, body, attempts FROM outbox WHERE state = 'pending' ORDER BY id LIMIT ?1",
        )
        .map_err(backend)?;
    let rows = st
        .query_map([limit as i64], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, u32>(2)?,
            ))
        })
        .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
        .map_err(backend)?;
    rows.into_iter()
        .map(|(id, body, attempts)| {
            let message = serde_json::from_str(&body)
                .map_err(|e| StoreError::Backend(format!("corrupt outbox row {id}: {e}")))?;
            Ok(OutboxItem {
                id,
                message,
                attempts,
            })
        })
        .collect()
}

pub(crate) fn delivered(conn: &Connection, id: i64) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE outbox SET state = 'delivered', attempts = attempts + 1, delivered_at_ms = ?2
         WHERE id = ?1 AND state = 'pending'",
    )
    .and_then(|mut st| st.execute(params![id, now_ms()]))
    .map_err(backend)?;
    Ok(())
}

pub(crate) fn attempt_failed(
    conn: &Connection,
    id: i64,
    error: &str,
    give_up: bool,
) -> Result<(), StoreError> {
    let state = if give_up { "failed" } else { "pending" };
    conn.prepare_cached(
        "UPDATE outbox SET attempts = attempts + 1, last_error = ?2, state = ?3 WHERE id = ?1 AND state = 'pending'",
    )
    .and_then(|mut st| st.execute(params![id, error, state]))
    .map_err(backend)?;
    Ok(())
}

pub(crate) fn delete_for_session(conn: &Connection, key: &SessionKey) -> Result<(), StoreError> {
    conn.execute("DELETE FROM outbox WHERE session_key = ?1", [key.as_str()])
        .map_err(backend)?;
    Ok(())
}
