//! Versioned schema migrations. Each entry runs once, in order, inside a
//! transaction, and `PRAGMA user_version` records how far a database got.
//! Never edit a released entry: append a new one.

use rusqlite::Connection;

/// The schema steps, oldest first. The database's `user_version` is the
/// number of steps applied.
pub const MIGRATIONS: &[&str] = &[
    // 1: the backbone tables.
    r#"
    CREATE TABLE sessions (
        key            TEXT PRIMARY KEY,
        agent_id       TEXT NOT NULL,
        session_id     TEXT NOT NULL,
        label          TEXT,
        created_at_ms  INTEGER NOT NULL,
        updated_at_ms  INTEGER NOT NULL,
        message_count  INTEGER NOT NULL DEFAULT 0,
        input_tokens   INTEGER NOT NULL DEFAULT 0,
        output_tokens  INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX sessions_by_update ON sessions (updated_at_ms DESC);

    -- Transcript rows; session_id changes on reset so old rows are kept.
    CREATE TABLE messages (
        id            INTEGER PRIMARY KEY,
        session_key   TEXT NOT NULL,
        session_id    TEXT NOT NULL,
        run_id        TEXT NOT NULL,
        role          TEXT NOT NULL,
        content       TEXT NOT NULL,
        tool_calls    TEXT,
        tool_call_id  TEXT,
        at_ms         INTEGER NOT NULL
    );
    CREATE INDEX messages_by_session ON messages (session_id, id);
    CREATE INDEX messages_by_key ON messages (session_key);

    -- The durable inbox: one row per accepted message, i.e. per run.
    CREATE TABLE inbox (
        seq             INTEGER PRIMARY KEY,
        run_id          TEXT NOT NULL UNIQUE,
        session_key     TEXT NOT NULL,
        agent_id        TEXT NOT NULL,
        channel         TEXT NOT NULL,
        body            TEXT NOT NULL,
        state           TEXT NOT NULL,
        reply           TEXT,
        error           TEXT,
        accepted_at_ms  INTEGER NOT NULL,
        finished_at_ms  INTEGER,
        input_tokens    INTEGER NOT NULL DEFAULT 0,
        output_tokens   INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX inbox_unfinished ON inbox (seq) WHERE state IN ('queued', 'running');

    -- The outbox: one row per reply; the idempotency key is unique, so a
    -- replayed turn cannot enqueue a second reply.
    CREATE TABLE outbox (
        id               INTEGER PRIMARY KEY,
        idempotency_key  TEXT NOT NULL UNIQUE,
        run_id           TEXT NOT NULL,
        session_key      TEXT NOT NULL,
        channel          TEXT NOT NULL,
        body             TEXT NOT NULL,
        state            TEXT NOT NULL,
        attempts         INTEGER NOT NULL DEFAULT 0,
        last_error       TEXT,
        created_at_ms    INTEGER NOT NULL,
        delivered_at_ms  INTEGER
    );
    CREATE INDEX outbox_pending ON outbox (id) WHERE state = 'pending';

    CREATE TABLE agents (
        id             TEXT PRIMARY KEY,
        settings       TEXT NOT NULL,
        created_at_ms  INTEGER NOT NULL,
        updated_at_ms  INTEGER NOT NULL
    );

    CREATE TABLE audit (
        id      INTEGER PRIMARY KEY,
        at_ms   INTEGER NOT NULL,
        actor   TEXT NOT NULL,
        action  TEXT NOT NULL,
        detail  TEXT NOT NULL
    );
    "#,
    // 2: channel access: senders an operator approved, pending pairing codes.
    r#"
    CREATE TABLE channel_senders (
        channel         TEXT NOT NULL,
        sender_id       TEXT NOT NULL,
        sender_name     TEXT,
        approved_at_ms  INTEGER NOT NULL,
        approved_by     TEXT NOT NULL,
        PRIMARY KEY (channel, sender_id)
    );
    CREATE TABLE channel_pairing (
        channel         TEXT NOT NULL,
        sender_id       TEXT NOT NULL,
        sender_name     TEXT,
        code            TEXT NOT NULL,
        created_at_ms   INTEGER NOT NULL,
        expires_at_ms   INTEGER NOT NULL,
        PRIMARY KEY (channel, sender_id)
    );
    CREATE UNIQUE INDEX channel_pairing_code ON channel_pairing (channel, code);
    "#,
    // 3: schedules (cron jobs and one-shot reminders) that run agent turns.
    r#"
    CREATE TABLE schedules (
        id                TEXT PRIMARY KEY,
        agent_id          TEXT NOT NULL,
        session_key       TEXT NOT NULL,
        channel           TEXT NOT NULL,
        origin            TEXT,
        text              TEXT NOT NULL,
        label             TEXT,
        kind              TEXT NOT NULL CHECK (kind IN ('cron', 'once')),
        cron              TEXT,
        timezone          TEXT NOT NULL,
        next_fire_at_ms   INTEGER,
        last_fired_at_ms  INTEGER,
        created_by        TEXT NOT NULL,
        created_at_ms     INTEGER NOT NULL,
        enabled           INTEGER NOT NULL DEFAULT 1
    );
    CREATE INDEX schedules_by_agent ON schedules (agent_id);
    CREATE INDEX schedules_due ON schedules (next_fire_at_ms) WHERE enabled = 1;
    "#,
];

/// Brings the database up to the newest schema. Refuses a database written
/// by a newer Hearth rather than guessing at its layout.
pub fn migrate(conn: &mut Connection) -> Result<u32, rusqlite::Error> {
    let current: u32 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    let newest = MIGRATIONS.len() as u32;
    if current > newest {
        return Err(rusqlite::Error::InvalidParameterName(format!(
            "database schema version {current} is newer than this build supports ({newest}); upgrade Hearth"
        )));
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", index as u32 + 1)?;
        tx.commit()?;
    }
    Ok(newest)
}
