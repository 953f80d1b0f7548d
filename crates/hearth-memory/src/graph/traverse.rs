//! Traversal queries: an entity's neighbours, and the simple paths between
//! two entities (a recursive CTE over the relations table).

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use rusqlite::{Transaction, params};

use super::rows::{RELATION_SELECT, entity_by_id, joined, relation_by_id, resolve};
use super::store::check_agent;
use super::{
    Direction, Entity, EntityRef, Graph, GraphError, GraphPath, MAX_PATH_DEPTH, Neighbour,
    Relation, capped,
};

/// The most rows each stage of a path search may produce. Simple paths
/// multiply with depth (a thousand neighbours each, three hops: a billion),
/// so the walk stops here however dense the graph. The walk is breadth
/// first, so the shortest paths are found before the cap can bite.
const MAX_WALK_ROWS: usize = 100_000;

impl Graph {
    /// The relations to and/or from `entity` (of one type, or any) with the
    /// entity at the other end of each, oldest relation first.
    pub fn neighbours(
        &self,
        agent: &str,
        entity: &EntityRef,
        relation: Option<&str>,
        direction: Direction,
        limit: usize,
    ) -> Result<Vec<Neighbour>, GraphError> {
        check_agent(agent)?;
        let limit = capped(limit) as i64;
        let ends = match direction {
            Direction::Out => "r.from_id = ?1",
            Direction::In => "r.to_id = ?1",
            Direction::Both => "(r.from_id = ?1 OR r.to_id = ?1)",
        };
        let sql = format!(
            "{RELATION_SELECT} WHERE {ends} AND (?2 IS NULL OR r.type = ?2) ORDER BY r.id LIMIT ?3"
        );
        self.read(|tx| {
            let centre = existing(tx, agent, entity)?;
            let mut statement = tx.prepare_cached(&sql)?;
            let rows = statement.query_map(params![centre.id, relation, limit], joined)?;
            let mut neighbours = Vec::new();
            for row in rows {
                let joined = row?;
                // A relation from the entity to itself counts once, as Out.
                let (entity, direction) = if joined.from.id == centre.id {
                    (joined.to, Direction::Out)
                } else {
                    (joined.from, Direction::In)
                };
                neighbours.push(Neighbour {
                    relation: joined.relation,
                    entity,
                    direction,
                });
            }
            Ok(neighbours)
        })
    }

    /// Paths from `from` to `to` of 1 to `max_depth` hops (at most
    /// [`MAX_PATH_DEPTH`]), shortest first, no entity visited twice.
    /// `Out` follows relations as declared, `In` against it, `Both` either
    /// way.
    pub fn paths(
        &self,
        agent: &str,
        from: &EntityRef,
        to: &EntityRef,
        max_depth: usize,
        direction: Direction,
        limit: usize,
    ) -> Result<Vec<GraphPath>, GraphError> {
        check_agent(agent)?;
        if !(1..=MAX_PATH_DEPTH).contains(&max_depth) {
            return Err(GraphError::BadArgument(format!(
                "max_depth must be 1 to {MAX_PATH_DEPTH}, not {max_depth}"
            )));
        }
        let limit = capped(limit) as i64;
        let sql = path_sql(direction);
        self.read(|tx| {
            let start = existing(tx, agent, from)?;
            let end = existing(tx, agent, to)?;
            let found: Vec<(String, String)> = tx
                .prepare_cached(&sql)?
                .query_map(params![start.id, max_depth as i64, end.id, limit], |row| {
                    Ok((row.get(0)?, row.get(1)?))
                })?
                .collect::<Result<_, _>>()?;
            let mut cache = Cache::default();
            found
                .iter()
                .map(|(nodes, rels)| cache.path(tx, nodes, rels))
                .collect()
        })
    }
}

fn existing(tx: &Transaction<'_>, agent: &str, entity: &EntityRef) -> Result<Entity, GraphError> {
    resolve(tx, agent, entity)?.ok_or_else(|| GraphError::NotFound {
        entity: entity.clone(),
    })
}

