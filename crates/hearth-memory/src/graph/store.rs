//! [`Graph`]: the SQLite connection and the transaction helpers every
//! operation goes through.

use std::path::Path;
use std::time::Duration;

use parking_lot::Mutex;
use rusqlite::{Connection, Transaction, TransactionBehavior};

use super::{GraphError, migrate};

/// How long a write waits for a lock held by another connection to the same
/// file (the daemon and a CLI command, say) before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// A knowledge graph store holding the graphs of any number of agents.
///
/// One connection behind a mutex: SQLite runs one writer at a time anyway,
/// and graph operations are short, so serialising them costs little and
/// saves `SQLITE_BUSY` handling within the process. parking_lot's mutex
/// because a panic in one call should not poison the store for the rest.
pub struct Graph {
    conn: Mutex<Connection>,
    location: String,
}

impl std::fmt::Debug for Graph {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Graph")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

impl Graph {
    /// Opens (creating if needed) the database at `path` and creates or
    /// migrates the `graph_` tables; other tables in the file are untouched.
    pub fn open(path: &Path) -> Result<Self, GraphError> {
        let location = path.display().to_string();
        let open_error = |source| GraphError::Open {
            path: location.clone(),
            source,
        };
        let conn = Connection::open(path).map_err(open_error)?;
        // WAL lets readers in other processes run alongside our writes.
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(open_error)?;
        Self::setup(conn, location)
    }

    /// A private, throwaway graph (tests, dry runs).
    pub fn open_in_memory() -> Result<Self, GraphError> {
        Self::setup(Connection::open_in_memory()?, ":memory:".to_owned())
    }

    fn setup(mut conn: Connection, location: String) -> Result<Self, GraphError> {
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        migrate::migrate(&mut conn)?;
        Ok(Self {
            conn: Mutex::new(conn),
            location,
        })
    }

    /// Runs `f` in a write transaction, committed only if `f` succeeds: on
    /// any error nothing it did is kept. IMMEDIATE takes the write lock up
    /// front, so a read-then-write cannot fail halfway on a lock upgrade.
    pub(super) fn write<T>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, GraphError>,
    ) -> Result<T, GraphError> {
        let mut conn = self.conn.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let value = f(&tx)?;
        tx.commit()?;
        Ok(value)
    }

    /// Runs `f` in a read transaction, so queries made of several statements
    /// see one snapshot even while another process writes.
    pub(super) fn read<T>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, GraphError>,
    ) -> Result<T, GraphError> {
        let mut conn = self.conn.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
        f(&tx)
        // Dropping the transaction rolls it back, which for a read only
        // releases the snapshot.
    }
}

/// Rejects an empty agent id: every row is scoped by agent, and an empty one
/// is always a caller's bug, never a real agent.
pub(super) fn check_agent(agent: &str) -> Result<(), GraphError> {
    if agent.is_empty() {
        Err(GraphError::BadArgument("agent id must not be empty".into()))
    } else {
        Ok(())
    }
}
