//! Relation operations: upsert by (type, from, to) and removal.

use hearth_core::now_ms;
use rusqlite::{OptionalExtension, Transaction, params};
use serde_json::{Map, Value};

use super::history::{Record, record_relation};
use super::rows::{RELATION_SELECT, joined, resolve};
use super::store::check_agent;
use super::validate::validate_props;
use super::{End, Entity, EntityRef, Graph, GraphError, Relation, Schemas, Upserted};

impl Graph {
    /// Creates the relation `from -[rel_type]-> to`, or replaces its props.
    /// Both entities must exist and be of the types the relation declares;
    /// props (`null` meaning `{}`) are validated against its schema. On any
    /// failure nothing is written.
    pub fn relate(
        &self,
        agent: &str,
        schemas: &Schemas,
        rel_type: &str,
        from: &EntityRef,
        to: &EntityRef,
        props: Value,
    ) -> Result<Upserted<Relation>, GraphError> {
        check_agent(agent)?;
        let (def, from_types, to_types) = schemas.relation(rel_type)?;
        let props = if props.is_null() {
            Value::Object(Map::new())
        } else {
            props
        };
        check_end_type(rel_type, End::From, from_types, from)?;
        check_end_type(rel_type, End::To, to_types, to)?;
        validate_props(def, &props)?;
        self.write(|tx| {
            let from = endpoint(tx, agent, rel_type, End::From, from)?;
            let to = endpoint(tx, agent, rel_type, End::To, to)?;
            let at_ms = now_ms();
            let Some(old) = find(tx, agent, rel_type, from.id, to.id)? else {
                let id = tx
                    .prepare_cached(
                        "INSERT INTO graph_relations
                             (agent, type, from_id, to_id, props, created_ms, updated_ms, version)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, 1)",
                    )?
                    .insert(params![
                        agent,
                        rel_type,
                        from.id,
                        to.id,
                        props.to_string(),
                        at_ms
                    ])?;
                let created = Relation {
                    id,
                    type_name: rel_type.to_owned(),
                    from_id: from.id,
                    to_id: to.id,
                    from: from.to_ref(),
                    to: to.to_ref(),
                    props,
                    created_ms: at_ms,
                    updated_ms: at_ms,
                    version: 1,
                };
                record_relation(tx, agent, &created, Record::create(&created.props, at_ms))?;
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
            let updated = Relation {
                props,
                updated_ms: at_ms,
                version: old.version + 1,
                ..old.clone()
            };
            tx.prepare_cached(
                "UPDATE graph_relations SET props = ?2, updated_ms = ?3, version = ?4 WHERE id = ?1",
            )?
            .execute(params![
                updated.id,
                updated.props.to_string(),
                at_ms,
                updated.version
            ])?;
            let change = Record::update(&old.props, &updated.props, at_ms);
            record_relation(tx, agent, &updated, change)?;
            Ok(Upserted {
                record: updated,
                created: false,
                changed: true,
            })
        })
    }

    /// Removes the relation `from -[rel_type]-> to`, recording it; `None` if
    /// there was none. Needs no schema, so relations of a type whose file
    /// was removed can still be cleaned up.
    pub fn unrelate(
        &self,
        agent: &str,
        rel_type: &str,
        from: &EntityRef,
        to: &EntityRef,
    ) -> Result<Option<Relation>, GraphError> {
        check_agent(agent)?;
        self.write(|tx| {
            let (Some(from), Some(to)) = (resolve(tx, agent, from)?, resolve(tx, agent, to)?)
            else {
                return Ok(None);
            };
            let Some(relation) = find(tx, agent, rel_type, from.id, to.id)? else {
                return Ok(None);
            };
            tx.prepare_cached("DELETE FROM graph_relations WHERE id = ?1")?
                .execute([relation.id])?;
            let change = Record::delete(&relation.props, now_ms());
            record_relation(tx, agent, &relation, change)?;
            Ok(Some(relation))
        })
    }
}

fn check_end_type(
    relation: &str,
    end: End,
    allowed: &[String],
    entity: &EntityRef,
) -> Result<(), GraphError> {
    if allowed.contains(&entity.type_name) {
        Ok(())
    } else {
        Err(GraphError::EndpointType {
            relation: relation.to_owned(),
            end,
            expected: allowed.to_vec(),
            found: entity.type_name.clone(),
        })
    }
}

fn endpoint(
    tx: &Transaction<'_>,
    agent: &str,
    relation: &str,
    end: End,
    entity: &EntityRef,
) -> Result<Entity, GraphError> {
    resolve(tx, agent, entity)?.ok_or_else(|| GraphError::EndpointMissing {
        relation: relation.to_owned(),
        end,
        entity: entity.clone(),
    })
}

fn find(
    tx: &Transaction<'_>,
    agent: &str,
    rel_type: &str,
    from_id: i64,
    to_id: i64,
) -> Result<Option<Relation>, GraphError> {
    let sql = format!(
        "{RELATION_SELECT} WHERE r.agent = ?1 AND r.type = ?2 AND r.from_id = ?3 AND r.to_id = ?4"
    );
    Ok(tx
        .prepare_cached(&sql)?
        .query_row(params![agent, rel_type, from_id, to_id], |row| {
            joined(row).map(|j| j.relation)
        })
        .optional()?)
}
