//! Hearth's persistence: the only crate that speaks SQL.
//!
//! [`SqliteStore`] implements [`hearth_core::Store`] (and
//! [`hearth_core::PairingStore`]) on an embedded SQLite
//! database in WAL mode. The parts:
//!
//! - [`migrations`]: versioned schema changes, applied on open.
//! - one module per table, each the *only* writer of its table
//!   (`inbox`, `outbox`, `transcript`, `sessions`, `agents`, `audit`,
//!   `pairing` for channel access, `schedules` for cron jobs and
//!   reminders), so that
//!   encryption at rest can later wrap the text columns in one place;
//! - `sqlite`: connection handling and the `Store` implementation, which
//!   composes those writers into the transactions the contract promises.
//!
//! Durability: with the default `synchronous = NORMAL` a committed
//! transaction survives the process being killed (the WAL is written before
//! commit returns) but may be lost on power failure; `synchronous = FULL`
//! survives power loss at the cost of an fsync per commit.

mod agents;
mod audit;
mod inbox;
pub mod migrations;
mod outbox;
mod pairing;
mod schedules;
mod sessions;
mod sqlite;
mod transcript;

pub use sqlite::{SqliteOptions, SqliteStore, Synchronous};

#[cfg(test)]
mod tests;

use hearth_core::StoreError;

/// Maps a SQLite error to the core error, keeping the message for logs.
pub(crate) fn backend(err: rusqlite::Error) -> StoreError {
    StoreError::Backend(err.to_string())
}
