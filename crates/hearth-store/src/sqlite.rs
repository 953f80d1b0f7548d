//! The SQLite connection pair and the [`Store`] implementation.
//!
//! One writer connection (SQLite allows one writer at a time anyway; a
//! mutex makes that explicit and avoids `SQLITE_BUSY` retries) and one
//! reader connection, which WAL lets run alongside the writer. Every call
//! runs on tokio's blocking pool so a slow disk never stalls the reactor.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hearth_core::{
    AcceptOutcome, AgentId, AgentRecord, ApprovedSender, InboundMessage, NewSchedule,
    OutboundMessage, OutboxItem, PairingOutcome, PairingRequest, PairingStore, RunRecord,
    ScheduleRecord, Sender, SessionKey, SessionRecord, Store, StoreError, TranscriptEntry,
    TurnOutcome, now_ms,
};
use parking_lot::Mutex;
use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use crate::{
    agents, audit, backend, inbox, migrations, outbox, pairing, schedules, sessions, transcript,
};

/// SQLite's `synchronous` setting: how hard a commit waits for the disk.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Synchronous {
    /// Survives a process crash (kill -9); may lose the last commits on
    /// power failure. The default: WAL makes it safe against corruption.
    #[default]
    Normal,
    /// Also survives power failure: an fsync per commit.
    Full,
}

#[derive(Debug, Clone, Default)]
pub struct SqliteOptions {
    pub synchronous: Synchronous,
}

/// The embedded store. Cheap to clone.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.inner.path)
            .finish()
    }
}

struct Inner {
    path: PathBuf,
    writer: Mutex<Connection>,
    reader: Mutex<Connection>,
}

/// How long a connection waits for a lock held by another process (e.g.
/// `hearth sessions` reading while the daemon writes) before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Bytes of the database file SQLite may map into memory.
const MMAP_BYTES: i64 = 256 * 1024 * 1024;

