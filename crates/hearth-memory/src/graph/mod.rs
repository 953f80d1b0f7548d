//! Structured memory: a knowledge graph of typed entities and relations.
//!
//! How the parts fit:
//!
//! - [`schema`]: the agent's workspace declares every type as a JSON Schema
//!   file (`schemas/*.json`) with an `"x-hearth"` object saying whether it is
//!   an entity (and which properties form its key) or a relation (and which
//!   entity types it joins). [`Schemas::load`] reads and checks them all up
//!   front, so a bad file fails at load time, never halfway through a write.
//! - `validate`: checks one write against its type and derives the key;
//!   touches no storage, so a rejected write cannot leave anything behind.
//! - [`Graph`] (`store`): one SQLite file, tables prefixed `graph_` so they
//!   can share a database with other memory. Every write is one transaction
//!   that also appends to `graph_history`; entities are upserted by key,
//!   relations by (type, from, to).
//! - `entities`, `relations`, `traverse`, `history`: the operations, one
//!   file per concern, all `impl Graph`; `rows` holds the SELECT column
//!   lists and row mappers they share.
//!
//! Every operation is scoped by an agent id: agents share the file but never
//! see each other's graph. The API is synchronous; async callers use
//! `spawn_blocking`.

mod entities;
mod error;
mod history;
mod migrate;
mod model;
mod relations;
mod rows;
pub mod schema;
mod store;
mod traverse;
mod validate;

#[cfg(test)]
mod tests;

pub use error::{End, GraphError};
pub use model::{
    Change, Deleted, Direction, Entity, EntityRef, GraphPath, GraphStats, Neighbour, Op, Relation,
    Subject, Upserted,
};
pub use schema::{Schemas, TypeDef, TypeKind};
pub use store::Graph;

/// The most rows any query returns, whatever limit the caller asks for: an
/// agent's tool call must not be able to pull the whole graph into memory
/// (or into a model's context) at once.
pub const MAX_LIMIT: usize = 1000;

/// The largest serialized props a single entity or relation may carry. The
/// graph holds facts, not documents; large text belongs in long-term memory.
pub const MAX_PROPS_BYTES: usize = 64 * 1024;

/// The deepest path search allowed. Simple paths grow exponentially with
/// depth in a dense graph; six hops already connects most of any real one.
pub const MAX_PATH_DEPTH: usize = 6;

/// Clamps a caller's limit to [`MAX_LIMIT`].
fn capped(limit: usize) -> usize {
    limit.min(MAX_LIMIT)
}
