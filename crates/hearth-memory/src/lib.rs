//! Hearth's memory, in three parts that share nothing but this crate:
//!
//! - [`short_term`]: per-session working memory (recent facts, scratch
//!   state) with a TTL and a size bound, in-process or in Redis.
//! - [`graph`]: a knowledge graph of entities and relations whose types are
//!   declared by JSON Schema files; every write is validated and recorded.
//!
//! Nothing here knows about agents' turns or the gateway: the agent and the
//! control protocol call this API.

pub mod graph;
pub mod short_term;
