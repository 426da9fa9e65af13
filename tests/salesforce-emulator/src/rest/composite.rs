//! `composite` (up to 25 subrequests sharing one transaction, with `@{ref.path}`
//! references) and `composite/sobjects` (up to 200 records), with Salesforce's
//! all-or-none semantics. Each counts as one API call.
//!
//! References are substituted in the URL and in every string of a subrequest
//! body, at any depth ("You can reference the referenceId in either the body
//! or URL of a subrequest"); a string that is one whole reference takes the
//! referenced value itself (a number stays a number). Salesforce documents no
//! escape and nothing about a `@{` that names no earlier successful
//! subrequest or has no closing `}`, so the emulator takes the strict reading:
//! both fail the subrequest with `PROCESSING_HALTED` "Invalid reference
//! specified…" (what a reference that does not resolve gets), which rolls an
//! all-or-none composite back. Substituted values are not scanned again.

use std::collections::HashMap;

use axum::http::Method;
use salesforce::schema::{self, ObjectDef};
use serde_json::{Map, Value, json};

use super::{RestRequest, RestResponse, dispatch, errors, object_body, split_path};
use crate::error::ApiError;
use crate::ids;
use crate::server::Shared;
use crate::store::{Txn, object_of_id};

/// Most subrequests in one composite.
const MAX_SUBREQUESTS: usize = 25;
/// Most query or sObject-collection subrequests in one composite.
const MAX_QUERY_OR_COLLECTION: usize = 5;
/// Most records in one sObject-collection request.
const MAX_COLLECTION_RECORDS: usize = 200;

fn invalid_input(message: impl Into<String>) -> RestResponse {
    ApiError::new(400, "INVALID_INPUT", message).into()
}

fn parser_error(message: impl Into<String>) -> RestResponse {
    ApiError::new(400, "JSON_PARSER_ERROR", message).into()
}

#[derive(Debug)]
struct Subrequest {
    method: Method,
    url: String,
    reference_id: String,
    body: Option<Value>,
    batch_size: Option<usize>,
}

fn valid_reference_id(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn parse_subrequest(index: usize, raw: &Value) -> Result<Subrequest, RestResponse> {
    let Some(map) = raw.as_object() else {
        return Err(parser_error(format!(
            "Subrequest {index} is not a JSON object"
        )));
    };
    let reference_id = match map.get("referenceId") {
        Some(Value::String(s)) => s.clone(),
        _ => {
            return Err(invalid_input(format!(
                "The referenceId of subrequest {index} is required."
            )));
        }
    };
    if !valid_reference_id(&reference_id) {
        return Err(invalid_input(format!(
            "Invalid referenceId: {reference_id}. A referenceId can contain only letters, numbers and underscores."
        )));
    }
    let method = match map.get("method").and_then(Value::as_str) {
        Some(m @ ("GET" | "POST" | "PATCH" | "PUT" | "DELETE")) => Method::from_bytes(m.as_bytes())
            .map_err(|_| invalid_input(format!("Invalid method for subrequest {reference_id}")))?,
        _ => {
            return Err(invalid_input(format!(
                "Invalid method for subrequest {reference_id}"
            )));
        }
    };
    let Some(url) = map.get("url").and_then(Value::as_str) else {
        return Err(invalid_input(format!(
            "The url of subrequest {reference_id} is required."
        )));
    };
    let versioned = url
        .strip_prefix("/services/data/")
        .and_then(|rest| rest.split('/').next())
        .and_then(super::parse_version)
        .is_some();
    if !versioned || !url.trim_start_matches("/services/data/").contains('/') {
        return Err(invalid_input(format!(
            "The url of subrequest {reference_id} must begin with /services/data/vXX.X/: {url}"
        )));
    }
    let batch_size = map
        .get("httpHeaders")
        .and_then(Value::as_object)
        .and_then(|h| {
            h.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("Sforce-Query-Options"))
        })
        .and_then(|(_, v)| v.as_str())
        .and_then(super::batch_size_option);
    Ok(Subrequest {
        method,
        url: url.to_owned(),
        reference_id,
        body: map.get("body").cloned(),
        batch_size,
    })
}

