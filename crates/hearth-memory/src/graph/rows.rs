//! Reading entity and relation rows: the SELECT column lists and the
//! mappers that go with them, kept side by side so they cannot drift apart.

use rusqlite::types::Type;
use rusqlite::{OptionalExtension, Row, Transaction, params};
use serde_json::Value;

use super::{Entity, EntityRef, GraphError, Relation};

/// Entity columns, in the order [`entity_at`] reads them.
pub(super) const ENTITY_SELECT: &str = "SELECT e.id, e.type, e.key, e.props, e.created_ms, \
     e.updated_ms, e.version FROM graph_entities e";

/// Relation columns followed by the full rows of both ends, in the order
/// [`joined`] reads them: callers usually want the entity at the other end.
pub(super) const RELATION_SELECT: &str = "SELECT r.id, r.type, r.props, r.created_ms, \
     r.updated_ms, r.version, \
     f.id, f.type, f.key, f.props, f.created_ms, f.updated_ms, f.version, \
     t.id, t.type, t.key, t.props, t.created_ms, t.updated_ms, t.version \
     FROM graph_relations r \
     JOIN graph_entities f ON f.id = r.from_id \
     JOIN graph_entities t ON t.id = r.to_id";

const ENTITY_COLUMNS: usize = 7;

/// A relation with both of its ends.
pub(super) struct Joined {
    pub relation: Relation,
    pub from: Entity,
    pub to: Entity,
}

pub(super) fn entity(row: &Row<'_>) -> rusqlite::Result<Entity> {
    entity_at(row, 0)
}

fn entity_at(row: &Row<'_>, at: usize) -> rusqlite::Result<Entity> {
    Ok(Entity {
        id: row.get(at)?,
        type_name: row.get(at + 1)?,
        key: json(row, at + 2)?,
        props: json(row, at + 3)?,
        created_ms: row.get(at + 4)?,
        updated_ms: row.get(at + 5)?,
        version: row.get(at + 6)?,
    })
}

pub(super) fn joined(row: &Row<'_>) -> rusqlite::Result<Joined> {
    let from = entity_at(row, 6)?;
    let to = entity_at(row, 6 + ENTITY_COLUMNS)?;
    let relation = Relation {
        id: row.get(0)?,
        type_name: row.get(1)?,
        from_id: from.id,
        to_id: to.id,
        from: from.to_ref(),
        to: to.to_ref(),
        props: json(row, 2)?,
        created_ms: row.get(3)?,
        updated_ms: row.get(4)?,
        version: row.get(5)?,
    };
    Ok(Joined { relation, from, to })
}

/// A JSON text column; unparsable text (only possible if something else
/// wrote the table) surfaces as a conversion error naming the column.
pub(super) fn json(row: &Row<'_>, at: usize) -> rusqlite::Result<Value> {
    let text: String = row.get(at)?;
    serde_json::from_str(&text)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(at, Type::Text, Box::new(e)))
}

/// Like [`json`] for a nullable column.
pub(super) fn json_opt(row: &Row<'_>, at: usize) -> rusqlite::Result<Option<Value>> {
    match row.get::<_, Option<String>>(at)? {
        None => Ok(None),
        Some(_) => json(row, at).map(Some),
    }
}

pub(super) fn find_entity(
    tx: &Transaction<'_>,
    agent: &str,
    type_name: &str,
    key_text: &str,
) -> Result<Option<Entity>, GraphError> {
    let sql = format!("{ENTITY_SELECT} WHERE e.agent = ?1 AND e.type = ?2 AND e.key = ?3");
    Ok(tx
        .prepare_cached(&sql)?
        .query_row(params![agent, type_name, key_text], entity)
        .optional()?)
}

pub(super) fn entity_by_id(tx: &Transaction<'_>, id: i64) -> Result<Entity, GraphError> {
    let sql = format!("{ENTITY_SELECT} WHERE e.id = ?1");
    Ok(tx.prepare_cached(&sql)?.query_row([id], entity)?)
}

pub(super) fn relation_by_id(tx: &Transaction<'_>, id: i64) -> Result<Joined, GraphError> {
    let sql = format!("{RELATION_SELECT} WHERE r.id = ?1");
    Ok(tx.prepare_cached(&sql)?.query_row([id], joined)?)
}

/// Resolves a reference to its entity, or `None` if no such entity exists.
pub(super) fn resolve(
    tx: &Transaction<'_>,
    agent: &str,
    entity: &EntityRef,
) -> Result<Option<Entity>, GraphError> {
    let key = super::validate::lookup_key(&entity.type_name, &entity.key)?;
    find_entity(
        tx,
        agent,
        &entity.type_name,
        &super::validate::key_text(&key),
    )
}
