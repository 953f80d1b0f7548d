//! Writes: validation, upserts, deletes, and that a rejected write leaves
//! no trace.

use serde_json::{Value, json};
use tempfile::TempDir;

use super::*;

#[test]
fn upsert_creates_then_updates_with_history() {
    let (tmp, schemas) = workspace();
    let graph = open(&tmp);
    let first = graph
        .upsert_entity(
            AGENT,
            &schemas,
            "Person",
            json!({ "name": "Ada", "age": 36 }),
        )
        .unwrap();
    assert!(first.created && first.changed);
    assert_eq!(first.record.version, 1);
    assert_eq!(first.record.key, json!("Ada"));

    let second = graph
        .upsert_entity(
            AGENT,
            &schemas,
            "Person",
            json!({ "name": "Ada", "age": 37 }),
        )
        .unwrap();
    assert!(!second.created && second.changed);
    assert_eq!(second.record.id, first.record.id);
    assert_eq!(second.record.version, 2);
    assert_eq!(second.record.created_ms, first.record.created_ms);

    let stored = graph
        .get_entity(AGENT, "Person", &json!("Ada"))
        .unwrap()
        .unwrap();
    assert_eq!(stored.props, json!({ "name": "Ada", "age": 37 }));

    let history = graph.history(AGENT, Some(&person("Ada")), 10).unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0].op, Op::Update);
    assert_eq!(history[0].before, Some(json!({ "name": "Ada", "age": 36 })));
    assert_eq!(history[0].after, Some(json!({ "name": "Ada", "age": 37 })));
    assert_eq!(history[0].version, 2);
    assert_eq!(history[1].op, Op::Create);
    assert_eq!(history[1].before, None);
    assert_eq!(
        history[1].subject,
        Subject::Entity {
            entity: person("Ada")
        }
    );
}

#[test]
fn identical_upsert_is_a_no_op() {
    let (tmp, schemas) = workspace();
    let graph = open(&tmp);
    let props = json!({ "name": "Ada", "age": 36 });
    graph
        .upsert_entity(AGENT, &schemas, "Person", props.clone())
        .unwrap();
    let before = snapshot(&graph);
    let again = graph
        .upsert_entity(AGENT, &schemas, "Person", props)
        .unwrap();
    assert!(!again.created && !again.changed);
    assert_eq!(again.record.version, 1);
    assert_eq!(snapshot(&graph), before);
}

#[test]
fn schema_violations_are_rejected_and_nothing_is_written() {
    let (tmp, schemas) = workspace();
    let graph = open(&tmp);
    graph
        .upsert_entity(
            AGENT,
            &schemas,
            "Person",
            json!({ "name": "Ada", "age": 36 }),
        )
        .unwrap();
    let before = snapshot(&graph);
    let cases = [
        (
            json!({ "name": "Ada", "age": "x" }),
            "/age",
            "\"x\" is not of type \"integer\"",
        ),
        (
            json!({ "name": "Bob", "age": 1.5 }),
            "/age",
            "is not of type \"integer\"",
        ),
        (
            json!({ "age": 3 }),
            "/name",
            "\"name\" is a required property",
        ),
        (
            json!({ "name": "Cy", "extra": 1 }),
            "/extra",
            "'extra' was unexpected",
        ),
        (json!(["Ada"]), "", "props must be a JSON object"),
    ];
    for (props, field, message) in cases {
        let err = graph
            .upsert_entity(AGENT, &schemas, "Person", props.clone())
            .unwrap_err();
        match &err {
            GraphError::Invalid {
                type_name,
                field: got_field,
                message: got_message,
            } => {
                assert_eq!(type_name, "Person");
                assert_eq!(got_field, field, "{props}");
                assert!(got_message.contains(message), "{props}: {got_message}");
            }
            other => panic!("{props}: expected Invalid, got {other:?}"),
        }
        assert_eq!(snapshot(&graph), before, "{props} left a trace");
    }
    let stored = graph
        .get_entity(AGENT, "Person", &json!("Ada"))
        .unwrap()
        .unwrap();
    assert_eq!(stored.version, 1);
    assert_eq!(stored.props["age"], 36);
}