fn open_connection(
    path: &Path,
    options: &SqliteOptions,
    read_only: bool,
) -> Result<Connection, StoreError> {
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let conn = Connection::open_with_flags(path, flags).map_err(|e| {
        StoreError::Backend(format!("cannot open database {}: {e}", path.display()))
    })?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(backend)?;
    if !read_only {
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(backend)?;
    }
    let sync = match options.synchronous {
        Synchronous::Normal => "NORMAL",
        Synchronous::Full => "FULL",
    };
    conn.pragma_update(None, "synchronous", sync)
        .map_err(backend)?;
    conn.pragma_update(None, "foreign_keys", "ON")
        .map_err(backend)?;
    // Read through a shared memory map: the writer's commits then do not
    // invalidate the reader's page cache, which otherwise re-reads history
    // pages with pread on every turn. Address space, not resident memory.
    conn.pragma_update(None, "mmap_size", MMAP_BYTES)
        .map_err(backend)?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and migrates it.
    pub fn open(path: impl AsRef<Path>, options: SqliteOptions) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        let mut writer = open_connection(&path, &options, false)?;
        migrations::migrate(&mut writer)
            .map_err(|e| StoreError::Backend(format!("migrating {}: {e}", path.display())))?;
        let reader = open_connection(&path, &options, true)?;
        Ok(Self {
            inner: Arc::new(Inner {
                path,
                writer: Mutex::new(writer),
                reader: Mutex::new(reader),
            }),
        })
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `f` with the writer inside an immediate transaction (taking the
    /// write lock up front avoids a deadlock-prone read→write upgrade).
    async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = inner.writer.lock();
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(backend)?;
            let value = f(&tx)?;
            tx.commit().map_err(backend)?;
            Ok(value)
        })
        .await
        .map_err(|e| StoreError::Backend(format!("store task failed: {e}")))?
    }

    async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || f(&inner.reader.lock()))
            .await
            .map_err(|e| StoreError::Backend(format!("store task failed: {e}")))?
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn accept(&self, message: &InboundMessage) -> Result<AcceptOutcome, StoreError> {
        let message = message.clone();
        self.write(move |tx| {
            if let Some(existing) = inbox::get(tx, &message.id)? {
                return Ok(AcceptOutcome::Duplicate(existing));
            }
            sessions::ensure(tx, &message.session_key, &message.agent_id, None)?;
            inbox::insert(tx, &message)?;
            Ok(AcceptOutcome::Accepted)
        })
        .await
    }

    async fn mark_running(&self, run_id: &str) -> Result<(), StoreError> {
        let run_id = run_id.to_owned();
        self.write(move |tx| inbox::set_running(tx, &run_id)).await
    }

    async fn finish_run(
        &self,
        run_id: &str,
        outcome: &TurnOutcome,
    ) -> Result<Option<i64>, StoreError> {
        let run_id = run_id.to_owned();
        let outcome = outcome.clone();
        self.write(move |tx| {
            let run = inbox::get(tx, &run_id)?
                .ok_or_else(|| StoreError::NotFound(format!("run {run_id}")))?;
            if run.state.is_finished() {
                // A replayed finish (the same run computed twice) must not
                // add a second transcript or reply.
                return Ok(None);
            }
            let session = sessions::ensure(tx, &run.session_key, &run.agent_id, None)?;
            let now = now_ms();
            for message in &outcome.transcript {
                transcript::append(
                    tx,
                    &run.session_key,
                    &session.session_id,
                    &run_id,
                    message,
                    now,
                )?;
            }
            sessions::record_turn(
                tx,
                &run.session_key,
                outcome.transcript.len(),
                outcome.usage,
            )?;
            let outbox_id = outbox::insert(tx, &run_id, &outcome.reply, outcome.delivered)?;
            inbox::finish(
                tx,
                &run_id,
                outcome.state,
                &outcome.reply.text,
                outcome.error.as_deref(),
                outcome.usage,
            )?;
            Ok(Some(outbox_id))
        })
        .await
    }

    async fn unfinished_runs(&self) -> Result<Vec<InboundMessage>, StoreError> {
        self.read(inbox::unfinished).await
    }

    async fn run(&self, run_id: &str) -> Result<Option<RunRecord>, StoreError> {
        let run_id = run_id.to_owned();
        self.read(move |conn| inbox::get(conn, &run_id)).await
    }

    async fn pending_outbox(&self, limit: usize) -> Result<Vec<OutboxItem>, StoreError> {
        self.read(move |conn| outbox::pending(conn, limit)).await
    }

    async fn outbox_delivered(&self, id: i64) -> Result<(), StoreError> {
        self.write(move |tx| outbox::delivered(tx, id)).await
    }

    async fn enqueue_outbound(
        &self,
        run_id: &str,
        message: &OutboundMessage,
    ) -> Result<Option<i64>, StoreError> {
        let run_id = run_id.to_owned();
        let message = message.clone();
        self.write(move |tx| outbox::insert_once(tx, &run_id, &message))
            .await
    }

    async fn outbox_attempt_failed(
        &self,
        id: i64,
        error: &str,
        give_up: bool,
    ) -> Result<(), StoreError> {
        let error = error.to_owned();
        self.write(move |tx| outbox::attempt_failed(tx, id, &error, give_up))
            .await
    }

    async fn ensure_session(
        &self,
        key: &SessionKey,
        agent: &AgentId,
        label: Option<&str>,
    ) -> Result<SessionRecord, StoreError> {
        let (key, agent, label) = (key.clone(), agent.clone(), label.map(str::to_owned));
        self.write(move |tx| sessions::ensure(tx, &key, &agent, label.as_deref()))
            .await
    }

    async fn session(&self, key: &SessionKey) -> Result<Option<SessionRecord>, StoreError> {
        let key = key.clone();
        self.read(move |conn| sessions::get(conn, &key)).await
    }

    async fn sessions(
        &self,
        agent: Option<&AgentId>,
        limit: usize,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        let agent = agent.cloned();
        self.read(move |conn| sessions::list(conn, agent.as_ref(), limit))
            .await
    }

    async fn history(
        &self,
        key: &SessionKey,
        limit: usize,
    ) -> Result<Vec<TranscriptEntry>, StoreError> {
        let key = key.clone();
        self.read(move |conn| match sessions::get(conn, &key)? {
            Some(session) => transcript::tail(conn, &session.session_id, limit),
            None => Ok(Vec::new()),
        })
        .await
    }

    async fn reset_session(&self, key: &SessionKey) -> Result<bool, StoreError> {
        let key = key.clone();
        self.write(move |tx| sessions::reset(tx, &key)).await
    }

    async fn delete_session(&self, key: &SessionKey) -> Result<bool, StoreError> {
        let key = key.clone();
        self.write(move |tx| {
            let existed = sessions::delete(tx, &key)?;
            transcript::delete_for_session(tx, &key)?;
            outbox::delete_for_session(tx, &key)?;
            inbox::delete_for_session(tx, &key)?;
            Ok(existed)
        })
        .await
    }

    async fn agents(&self) -> Result<Vec<AgentRecord>, StoreError> {
        self.read(agents::list).await
    }

    async fn put_agent(&self, agent: &AgentRecord, create: bool) -> Result<(), StoreError> {
        let agent = agent.clone();
        self.write(move |tx| agents::put(tx, &agent, create)).await
    }

    async fn delete_agent(&self, id: &AgentId) -> Result<bool, StoreError> {
        let id = id.clone();
        self.write(move |tx| agents::delete(tx, &id)).await
    }

    async fn add_schedule(
        &self,
        schedule: &NewSchedule,
        max_per_agent: usize,
    ) -> Result<ScheduleRecord, StoreError> {
        let schedule = schedule.clone();
        self.write(move |tx| schedules::insert(tx, &schedule, max_per_agent))
            .await
    }

    async fn schedules(&self, agent: Option<&AgentId>) -> Result<Vec<ScheduleRecord>, StoreError> {
        let agent = agent.cloned();
        self.read(move |conn| schedules::list(conn, agent.as_ref()))
            .await
    }

    async fn remove_schedule(&self, id: &str, agent: &AgentId) -> Result<bool, StoreError> {
        let (id, agent) = (id.to_owned(), agent.clone());
        self.write(move |tx| schedules::remove(tx, &id, &agent))
            .await
    }

    async fn due_schedules(
        &self,
        now_ms: i64,
        limit: usize,
    ) -> Result<Vec<ScheduleRecord>, StoreError> {
        self.read(move |conn| schedules::due(conn, now_ms, limit))
            .await
    }

    async fn next_schedule_at(&self) -> Result<Option<i64>, StoreError> {
        self.read(schedules::next_at).await
    }

    async fn schedule_fired(
        &self,
        id: &str,
        fired_at_ms: i64,
        next_fire_at_ms: Option<i64>,
    ) -> Result<bool, StoreError> {
        let id = id.to_owned();
        self.write(move |tx| schedules::fired(tx, &id, fired_at_ms, next_fire_at_ms))
            .await
    }

    async fn disable_schedule(&self, id: &str) -> Result<bool, StoreError> {
        let id = id.to_owned();
        self.write(move |tx| schedules::disable(tx, &id)).await
    }

    async fn audit(
        &self,
        actor: &str,
        action: &str,
        detail: &serde_json::Value,
    ) -> Result<(), StoreError> {
        let (actor, action, detail) = (actor.to_owned(), action.to_owned(), detail.clone());
        self.write(move |tx| audit::append(tx, &actor, &action, &detail))
            .await
    }
}

