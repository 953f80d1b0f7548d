//! Type declarations: one JSON Schema file per entity or relation type.
//!
//! A file `<workspace>/schemas/Person.json` looks like
//!
//! ```json
//! {
//!   "title": "Person",
//!   "type": "object",
//!   "properties": { "name": { "type": "string" }, "age": { "type": "integer" } },
//!   "required": ["name"],
//!   "x-hearth": { "kind": "entity", "key": ["name"] }
//! }
//! ```
//!
//! and a relation type declares the entity types it joins:
//! `"x-hearth": { "kind": "relation", "from": "Person", "to": ["Company", "School"] }`.
//! The type's name is the schema's `title`, else the file stem.
//!
//! Everything is checked at load time (schema compiles, key fields are
//! required, relation ends name entity types that exist) so that a write can
//! only fail because of the data written, never because of the declarations.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Map, Value};

use super::GraphError;

/// A schema file larger than this is surely not a hand-written type
/// declaration; refusing it bounds what a stray file can cost at load.
const MAX_SCHEMA_FILE_BYTES: u64 = 1024 * 1024;

/// The key used when an entity's `x-hearth` names none.
const DEFAULT_KEY: &str = "name";

/// Whether a type describes entities or relations, and how they are keyed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeKind {
    /// Entities are upserted by the values of these properties, in order.
    Entity { key: Vec<String> },
    /// Relations join an entity of one of `from` to one of `to`.
    Relation { from: Vec<String>, to: Vec<String> },
}

/// One declared type with its compiled validator.
#[derive(Debug, Clone)]
pub struct TypeDef {
    name: String,
    origin: String,
    kind: TypeKind,
    schema: Value,
    validator: jsonschema::Validator,
}

impl TypeDef {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The file (or caller-given name) the type came from.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    pub fn kind(&self) -> &TypeKind {
        &self.kind
    }

    /// The schema as written, e.g. to show a model what a type accepts.
    pub fn schema(&self) -> &Value {
        &self.schema
    }

    pub(super) fn validator(&self) -> &jsonschema::Validator {
        &self.validator
    }
}

/// The set of declared types of one workspace.
#[derive(Debug, Clone, Default)]
pub struct Schemas {
    types: BTreeMap<String, TypeDef>,
}

