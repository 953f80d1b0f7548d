//! Hearth's memory, in three parts that share nothing but this crate:
//!
//! - [`short_term`]: per-session working memory (recent facts, scratch
//!   state) with a TTL and a size bound, in-process or in Redis.
//! - [`long_term`]: semantic memory: items embedded by an [`embed::Embedder`]
//!   (all-MiniLM-L6-v2 in-process by default), stored in SQLite with a
//!   trigram full-text index and an HNSW vector index, searched by both.
//! - [`graph`]: a knowledge graph of entities and relations whose types are
//!   declared by JSON Schema files; every write is validated and recorded.
//!
//! Nothing here knows about agents' turns or the gateway: the agent and the
//! control protocol call this API.

pub mod embed;
mod error;
pub mod graph;
pub mod long_term;
pub mod short_term;

pub use error::MemoryError;
