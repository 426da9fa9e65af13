//! `sobjects/…`: create, read, update, upsert by external id, describe, and the
//! refusal of deletes.

use salesforce::schema::{self, FieldDef, ObjectDef};
use serde_json::{Value, json};

use super::{RestRequest, RestResponse, describe, errors, object_body};
use crate::error::ApiError;
use crate::ids;
use crate::store::{self, Txn, UpsertOutcome, object_of_id};

/// Routes `sobjects/{rest…}`.
pub fn route(txn: &mut Txn<'_>, req: &RestRequest, rest: &[&str]) -> RestResponse {
    let method = req.method.as_str();
    let [name, tail @ ..] = rest else {
        return match method {
            "GET" => describe::global(txn, &req.version),
            _ => errors::method_not_allowed(method, "GET,HEAD"),
        };
    };
    if txn.gaps().hides_object(name) {
        return ApiError::not_found().into();
    }
    if let Some(event) = schema::PLATFORM_EVENTS
        .iter()
        .find(|e| e.name.eq_ignore_ascii_case(name))
    {
        return match (tail, method) {
            ([], "GET") => describe::event_basic_info(txn, event, &req.version),
            (["describe"], "GET") => describe::event_describe(txn, event, &req.version),
            ([] | ["describe"], _) => errors::method_not_allowed(method, "GET,HEAD"),
            _ => ApiError::not_found().into(),
        };
    }
    let Some(object) = crate::platform::object(name) else {
        return ApiError::not_found().into();
    };
    match (tail, method) {
        ([], "GET") => describe::basic_info(txn, object, &req.version),
        ([], "POST") => create(txn, req, object),
        ([], _) => errors::method_not_allowed(method, "GET,HEAD,POST"),
        (["describe"], "GET") => describe::describe(txn, object, &req.version),
        (["describe"], _) => errors::method_not_allowed(method, "GET,HEAD"),
        ([id], "GET") => get(txn, req, object, id),
        ([id], "PATCH") => update(txn, req, object, id),
        ([id], "DELETE") => delete(txn, object, id),
        ([_], _) => errors::method_not_allowed(method, "GET,HEAD,PATCH,DELETE"),
        ([field, value], "PATCH") => upsert(txn, req, object, field, value),
        ([field, value], "GET") => get_by_external_id(txn, req, object, field, value),
        ([_, _], _) => errors::method_not_allowed(method, "GET,HEAD,PATCH,DELETE"),
        _ => ApiError::not_found().into(),
    }
}

fn created(req: &RestRequest, object: &ObjectDef, id: String, upsert: bool) -> RestResponse {
    let mut body = json!({"id": id, "success": true, "errors": []});
    if upsert && let Some(map) = body.as_object_mut() {
        map.insert("created".to_owned(), Value::Bool(true));
    }
    RestResponse {
        status: 201,
        location: Some(store::record_url(&req.version, object, &id)),
        body: Some(body),
    }
}

fn create(txn: &mut Txn<'_>, req: &RestRequest, object: &'static ObjectDef) -> RestResponse {
    let result = object_body(req).and_then(|body| txn.create(object, body));
    match result {
        Ok(id) => created(req, object, id, false),
        Err(e) => e.into(),
    }
}

/// The 18-character id of `raw` when it names a record of `object`; otherwise the 404 Salesforce gives.
fn resolve_id(txn: &Txn<'_>, object: &ObjectDef, raw: &str) -> Result<String, ApiError> {
    let Some(id) = ids::normalize(raw) else {
        return Err(ApiError::new(
            404,
            "NOT_FOUND",
            format!("Provided external ID field does not exist or is not accessible: {raw}"),
        ));
    };
    let same_object = object_of_id(&id).is_some_and(|o| o.name == object.name);
    if same_object && txn.data().get(&id).is_some() {
        Ok(id)
    } else {
        Err(ApiError::not_found())
    }
}

