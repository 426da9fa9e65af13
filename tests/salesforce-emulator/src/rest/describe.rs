//! `sobjects` (global describe), `sobjects/{Obj}` (basic information) and
//! `sobjects/{Obj}/describe`, shaped like Salesforce's, built from `salesforce::schema`,
//! for objects and platform events alike. The object-level `createable`/`updateable`
//! flags are the calling user's; what the org lacks ([`crate::SchemaGaps`]) is left out.

use salesforce::schema::{self, DefaultValue, FieldDef, FieldType, ObjectDef, PlatformEventDef};
use serde_json::{Value, json};

use super::RestResponse;
use crate::gaps::SchemaGaps;
use crate::store::{Role, Txn};

fn urls(name: &str, version: &str) -> Value {
    let base = format!("/services/data/v{version}/sobjects/{name}");
    json!({
        "sobject": base,
        "describe": format!("{base}/describe"),
        "rowTemplate": format!("{base}/{{ID}}"),
    })
}

fn summary(txn: &Txn<'_>, object: &ObjectDef, version: &str) -> Value {
    let role = txn.actor().role;
    json!({
        "name": object.name,
        "label": object.label,
        "labelPlural": format!("{}s", object.label),
        "keyPrefix": object.key_prefix,
        "custom": false,
        "createable": role.can_create(object),
        "updateable": role.can_update(object),
        "deletable": false,
        "queryable": true,
        "retrieveable": true,
        "searchable": true,
        "urls": urls(object.name, version),
    })
}

/// A platform event's summary: publishing is `createable` (the integration user may
/// not publish, per the setup guide; staff may), never updateable nor queryable.
fn event_summary(txn: &Txn<'_>, event: &PlatformEventDef, version: &str) -> Value {
    json!({
        "name": event.name,
        "label": event.label,
        "labelPlural": event.label,
        "keyPrefix": Value::Null,
        "custom": true,
        "createable": txn.actor().role != Role::Integration,
        "updateable": false,
        "deletable": false,
        "queryable": false,
        "retrieveable": false,
        "searchable": false,
        "urls": urls(event.name, version),
    })
}

/// `GET sobjects`: every object, in the global describe's shape.
pub fn global(txn: &Txn<'_>, version: &str) -> RestResponse {
    let gaps = txn.gaps();
    let sobjects: Vec<Value> = schema::OBJECTS
        .iter()
        .filter(|o| !gaps.hides_object(o.name))
        .map(|o| summary(txn, o, version))
        .chain(
            schema::PLATFORM_EVENTS
                .iter()
                .filter(|e| !gaps.hides_object(e.name))
                .map(|e| event_summary(txn, e, version)),
        )
        .collect();
    RestResponse::json(
        200,
        json!({"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": sobjects}),
    )
}

/// `GET sobjects/{Obj}`: the object's summary and its recent items (none).
pub fn basic_info(txn: &Txn<'_>, object: &ObjectDef, version: &str) -> RestResponse {
    RestResponse::json(
        200,
        json!({"objectDescribe": summary(txn, object, version), "recentItems": []}),
    )
}

fn length(kind: FieldType) -> u32 {
    match kind {
        FieldType::Text { length } | FieldType::TextArea { length } => length,
        FieldType::Email => 80,
        FieldType::Phone => 40,
        FieldType::Picklist { .. } => 255,
        FieldType::Id | FieldType::Reference { .. } => 18,
        FieldType::AutoNumber { .. } => 30,
        _ => 0,
    }
}

