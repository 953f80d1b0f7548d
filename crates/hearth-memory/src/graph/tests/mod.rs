//! Tests of the knowledge graph against real SQLite files and real schema
//! files in a temporary workspace; shared fixtures here, tests by concern
//! in the sibling files.

use std::path::Path;

use serde_json::{Value, json};
use tempfile::TempDir;

use super::*;

mod queries;
mod schemas;
mod writes;

const AGENT: &str = "main";

fn write_schema(dir: &Path, file: &str, schema: Value) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join(file),
        serde_json::to_string_pretty(&schema).unwrap(),
    )
    .unwrap();
}

/// A workspace with Person (key name), Company (titled by its file name),
/// WorksAt (Person -> Company, since: integer) and Knows (Person -> Person).
fn workspace() -> (TempDir, Schemas) {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join("schemas");
    write_schema(
        &dir,
        "Person.json",
        json!({
            "title": "Person",
            "type": "object",
            "properties": {
                "name": { "type": "string" },
                "age": { "type": "integer" },
                "email": { "type": "string" }
            },
            "required": ["name"],
            "additionalProperties": false,
            "x-hearth": { "kind": "entity", "key": ["name"] }
        }),
    );
    write_schema(
        &dir,
        "Company.json",
        json!({
            "type": "object",
            "properties": { "name": { "type": "string" }, "founded": { "type": "integer" } },
            "required": ["name"],
            "x-hearth": { "kind": "entity" }
        }),
    );
    write_schema(
        &dir,
        "WorksAt.json",
        json!({
            "type": "object",
            "properties": { "since": { "type": "integer" } },
            "additionalProperties": false,
            "x-hearth": { "kind": "relation", "from": "Person", "to": ["Company"] }
        }),
    );
    write_schema(
        &dir,
        "Knows.json",
        json!({
            "type": "object",
            "x-hearth": { "kind": "relation", "from": "Person", "to": "Person" }
        }),
    );
    // Not a schema: ignored.
    std::fs::write(dir.join("README.md"), "types live here").unwrap();
    let schemas = Schemas::load(&dir).unwrap();
    (tmp, schemas)
}

fn open(tmp: &TempDir) -> Graph {
    Graph::open(&tmp.path().join("memory.db")).unwrap()
}

fn person(name: &str) -> EntityRef {
    EntityRef::new("Person", name)
}

fn company(name: &str) -> EntityRef {
    EntityRef::new("Company", name)
}

fn add_people(graph: &Graph, schemas: &Schemas, names: &[&str]) {
    for name in names {
        graph
            .upsert_entity(AGENT, schemas, "Person", json!({ "name": name }))
            .unwrap();
    }
}

fn knows(graph: &Graph, schemas: &Schemas, from: &str, to: &str) -> Relation {
    graph
        .relate(
            AGENT,
            schemas,
            "Knows",
            &person(from),
            &person(to),
            Value::Null,
        )
        .unwrap()
        .record
}

/// Everything the agent has stored, to prove a failed write left no trace.
fn snapshot(graph: &Graph) -> (GraphStats, usize) {
    let stats = graph.stats(AGENT).unwrap();
    let history = graph.history(AGENT, None, MAX_LIMIT).unwrap().len();
    (stats, history)
}
