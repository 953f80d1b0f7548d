//! Reads: neighbours, paths, listing, agent isolation, persistence and
//! the JSON shape of the records.

use serde_json::{Value, json};

use super::*;

#[test]
fn neighbours_by_direction_and_relation_type() {
    let (tmp, schemas) = workspace();
    let graph = open(&tmp);
    add_people(&graph, &schemas, &["Ada", "Bob", "Cy"]);
    graph
        .upsert_entity(AGENT, &schemas, "Company", json!({ "name": "Acme" }))
        .unwrap();
    knows(&graph, &schemas, "Ada", "Bob");
    knows(&graph, &schemas, "Cy", "Ada");
    graph
        .relate(
            AGENT,
            &schemas,
            "WorksAt",
            &person("Ada"),
            &company("Acme"),
            Value::Null,
        )
        .unwrap();

    let names = |direction, relation| -> Vec<(String, Direction)> {
        graph
            .neighbours(AGENT, &person("Ada"), relation, direction, 10)
            .unwrap()
            .into_iter()
            .map(|n| {
                (
                    n.entity.props["name"].as_str().unwrap().to_owned(),
                    n.direction,
                )
            })
            .collect()
    };
    let out = Direction::Out;
    let inn = Direction::In;
    assert_eq!(
        names(out, None),
        [("Bob".into(), out), ("Acme".into(), out)]
    );
    assert_eq!(names(inn, None), [("Cy".into(), inn)]);
    assert_eq!(
        names(Direction::Both, None),
        [
            ("Bob".into(), out),
            ("Cy".into(), inn),
            ("Acme".into(), out)
        ]
    );
    assert_eq!(
        names(Direction::Both, Some("WorksAt")),
        [("Acme".into(), out)]
    );
    assert_eq!(
        graph
            .neighbours(AGENT, &person("Ada"), None, Direction::Both, 1)
            .unwrap()
            .len(),
        1
    );

    let err = graph
        .neighbours(AGENT, &person("Nobody"), None, Direction::Both, 10)
        .unwrap_err();
    assert!(matches!(err, GraphError::NotFound { .. }), "{err}");
}

#[test]
fn paths_respect_max_depth() {
    let (tmp, schemas) = workspace();
    let graph = open(&tmp);
    add_people(&graph, &schemas, &["A", "B", "C", "D"]);
    knows(&graph, &schemas, "A", "B");
    knows(&graph, &schemas, "B", "C");
    knows(&graph, &schemas, "C", "D");

    let paths = |from: &str, to: &str, depth, direction| {
        graph
            .paths(AGENT, &person(from), &person(to), depth, direction, 10)
            .unwrap()
    };
    let found = paths("A", "D", 3, Direction::Out);
    assert_eq!(found.len(), 1);
    let names: Vec<_> = found[0].entities.iter().map(|e| e.key.clone()).collect();
    assert_eq!(names, [json!("A"), json!("B"), json!("C"), json!("D")]);
    assert_eq!(found[0].relations.len(), 3);
    assert_eq!(found[0].relations[0].from, person("A"));

    assert!(paths("A", "D", 2, Direction::Out).is_empty());
    // Relations are directed unless asked otherwise.
    assert!(paths("D", "A", 6, Direction::Out).is_empty());
    assert_eq!(paths("D", "A", 3, Direction::In).len(), 1);
    assert_eq!(paths("D", "A", 3, Direction::Both).len(), 1);

    for bad in [0, MAX_PATH_DEPTH + 1] {
        let err = graph
            .paths(AGENT, &person("A"), &person("D"), bad, Direction::Out, 10)
            .unwrap_err();
        assert!(matches!(err, GraphError::BadArgument(_)), "{err}");
    }
}

#[test]
fn paths_never_repeat_an_entity_and_come_shortest_first() {
    let (tmp, schemas) = workspace();
    let graph = open(&tmp);
    add_people(&graph, &schemas, &["A", "B", "C", "D"]);
    // A cycle A -> B -> C -> A, a shortcut A -> C, and an exit C -> D.
    for (from, to) in [("A", "B"), ("B", "C"), ("C", "A"), ("A", "C"), ("C", "D")] {
        knows(&graph, &schemas, from, to);
    }
    let found = graph
        .paths(AGENT, &person("A"), &person("D"), 6, Direction::Out, 10)
        .unwrap();
    let lengths: Vec<_> = found.iter().map(|p| p.relations.len()).collect();
    assert_eq!(lengths, [2, 3]);
    for path in &found {
        let mut ids: Vec<_> = path.entities.iter().map(|e| e.id).collect();
        assert_eq!(path.entities.len(), path.relations.len() + 1);
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), path.entities.len(), "an entity repeats");
    }
    // Undirected, the cycle gives more routes, still finite and simple.
    let both = graph
        .paths(AGENT, &person("A"), &person("D"), 6, Direction::Both, 100)
        .unwrap();
    assert!(both.len() > found.len());
    assert!(
        both.windows(2)
            .all(|w| w[0].relations.len() <= w[1].relations.len())
    );
    let limited = graph
        .paths(AGENT, &person("A"), &person("D"), 6, Direction::Both, 1)
        .unwrap();
    assert_eq!(limited.len(), 1);
}