#[test]
fn invalid_error_names_type_and_field() {
    let (tmp, schemas) = workspace();
    let graph = open(&tmp);
    let err = graph
        .upsert_entity(
            AGENT,
            &schemas,
            "Person",
            json!({ "name": "Ada", "age": "x" }),
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Person: field /age: \"x\" is not of type \"integer\""
    );
    let err = graph
        .upsert_entity(AGENT, &schemas, "Person", json!({ "age": "x", "extra": 1 }))
        .unwrap_err()
        .to_string();
    // Every problem is reported, not just the first.
    assert!(
        err.contains("/age") && err.contains("/name") && err.contains("/extra"),
        "{err}"
    );
}

#[test]
fn unknown_and_wrong_kind_types_are_rejected() {
    let (tmp, schemas) = workspace();
    let graph = open(&tmp);
    let err = graph
        .upsert_entity(AGENT, &schemas, "Pet", json!({ "name": "Rex" }))
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "unknown type \"Pet\" (known types: Company, Knows, Person, WorksAt)"
    );
    let err = graph
        .upsert_entity(AGENT, &schemas, "Knows", json!({ "name": "Rex" }))
        .unwrap_err();
    assert!(matches!(err, GraphError::WrongKind { .. }), "{err}");
    assert_eq!(snapshot(&graph).0, GraphStats::default());
}

#[test]
fn oversized_props_are_rejected() {
    let (tmp, schemas) = workspace();
    let graph = open(&tmp);
    let big = "x".repeat(MAX_PROPS_BYTES);
    let err = graph
        .upsert_entity(
            AGENT,
            &schemas,
            "Person",
            json!({ "name": "Ada", "email": big }),
        )
        .unwrap_err();
    assert!(matches!(err, GraphError::TooLarge { .. }), "{err}");
    assert_eq!(snapshot(&graph).0, GraphStats::default());
}

#[test]
fn keys_are_canonical() {
    let tmp = TempDir::new().unwrap();
    let schemas = Schemas::from_values(vec![(
        "Room".into(),
        json!({
            "required": ["building", "number"],
            "x-hearth": { "kind": "entity", "key": ["number", "building"] }
        }),
    )])
    .unwrap();
    let graph = open(&tmp);
    let room = graph
        .upsert_entity(
            AGENT,
            &schemas,
            "Room",
            json!({ "number": 101.0, "building": "B", "seats": 4 }),
        )
        .unwrap()
        .record;
    assert_eq!(room.key, json!({ "building": "B", "number": 101 }));
    // Same key written as an integer, fields in another order: an update.
    let again = graph
        .upsert_entity(
            AGENT,
            &schemas,
            "Room",
            json!({ "building": "B", "number": 101, "seats": 5 }),
        )
        .unwrap();
    assert!(!again.created);
    let found = graph
        .get_entity(AGENT, "Room", &json!({ "number": 101, "building": "B" }))
        .unwrap()
        .unwrap();
    assert_eq!(found.version, 2);
    let err = graph.get_entity(AGENT, "Room", &json!([1])).unwrap_err();
    assert!(matches!(err, GraphError::BadKey { .. }), "{err}");
}

#[test]
fn key_values_must_be_strings_or_numbers() {
    let tmp = TempDir::new().unwrap();
    let schemas = Schemas::from_values(vec![(
        "Tag".into(),
        json!({ "required": ["name"], "x-hearth": { "kind": "entity" } }),
    )])
    .unwrap();
    let graph = open(&tmp);
    let err = graph
        .upsert_entity(AGENT, &schemas, "Tag", json!({ "name": true }))
        .unwrap_err();
    assert!(
        matches!(&err, GraphError::Invalid { field, .. } if field == "/name"),
        "{err}"
    );
}

#[test]
fn relate_upserts_and_records_history() {
    let (tmp, schemas) = workspace();
    let graph = open(&tmp);
    add_people(&graph, &schemas, &["Ada"]);
    graph
        .upsert_entity(AGENT, &schemas, "Company", json!({ "name": "Acme" }))
        .unwrap();
    let first = graph
        .relate(
            AGENT,
            &schemas,
            "WorksAt",
            &person("Ada"),
            &company("Acme"),
            json!({ "since": 2020 }),
        )
        .unwrap();
    assert!(first.created);
    assert_eq!(first.record.from, person("Ada"));
    assert_eq!(first.record.to, company("Acme"));
    let same = graph
        .relate(
            AGENT,
            &schemas,
            "WorksAt",
            &person("Ada"),
            &company("Acme"),
            json!({ "since": 2020 }),
        )
        .unwrap();
    assert!(!same.changed);
    let moved = graph
        .relate(
            AGENT,
            &schemas,
            "WorksAt",
            &person("Ada"),
            &company("Acme"),
            json!({ "since": 2021 }),
        )
        .unwrap();
    assert_eq!(
        (moved.record.id, moved.record.version),
        (first.record.id, 2)
    );

    let history = graph.history(AGENT, Some(&company("Acme")), 10).unwrap();
    let ops: Vec<_> = history.iter().map(|c| c.op).collect();
    assert_eq!(ops, [Op::Update, Op::Create, Op::Create]);
    assert_eq!(
        history[0].subject,
        Subject::Relation {
            from: person("Ada"),
            to: company("Acme")
        }
    );
    assert_eq!(history[0].before, Some(json!({ "since": 2020 })));
}