/// The path search, in two stages. Parameters: ?1 start, ?2 max depth,
/// ?3 end, ?4 limit.
///
/// 1. `to_end`: a breadth-first search backwards from the end node, giving
///    each node its distance to the end (rows are distinct (node, hops)
///    pairs, so this is linear in the neighbourhood, never exponential).
/// 2. `walk`: the simple paths from the start. Each row is a partial path:
///    its last node, the node and relation ids so far as `,1,5,9,` lists
///    (which `instr` searches to keep paths simple), and its length. A step
///    is taken only toward a node from which the end is still within reach,
///    so no time goes into dead ends, and an unreachable end costs nothing.
fn path_sql(direction: Direction) -> String {
    // One (near, far) pair per way a relation may be followed: from its
    // `near` column (where the walk is) to its `far` column (where it goes).
    let ways: &[(&str, &str)] = match direction {
        Direction::Out => &[("from_id", "to_id")],
        Direction::In => &[("to_id", "from_id")],
        Direction::Both => &[("from_id", "to_id"), ("to_id", "from_id")],
    };
    let back = |(near, far): &(&str, &str)| {
        format!(
            "SELECT r.{near}, t.hops + 1
             FROM to_end t JOIN graph_relations r ON r.{far} = t.node
             WHERE t.hops < ?2"
        )
    };
    let forward = |(near, far): &(&str, &str)| {
        format!(
            "SELECT r.{far}, w.nodes || r.{far} || ',', w.rels || r.id || ',', w.depth + 1
             FROM walk w
             JOIN graph_relations r ON r.{near} = w.node
             JOIN distance d ON d.node = r.{far}
             WHERE w.depth + 1 + d.hops <= ?2 AND w.node <> ?3
               AND instr(w.nodes, ',' || r.{far} || ',') = 0"
        )
    };
    // Several recursive SELECTs (SQLite 3.34+) rather than one over a UNION
    // of both directions, so each can use its own index.
    let back: Vec<String> = ways.iter().map(back).collect();
    let forward: Vec<String> = ways.iter().map(forward).collect();
    // ORDER BY depth makes SQLite's queue of partial paths a priority queue,
    // so rows leave it shortest first: the outer query needs no sort of its
    // own, and its LIMIT ends the walk as soon as enough paths are found.
    format!(
        "WITH RECURSIVE
         to_end (node, hops) AS (
             SELECT ?3, 0
             UNION {back}
             LIMIT {MAX_WALK_ROWS}),
         distance (node, hops) AS MATERIALIZED (
             SELECT node, min(hops) FROM to_end GROUP BY node),
         walk (node, nodes, rels, depth) AS (
             SELECT ?1 AS node, ',' || ?1 || ',' AS nodes, ',' AS rels, 0 AS depth
             UNION ALL {forward}
             ORDER BY depth
             LIMIT {MAX_WALK_ROWS})
         SELECT nodes, rels FROM walk WHERE node = ?3 AND depth > 0 LIMIT ?4",
        back = back.join(" UNION "),
        forward = forward.join(" UNION ALL "),
    )
}

/// Entities and relations already loaded: paths found together share most
/// of their nodes.
#[derive(Default)]
struct Cache {
    entities: HashMap<i64, Entity>,
    relations: HashMap<i64, Relation>,
}

impl Cache {
    fn path(
        &mut self,
        tx: &Transaction<'_>,
        nodes: &str,
        rels: &str,
    ) -> Result<GraphPath, GraphError> {
        let mut path = GraphPath {
            entities: Vec::new(),
            relations: Vec::new(),
        };
        for id in ids(nodes) {
            let entity = match self.entities.entry(id) {
                Entry::Occupied(cached) => cached.into_mut(),
                Entry::Vacant(slot) => slot.insert(entity_by_id(tx, id)?),
            };
            path.entities.push(entity.clone());
        }
        for id in ids(rels) {
            let relation = match self.relations.entry(id) {
                Entry::Occupied(cached) => cached.into_mut(),
                Entry::Vacant(slot) => slot.insert(relation_by_id(tx, id)?.relation),
            };
            path.relations.push(relation.clone());
        }
        Ok(path)
    }
}

/// The ids of a `,1,5,9,` list (written by [`path_sql`], so always digits).
fn ids(list: &str) -> impl Iterator<Item = i64> + '_ {
    list.split(',').filter_map(|id| id.parse().ok())
}
