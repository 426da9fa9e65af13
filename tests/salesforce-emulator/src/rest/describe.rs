//! `sobjects` (global describe), `sobjects/{Obj}` (basic information) and
//! `sobjects/{Obj}/describe`, shaped like Salesforce's, built from `salesforce::schema`.

use salesforce::schema::{self, DefaultValue, FieldDef, FieldType, ObjectDef};
use serde_json::{Value, json};

use super::RestResponse;
use crate::store::Txn;

fn urls(object: &ObjectDef, version: &str) -> Value {
    let base = format!("/services/data/v{version}/sobjects/{}", object.name);
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
        "urls": urls(object, version),
    })
}

/// `GET sobjects`: every object, in the global describe's shape.
pub fn global(txn: &Txn<'_>, version: &str) -> RestResponse {
    let sobjects: Vec<Value> = schema::OBJECTS
        .iter()
        .map(|o| summary(txn, o, version))
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

fn field_describe(field: &FieldDef) -> Value {
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
    let fields: Vec<Value> = id_first.map(field_describe).collect();
    if let Some(map) = body.as_object_mut() {
        map.insert("fields".to_owned(), Value::Array(fields));
    }
    RestResponse::json(200, body)
}