fn is_query_or_collection(url: &str) -> bool {
    let path = url.split('?').next().unwrap_or_default();
    split_path(path.trim_start_matches("/services/data/")).is_some_and(|(_, s)| {
        matches!(s.first().map(String::as_str), Some("query" | "queryAll"))
            || (s.first().map(String::as_str) == Some("composite")
                && s.get(1).map(String::as_str) == Some("sobjects"))
    })
}

/// Why a `@{…}` reference could not be resolved.
#[derive(Debug)]
enum BadReference {
    /// No value at that path of an earlier, successful subrequest.
    NoValue {
        expression: String,
        reference: String,
    },
    /// A `@{` with no closing `}`.
    Unterminated,
}

impl BadReference {
    fn into_response(self) -> RestResponse {
        let message = match self {
            Self::NoValue {
                expression,
                reference,
            } => format!(
                "Invalid reference specified. No value for {expression} found in {reference}. Provided referenceId ('{reference}') must be the referenceId of an earlier, successful subrequest."
            ),
            Self::Unterminated => {
                "Invalid reference specified. A reference starts with '@{' and ends with '}'."
                    .to_owned()
            }
        };
        ApiError::new(400, "PROCESSING_HALTED", message).into()
    }
}

/// Results of earlier subrequests by referenceId: `Some(body)` when it succeeded.
type Results = HashMap<String, Option<Value>>;

fn resolve(expression: &str, results: &Results) -> Result<Value, BadReference> {
    let bad = || BadReference::NoValue {
        expression: expression.to_owned(),
        reference: expression
            .split(['.', '['])
            .next()
            .unwrap_or_default()
            .to_owned(),
    };
    let reference = expression.split(['.', '[']).next().unwrap_or_default();
    let mut current = match results.get(reference) {
        Some(Some(body)) => body,
        _ => return Err(bad()),
    };
    let mut rest = &expression[reference.len()..];
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('.') {
            let end = after.find(['.', '[']).unwrap_or(after.len());
            current = current.get(&after[..end]).ok_or_else(bad)?;
            rest = &after[end..];
        } else if let Some(after) = rest.strip_prefix('[') {
            let end = after.find(']').ok_or_else(bad)?;
            let index: usize = after[..end].parse().map_err(|_| bad())?;
            current = current.get(index).ok_or_else(bad)?;
            rest = &after[end + 1..];
        } else {
            return Err(bad());
        }
    }
    if current.is_null() {
        return Err(bad());
    }
    Ok(current.clone())
}

fn as_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Substitutes every `@{…}` in a string; a string that is one reference takes
/// the value itself. An unresolvable or unterminated reference is an error.
fn substitute_str(text: &str, results: &Results) -> Result<Value, BadReference> {
    if let Some(inner) = text.strip_prefix("@{").and_then(|t| t.strip_suffix('}'))
        && !inner.contains('}')
    {
        return resolve(inner, results);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("@{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            return Err(BadReference::Unterminated);
        };
        out.push_str(&as_text(&resolve(&after[..end], results)?));
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(Value::String(out))
}

fn substitute(value: &Value, results: &Results) -> Result<Value, BadReference> {
    Ok(match value {
        Value::String(s) => substitute_str(s, results)?,
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| substitute(v, results))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), substitute(v, results)?)))
                .collect::<Result<Map<_, _>, _>>()?,
        ),
        other => other.clone(),
    })
}

