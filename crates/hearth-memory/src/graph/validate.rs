//! Checking a write against its type, and turning keys into their one
//! canonical form. Pure functions: nothing here touches storage, so every
//! rejection happens before a transaction starts.

use jsonschema::error::ValidationErrorKind;
use serde_json::{Map, Number, Value};

use super::schema::{Schemas, TypeDef, TypeKind};
use super::{GraphError, MAX_PROPS_BYTES};

/// How many further schema violations an `Invalid` message mentions after
/// the first: enough for a model to fix its call in one go, short enough to
/// stay readable.
const MORE_ERRORS_SHOWN: usize = 3;

impl Schemas {
    /// Checks `props` against type `type_name` (entity or relation) without
    /// writing anything: the same check every write makes.
    pub fn check(&self, type_name: &str, props: &Value) -> Result<(), GraphError> {
        let def = self.known(type_name)?;
        validate_props(def, props)?;
        if let TypeKind::Entity { key } = def.kind() {
            entity_key(def.name(), key, props)?;
        }
        Ok(())
    }
}

/// Validates `props` against the type's schema; on failure the error names
/// the JSON pointer of the first failing value.
pub(super) fn validate_props(def: &TypeDef, props: &Value) -> Result<(), GraphError> {
    let invalid = |field: &str, message: String| GraphError::Invalid {
        type_name: def.name().to_owned(),
        field: field.to_owned(),
        message,
    };
    if !props.is_object() {
        return Err(invalid(
            "",
            format!("props must be a JSON object, not {props}"),
        ));
    }
    let bytes = props.to_string().len();
    if bytes > MAX_PROPS_BYTES {
        return Err(GraphError::TooLarge {
            type_name: def.name().to_owned(),
            bytes,
            max: MAX_PROPS_BYTES,
        });
    }
    let errors: Vec<_> = def.validator().iter_errors(props).collect();
    let Some(first) = errors.first() else {
        return Ok(());
    };
    let mut message = first.to_string();
    let others: Vec<String> = errors[1..]
        .iter()
        .take(MORE_ERRORS_SHOWN)
        .map(|e| format!("{}: {e}", display_pointer(&failing_field(e))))
        .collect();
    if !others.is_empty() {
        message.push_str("; also ");
        message.push_str(&others.join("; "));
        if errors.len() - 1 > MORE_ERRORS_SHOWN {
            message.push_str(&format!(
                "; and {} more",
                errors.len() - 1 - MORE_ERRORS_SHOWN
            ));
        }
    }
    Err(invalid(&failing_field(first), message))
}

/// The pointer of the value at fault. jsonschema reports `required` and
/// `additionalProperties` at the enclosing object; the property itself is
/// what the writer has to add or remove, so point at it.
fn failing_field(error: &jsonschema::ValidationError<'_>) -> String {
    let at = error.instance_path();
    match error.kind() {
        ValidationErrorKind::Required { property } => match property.as_str() {
            Some(name) => at.join(name).as_str().to_owned(),
            None => at.as_str().to_owned(),
        },
        ValidationErrorKind::AdditionalProperties { unexpected } => match unexpected.first() {
            Some(name) => at.join(name.as_str()).as_str().to_owned(),
            None => at.as_str().to_owned(),
        },
        _ => at.as_str().to_owned(),
    }
}

fn display_pointer(pointer: &str) -> &str {
    if pointer.is_empty() {
        "(root)"
    } else {
        pointer
    }
}

/// The canonical key of an entity whose props passed validation.
pub(super) fn entity_key(
    type_name: &str,
    key_fields: &[String],
    props: &Value,
) -> Result<Value, GraphError> {
    let mut values = Vec::with_capacity(key_fields.len());
    for field in key_fields {
        // Present: key fields are required by the schema (checked at load).
        let value = props.get(field).unwrap_or(&Value::Null);
        let Some(value) = canonical_scalar(value) else {
            return Err(GraphError::Invalid {
                type_name: type_name.to_owned(),
                field: format!("/{}", field.replace('~', "~0").replace('/', "~1")),
                message: format!("{value} cannot be a key: key fields must be strings or numbers"),
            });
        };
        values.push((field.as_str(), value));
    }
    Ok(assemble(values))
}

/// The canonical key for a lookup: `key` is the object of key fields, or
/// the bare value when the key has one field. No schema is needed, so
/// reads work even for a type whose schema file has since been removed.
pub(super) fn lookup_key(type_name: &str, key: &Value) -> Result<Value, GraphError> {
    let bad = |message: String| GraphError::BadKey {
        type_name: type_name.to_owned(),
        message,
    };
    match key {
        Value::Object(fields) => {
            if fields.is_empty() {
                return Err(bad("the key object is empty".into()));
            }
            let mut values = Vec::with_capacity(fields.len());
            for (field, value) in fields {
                let value = canonical_scalar(value)
                    .ok_or_else(|| bad(format!("{field}: {value} is not a string or a number")))?;
                values.push((field.as_str(), value));
            }
            Ok(assemble(values))
        }
        other => canonical_scalar(other)
            .ok_or_else(|| bad(format!("{other} is not a string, a number or an object"))),
    }
}

/// One field: the bare value. Several: an object with its fields in sorted
/// order, built in that order so the text is the same whichever way
/// serde_json's map keeps its keys.
fn assemble(mut values: Vec<(&str, Value)>) -> Value {
    if values.len() == 1 {
        return values.remove(0).1;
    }
    values.sort_by(|a, b| a.0.cmp(b.0));
    let mut object = Map::new();
    for (field, value) in values {
        object.insert(field.to_owned(), value);
    }
    Value::Object(object)
}

/// Strings as they are; numbers with integral values as integers, so that
/// `1` and `1.0` name the same entity.
fn canonical_scalar(value: &Value) -> Option<Value> {
    match value {
        Value::String(_) => Some(value.clone()),
        Value::Number(n) if n.is_i64() || n.is_u64() => Some(value.clone()),
        Value::Number(n) => {
            let f = n.as_f64()?;
            // Beyond 2^53 an f64 no longer holds every integer exactly.
            const EXACT: f64 = 9_007_199_254_740_992.0;
            if f.fract() == 0.0 && f.abs() <= EXACT {
                Some(Value::Number(Number::from(f as i64)))
            } else {
                Some(value.clone())
            }
        }
        _ => None,
    }
}

/// The text stored in the `key` column.
pub(super) fn key_text(key: &Value) -> String {
    key.to_string()
}