/// The fields of `?fields=A,B`, or Salesforce's `INVALID_FIELD`.
fn selected_fields(
    txn: &Txn<'_>,
    req: &RestRequest,
    object: &ObjectDef,
) -> Result<Option<Vec<&'static FieldDef>>, ApiError> {
    let gaps = txn.gaps();
    let Some(list) = req.param("fields") else {
        // Every field the org has; `None` (all of them, Id first) when it lacks none.
        return Ok(object
            .all_fields()
            .any(|f| gaps.hides_field(object.name, f.name))
            .then(|| {
                object
                    .all_fields()
                    .filter(|f| !gaps.hides_field(object.name, f.name))
                    .collect()
            }));
    };
    list.split(',')
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .map(|name| {
            let field = object
                .field(name)
                .filter(|f| !gaps.hides_field(object.name, f.name));
            field.ok_or_else(|| {
                ApiError::new(
                    400,
                    "INVALID_FIELD",
                    format!(
                        "No such column '{name}' on entity '{}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.",
                        object.name
                    ),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

fn get(txn: &Txn<'_>, req: &RestRequest, object: &ObjectDef, raw_id: &str) -> RestResponse {
    let result = resolve_id(txn, object, raw_id).and_then(|id| {
        let only = selected_fields(txn, req, object)?;
        let record = txn.data().get(&id).ok_or_else(ApiError::not_found)?;
        Ok(store::render(object, record, &req.version, only.as_deref()))
    });
    match result {
        Ok(body) => RestResponse::json(200, body),
        Err(e) => e.into(),
    }
}

fn update(
    txn: &mut Txn<'_>,
    req: &RestRequest,
    object: &'static ObjectDef,
    raw_id: &str,
) -> RestResponse {
    let result = resolve_id(txn, object, raw_id)
        .and_then(|id| object_body(req).map(|body| (id, body)))
        .and_then(|(id, body)| txn.update(object, &id, body));
    match result {
        Ok(()) => RestResponse::no_content(),
        Err(e) => e.into(),
    }
}

fn delete(txn: &Txn<'_>, object: &ObjectDef, raw_id: &str) -> RestResponse {
    match resolve_id(txn, object, raw_id) {
        Ok(_) => ApiError::new(
            400,
            "INSUFFICIENT_ACCESS_OR_READONLY",
            "insufficient access rights on object id",
        )
        .into(),
        Err(e) => e.into(),
    }
}

fn upsert(
    txn: &mut Txn<'_>,
    req: &RestRequest,
    object: &'static ObjectDef,
    field: &str,
    value: &str,
) -> RestResponse {
    let result = object_body(req).and_then(|body| txn.upsert(object, field, value, body));
    match result {
        Ok(UpsertOutcome::Created(id)) => created(req, object, id, true),
        Ok(UpsertOutcome::Updated(_)) => RestResponse::no_content(),
        Ok(UpsertOutcome::Multiple(ids)) => multiple_choices(req, object, &ids),
        Err(e) => e.into(),
    }
}

fn multiple_choices(req: &RestRequest, object: &ObjectDef, ids: &[String]) -> RestResponse {
    let urls: Vec<Value> = ids
        .iter()
        .map(|id| Value::String(store::record_url(&req.version, object, id)))
        .collect();
    RestResponse::json(300, Value::Array(urls))
}

fn get_by_external_id(
    txn: &Txn<'_>,
    req: &RestRequest,
    object: &'static ObjectDef,
    field: &str,
    value: &str,
) -> RestResponse {
    let Some(field) = object
        .field(field)
        .filter(|f| f.external_id && !txn.gaps().hides_field(object.name, f.name))
    else {
        return ApiError::new(
            404,
            "NOT_FOUND",
            format!("Provided external ID field does not exist or is not accessible: {field}"),
        )
        .into();
    };
    let key = match value.parse::<f64>() {
        Ok(n) if !matches!(field.kind, schema::FieldType::Text { .. }) => json!(n),
        _ => Value::String(value.to_owned()),
    };
    let matches: Vec<&store::Record> = match txn.data().find(object, field, &key) {
        Some(candidates) => candidates.into_iter(),
        None => txn.data().of(object).collect::<Vec<_>>().into_iter(),
    }
    .filter(|r| r.get(field.name).is_some_and(|v| same(v, &key)))
    .collect();
    match matches.as_slice() {
        [] => ApiError::not_found().into(),
        [one] => match selected_fields(txn, req, object) {
            Ok(only) => RestResponse::json(
                200,
                store::render(object, one, &req.version, only.as_deref()),
            ),
            Err(e) => e.into(),
        },
        many => {
            let ids: Vec<String> = many
                .iter()
                .filter_map(|r| r.get("Id").and_then(Value::as_str).map(str::to_owned))
                .collect();
            multiple_choices(req, object, &ids)
        }
    }
}

fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(a), Value::String(b)) => a.eq_ignore_ascii_case(b),
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        _ => false,
    }
}