fn to_request(sub: &Subrequest, results: &Results) -> Result<RestRequest, RestResponse> {
    let url = match substitute_str(&sub.url, results).map_err(BadReference::into_response)? {
        Value::String(s) => s,
        other => as_text(&other),
    };
    let (path, query) = match url.split_once('?') {
        Some((p, q)) => (p.to_owned(), Some(q.to_owned())),
        None => (url.clone(), None),
    };
    let Some((version, segments)) = split_path(path.trim_start_matches("/services/data/")) else {
        return Err(ApiError::not_found().into());
    };
    let body = sub
        .body
        .as_ref()
        .map(|b| substitute(b, results))
        .transpose()
        .map_err(BadReference::into_response)?;
    Ok(RestRequest {
        method: sub.method.clone(),
        version,
        segments,
        query,
        batch_size: sub.batch_size,
        body,
    })
}

fn sub_result(sub: &Subrequest, response: &RestResponse) -> Value {
    let mut headers = Map::new();
    if let Some(location) = &response.location {
        headers.insert("Location".to_owned(), Value::String(location.clone()));
    }
    json!({
        "body": response.body.clone().unwrap_or(Value::Null),
        "httpHeaders": headers,
        "httpStatusCode": response.status,
        "referenceId": sub.reference_id,
    })
}

/// `POST composite`.
pub fn composite(shared: &Shared, txn: &mut Txn<'_>, req: &RestRequest) -> RestResponse {
    if req.method != Method::POST {
        return errors::method_not_allowed(req.method.as_str(), "POST");
    }
    let body = match object_body(req) {
        Ok(b) => b,
        Err(e) => return e.into(),
    };
    let all_or_none = match body.get("allOrNone") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return parser_error("Cannot deserialize instance of boolean for allOrNone"),
    };
    let Some(raw) = body.get("compositeRequest").and_then(Value::as_array) else {
        return invalid_input("The compositeRequest array is required.");
    };
    if raw.is_empty() {
        return invalid_input("The compositeRequest array must contain at least one subrequest.");
    }
    if raw.len() > MAX_SUBREQUESTS {
        return ApiError::new(
            400,
            "LIMIT_EXCEEDED",
            format!("A composite request can contain at most {MAX_SUBREQUESTS} subrequests; this one has {}.", raw.len()),
        )
        .into();
    }
    let mut subs = Vec::with_capacity(raw.len());
    for (i, r) in raw.iter().enumerate() {
        match parse_subrequest(i, r) {
            Ok(s) => subs.push(s),
            Err(response) => return response,
        }
    }
    let mut seen = std::collections::HashSet::new();
    if let Some(dup) = subs.iter().find(|s| !seen.insert(s.reference_id.as_str())) {
        return invalid_input(format!(
            "Duplicate referenceId provided in the request: {}",
            dup.reference_id
        ));
    }
    let heavy = subs
        .iter()
        .filter(|s| is_query_or_collection(&s.url))
        .count();
    if heavy > MAX_QUERY_OR_COLLECTION {
        return ApiError::new(
            400,
            "LIMIT_EXCEEDED",
            format!(
                "A composite request can contain at most {MAX_QUERY_OR_COLLECTION} query or sObject Collections subrequests; this one has {heavy}."
            ),
        )
        .into();
    }

    let start = txn.savepoint();
    let mut results: Results = HashMap::new();
    let mut responses: Vec<RestResponse> = Vec::with_capacity(subs.len());
    let mut failed_at: Option<usize> = None;
    for (i, sub) in subs.iter().enumerate() {
        if all_or_none && failed_at.is_some() {
            responses.push(errors::processing_halted());
            continue;
        }
        let response = match to_request(sub, &results) {
            Ok(request) => {
                let savepoint = txn.savepoint();
                let response = dispatch(shared, txn, &request, true);
                if !response.is_success() {
                    txn.rollback_to(savepoint);
                }
                response
            }
            Err(response) => response,
        };
        let ok = response.is_success();
        if !ok && failed_at.is_none() {
            failed_at = Some(i);
        }
        results.insert(
            sub.reference_id.clone(),
            ok.then(|| response.body.clone().unwrap_or(Value::Null)),
        );
        responses.push(response);
    }
    if all_or_none && let Some(failed) = failed_at {
        txn.rollback_to(start);
        for (i, response) in responses.iter_mut().enumerate() {
            if i != failed {
                *response = errors::processing_halted();
            }
        }
    }
    let out: Vec<Value> = subs
        .iter()
        .zip(&responses)
        .map(|(s, r)| sub_result(s, r))
        .collect();
    RestResponse::json(200, json!({"compositeResponse": out}))
}

