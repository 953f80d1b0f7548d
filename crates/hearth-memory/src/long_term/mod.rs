//! Long-term semantic memory: items in SQLite with their vectors and a
//! trigram full-text index, an in-memory HNSW index over the vectors, and
//! hybrid retrieval over both.
//!
//! One [`LongTermMemory`] owns its SQLite file: the daemon opens it, and
//! the CLI and control panel reach it through the daemon. Writes go to
//! SQLite first (the source of truth), then to the index. The index is
//! saved beside the database on shutdown and after bulk work, stamped with
//! the database's change generation; a stale or missing file is rebuilt
//! from the stored vectors at open.

mod build;
mod chunk;
mod fts;
mod import;
mod index;
mod item;
mod lexicon;
mod rank;
mod search;
mod sql;
#[cfg(test)]
mod tests;

pub use chunk::{ChunkOptions, chunk};
pub use import::{ImportReport, import_markdown, watch_markdown};

pub use item::{
    Filter, MAX_ITEM_BYTES, MAX_LIMIT, MemoryItem, NewMemory, SearchHit, SearchMode, SearchOptions,
};

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::{Mutex, RwLock};
use rusqlite::{Connection, params, params_from_iter};
use serde::Serialize;

use crate::MemoryError;
use crate::embed::Embedder;
use build::Build;
use index::{ItemFields, VectorIndex};
use sql::{AgentIndex, ITEM_COLUMNS, filter_clause, now_ms, read_item};

/// Long work reports through this: re-embedding after a change of
/// embedder, and rebuilding the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "stage", rename_all = "snake_case")]
pub enum Progress {
    Reembed { done: usize, total: usize },
    Rebuild { done: usize, total: usize },
}

pub type ProgressFn = Arc<dyn Fn(Progress) + Send + Sync>;

/// What `stats` reports.
#[derive(Debug, Clone, Serialize)]
pub struct MemoryStats {
    pub items: usize,
    pub embedder: String,
    pub dimensions: usize,
    pub index_items: usize,
    pub index_bytes: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
}

#[derive(Clone)]
pub struct LongTermMemory {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for LongTermMemory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LongTermMemory")
            .field("path", &self.inner.path)
            .field("embedder", self.inner.embedder.info())
            .finish()
    }
}

struct Inner {
    conn: Mutex<Connection>,
    index: RwLock<VectorIndex>,
    embedder: Arc<dyn Embedder>,
    path: Option<PathBuf>,
    /// Changed since the index file was last saved.
    dirty: AtomicBool,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Err(error) = self.save_index() {
            tracing::warn!(%error, "memory index not saved; it is rebuilt at the next start");
        }
    }
}