#[async_trait]
impl PairingStore for SqliteStore {
    async fn is_approved(&self, channel: &str, sender_id: &str) -> Result<bool, StoreError> {
        let (channel, sender) = (channel.to_owned(), sender_id.to_owned());
        self.read(move |conn| pairing::is_approved(conn, &channel, &sender))
            .await
    }

    async fn request_pairing(
        &self,
        channel: &str,
        sender: &Sender,
        code: &str,
        now_ms: i64,
        ttl_ms: i64,
        max_pending: usize,
    ) -> Result<PairingOutcome, StoreError> {
        let (channel, sender, code) = (channel.to_owned(), sender.clone(), code.to_owned());
        self.write(move |tx| {
            pairing::request(tx, &channel, &sender, &code, now_ms, ttl_ms, max_pending)
        })
        .await
    }

    async fn approve_pairing(
        &self,
        channel: &str,
        code: &str,
        approved_by: &str,
        now_ms: i64,
    ) -> Result<Option<ApprovedSender>, StoreError> {
        let (channel, code, by) = (channel.to_owned(), code.to_owned(), approved_by.to_owned());
        self.write(move |tx| {
            let approved = pairing::approve(tx, &channel, &code, &by, now_ms)?;
            if let Some(approved) = &approved {
                let detail = serde_json::json!({
                    "channel": channel, "sender": approved.sender.id,
                });
                audit::append(tx, &by, "pairing.approve", &detail)?;
            }
            Ok(approved)
        })
        .await
    }

    async fn pairing_requests(
        &self,
        channel: Option<&str>,
        now_ms: i64,
    ) -> Result<Vec<PairingRequest>, StoreError> {
        let channel = channel.map(str::to_owned);
        self.read(move |conn| pairing::requests(conn, channel.as_deref(), now_ms))
            .await
    }

    async fn approved_senders(
        &self,
        channel: Option<&str>,
    ) -> Result<Vec<ApprovedSender>, StoreError> {
        let channel = channel.map(str::to_owned);
        self.read(move |conn| pairing::approved(conn, channel.as_deref()))
            .await
    }

    async fn revoke_sender(&self, channel: &str, sender_id: &str) -> Result<bool, StoreError> {
        let (channel, sender) = (channel.to_owned(), sender_id.to_owned());
        self.write(move |tx| {
            let removed = pairing::revoke(tx, &channel, &sender)?;
            if removed {
                let detail = serde_json::json!({ "channel": channel, "sender": sender });
                audit::append(tx, "operator", "pairing.revoke", &detail)?;
            }
            Ok(removed)
        })
        .await
    }
}
