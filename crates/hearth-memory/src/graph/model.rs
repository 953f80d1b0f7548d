//! The records the graph API returns. All serialize straight to JSON for the
//! control protocol and the CLI; timestamps are ms since the Unix epoch.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Names one entity: its type and its key, given either as an object of
/// exactly the key's fields (`{"name": "Ada"}`; other props would make it a
/// different key) or, when the key has a single field, as that field's
/// value (`"Ada"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntityRef {
    #[serde(rename = "type")]
    pub type_name: String,
    pub key: Value,
}

impl EntityRef {
    pub fn new(type_name: impl Into<String>, key: impl Into<Value>) -> Self {
        Self {
            type_name: type_name.into(),
            key: key.into(),
        }
    }
}

impl std::fmt::Display for EntityRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.type_name, self.key)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entity {
    pub id: i64,
    #[serde(rename = "type")]
    pub type_name: String,
    /// The key in its canonical form: the value itself for a one-field key,
    /// an object of the key fields otherwise.
    pub key: Value,
    pub props: Value,
    pub created_ms: i64,
    pub updated_ms: i64,
    /// 1 on creation, +1 on every change.
    pub version: i64,
}

impl Entity {
    pub fn to_ref(&self) -> EntityRef {
        EntityRef::new(self.type_name.clone(), self.key.clone())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Relation {
    pub id: i64,
    #[serde(rename = "type")]
    pub type_name: String,
    pub from_id: i64,
    pub to_id: i64,
    pub from: EntityRef,
    pub to: EntityRef,
    pub props: Value,
    pub created_ms: i64,
    pub updated_ms: i64,
    pub version: i64,
}

/// The result of an upsert.
#[derive(Debug, Clone, Serialize)]
pub struct Upserted<T> {
    pub record: T,
    /// No record had this key before.
    pub created: bool,
    /// Something was written; false when the props were already identical.
    pub changed: bool,
}

/// What `delete_entity` removed.
#[derive(Debug, Clone, Serialize)]
pub struct Deleted {
    pub entity: Entity,
    /// Relations to or from the entity, removed with it.
    pub relations: Vec<Relation>,
}

/// Which way relations are followed from an entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Relations whose `from` is the entity.
    Out,
    /// Relations whose `to` is the entity.
    In,
    /// Either.
    Both,
}

#[derive(Debug, Clone, Serialize)]
pub struct Neighbour {
    pub relation: Relation,
    /// The entity at the other end.
    pub entity: Entity,
    /// `Out` if the relation leaves the queried entity, `In` if it arrives.
    pub direction: Direction,
}

/// A path of `relations.len()` hops; `entities` has one more element, from
/// the start to the end, and no entity appears twice.
#[derive(Debug, Clone, Serialize)]
pub struct GraphPath {
    pub entities: Vec<Entity>,
    pub relations: Vec<Relation>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Create,
    Update,
    Delete,
}

/// What a history entry is about. Entities and relations are named by type
/// and key, not by row id, so an entity's history runs on across a delete
/// and a re-create.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "target", rename_all = "snake_case")]
pub enum Subject {
    Entity { entity: EntityRef },
    Relation { from: EntityRef, to: EntityRef },
}

/// One entry of the append-only change log.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub id: i64,
    #[serde(flatten)]
    pub subject: Subject,
    /// Row id of the entity or relation at the time of the change.
    pub target_id: i64,
    #[serde(rename = "type")]
    pub type_name: String,
    pub op: Op,
    /// The props before the change (`None` for a create).
    pub before: Option<Value>,
    /// The props after the change (`None` for a delete).
    pub after: Option<Value>,
    /// The record's version after the change (the last version for a delete).
    pub version: i64,
    pub at_ms: i64,
}

/// Counts of one agent's graph.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GraphStats {
    pub entities: u64,
    pub relations: u64,
    pub history: u64,
    /// Entity and relation counts per type, sorted by type name.
    pub by_type: Vec<(String, u64)>,
}