fn field_describe(object: &str, field: &FieldDef, gaps: &SchemaGaps) -> Value {
    let (precision, scale) = match field.kind {
        FieldType::Number { precision, scale } => (precision, scale),
        FieldType::Currency => (18, 2),
        _ => (0, 0),
    };
    let system = matches!(
        field.name,
        "Id" | "CreatedDate" | "LastModifiedDate" | "CreatedById" | "LastModifiedById"
    );
    let picklist_values: Vec<Value> = match field.kind {
        FieldType::Picklist { values, .. } => values
            .iter()
            .filter(|v| !gaps.hides_value(object, field.name, v))
            .map(|v| {
                json!({
                    "value": v,
                    "label": v,
                    "active": true,
                    "defaultValue": field.default == Some(DefaultValue::Text(v)),
                })
            })
            .collect(),
        _ => Vec::new(),
    };
    let (reference_to, relationship) = match field.kind {
        FieldType::Reference { to, relationship } => {
            (vec![to], Value::String(relationship.to_owned()))
        }
        _ => (Vec::new(), Value::Null),
    };
    json!({
        "name": field.name,
        "label": field.label,
        "type": field.kind.describe_name(),
        "length": length(field.kind),
        "precision": precision,
        "scale": scale,
        "nillable": !field.required && !matches!(field.kind, FieldType::Boolean | FieldType::Id) && !system,
        "createable": field.createable,
        "updateable": field.updateable,
        "custom": field.custom,
        "externalId": field.external_id,
        "unique": field.unique,
        "idLookup": field.external_id || field.kind == FieldType::Id,
        "defaultedOnCreate": field.default.is_some()
            || system
            || matches!(field.kind, FieldType::Boolean | FieldType::AutoNumber { .. }),
        "autoNumber": matches!(field.kind, FieldType::AutoNumber { .. }),
        "calculated": false,
        "restrictedPicklist": matches!(field.kind, FieldType::Picklist { restricted: true, .. }),
        "picklistValues": picklist_values,
        "referenceTo": reference_to,
        "relationshipName": relationship,
        "defaultValue": match field.default {
            Some(DefaultValue::Bool(b)) => Value::Bool(b),
            Some(DefaultValue::Text(t)) => Value::String(t.to_owned()),
            None => Value::Null,
        },
    })
}

/// `GET sobjects/{Obj}/describe`.
pub fn describe(txn: &Txn<'_>, object: &ObjectDef, version: &str) -> RestResponse {
    let mut body = summary(txn, object, version);
    let id_first = object
        .all_fields()
        .filter(|f| f.kind == FieldType::Id)
        .chain(object.all_fields().filter(|f| f.kind != FieldType::Id));
    let gaps = txn.gaps();
    let fields: Vec<Value> = id_first
        .filter(|f| !gaps.hides_field(object.name, f.name))
        .map(|f| field_describe(object.name, f, gaps))
        .collect();
    if let Some(map) = body.as_object_mut() {
        map.insert("fields".to_owned(), Value::Array(fields));
    }
    RestResponse::json(200, body)
}

/// The fields every platform event has besides its own.
static EVENT_SYSTEM_FIELDS: &[FieldDef] = &[
    event_system_field("ReplayId", "Replay ID", FieldType::Text { length: 255 }),
    event_system_field("CreatedDate", "Created Date", FieldType::DateTime),
    event_system_field(
        "CreatedById",
        "Created By ID",
        FieldType::Reference {
            to: schema::user::OBJECT,
            relationship: "CreatedBy",
        },
    ),
    event_system_field("EventUuid", "Event UUID", FieldType::Text { length: 36 }),
];

const fn event_system_field(name: &'static str, label: &'static str, kind: FieldType) -> FieldDef {
    FieldDef {
        name,
        label,
        kind,
        required: false,
        createable: false,
        updateable: false,
        custom: false,
        external_id: false,
        unique: false,
        default: None,
    }
}

/// `GET sobjects/{Event}`: the event's summary.
pub fn event_basic_info(txn: &Txn<'_>, event: &PlatformEventDef, version: &str) -> RestResponse {
    RestResponse::json(
        200,
        json!({"objectDescribe": event_summary(txn, event, version), "recentItems": []}),
    )
}

/// `GET sobjects/{Event}/describe`: the event's system fields, then its own.
pub fn event_describe(txn: &Txn<'_>, event: &PlatformEventDef, version: &str) -> RestResponse {
    let mut body = event_summary(txn, event, version);
    let gaps = txn.gaps();
    let fields: Vec<Value> = EVENT_SYSTEM_FIELDS
        .iter()
        .chain(event.fields.iter())
        .filter(|f| !gaps.hides_field(event.name, f.name))
        .map(|f| field_describe(event.name, f, gaps))
        .collect();
    if let Some(map) = body.as_object_mut() {
        map.insert("fields".to_owned(), Value::Array(fields));
    }
    RestResponse::json(200, body)
}
