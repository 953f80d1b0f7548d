//! The graph's error type: every message names the type, file, field or
//! endpoint at fault, because the reader is often a model fixing its own
//! tool call.

use serde::Serialize;

use super::EntityRef;

/// Which end of a relation an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum End {
    From,
    To,
}

impl std::fmt::Display for End {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            End::From => "from",
            End::To => "to",
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    /// A schema file (or value given to [`super::Schemas::from_values`]) is
    /// unusable; `origin` is its path or the name the caller gave it.
    #[error("schema {origin}: {reason}")]
    SchemaFile { origin: String, reason: String },

    #[error("unknown type {type_name:?} (known types: {})", list(known))]
    UnknownType {
        type_name: String,
        known: Vec<String>,
    },

    /// An entity type used where a relation type is needed, or the reverse.
    #[error("{type_name} is not an {expected} type")]
    WrongKind {
        type_name: String,
        expected: &'static str,
    },

    /// A write that its type's schema rejects. `field` is the JSON pointer of
    /// the failing value ("" for the whole object).
    #[error("{type_name}: {}{message}", field_prefix(field))]
    Invalid {
        type_name: String,
        field: String,
        message: String,
    },

    /// A key given for lookup that cannot be a key of that type.
    #[error("{type_name}: bad key: {message}")]
    BadKey { type_name: String, message: String },

    #[error("{type_name}: props are {bytes} bytes serialized; the limit is {max}")]
    TooLarge {
        type_name: String,
        bytes: usize,
        max: usize,
    },

    #[error("relation {relation}: {end} entity {entity} does not exist")]
    EndpointMissing {
        relation: String,
        end: End,
        entity: EntityRef,
    },

    #[error(
        "relation {relation}: {end} entity must be of type {}, not {found}",
        list(expected)
    )]
    EndpointType {
        relation: String,
        end: End,
        expected: Vec<String>,
        found: String,
    },

    /// A parameter out of range (empty agent id, path depth, ...).
    #[error("{0}")]
    BadArgument(String),

    /// An entity a query starts from (or leads to) does not exist.
    #[error("entity {entity} does not exist")]
    NotFound { entity: EntityRef },

    #[error("cannot open graph database {path}: {source}")]
    Open {
        path: String,
        source: rusqlite::Error,
    },

    #[error("graph storage: {0}")]
    Storage(#[from] rusqlite::Error),
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}

fn field_prefix(field: &str) -> String {
    if field.is_empty() {
        String::new()
    } else {
        format!("field {field}: ")
    }
}
