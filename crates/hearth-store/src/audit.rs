//! The audit log: the only writer of the `audit` table. Append-only; a
//! hash chain to make it tamper-evident comes with the security work.

use hearth_core::{StoreError, now_ms};
use rusqlite::{Connection, params};

use crate::backend;

pub(crate) fn append(
    conn: &Connection,
    actor: &str,
    action: &str,
    detail: &serde_json::Value,
) -> Result<(), StoreError> {
    conn.prepare_cached("INSERT INTO audit (at_ms, actor, action, detail) VALUES (?1, ?2, ?3, ?4)")
        .and_then(|mut st| st.execute(params![now_ms(), actor, action, detail.to_string()]))
        .map_err(backend)?;
    Ok(())
}
