//! Loading and checking schema files.

use serde_json::{Value, json};
use tempfile::TempDir;

use super::*;

#[test]
fn schemas_load_from_files() {
    let (_tmp, schemas) = workspace();
    let names: Vec<_> = schemas.names().collect();
    assert_eq!(names, ["Company", "Knows", "Person", "WorksAt"]);
    assert_eq!(
        schemas.get("Company").unwrap().kind(),
        &TypeKind::Entity {
            key: vec!["name".into()]
        }
    );
    assert_eq!(
        schemas.get("WorksAt").unwrap().kind(),
        &TypeKind::Relation {
            from: vec!["Person".into()],
            to: vec!["Company".into()]
        }
    );
    assert!(
        schemas
            .get("Person")
            .unwrap()
            .origin()
            .ends_with("Person.json")
    );
}

#[test]
fn missing_schema_dir_is_an_empty_set() {
    let tmp = TempDir::new().unwrap();
    let schemas = Schemas::load(&tmp.path().join("schemas")).unwrap();
    assert!(schemas.is_empty());
}

#[test]
fn bad_schema_files_give_errors_naming_the_file() {
    let entity = |extra: Value| {
        let mut schema = json!({
            "type": "object",
            "properties": { "name": { "type": "string" } },
            "required": ["name"],
            "x-hearth": { "kind": "entity" }
        });
        schema
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        schema
    };
    let cases: Vec<(&str, Option<Value>, &str)> = vec![
        ("Broken.json", None, "invalid JSON"),
        (
            "NoX.json",
            Some(json!({ "type": "object" })),
            "missing \"x-hearth\"",
        ),
        (
            "BadKind.json",
            Some(entity(json!({ "x-hearth": { "kind": "thing" } }))),
            "\"kind\" must be",
        ),
        (
            "Typo.json",
            Some(entity(
                json!({ "x-hearth": { "kind": "entity", "keys": ["name"] } }),
            )),
            "unexpected field \"keys\"",
        ),
        (
            "Optional.json",
            Some(entity(
                json!({ "x-hearth": { "kind": "entity", "key": ["email"] } }),
            )),
            "key field \"email\" must be listed in \"required\"",
        ),
        (
            "NotSchema.json",
            Some(entity(json!({ "type": 5 }))),
            "invalid JSON Schema",
        ),
        (
            "Dangling.json",
            Some(json!({ "x-hearth": { "kind": "relation", "from": "Ghost", "to": "Ghost" } })),
            "no entity type named Ghost",
        ),
        (
            "Titled.json",
            Some(entity(json!({ "title": "not a name" }))),
            "must match [A-Za-z][A-Za-z0-9_]*",
        ),
    ];
    for (file, schema, reason) in cases {
        let tmp = TempDir::new().unwrap();
        match schema {
            Some(schema) => write_schema(tmp.path(), file, schema),
            None => std::fs::write(tmp.path().join(file), "{ not json").unwrap(),
        }
        let err = Schemas::load(tmp.path()).unwrap_err().to_string();
        assert!(err.contains(file), "{file}: {err}");
        assert!(err.contains(reason), "{file}: {err}");
    }
}

#[test]
fn duplicate_type_names_are_rejected() {
    let schema =
        json!({ "title": "Person", "required": ["name"], "x-hearth": { "kind": "entity" } });
    let err = Schemas::from_values(vec![
        ("a.json".into(), schema.clone()),
        ("b.json".into(), schema),
    ])
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("b.json") && err.contains("already declared by a.json"),
        "{err}"
    );
}

#[test]
fn check_validates_without_writing() {
    let (_tmp, schemas) = workspace();
    assert!(schemas.check("Person", &json!({ "name": "Ada" })).is_ok());
    let err = schemas.check("Person", &json!({ "name": 5 })).unwrap_err();
    assert!(
        matches!(&err, GraphError::Invalid { field, .. } if field == "/name"),
        "{err}"
    );
    assert!(schemas.check("Pet", &json!({})).is_err());
}
