//! Entity operations: upsert by key, get, list, delete (with the entity's
//! relations).

use hearth_core::now_ms;
use rusqlite::{Transaction, params};
use serde_json::Value;

use super::history::{Record, record_entity, record_relation};
use super::rows::{ENTITY_SELECT, RELATION_SELECT, entity, find_entity, joined, resolve};
use super::store::check_agent;
use super::validate::{entity_key, key_text, validate_props};
use super::{Deleted, Entity, EntityRef, Graph, GraphError, Schemas, Upserted, capped};

impl Graph {
    /// Creates the entity, or replaces the props of the one with the same
    /// key. Props are validated first; if they fail, nothing is written.
    /// Writing identical props again changes nothing and records nothing.
    pub fn upsert_entity(
        &self,
        agent: &str,
        schemas: &Schemas,
        type_name: &str,
        props: Value,
    ) -> Result<Upserted<Entity>, GraphError> {
        check_agent(agent)?;
        let (def, key_fields) = schemas.entity(type_name)?;
        validate_props(def, &props)?;
        let key = entity_key(type_name, key_fields, &props)?;
        let key_text = key_text(&key);
        self.write(|tx| {
            let at_ms = now_ms();
            let Some(old) = find_entity(tx, agent, type_name, &key_text)? else {
                let id = tx
                    .prepare_cached(
                        "INSERT INTO graph_entities
                             (agent, type, key, props, created_ms, updated_ms, version)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?5, 1)",
                    )?
                    .insert(params![
                        agent,
                        type_name,
                        key_text,
                        props.to_string(),
                        at_ms
                    ])?;
                let created = Entity {
                    id,
                    type_name: type_name.to_owned(),
                    key,
                    props,
                    created_ms: at_ms,
                    updated_ms: at_ms,
                    version: 1,
                };
                record_entity(tx, agent, &created, Record::create(&created.props, at_ms))?;
                return Ok(Upserted {
                    record: created,
                    created: true,
                    changed: true,
                });
            };
            if old.props == props {
                return Ok(Upserted {
                    record: old,
                    created: false,
                    changed: false,
                });
            }
            let updated = Entity {
                props,
                updated_ms: at_ms,
                version: old.version + 1,
                ..old.clone()
            };
            tx.prepare_cached(
                "UPDATE graph_entities SET props = ?2, updated_ms = ?3, version = ?4 WHERE id = ?1",
            )?
            .execute(params![
                updated.id,
                updated.props.to_string(),
                at_ms,
                updated.version
            ])?;
            let change = Record::update(&old.props, &updated.props, at_ms);
            record_entity(tx, agent, &updated, change)?;
            Ok(Upserted {
                record: updated,
                created: false,
                changed: true,
            })
        })
    }

    /// The entity of `type_name` with `key` (the object of key fields, or
    /// the bare value of a one-field key), if it exists.
    pub fn get_entity(
        &self,
        agent: &str,
        type_name: &str,
        key: &Value,
    ) -> Result<Option<Entity>, GraphError> {
        check_agent(agent)?;
        let entity = EntityRef::new(type_name, key.clone());
        self.read(|tx| resolve(tx, agent, &entity))
    }

    /// The agent's entities, of one type or all, most recently changed first.
    pub fn list_entities(
        &self,
        agent: &str,
        type_name: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Entity>, GraphError> {
        check_agent(agent)?;
        let limit = capped(limit) as i64;
        let sql = format!(
            "{ENTITY_SELECT} WHERE e.agent = ?1 AND (?2 IS NULL OR e.type = ?2)
             ORDER BY e.updated_ms DESC, e.id DESC LIMIT ?3"
        );
        self.read(|tx| {
            Ok(tx
                .prepare_cached(&sql)?
                .query_map(params![agent, type_name, limit], entity)?
                .collect::<Result<Vec<_>, _>>()?)
        })
    }

    /// Deletes the entity and every relation to or from it, recording each
    /// deletion. `None` if there was no such entity.
    pub fn delete_entity(
        &self,
        agent: &str,
        type_name: &str,
        key: &Value,
    ) -> Result<Option<Deleted>, GraphError> {
        check_agent(agent)?;
        let target = EntityRef::new(type_name, key.clone());
        self.write(|tx| {
            let Some(entity) = resolve(tx, agent, &target)? else {
                return Ok(None);
            };
            let at_ms = now_ms();
            let relations = delete_relations_of(tx, agent, entity.id, at_ms)?;
            tx.prepare_cached("DELETE FROM graph_entities WHERE id = ?1")?
                .execute([entity.id])?;
            record_entity(tx, agent, &entity, Record::delete(&entity.props, at_ms))?;
            Ok(Some(Deleted { entity, relations }))
        })
    }
}

fn delete_relations_of(
    tx: &Transaction<'_>,
    agent: &str,
    entity_id: i64,
    at_ms: i64,
) -> Result<Vec<super::Relation>, GraphError> {
    let sql = format!("{RELATION_SELECT} WHERE r.from_id = ?1 OR r.to_id = ?1 ORDER BY r.id");
    let relations: Vec<_> = tx
        .prepare_cached(&sql)?
        .query_map([entity_id], joined)?
        .map(|row| row.map(|j| j.relation))
        .collect::<Result<_, _>>()?;
    for relation in &relations {
        tx.prepare_cached("DELETE FROM graph_relations WHERE id = ?1")?
            .execute([relation.id])?;
        record_relation(tx, agent, relation, Record::delete(&relation.props, at_ms))?;
    }
    Ok(relations)
}