#[test]
fn bad_relations_are_rejected_and_nothing_is_written() {
    let (tmp, schemas) = workspace();
    let graph = open(&tmp);
    add_people(&graph, &schemas, &["Ada", "Bob"]);
    graph
        .upsert_entity(AGENT, &schemas, "Company", json!({ "name": "Acme" }))
        .unwrap();
    let before = snapshot(&graph);

    let err = graph
        .relate(
            AGENT,
            &schemas,
            "WorksAt",
            &person("Ada"),
            &company("Ghost Inc"),
            Value::Null,
        )
        .unwrap_err();
    assert!(
        matches!(&err, GraphError::EndpointMissing { end: End::To, .. }),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "relation WorksAt: to entity Company \"Ghost Inc\" does not exist"
    );
    let err = graph
        .relate(
            AGENT,
            &schemas,
            "Knows",
            &person("Zed"),
            &person("Ada"),
            Value::Null,
        )
        .unwrap_err();
    assert!(
        matches!(&err, GraphError::EndpointMissing { end: End::From, .. }),
        "{err}"
    );
    let err = graph
        .relate(
            AGENT,
            &schemas,
            "WorksAt",
            &person("Ada"),
            &person("Bob"),
            Value::Null,
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "relation WorksAt: to entity must be of type Company, not Person"
    );
    let err = graph
        .relate(
            AGENT,
            &schemas,
            "WorksAt",
            &person("Ada"),
            &company("Acme"),
            json!({ "since": "May" }),
        )
        .unwrap_err();
    assert!(
        matches!(&err, GraphError::Invalid { field, .. } if field == "/since"),
        "{err}"
    );
    let err = graph
        .relate(
            AGENT,
            &schemas,
            "Person",
            &person("Ada"),
            &person("Bob"),
            Value::Null,
        )
        .unwrap_err();
    assert!(matches!(err, GraphError::WrongKind { .. }), "{err}");
    assert_eq!(snapshot(&graph), before);
}

#[test]
fn delete_entity_removes_its_relations_and_records_history() {
    let (tmp, schemas) = workspace();
    let graph = open(&tmp);
    add_people(&graph, &schemas, &["Ada", "Bob", "Cy"]);
    knows(&graph, &schemas, "Ada", "Bob");
    knows(&graph, &schemas, "Cy", "Ada");
    knows(&graph, &schemas, "Bob", "Cy");

    let deleted = graph
        .delete_entity(AGENT, "Person", &json!({ "name": "Ada" }))
        .unwrap()
        .unwrap();
    assert_eq!(deleted.relations.len(), 2);
    assert!(
        graph
            .get_entity(AGENT, "Person", &json!("Ada"))
            .unwrap()
            .is_none()
    );
    let stats = graph.stats(AGENT).unwrap();
    assert_eq!((stats.entities, stats.relations), (2, 1));

    let history = graph.history(AGENT, Some(&person("Ada")), 10).unwrap();
    let ops: Vec<_> = history
        .iter()
        .map(|c| (c.op, matches!(c.subject, Subject::Entity { .. })))
        .collect();
    assert_eq!(
        ops[..3],
        [(Op::Delete, true), (Op::Delete, false), (Op::Delete, false)]
    );
    assert_eq!(history[0].after, None);
    assert_eq!(history[0].before, Some(json!({ "name": "Ada" })));

    assert!(
        graph
            .delete_entity(AGENT, "Person", &json!("Ada"))
            .unwrap()
            .is_none()
    );
    let removed = graph
        .unrelate(AGENT, "Knows", &person("Bob"), &person("Cy"))
        .unwrap();
    assert!(removed.is_some());
    assert!(
        graph
            .unrelate(AGENT, "Knows", &person("Bob"), &person("Cy"))
            .unwrap()
            .is_none()
    );
    assert_eq!(graph.stats(AGENT).unwrap().relations, 0);
}
