//! The long-term memory tables, and bringing the index up to date with
//! them at open: re-embedding after a change of embedder, then loading the
//! saved index or rebuilding it from the stored vectors.
//!
//! The long-term memory tables. They live in the same SQLite file as the
//! knowledge graph, so each part creates only its own `mem_` tables and
//! tracks its own version in `mem_meta`.
//!
//! Vectors are kept in SQLite beside their text (the source of truth); the
//! ANN index is a cache of them, saved to a side file and rebuilt from here
//! whenever it does not match.

use std::path::Path;

use parking_lot::Mutex;
use rusqlite::{Connection, OptionalExtension, params};

use super::index::{ItemFields, VectorIndex};
use super::{Progress, ProgressFn};
use crate::MemoryError;
use crate::embed::Embedder;

const VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS mem_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS mem_items (
    id           INTEGER PRIMARY KEY,
    agent        TEXT NOT NULL,
    kind         TEXT NOT NULL,
    text         TEXT NOT NULL,
    user_id      TEXT,
    channel      TEXT,
    session      TEXT,
    source       TEXT,
    chunk        INTEGER,
    tags         TEXT NOT NULL DEFAULT '[]',
    importance   REAL NOT NULL,
    created_ms   INTEGER NOT NULL,
    accessed_ms  INTEGER NOT NULL,
    recalls      INTEGER NOT NULL DEFAULT 0,
    embedder     TEXT NOT NULL,
    vector       BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS mem_items_agent ON mem_items (agent, created_ms);
CREATE INDEX IF NOT EXISTS mem_items_source ON mem_items (agent, source);

-- Full text over the same rows. The trigram tokenizer matches any
-- substring of three characters or more, which is what makes Chinese,
-- Japanese and Korean text (no spaces between words) searchable.
CREATE VIRTUAL TABLE IF NOT EXISTS mem_fts USING fts5(
    text, content = 'mem_items', content_rowid = 'id', tokenize = 'trigram'
);
CREATE TRIGGER IF NOT EXISTS mem_items_ai AFTER INSERT ON mem_items BEGIN
    INSERT INTO mem_fts (rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER IF NOT EXISTS mem_items_ad AFTER DELETE ON mem_items BEGIN
    INSERT INTO mem_fts (mem_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
CREATE TRIGGER IF NOT EXISTS mem_items_au AFTER UPDATE OF text ON mem_items BEGIN
    INSERT INTO mem_fts (mem_fts, rowid, text) VALUES ('delete', old.id, old.text);
    INSERT INTO mem_fts (rowid, text) VALUES (new.id, new.text);
END;

-- Imported files: what was read, so an unchanged file is not re-embedded.
CREATE TABLE IF NOT EXISTS mem_files (
    agent      TEXT NOT NULL,
    path       TEXT NOT NULL,
    sha256     TEXT NOT NULL,
    chunks     INTEGER NOT NULL,
    imported_ms INTEGER NOT NULL,
    PRIMARY KEY (agent, path)
) WITHOUT ROWID;
";

pub fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(SCHEMA)?;
    let version: Option<i64> = get_meta(conn, "version")?.and_then(|v| v.parse().ok());
    if version.is_none() {
        set_meta(conn, "version", &VERSION.to_string())?;
    }
    Ok(())
}

pub fn get_meta(conn: &Connection, key: &str) -> rusqlite::Result<Option<String>> {
    conn.query_row("SELECT value FROM mem_meta WHERE key = ?1", [key], |r| {
        r.get(0)
    })
    .optional()
}

pub fn set_meta(conn: &Connection, key: &str, value: &str) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO mem_meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

/// Bumped in the same transaction as every change to the items: the ANN
/// index file records the generation it was saved at, so a stale file is
/// detected on open.
pub fn bump_generation(conn: &Connection) -> rusqlite::Result<u64> {
    let next = generation(conn)? + 1;
    set_meta(conn, "generation", &next.to_string())?;
    Ok(next)
}

pub fn generation(conn: &Connection) -> rusqlite::Result<u64> {
    Ok(get_meta(conn, "generation")?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0))
}

pub fn vector_to_blob(vector: &[f32]) -> Vec<u8> {
    vector.iter().flat_map(|x| x.to_le_bytes()).collect()
}

pub fn blob_to_vector(blob: &[u8]) -> Vec<f32> {
    blob.chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// Items re-embedded per transaction: progress is saved batch by batch, so
/// an interrupted re-embed resumes where it stopped.
const REEMBED_BATCH: usize = 256;
/// Rows read per step while rebuilding the index.
const REBUILD_BATCH: usize = 4096;

pub struct Build;

impl Build {
    /// Re-embeds every item whose vector another embedder made. Never
    /// leaves a mix: each row records its embedder, and rows are rewritten
    /// until none is left over.
    pub async fn reembed_stale(
        conn: &Mutex<Connection>,
        embedder: &dyn Embedder,
        progress: &ProgressFn,
    ) -> Result<(), MemoryError> {
        let id = embedder.info().id.clone();
        let total = conn.lock().query_row(
            "SELECT count(*) FROM mem_items WHERE embedder != ?1",
            [&id],
            |r| r.get::<_, i64>(0),
        )? as usize;
        if total > 0 {
            tracing::info!(items = total, embedder = %id, "re-embedding memory for a new embedder");
        }
        let mut done = 0;
        while done < total {
            let rows: Vec<(i64, String)> = {
                let conn = conn.lock();
                let mut statement = conn.prepare(
                    "SELECT id, text FROM mem_items WHERE embedder != ?1 ORDER BY id LIMIT ?2",
                )?;
                let rows = statement.query_map(params![id, REEMBED_BATCH as i64], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?;
                rows.collect::<Result<_, _>>()?
            };
            if rows.is_empty() {
                break;
            }
            let texts: Vec<String> = rows.iter().map(|(_, t)| t.clone()).collect();
            let vectors = embedder.embed(&texts).await?;
            {
                let mut conn = conn.lock();
                let tx = conn.transaction()?;
                for ((row_id, _), vector) in rows.iter().zip(&vectors) {
                    tx.execute(
                        "UPDATE mem_items SET embedder = ?1, vector = ?2 WHERE id = ?3",
                        params![id, vector_to_blob(vector), row_id],
                    )?;
                }
                bump_generation(&tx)?;
                tx.commit()?;
            }
            done += rows.len();
            progress(Progress::Reembed { done, total });
        }
        let conn = conn.lock();
        set_meta(&conn, "embedder", &id)?;
        set_meta(&conn, "dimensions", &embedder.info().dimensions.to_string())?;
        Ok(())
    }

    /// The index for the items in the database: the saved file when it is
    /// current, else rebuilt. Returns whether it differs from the file
    /// (and so needs saving).
    pub fn index(
        conn: &Mutex<Connection>,
        dimensions: usize,
        saved: Option<&Path>,
        progress: &ProgressFn,
    ) -> Result<(VectorIndex, bool), MemoryError> {
        let conn = conn.lock();
        let count =
            conn.query_row("SELECT count(*) FROM mem_items", [], |r| r.get::<_, i64>(0))? as usize;
        if let Some(path) = saved.filter(|p| p.exists()) {
            let current = get_meta(&conn, "index_generation")?.and_then(|g| g.parse::<u64>().ok())
                == Some(generation(&conn)?);
            if current {
                match Self::load(&conn, path, dimensions, count) {
                    Ok(index) => return Ok((index, false)),
                    Err(error) => {
                        tracing::warn!(%error, path = %path.display(), "memory index file unusable; rebuilding")
                    }
                }
            } else {
                tracing::info!(path = %path.display(), "memory index file is stale; rebuilding");
            }
        }
        let index = Self::rebuild(&conn, dimensions, count, progress)?;
        Ok((index, true))
    }

    fn load(
        conn: &Connection,
        path: &Path,
        dimensions: usize,
        count: usize,
    ) -> Result<VectorIndex, MemoryError> {
        let mut index = VectorIndex::load(path, dimensions)?;
        if index.graph_size() != count {
            return Err(MemoryError::Index(format!(
                "it holds {} vectors, the database {count}",
                index.graph_size()
            )));
        }
        for_each_item(conn, false, |id, fields, _| {
            if !index.contains(id as u64) {
                return Err(MemoryError::Index(format!("item {id} is missing")));
            }
            index.add_fields(id as u64, &fields);
            Ok(())
        })?;
        Ok(index)
    }

    fn rebuild(
        conn: &Connection,
        dimensions: usize,
        total: usize,
        progress: &ProgressFn,
    ) -> Result<VectorIndex, MemoryError> {
        let started = std::time::Instant::now();
        let mut index = VectorIndex::new(dimensions)?;
        index.reserve(total)?;
        let mut batch: Vec<(u64, Vec<f32>)> = Vec::with_capacity(REBUILD_BATCH);
        let mut done = 0;
        let flush = |index: &VectorIndex, batch: &mut Vec<(u64, Vec<f32>)>, done: &mut usize| {
            add_parallel(index, batch)?;
            *done += batch.len();
            batch.clear();
            progress(Progress::Rebuild { done: *done, total });
            Ok::<(), MemoryError>(())
        };
        for_each_item(conn, true, |id, fields, vector| {
            index.add_fields(id as u64, &fields);
            batch.push((id as u64, blob_to_vector(vector)));
            if batch.len() == REBUILD_BATCH {
                flush(&index, &mut batch, &mut done)?;
            }
            Ok(())
        })?;
        flush(&index, &mut batch, &mut done)?;
        if total > 0 {
            tracing::info!(
                items = total,
                ms = started.elapsed().as_millis() as u64,
                "memory index rebuilt"
            );
        }
        Ok(index)
    }
}

/// Adds vectors on all cores: usearch supports concurrent inserts once
/// capacity is reserved.
fn add_parallel(index: &VectorIndex, batch: &[(u64, Vec<f32>)]) -> Result<(), MemoryError> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    let per_thread = batch.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let workers: Vec<_> = batch
            .chunks(per_thread)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .try_for_each(|(id, vector)| index.add_vector(*id, vector))
                })
            })
            .collect();
        workers.into_iter().try_for_each(|w| {
            w.join()
                .unwrap_or_else(|_| Err(MemoryError::Index("index worker panicked".into())))
        })
    })
}

