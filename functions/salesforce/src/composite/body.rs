//! [`Body`]: the fields of a record to create or update, with data kept
//! apart from references. A data value holding `@{` travels as a same-length
//! stand-in in the composite and is written exactly afterwards
//! ([`TextUpdate`]); see the module docs of [`super`].

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::builder::Target;
use crate::Id;

/// What sets off a reference in a composite subrequest.
const REFERENCE_MARKER: &str = "@{";

/// One field of a [`Body`].
#[derive(Debug, Clone, PartialEq)]
pub(super) enum FieldValue {
    /// Data, stored as given.
    Data(Value),
    /// A lookup to a known record or an earlier subrequest's result.
    Lookup(Target),
}

/// The fields of a record to create or update. Values given to [`Body::set`]
/// are data and reach Salesforce byte for byte, whatever they contain
/// (`@{…}` included: see the module doc); [`Body::set_ref`] is the only way
/// to put a reference in a body.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Body {
    pub(super) fields: BTreeMap<String, FieldValue>,
}

impl Body {
    /// An empty body.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `field` to `value`, as data (never a reference).
    pub fn set(mut self, field: &str, value: impl Into<Value>) -> Self {
        self.fields
            .insert(field.to_owned(), FieldValue::Data(value.into()));
        self
    }

    /// Sets `field` when `value` is present; leaves it out otherwise.
    pub fn set_opt(self, field: &str, value: Option<impl Into<Value>>) -> Self {
        match value {
            Some(v) => self.set(field, v),
            None => self,
        }
    }

    /// Sets lookup `field` to a known record or to the record an earlier
    /// subrequest of the same composite created (or its query found first).
    pub fn set_ref(mut self, field: &str, target: impl Into<Target>) -> Self {
        self.fields
            .insert(field.to_owned(), FieldValue::Lookup(target.into()));
        self
    }

    /// Whether the body has no fields.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }
}

/// Whether `value` holds `@{` in a string (at any depth).
pub(super) fn holds_marker(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains(REFERENCE_MARKER),
        Value::Array(items) => items.iter().any(holds_marker),
        Value::Object(map) => map.values().any(holds_marker),
        _ => false,
    }
}

/// `value` with every `@{` made `@(`: same length, no reference.
pub(super) fn stand_in(value: &Value) -> Value {
    match value {
        Value::String(s) => Value::String(s.replace(REFERENCE_MARKER, "@(")),
        Value::Array(items) => Value::Array(items.iter().map(stand_in).collect()),
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), stand_in(v))).collect())
        }
        other => other.clone(),
    }
}

/// Free text a subrequest could not carry: written after the composite.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct HeldText {
    pub(super) object: String,
    /// The record: the one the subrequest created, or the one it updated.
    pub(super) record: Target,
    pub(super) fields: Map<String, Value>,
}

/// A record whose exact free text is still to be written, once the composite
/// has run: `PATCH sobjects/{object}/{id}` with `fields`.
#[derive(Debug, Clone, PartialEq)]
pub struct TextUpdate {
    /// The object's API name.
    pub object: String,
    /// The record.
    pub id: Id,
    /// The fields, with their exact values.
    pub fields: Value,
}