fn record_error(id: Option<&str>, error: &ApiError) -> Value {
    let mut entry = json!({"success": false, "errors": [error.to_collection_entry()]});
    if let (Some(id), Some(map)) = (id, entry.as_object_mut()) {
        map.insert("id".to_owned(), Value::String(id.to_owned()));
    }
    entry
}

fn record_type(record: &Map<String, Value>) -> Result<&'static ObjectDef, ApiError> {
    let name = record
        .get("attributes")
        .and_then(|a| a.get("type"))
        .and_then(Value::as_str)
        .ok_or_else(|| {
            ApiError::new(
                400,
                "INVALID_TYPE",
                "No SObject Type defined in the attributes of the record",
            )
        })?;
    schema::object(name).ok_or_else(|| {
        ApiError::new(
            400,
            "INVALID_TYPE",
            format!("sObject type '{name}' is not supported."),
        )
    })
}

fn collection_update(
    txn: &mut Txn<'_>,
    record: &Map<String, Value>,
) -> (Option<String>, Result<(), ApiError>) {
    let raw_id = record.get("Id").and_then(Value::as_str).map(str::to_owned);
    let Some(raw_id) = raw_id else {
        return (
            None,
            Err(ApiError::bad_request(
                "MISSING_ARGUMENT",
                "Id not specified in an update call",
                vec![],
            )),
        );
    };
    let object = match record_type(record) {
        Ok(o) => o,
        Err(e) => return (Some(raw_id), Err(e)),
    };
    let Some(id) = ids::normalize(&raw_id) else {
        return (
            Some(raw_id.clone()),
            Err(ApiError::bad_request(
                "MALFORMED_ID",
                format!("malformed id {raw_id}"),
                vec!["Id".to_owned()],
            )),
        );
    };
    if txn.data().get(&id).is_none() || object_of_id(&id).is_none_or(|o| o.name != object.name) {
        return (
            Some(id),
            Err(ApiError::bad_request(
                "INVALID_CROSS_REFERENCE_KEY",
                "invalid cross reference id",
                vec![],
            )),
        );
    }
    let mut fields = record.clone();
    fields.remove("Id");
    let result = txn.update(object, &id, &fields);
    (Some(id), result)
}