impl Schemas {
    /// Loads every `*.json` file directly inside `dir`, in name order. A
    /// missing directory is an empty set: a workspace need not use the graph.
    pub fn load(dir: &Path) -> Result<Self, GraphError> {
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => return Err(file_error(dir, format!("cannot read directory: {e}"))),
        };
        let mut paths = Vec::new();
        for entry in entries {
            let path = entry
                .map_err(|e| file_error(dir, format!("cannot read directory: {e}")))?
                .path();
            if path.extension().is_some_and(|ext| ext == "json") && path.is_file() {
                paths.push(path);
            }
        }
        paths.sort();
        let mut values = Vec::with_capacity(paths.len());
        for path in paths {
            values.push((path.display().to_string(), read_json(&path)?));
        }
        Self::from_values(values)
    }

    /// Builds the set from already-parsed schemas; `origin` names each one in
    /// errors and, when it has no `title`, gives the type its name (the stem
    /// of `origin`, so `"schemas/Person.json"` and `"Person"` both work).
    pub fn from_values(values: Vec<(String, Value)>) -> Result<Self, GraphError> {
        let mut types: BTreeMap<String, TypeDef> = BTreeMap::new();
        for (origin, schema) in values {
            let def = parse_type(origin, schema)?;
            if let Some(other) = types.get(&def.name) {
                return Err(schema_error(
                    &def.origin,
                    format!("type {} is already declared by {}", def.name, other.origin),
                ));
            }
            types.insert(def.name.clone(), def);
        }
        let schemas = Self { types };
        schemas.check_relation_ends()?;
        Ok(schemas)
    }

    pub fn get(&self, name: &str) -> Option<&TypeDef> {
        self.types.get(name)
    }

    /// Type names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.types.keys().map(String::as_str)
    }

    pub fn iter(&self) -> impl Iterator<Item = &TypeDef> {
        self.types.values()
    }

    pub fn len(&self) -> usize {
        self.types.len()
    }

    pub fn is_empty(&self) -> bool {
        self.types.is_empty()
    }

    /// The entity type `name`, its key fields, or an error naming what is
    /// wrong with the name.
    pub(super) fn entity(&self, name: &str) -> Result<(&TypeDef, &[String]), GraphError> {
        let def = self.known(name)?;
        match &def.kind {
            TypeKind::Entity { key } => Ok((def, key)),
            TypeKind::Relation { .. } => Err(GraphError::WrongKind {
                type_name: name.to_owned(),
                expected: "entity",
            }),
        }
    }

    /// The relation type `name` and its allowed `from` and `to` types.
    pub(super) fn relation(
        &self,
        name: &str,
    ) -> Result<(&TypeDef, &[String], &[String]), GraphError> {
        let def = self.known(name)?;
        match &def.kind {
            TypeKind::Relation { from, to } => Ok((def, from, to)),
            TypeKind::Entity { .. } => Err(GraphError::WrongKind {
                type_name: name.to_owned(),
                expected: "relation",
            }),
        }
    }

    pub(super) fn known(&self, name: &str) -> Result<&TypeDef, GraphError> {
        self.types.get(name).ok_or_else(|| GraphError::UnknownType {
            type_name: name.to_owned(),
            known: self.types.keys().cloned().collect(),
        })
    }

    fn check_relation_ends(&self) -> Result<(), GraphError> {
        for def in self.types.values() {
            let TypeKind::Relation { from, to } = &def.kind else {
                continue;
            };
            for end in from.iter().chain(to) {
                match self.types.get(end).map(|t| &t.kind) {
                    Some(TypeKind::Entity { .. }) => {}
                    Some(TypeKind::Relation { .. }) => {
                        return Err(schema_error(
                            &def.origin,
                            format!("x-hearth: {end} is a relation type, not an entity type"),
                        ));
                    }
                    None => {
                        return Err(schema_error(
                            &def.origin,
                            format!("x-hearth: no entity type named {end} is declared"),
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

fn read_json(path: &Path) -> Result<Value, GraphError> {
    let size = std::fs::metadata(path)
        .map_err(|e| file_error(path, format!("cannot read: {e}")))?
        .len();
    if size > MAX_SCHEMA_FILE_BYTES {
        return Err(file_error(
            path,
            format!("{size} bytes; the limit is {MAX_SCHEMA_FILE_BYTES}"),
        ));
    }
    let text =
        std::fs::read_to_string(path).map_err(|e| file_error(path, format!("cannot read: {e}")))?;
    serde_json::from_str(&text).map_err(|e| file_error(path, format!("invalid JSON: {e}")))
}

fn parse_type(origin: String, schema: Value) -> Result<TypeDef, GraphError> {
    let Some(object) = schema.as_object() else {
        return Err(schema_error(&origin, "must be a JSON object"));
    };
    let name = type_name(&origin, object)?;
    let kind = parse_x_hearth(&origin, object)?;
    if let TypeKind::Entity { key } = &kind {
        check_key_required(&origin, object, key)?;
    }
    let validator = jsonschema::validator_for(&schema)
        .map_err(|e| schema_error(&origin, format!("invalid JSON Schema: {e}")))?;
    Ok(TypeDef {
        name,
        origin,
        kind,
        schema,
        validator,
    })
}

fn type_name(origin: &str, object: &Map<String, Value>) -> Result<String, GraphError> {
    let name = match object.get("title") {
        Some(Value::String(title)) => title.clone(),
        Some(_) => return Err(schema_error(origin, "title must be a string")),
        None => Path::new(origin)
            .file_stem()
            .map(|stem| stem.to_string_lossy().into_owned())
            .unwrap_or_default(),
    };
    if !is_type_name(&name) {
        return Err(schema_error(
            origin,
            format!(
                "type name {name:?} (from the title, else the file name) must match [A-Za-z][A-Za-z0-9_]*"
            ),
        ));
    }
    Ok(name)
}

fn is_type_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn parse_x_hearth(origin: &str, object: &Map<String, Value>) -> Result<TypeKind, GraphError> {
    let err = |reason: String| schema_error(origin, format!("x-hearth: {reason}"));
    let Some(x) = object.get("x-hearth") else {
        return Err(schema_error(
            origin,
            "missing \"x-hearth\" object (with \"kind\": \"entity\" or \"relation\")",
        ));
    };
    let Some(x) = x.as_object() else {
        return Err(err("must be an object".into()));
    };
    let kind = x.get("kind").and_then(Value::as_str);
    // Unknown fields are refused: a misspelt "keys" silently falling back to
    // the default key would merge entities the author meant to keep apart.
    let allowed: &[&str] = match kind {
        Some("entity") => &["kind", "key"],
        Some("relation") => &["kind", "from", "to"],
        _ => return Err(err("\"kind\" must be \"entity\" or \"relation\"".into())),
    };
    if let Some(extra) = x.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(err(format!(
            "unexpected field {extra:?} for a {} type (allowed: {})",
            kind.unwrap_or_default(),
            allowed.join(", ")
        )));
    }
    if kind == Some("entity") {
        let key = match x.get("key") {
            None => vec![DEFAULT_KEY.to_owned()],
            Some(value) => names(value).ok_or_else(|| {
                err("\"key\" must be a non-empty array of distinct property names".into())
            })?,
        };
        return Ok(TypeKind::Entity { key });
    }
    let end = |field: &str| {
        x.get(field).and_then(names).ok_or_else(|| {
            err(format!(
                "\"{field}\" must name an entity type or a non-empty array of them"
            ))
        })
    };
    Ok(TypeKind::Relation {
        from: end("from")?,
        to: end("to")?,
    })
}

/// A string, or a non-empty array of distinct non-empty strings.
fn names(value: &Value) -> Option<Vec<String>> {
    let names: Vec<String> = match value {
        Value::String(one) => vec![one.clone()],
        Value::Array(many) => many
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<_>>()?,
        _ => return None,
    };
    let distinct = names
        .iter()
        .enumerate()
        .all(|(i, n)| !names[..i].contains(n));
    (!names.is_empty() && distinct && names.iter().all(|n| !n.is_empty())).then_some(names)
}

/// An optional key field would let two entities share the "missing" key, so
/// every key field must be listed in the schema's top-level `required`.
fn check_key_required(
    origin: &str,
    object: &Map<String, Value>,
    key: &[String],
) -> Result<(), GraphError> {
    let required: Vec<&str> = object
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    match key.iter().find(|field| !required.contains(&field.as_str())) {
        Some(field) => Err(schema_error(
            origin,
            format!("key field {field:?} must be listed in \"required\""),
        )),
        None => Ok(()),
    }
}

fn schema_error(origin: &str, reason: impl Into<String>) -> GraphError {
    GraphError::SchemaFile {
        origin: origin.to_owned(),
        reason: reason.into(),
    }
}

fn file_error(path: &Path, reason: String) -> GraphError {
    schema_error(&path.display().to_string(), reason)
}