/// Calls `each` with every item's filterable fields (and its vector blob
/// when `with_vectors`).
fn for_each_item(
    conn: &Connection,
    with_vectors: bool,
    mut each: impl FnMut(i64, ItemFields<'_>, &[u8]) -> Result<(), MemoryError>,
) -> Result<(), MemoryError> {
    let vector = if with_vectors { "vector" } else { "x''" };
    let mut statement = conn.prepare(&format!(
        "SELECT id, agent, kind, user_id, channel, session, tags, created_ms, {vector}, text
         FROM mem_items"
    ))?;
    let mut rows = statement.query([])?;
    while let Some(row) = rows.next()? {
        let agent: String = row.get(1)?;
        let kind: String = row.get(2)?;
        let user: Option<String> = row.get(3)?;
        let channel: Option<String> = row.get(4)?;
        let session: Option<String> = row.get(5)?;
        let tags: Vec<String> = serde_json::from_str(&row.get::<_, String>(6)?).unwrap_or_default();
        let blob = row.get_ref(8)?.as_blob().unwrap_or_default();
        let text = row.get_ref(9)?.as_str().unwrap_or_default();
        each(
            row.get(0)?,
            ItemFields {
                text,
                agent: &agent,
                kind: &kind,
                user: user.as_deref(),
                channel: channel.as_deref(),
                session: session.as_deref(),
                tags: &tags,
                created_ms: row.get(7)?,
            },
            blob,
        )?;
    }
    Ok(())
}
