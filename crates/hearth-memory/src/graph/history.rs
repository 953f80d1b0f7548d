//! The append-only change log: written inside every write's transaction,
//! read newest first. Also the per-agent counts.

use rusqlite::{Row, Transaction, params};
use serde_json::Value;

use super::rows::json_opt;
use super::store::check_agent;
use super::validate::{key_text, lookup_key};
use super::{Change, Entity, EntityRef, Graph, GraphError, GraphStats, Op, Relation, Subject};

impl Op {
    fn as_str(self) -> &'static str {
        match self {
            Op::Create => "create",
            Op::Update => "update",
            Op::Delete => "delete",
        }
    }
}

/// One change to append; `before`/`after` are props, `None` on the side
/// where the record did not exist.
pub(super) struct Record<'a> {
    op: Op,
    before: Option<&'a Value>,
    after: Option<&'a Value>,
    at_ms: i64,
}

impl<'a> Record<'a> {
    pub fn create(after: &'a Value, at_ms: i64) -> Self {
        Self {
            op: Op::Create,
            before: None,
            after: Some(after),
            at_ms,
        }
    }

    pub fn update(before: &'a Value, after: &'a Value, at_ms: i64) -> Self {
        Self {
            op: Op::Update,
            before: Some(before),
            after: Some(after),
            at_ms,
        }
    }

    pub fn delete(before: &'a Value, at_ms: i64) -> Self {
        Self {
            op: Op::Delete,
            before: Some(before),
            after: None,
            at_ms,
        }
    }
}

pub(super) fn record_entity(
    tx: &Transaction<'_>,
    agent: &str,
    entity: &Entity,
    change: Record<'_>,
) -> Result<(), GraphError> {
    insert(
        tx,
        agent,
        "entity",
        entity.id,
        &entity.type_name,
        &entity.to_ref(),
        None,
        entity.version,
        change,
    )
}

pub(super) fn record_relation(
    tx: &Transaction<'_>,
    agent: &str,
    relation: &Relation,
    change: Record<'_>,
) -> Result<(), GraphError> {
    insert(
        tx,
        agent,
        "relation",
        relation.id,
        &relation.type_name,
        &relation.from,
        Some(&relation.to),
        relation.version,
        change,
    )
}

#[allow(clippy::too_many_arguments)] // One column each; only two callers, both above.
fn insert(
    tx: &Transaction<'_>,
    agent: &str,
    target: &str,
    target_id: i64,
    type_name: &str,
    subject: &EntityRef,
    object: Option<&EntityRef>,
    version: i64,
    change: Record<'_>,
) -> Result<(), GraphError> {
    tx.prepare_cached(
        "INSERT INTO graph_history (agent, target, target_id, type, subject_type, subject_key,
             object_type, object_key, op, before, after, version, at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?
    .execute(params![
        agent,
        target,
        target_id,
        type_name,
        subject.type_name,
        key_text(&subject.key),
        object.map(|o| &o.type_name),
        object.map(|o| key_text(&o.key)),
        change.op.as_str(),
        change.before.map(Value::to_string),
        change.after.map(Value::to_string),
        version,
        change.at_ms,
    ])?;
    Ok(())
}

const HISTORY_SELECT: &str = "SELECT id, target, target_id, type, subject_type, subject_key, \
     object_type, object_key, op, before, after, version, at_ms FROM graph_history";

fn change(row: &Row<'_>) -> rusqlite::Result<Change> {
    let endpoint = |type_at: usize| -> rusqlite::Result<EntityRef> {
        Ok(EntityRef {
            type_name: row.get(type_at)?,
            key: super::rows::json(row, type_at + 1)?,
        })
    };
    let subject = match row.get_ref(1)?.as_str()? {
        "entity" => Subject::Entity {
            entity: endpoint(4)?,
        },
        _ => Subject::Relation {
            from: endpoint(4)?,
            to: endpoint(6)?,
        },
    };
    let op = match row.get_ref(8)?.as_str()? {
        "create" => Op::Create,
        "update" => Op::Update,
        _ => Op::Delete,
    };
    Ok(Change {
        id: row.get(0)?,
        subject,
        target_id: row.get(2)?,
        type_name: row.get(3)?,
        op,
        before: json_opt(row, 9)?,
        after: json_opt(row, 10)?,
        version: row.get(11)?,
        at_ms: row.get(12)?,
    })
}

impl Graph {
    /// Changes, newest first: all of the agent's, or those of one entity,
    /// which include the changes of every relation to or from it.
    pub fn history(
        &self,
        agent: &str,
        target: Option<&EntityRef>,
        limit: usize,
    ) -> Result<Vec<Change>, GraphError> {
        check_agent(agent)?;
        let limit = super::capped(limit) as i64;
        let target = target
            .map(|t| lookup_key(&t.type_name, &t.key).map(|k| (&t.type_name, key_text(&k))))
            .transpose()?;
        self.read(|tx| {
            let changes = match target {
                Some((type_name, key)) => {
                    let sql = format!(
                        "{HISTORY_SELECT} WHERE agent = ?1 AND ((subject_type = ?2 AND subject_key = ?3)
                         OR (object_type = ?2 AND object_key = ?3)) ORDER BY id DESC LIMIT ?4"
                    );
                    tx.prepare_cached(&sql)?
                        .query_map(params![agent, type_name, key, limit], change)?
                        .collect::<Result<Vec<_>, _>>()?
                }
                None => {
                    let sql = format!("{HISTORY_SELECT} WHERE agent = ?1 ORDER BY id DESC LIMIT ?2");
                    tx.prepare_cached(&sql)?
                        .query_map(params![agent, limit], change)?
                        .collect::<Result<Vec<_>, _>>()?
                }
            };
            Ok(changes)
        })
    }

    /// How many entities, relations and history entries the agent has.
    pub fn stats(&self, agent: &str) -> Result<GraphStats, GraphError> {
        check_agent(agent)?;
        self.read(|tx| {
            let count = |table: &str| -> Result<u64, GraphError> {
                let sql = format!("SELECT count(*) FROM {table} WHERE agent = ?1");
                Ok(tx.query_row(&sql, [agent], |row| row.get(0))?)
            };
            let by_type = tx
                .prepare_cached(
                    "SELECT type, count(*) FROM (
                         SELECT type FROM graph_entities WHERE agent = ?1
                         UNION ALL SELECT type FROM graph_relations WHERE agent = ?1)
                     GROUP BY type ORDER BY type",
                )?
                .query_map([agent], |row| Ok((row.get(0)?, row.get(1)?)))?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(GraphStats {
                entities: count("graph_entities")?,
                relations: count("graph_relations")?,
                history: count("graph_history")?,
                by_type,
            })
        })
    }
}
