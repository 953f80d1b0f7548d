//! The graph's tables. They live in a database shared with other memory
//! tables, so they are all prefixed `graph_`, and the graph keeps its own
//! version row in `graph_meta` rather than claiming `PRAGMA user_version`.
//! Never edit a released step: append a new one.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

/// The steps, oldest first; the stored version is the number applied.
const STEPS: &[&str] = &[
    // 1: entities, relations, history.
    r#"
    CREATE TABLE IF NOT EXISTS graph_entities (
        id          INTEGER PRIMARY KEY,
        agent       TEXT NOT NULL,
        type        TEXT NOT NULL,
        -- Canonical JSON of the key (see validate.rs), unique per type.
        key         TEXT NOT NULL,
        props       TEXT NOT NULL,
        created_ms  INTEGER NOT NULL,
        updated_ms  INTEGER NOT NULL,
        version     INTEGER NOT NULL,
        UNIQUE (agent, type, key)
    );
    CREATE INDEX IF NOT EXISTS graph_entities_recent
        ON graph_entities (agent, updated_ms DESC);

    -- Relations point at entity rows, so traversal never crosses agents.
    -- The cascade is a backstop: delete_entity removes relations itself
    -- first, to record each one in the history.
    CREATE TABLE IF NOT EXISTS graph_relations (
        id          INTEGER PRIMARY KEY,
        agent       TEXT NOT NULL,
        type        TEXT NOT NULL,
        from_id     INTEGER NOT NULL REFERENCES graph_entities (id) ON DELETE CASCADE,
        to_id       INTEGER NOT NULL REFERENCES graph_entities (id) ON DELETE CASCADE,
        props       TEXT NOT NULL,
        created_ms  INTEGER NOT NULL,
        updated_ms  INTEGER NOT NULL,
        version     INTEGER NOT NULL,
        UNIQUE (agent, type, from_id, to_id)
    );
    CREATE INDEX IF NOT EXISTS graph_relations_out ON graph_relations (from_id, type);
    CREATE INDEX IF NOT EXISTS graph_relations_in ON graph_relations (to_id, type);

    -- Append-only. Records are named by type and key (subject = the entity,
    -- or a relation's from end; object = a relation's to end), not only by
    -- row id, so an entity's history survives its deletion.
    CREATE TABLE IF NOT EXISTS graph_history (
        id            INTEGER PRIMARY KEY,
        agent         TEXT NOT NULL,
        target        TEXT NOT NULL CHECK (target IN ('entity', 'relation')),
        target_id     INTEGER NOT NULL,
        type          TEXT NOT NULL,
        subject_type  TEXT NOT NULL,
        subject_key   TEXT NOT NULL,
        object_type   TEXT,
        object_key    TEXT,
        op            TEXT NOT NULL CHECK (op IN ('create', 'update', 'delete')),
        before        TEXT,
        after         TEXT,
        version       INTEGER NOT NULL,
        at_ms         INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS graph_history_by_agent ON graph_history (agent, id);
    CREATE INDEX IF NOT EXISTS graph_history_by_subject
        ON graph_history (agent, subject_type, subject_key, id);
    CREATE INDEX IF NOT EXISTS graph_history_by_object
        ON graph_history (agent, object_type, object_key, id);
    "#,
];

/// Brings the graph tables up to date in one transaction. IMMEDIATE so two
/// processes opening the same file at once take turns instead of both
/// reading version 0.
pub(super) fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS graph_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    )?;
    let applied: usize = tx
        .query_row(
            "SELECT value FROM graph_meta WHERE key = 'schema_version'",
            [],
            |row| row.get::<_, String>(0),
        )
        .optional()?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    for step in STEPS.iter().skip(applied) {
        tx.execute_batch(step)?;
    }
    if applied < STEPS.len() {
        tx.execute(
            "INSERT INTO graph_meta (key, value) VALUES ('schema_version', ?1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [STEPS.len().to_string()],
        )?;
    }
    tx.commit()
}