#[test]
fn agents_are_isolated() {
    let (tmp, schemas) = workspace();
    let graph = open(&tmp);
    add_people(&graph, &schemas, &["Ada", "Bob"]);
    knows(&graph, &schemas, "Ada", "Bob");
    graph
        .upsert_entity(
            "other",
            &schemas,
            "Person",
            json!({ "name": "Ada", "age": 99 }),
        )
        .unwrap();

    assert_eq!(
        graph.get_entity("other", "Person", &json!("Bob")).unwrap(),
        None
    );
    assert!(
        graph
            .neighbours("other", &person("Ada"), None, Direction::Both, 10)
            .unwrap()
            .is_empty()
    );
    let err = graph
        .relate(
            "other",
            &schemas,
            "Knows",
            &person("Ada"),
            &person("Bob"),
            Value::Null,
        )
        .unwrap_err();
    assert!(
        matches!(err, GraphError::EndpointMissing { end: End::To, .. }),
        "{err}"
    );
    assert_eq!(graph.list_entities("other", None, 10).unwrap().len(), 1);
    assert_eq!(graph.history("other", None, 10).unwrap().len(), 1);
    let mine = graph
        .get_entity(AGENT, "Person", &json!("Ada"))
        .unwrap()
        .unwrap();
    assert_eq!(mine.props, json!({ "name": "Ada" }));
    assert!(graph.stats("").is_err());
}

#[test]
fn list_entities_newest_first_and_by_type() {
    let (tmp, schemas) = workspace();
    let graph = open(&tmp);
    add_people(&graph, &schemas, &["Ada", "Bob"]);
    graph
        .upsert_entity(AGENT, &schemas, "Company", json!({ "name": "Acme" }))
        .unwrap();
    let all = graph.list_entities(AGENT, None, 10).unwrap();
    let keys: Vec<_> = all.iter().map(|e| e.key.clone()).collect();
    assert_eq!(keys, [json!("Acme"), json!("Bob"), json!("Ada")]);
    assert_eq!(
        graph
            .list_entities(AGENT, Some("Person"), 10)
            .unwrap()
            .len(),
        2
    );
    assert_eq!(graph.list_entities(AGENT, None, 1).unwrap().len(), 1);
    let stats = graph.stats(AGENT).unwrap();
    assert_eq!(
        stats.by_type,
        [("Company".to_owned(), 1), ("Person".to_owned(), 2)]
    );
}

#[test]
fn reopening_keeps_data_and_shares_the_file() {
    let (tmp, schemas) = workspace();
    let path = tmp.path().join("memory.db");
    {
        // Another part of memory got to the file first.
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE notes (id INTEGER PRIMARY KEY); PRAGMA user_version = 7;")
            .unwrap();
    }
    {
        let graph = Graph::open(&path).unwrap();
        add_people(&graph, &schemas, &["Ada"]);
    }
    let graph = Graph::open(&path).unwrap();
    assert!(
        graph
            .get_entity(AGENT, "Person", &json!("Ada"))
            .unwrap()
            .is_some()
    );
    let conn = rusqlite::Connection::open(&path).unwrap();
    let user_version: i64 = conn
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .unwrap();
    assert_eq!(
        user_version, 7,
        "user_version belongs to the file's other owner"
    );
    let version: String = conn
        .query_row(
            "SELECT value FROM graph_meta WHERE key = 'schema_version'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(version, "1");
}

#[test]
fn records_serialize_to_json() {
    let (tmp, schemas) = workspace();
    let graph = open(&tmp);
    add_people(&graph, &schemas, &["Ada", "Bob"]);
    let relation = knows(&graph, &schemas, "Ada", "Bob");
    let json = serde_json::to_value(&relation).unwrap();
    assert_eq!(json["type"], "Knows");
    assert_eq!(json["from"], json!({ "type": "Person", "key": "Ada" }));
    let change = &graph.history(AGENT, None, 1).unwrap()[0];
    let json = serde_json::to_value(change).unwrap();
    assert_eq!(json["target"], "relation");
    assert_eq!(json["op"], "create");
    assert_eq!(json["to"]["key"], "Bob");
}

#[test]
fn path_search_in_a_dense_graph_is_bounded() {
    let (tmp, schemas) = workspace();
    let graph = open(&tmp);
    let names: Vec<String> = (0..20).map(|i| format!("P{i}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    add_people(&graph, &schemas, &refs);
    // Everyone knows everyone: billions of simple paths of six hops.
    for from in &refs {
        for to in &refs {
            if from != to {
                knows(&graph, &schemas, from, to);
            }
        }
    }
    let started = std::time::Instant::now();
    let found = graph
        .paths(
            AGENT,
            &person("P0"),
            &person("P19"),
            MAX_PATH_DEPTH,
            Direction::Both,
            50,
        )
        .unwrap();
    assert_eq!(found.len(), 50);
    assert_eq!(found[0].relations.len(), 1);
    assert!(started.elapsed() < std::time::Duration::from_secs(10));

    // An unreachable end is found out without walking the dense part.
    add_people(&graph, &schemas, &["Loner"]);
    let started = std::time::Instant::now();
    let none = graph
        .paths(
            AGENT,
            &person("P0"),
            &person("Loner"),
            MAX_PATH_DEPTH,
            Direction::Both,
            50,
        )
        .unwrap();
    assert!(none.is_empty());
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

#[test]
fn open_errors_name_the_file() {
    let tmp = TempDir::new().unwrap();
    let path = tmp.path().join("missing-dir").join("memory.db");
    let err = Graph::open(&path).unwrap_err().to_string();
    assert!(err.contains("missing-dir"), "{err}");
}