impl LongTermMemory {
    /// Opens (or creates) the memory database at `path`. A change of
    /// embedder since the last run re-embeds every item first; a stale
    /// index file is rebuilt. Both report through `progress`.
    pub async fn open(
        path: &Path,
        embedder: Arc<dyn Embedder>,
        progress: ProgressFn,
    ) -> Result<Self, MemoryError> {
        let conn = Connection::open(path)?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;",
        )?;
        Self::start(conn, Some(path.to_path_buf()), embedder, progress).await
    }

    /// A throwaway store (tests, benchmarks).
    pub async fn open_in_memory(embedder: Arc<dyn Embedder>) -> Result<Self, MemoryError> {
        let conn = Connection::open_in_memory()?;
        Self::start(conn, None, embedder, Arc::new(|_| {})).await
    }

    async fn start(
        conn: Connection,
        path: Option<PathBuf>,
        embedder: Arc<dyn Embedder>,
        progress: ProgressFn,
    ) -> Result<Self, MemoryError> {
        build::migrate(&conn)?;
        let conn = Mutex::new(conn);
        Build::reembed_stale(&conn, embedder.as_ref(), &progress).await?;
        let dimensions = embedder.info().dimensions;
        let index_path = path.as_ref().map(|p| index_file(p));
        let (conn, index) = tokio::task::spawn_blocking(move || {
            let index = Build::index(&conn, dimensions, index_path.as_deref(), &progress);
            (conn, index)
        })
        .await
        .map_err(|e| MemoryError::Io(format!("index build task failed: {e}")))?;
        let (index, fresh) = index?;
        Ok(Self {
            inner: Arc::new(Inner {
                conn,
                index: RwLock::new(index),
                embedder,
                path,
                dirty: AtomicBool::new(fresh),
            }),
        })
    }

    /// Stores one memory. Text over [`MAX_ITEM_BYTES`] is refused: use
    /// [`Self::add_document`], which chunks it.
    pub async fn add(&self, memory: NewMemory) -> Result<MemoryItem, MemoryError> {
        let ids = self.add_many(vec![memory]).await?;
        let id = ids[0];
        let inner = self.inner.clone();
        blocking(move || {
            inner
                .get(id)?
                .ok_or_else(|| MemoryError::NotFound(format!("memory {id}")))
        })
        .await
    }

    /// Stores several memories in one transaction (one embedding batch):
    /// all or nothing. Returns their ids in order.
    pub async fn add_many(&self, mut memories: Vec<NewMemory>) -> Result<Vec<i64>, MemoryError> {
        for (i, memory) in memories.iter_mut().enumerate() {
            memory.validate(MAX_ITEM_BYTES).map_err(|e| match e {
                MemoryError::Invalid(m) if i > 0 => MemoryError::Invalid(format!("item {i}: {m}")),
                other => other,
            })?;
        }
        if memories.is_empty() {
            return Ok(Vec::new());
        }
        let texts: Vec<String> = memories.iter().map(|m| m.text.clone()).collect();
        let vectors = self.inner.embedder.embed(&texts).await?;
        let inner = self.inner.clone();
        blocking(move || inner.insert(&memories, &vectors, None)).await
    }

    /// Stores memories whose vectors were computed elsewhere (by the same
    /// embedder: bulk imports, benchmarks). All or nothing.
    pub async fn add_embedded(
        &self,
        mut memories: Vec<NewMemory>,
        vectors: Vec<Vec<f32>>,
    ) -> Result<Vec<i64>, MemoryError> {
        let dimensions = self.inner.embedder.info().dimensions;
        if vectors.len() != memories.len() || vectors.iter().any(|v| v.len() != dimensions) {
            return Err(MemoryError::Invalid(format!(
                "expected one {dimensions}-dimensional vector per memory"
            )));
        }
        for memory in &mut memories {
            memory.validate(MAX_ITEM_BYTES)?;
        }
        let inner = self.inner.clone();
        blocking(move || inner.insert(&memories, &vectors, None)).await
    }

    /// Stores a long text as overlapping chunks sharing `memory.source`.
    /// With `replace`, the source's earlier chunks are deleted in the same
    /// transaction (an edited file: readers see the old or the new text,
    /// never neither).
    pub async fn add_document(
        &self,
        memory: NewMemory,
        options: ChunkOptions,
        replace: bool,
    ) -> Result<Vec<i64>, MemoryError> {
        let pieces = chunk(&memory.text, options);
        if pieces.is_empty() {
            return Err(MemoryError::Invalid("text must not be empty".into()));
        }
        let mut memories: Vec<NewMemory> = pieces
            .into_iter()
            .map(|text| NewMemory {
                text,
                ..memory.clone()
            })
            .collect();
        for m in &mut memories {
            m.validate(MAX_ITEM_BYTES)?;
        }
        let replace = match (&memory.source, replace) {
            (Some(source), true) => Some((memory.agent.clone(), source.clone())),
            (None, true) => {
                return Err(MemoryError::Invalid(
                    "source is required to replace a document".into(),
                ));
            }
            _ => None,
        };
        let texts: Vec<String> = memories.iter().map(|m| m.text.clone()).collect();
        let vectors = self.inner.embedder.embed(&texts).await?;
        let inner = self.inner.clone();
        blocking(move || inner.insert(&memories, &vectors, Some(Document { replace }))).await
    }

    /// Hybrid search (see [`search`]): read-only, recall counts untouched.
    pub async fn search(
        &self,
        query: &str,
        filter: &Filter,
        options: &SearchOptions,
    ) -> Result<Vec<SearchHit>, MemoryError> {
        search::run(self, query, filter, options, false).await
    }

    /// [`Self::search`] with the query's vector already computed.
    pub async fn search_with_vector(
        &self,
        query: &str,
        vector: Vec<f32>,
        filter: &Filter,
        options: &SearchOptions,
    ) -> Result<Vec<SearchHit>, MemoryError> {
        search::run_with_vector(self, query, Some(vector), filter, options, false).await
    }

    /// The ANN's unfiltered top-`k` ids for `vector` (benchmarks compare
    /// them with an exact scan).
    pub fn nearest(&self, vector: &[f32], k: usize) -> Result<Vec<u64>, MemoryError> {
        self.inner.index.read().ann_all(vector, k)
    }

    /// A search whose results go into a turn's context: each is marked as
    /// recalled (access time and recall count).
    pub async fn recall(
        &self,
        query: &str,
        filter: &Filter,
        options: &SearchOptions,
    ) -> Result<Vec<SearchHit>, MemoryError> {
        search::run(self, query, filter, options, true).await
    }

    pub async fn get(&self, agent: &str, id: i64) -> Result<Option<MemoryItem>, MemoryError> {
        let inner = self.inner.clone();
        let agent = agent.to_owned();
        blocking(move || Ok(inner.get(id)?.filter(|item| item.agent == agent))).await
    }

    /// Newest first; `before_id` pages backwards.
    pub async fn list(
        &self,
        filter: &Filter,
        limit: usize,
        before_id: Option<i64>,
    ) -> Result<Vec<MemoryItem>, MemoryError> {
        let inner = self.inner.clone();
        let filter = filter.clone();
        let limit = limit.clamp(1, 1000) as i64;
        blocking(move || {
            let mut values = Vec::new();
            let mut where_sql = filter_clause(&filter, &mut values, AgentIndex::Use);
            if let Some(before) = before_id {
                values.push(before.into());
                where_sql.push_str(&format!(" AND i.id < ?{}", values.len()));
            }
            values.push(limit.into());
            let sql = format!(
                "SELECT {ITEM_COLUMNS} FROM mem_items i WHERE 1 = 1{where_sql} ORDER BY i.id DESC LIMIT ?{}",
                values.len()
            );
            let conn = inner.conn.lock();
            let mut statement = conn.prepare(&sql)?;
            let rows = statement.query_map(params_from_iter(values), read_item)?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    /// Deletes one memory of `agent`. Returns whether it existed.
    pub async fn remove(&self, agent: &str, id: i64) -> Result<bool, MemoryError> {
        let inner = self.inner.clone();
        let agent = agent.to_owned();
        blocking(move || {
            inner
                .delete_where("agent = ?1 AND id = ?2", params![agent, id])
                .map(|n| n > 0)
        })
        .await
    }

    /// Deletes every memory of `agent` that came from `source` (e.g. the
    /// chunks of one imported file). Returns how many.
    pub async fn remove_source(&self, agent: &str, source: &str) -> Result<usize, MemoryError> {
        let inner = self.inner.clone();
        let (agent, source) = (agent.to_owned(), source.to_owned());
        blocking(move || inner.delete_where("agent = ?1 AND source = ?2", params![agent, source]))
            .await
    }

    /// Re-embeds every item with the current embedder and rebuilds the
    /// index (after a model update, or to repair).
    pub async fn reindex(&self, progress: ProgressFn) -> Result<usize, MemoryError> {
        let total = {
            let conn = self.inner.conn.lock();
            conn.execute("UPDATE mem_items SET embedder = ''", [])?;
            conn.query_row("SELECT count(*) FROM mem_items", [], |r| r.get::<_, i64>(0))? as usize
        };
        Build::reembed_stale(&self.inner.conn, self.inner.embedder.as_ref(), &progress).await?;
        let inner = self.inner.clone();
        blocking(move || {
            let dimensions = inner.embedder.info().dimensions;
            let index = Build::index(&inner.conn, dimensions, None, &progress)?.0;
            *inner.index.write() = index;
            inner.dirty.store(true, Ordering::Release);
            inner.save_index()
        })
        .await?;
        Ok(total)
    }

    pub async fn stats(&self) -> Result<MemoryStats, MemoryError> {
        let inner = self.inner.clone();
        blocking(move || {
            let items = inner
                .conn
                .lock()
                .query_row("SELECT count(*) FROM mem_items", [], |r| r.get::<_, i64>(0))?;
            let index = inner.index.read();
            let info = inner.embedder.info();
            Ok(MemoryStats {
                items: items as usize,
                embedder: info.id.clone(),
                dimensions: info.dimensions,
                index_items: index.len(),
                index_bytes: index.memory_bytes(),
                path: inner.path.clone(),
            })
        })
        .await
    }

    /// Saves the index file if anything changed since the last save.
    pub async fn save_index(&self) -> Result<(), MemoryError> {
        let inner = self.inner.clone();
        blocking(move || inner.save_index()).await
    }

    /// A named number kept with the memory (e.g. how far a session's
    /// history has been flushed).
    pub async fn marker(&self, name: &str) -> Result<Option<i64>, MemoryError> {
        let inner = self.inner.clone();
        let key = format!("marker:{name}");
        blocking(
            move || Ok(build::get_meta(&inner.conn.lock(), &key)?.and_then(|v| v.parse().ok())),
        )
        .await
    }

    pub async fn set_marker(&self, name: &str, value: i64) -> Result<(), MemoryError> {
        let inner = self.inner.clone();
        let key = format!("marker:{name}");
        blocking(move || {
            Ok(build::set_meta(
                &inner.conn.lock(),
                &key,
                &value.to_string(),
            )?)
        })
        .await
    }

    fn inner(&self) -> &Arc<Inner> {
        &self.inner
    }
}

impl Inner {
    fn get(&self, id: i64) -> Result<Option<MemoryItem>, MemoryError> {
        let conn = self.conn.lock();
        let sql = format!("SELECT {ITEM_COLUMNS} FROM mem_items i WHERE i.id = ?1");
        match conn.query_row(&sql, [id], read_item) {
            Ok(item) => Ok(Some(item)),
            Err(rusqlite::Error::QueryReturnedNoRows) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    fn insert(
        &self,
        memories: &[NewMemory],
        vectors: &[Vec<f32>],
        document: Option<Document>,
    ) -> Result<Vec<i64>, MemoryError> {
        let embedder = self.embedder.info().id.clone();
        let now = now_ms();
        let mut ids = Vec::with_capacity(memories.len());
        let mut replaced = Vec::new();
        let mut index;
        {
            let mut conn = self.conn.lock();
            let tx = conn.transaction()?;
            {
                if let Some(Document {
                    replace: Some((agent, source)),
                }) = &document
                {
                    let mut statement =
                        tx.prepare("SELECT id FROM mem_items WHERE agent = ?1 AND source = ?2")?;
                    let rows = statement.query_map(params![agent, source], |r| r.get(0))?;
                    replaced = rows.collect::<Result<Vec<i64>, _>>()?;
                    tx.execute(
                        "DELETE FROM mem_items WHERE agent = ?1 AND source = ?2",
                        params![agent, source],
                    )?;
                }
                let mut statement = tx.prepare_cached(
                    "INSERT INTO mem_items (agent, kind, text, user_id, channel, session, source,
                         tags, importance, created_ms, accessed_ms, embedder, vector, chunk)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, ?11, ?12, ?13)",
                )?;
                for (n, (m, vector)) in memories.iter().zip(vectors).enumerate() {
                    statement.execute(params![
                        m.agent,
                        m.kind,
                        m.text,
                        m.user,
                        m.channel,
                        m.session,
                        m.source,
                        serde_json::to_string(&m.tags).unwrap_or_else(|_| "[]".into()),
                        m.importance.unwrap_or(0.5),
                        m.created_ms.unwrap_or(now),
                        embedder,
                        build::vector_to_blob(vector),
                        document.as_ref().map(|_| n as i64),
                    ])?;
                    ids.push(tx.last_insert_rowid());
                }
            }
            build::bump_generation(&tx)?;
            tx.commit()?;
            // Lock order is always database, then index: the index lock is
            // taken before the database lock is released, so a concurrent
            // save never stamps a file with a change it does not hold.
            index = self.index.write();
        }
        for id in replaced {
            index.remove(id as u64)?;
        }
        index.reserve(memories.len())?;
        for ((id, m), vector) in ids.iter().zip(memories).zip(vectors) {
            index.add_vector(*id as u64, vector)?;
            index.add_fields(
                *id as u64,
                &ItemFields {
                    text: &m.text,
                    agent: &m.agent,
                    kind: &m.kind,
                    user: m.user.as_deref(),
                    channel: m.channel.as_deref(),
                    session: m.session.as_deref(),
                    tags: &m.tags,
                    created_ms: m.created_ms.unwrap_or(now),
                },
            );
        }
        self.dirty.store(true, Ordering::Release);
        Ok(ids)
    }

    fn delete_where(
        &self,
        condition: &str,
        params: impl rusqlite::Params + Clone,
    ) -> Result<usize, MemoryError> {
        let (ids, mut index) = {
            let mut conn = self.conn.lock();
            let tx = conn.transaction()?;
            let ids: Vec<i64> = {
                let mut statement =
                    tx.prepare(&format!("SELECT id FROM mem_items WHERE {condition}"))?;
                let rows = statement.query_map(params.clone(), |r| r.get(0))?;
                rows.collect::<Result<Vec<i64>, _>>()?
            };
            if ids.is_empty() {
                return Ok(0);
            }
            tx.execute(&format!("DELETE FROM mem_items WHERE {condition}"), params)?;
            build::bump_generation(&tx)?;
            tx.commit()?;
            (ids, self.index.write())
        };
        for id in &ids {
            index.remove(*id as u64)?;
        }
        self.dirty.store(true, Ordering::Release);
        Ok(ids.len())
    }

    fn save_index(&self) -> Result<(), MemoryError> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        if !self.dirty.swap(false, Ordering::AcqRel) {
            return Ok(());
        }
        // Stamp with the generation read under the same lock that writers
        // take, so the file never claims changes it does not hold.
        let conn = self.conn.lock();
        let generation = build::generation(&conn)?;
        let result = self.index.read().save(&index_file(path));
        match result {
            Ok(()) => {
                build::set_meta(&conn, "index_generation", &generation.to_string())?;
                Ok(())
            }
            Err(e) => {
                self.dirty.store(true, Ordering::Release);
                Err(e)
            }
        }
    }
}

/// How [`Inner::insert`] stores a chunked document: chunks numbered, and
/// optionally replacing an earlier version of the same source.
struct Document {
    replace: Option<(String, String)>,
}

/// The index file beside the database: `memory.db` → `memory.db.usearch`.
fn index_file(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".usearch");
    PathBuf::from(name)
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, MemoryError> + Send + 'static,
) -> Result<T, MemoryError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| MemoryError::Io(format!("memory task failed: {e}")))?
}
