//! Agents defined at runtime: the only writer of the `agents` table.

use hearth_core::{AgentId, AgentRecord, StoreError};
use rusqlite::{Connection, params};

use crate::backend;

pub(crate) fn list(conn: &Connection) -> Result<Vec<AgentRecord>, StoreError> {
    let mut st = conn
        .prepare_cached("SELECT id, settings, created_at_ms, updated_at_ms FROM agents ORDER BY id")
        .map_err(backend)?;
    let rows = st
        .query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, i64>(2)?,
                row.get::<_, i64>(3)?,
            ))
        })
        .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
        .map_err(backend)?;
    rows.into_iter()
        .map(|(id, settings, created_at_ms, updated_at_ms)| {
            Ok(AgentRecord {
                id: AgentId::new(id).map_err(|e| StoreError::Backend(e.to_string()))?,
                settings: serde_json::from_str(&settings)
                    .map_err(|e| StoreError::Backend(e.to_string()))?,
                created_at_ms,
                updated_at_ms,
            })
        })
        .collect()
}

pub(crate) fn put(conn: &Connection, agent: &AgentRecord, create: bool) -> Result<(), StoreError> {
    let settings =
        serde_json::to_string(&agent.settings).map_err(|e| StoreError::Invalid(e.to_string()))?;
    let changed = if create {
        conn.execute(
            "INSERT INTO agents (id, settings, created_at_ms, updated_at_ms) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (id) DO NOTHING",
            params![agent.id.as_str(), settings, agent.created_at_ms, agent.updated_at_ms],
        )
    } else {
        conn.execute(
            "UPDATE agents SET settings = ?2, updated_at_ms = ?3 WHERE id = ?1",
            params![agent.id.as_str(), settings, agent.updated_at_ms],
        )
    }
    .map_err(backend)?;
    match (changed, create) {
        (0, true) => Err(StoreError::Conflict(format!("agent {}", agent.id))),
        (0, false) => Err(StoreError::NotFound(format!("agent {}", agent.id))),
        _ => Ok(()),
    }
}

pub(crate) fn delete(conn: &Connection, id: &AgentId) -> Result<bool, StoreError> {
    Ok(conn
        .execute("DELETE FROM agents WHERE id = ?1", [id.as_str()])
        .map_err(backend)?
        > 0)
}