/// `POST composite/sobjects` (create) and `PATCH composite/sobjects` (update by Id).
pub fn collection(txn: &mut Txn<'_>, req: &RestRequest) -> RestResponse {
    let creating = match req.method.as_str() {
        "POST" => true,
        "PATCH" => false,
        other => return errors::method_not_allowed(other, "POST,PATCH"),
    };
    let body = match object_body(req) {
        Ok(b) => b,
        Err(e) => return e.into(),
    };
    let all_or_none = body
        .get("allOrNone")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let Some(records) = body.get("records").and_then(Value::as_array) else {
        return parser_error("The records array is required.");
    };
    if records.len() > MAX_COLLECTION_RECORDS {
        return ApiError::bad_request(
            "EXCEEDED_ID_LIMIT",
            "record limit reached. cannot submit more than 200 records into this call",
            vec![],
        )
        .into();
    }
    let start = txn.savepoint();
    let mut outcomes: Vec<(Option<String>, Result<(), ApiError>)> =
        Vec::with_capacity(records.len());
    for raw in records {
        let Some(record) = raw.as_object() else {
            outcomes.push((
                None,
                Err(ApiError::new(
                    400,
                    "JSON_PARSER_ERROR",
                    "Each record must be a JSON object",
                )),
            ));
            continue;
        };
        if creating {
            let created = record_type(record).and_then(|object| txn.create(object, record));
            outcomes.push(match created {
                Ok(id) => (Some(id), Ok(())),
                Err(e) => (None, Err(e)),
            });
        } else {
            outcomes.push(collection_update(txn, record));
        }
    }
    let any_failed = outcomes.iter().any(|(_, r)| r.is_err());
    let rolled_back = all_or_none && any_failed;
    if rolled_back {
        txn.rollback_to(start);
    }
    let results: Vec<Value> = outcomes
        .iter()
        .map(|(id, result)| match result {
            Err(e) => record_error(if creating { None } else { id.as_deref() }, e),
            Ok(()) if rolled_back => record_error(
                if creating { None } else { id.as_deref() },
                &ApiError::bad_request(
                    "ALL_OR_NONE_OPERATION_ROLLED_BACK",
                    "Record rolled back because not all records were valid and the request was using AllOrNone header",
                    vec![],
                ),
            ),
            Ok(()) => json!({"id": id, "success": true, "errors": []}),
        })
        .collect();
    RestResponse::json(200, Value::Array(results))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn results() -> Results {
        let mut r = Results::new();
        r.insert(
            "acct".to_owned(),
            Some(json!({"id": "001Em0000000001AAA", "success": true})),
        );
        r.insert(
            "q".to_owned(),
            Some(json!({"records": [{"Id": "801Em0000000001AAA", "Qty": 2.0}]})),
        );
        r.insert("bad".to_owned(), None);
        r
    }

    #[test]
    fn references_resolve_fields_and_indexes() {
        let r = results();
        assert_eq!(
            substitute_str("@{acct.id}", &r).unwrap(),
            json!("001Em0000000001AAA")
        );
        assert_eq!(
            substitute_str("@{q.records[0].Id}", &r).unwrap(),
            json!("801Em0000000001AAA")
        );
        assert_eq!(
            substitute_str("@{q.records[0].Qty}", &r).unwrap(),
            json!(2.0)
        );
        assert_eq!(
            substitute_str("/sobjects/Account/@{acct.id}?x=1", &r).unwrap(),
            json!("/sobjects/Account/001Em0000000001AAA?x=1")
        );
    }

    #[test]
    fn references_are_case_sensitive_and_must_point_at_successes() {
        let r = results();
        assert!(substitute_str("@{acct.Id}", &r).is_err());
        assert!(substitute_str("@{ACCT.id}", &r).is_err());
        assert!(substitute_str("@{bad.id}", &r).is_err());
        assert!(substitute_str("@{q.records[3].Id}", &r).is_err());
        assert!(substitute_str("see @{Account.Id}", &r).is_err());
        assert!(substitute_str("@{acct.id", &r).is_err());
        assert!(substitute_str("x @{acct.id} and @{", &r).is_err());
        assert!(substitute_str("@{}", &r).is_err());
    }

    #[test]
    fn substitution_reaches_every_string_of_a_body_and_is_not_repeated() {
        let mut r = results();
        r.insert("text".to_owned(), Some(json!({"v": "@{acct.id}"})));
        let body = json!({
            "Description": "for @{acct.id}.",
            "Nested": {"list": ["@{q.records[0].Qty}", 1, null, {"deep": "@{acct.id}"}]},
            "Echo": "@{text.v}",
            "Plain": "a@b {c} @ {d}",
        });
        assert_eq!(
            substitute(&body, &r).unwrap(),
            json!({
                "Description": "for 001Em0000000001AAA.",
                "Nested": {"list": [2.0, 1, null, {"deep": "001Em0000000001AAA"}]},
                "Echo": "@{acct.id}",
                "Plain": "a@b {c} @ {d}",
            })
        );
        assert!(substitute(&json!({"a": ["ok", "@{nope.id}"]}), &r).is_err());
    }

    #[test]
    fn reference_ids_are_letters_digits_and_underscores() {
        assert!(valid_reference_id("new_Account1"));
        assert!(!valid_reference_id("new-account"));
        assert!(!valid_reference_id(""));
        assert!(!valid_reference_id("a.b"));
    }
}
