//! `query?q=<soql>` and `query/<locator>-<offset>`: SOQL through the `soql`
//! module, paged into batches with `nextRecordsUrl`.

use chrono::Utc;
use serde_json::{Value, json};

use super::{RestRequest, RestResponse};
use crate::error::ApiError;
use crate::ids;
use crate::server::{Shared, lock};
use crate::soql;
use crate::store::Txn;

/// The rows of a query still to be fetched page by page.
#[derive(Debug, Clone)]
pub struct QueryCursor {
    records: Vec<Value>,
    total_size: usize,
    batch: usize,
}

fn page(version: &str, locator: &str, cursor: &QueryCursor, offset: usize) -> RestResponse {
    let end = (offset + cursor.batch).min(cursor.records.len());
    let rows = cursor
        .records
        .get(offset..end)
        .map(<[Value]>::to_vec)
        .unwrap_or_default();
    let done = end >= cursor.records.len();
    let mut body = json!({"totalSize": cursor.total_size, "done": done, "records": rows});
    if !done && let Some(map) = body.as_object_mut() {
        map.insert(
            "nextRecordsUrl".to_owned(),
            Value::String(format!("/services/data/v{version}/query/{locator}-{end}")),
        );
    }
    RestResponse::json(200, body)
}

/// `GET query?q=…`.
pub fn run(shared: &Shared, txn: &Txn<'_>, req: &RestRequest) -> RestResponse {
    if req.method.as_str() != "GET" {
        return super::errors::method_not_allowed(req.method.as_str(), "GET,HEAD");
    }
    let Some(q) = req.param("q").filter(|q| !q.trim().is_empty()) else {
        return ApiError::new(400, "MALFORMED_QUERY", "A query string has to be specified").into();
    };
    let query = match soql::parse(&q).and_then(|query| check_gaps(txn, &query).map(|()| query)) {
        Ok(query) => query,
        Err(e) => return ApiError::new(400, e.error_code, e.message).into(),
    };
    if let Err(e) = super::files::check_link_filter(&query) {
        return e.into();
    }
    let output = match soql::execute(&query, txn.data(), Utc::now(), &req.version) {
        Ok(o) => o,
        Err(e) => return ApiError::new(400, e.error_code, e.message).into(),
    };
    let batch = req
        .batch_size
        .unwrap_or(shared.config.query_batch_size)
        .max(1);
    let cursor = QueryCursor {
        total_size: output.total_size,
        records: output.records,
        batch,
    };
    if cursor.records.len() <= batch {
        return RestResponse::json(
            200,
            json!({"totalSize": cursor.total_size, "done": true, "records": cursor.records}),
        );
    }
    let locator = ids::random_id("01g");
    let response = page(&req.version, &locator, &cursor, 0);
    lock(&shared.cursors).insert(locator, cursor);
    response
}

/// Refuses a query that touches what the org lacks, as Salesforce refuses unknown names.
fn check_gaps(txn: &Txn<'_>, query: &soql::Query) -> Result<(), soql::SoqlError> {
    let gaps = txn.gaps();
    let object = query.object().name;
    if gaps.hides_object(object) {
        return Err(soql::SoqlError {
            error_code: "INVALID_TYPE",
            message: format!("sObject type '{object}' is not supported."),
        });
    }
    match query
        .fields()
        .into_iter()
        .find(|(o, f)| gaps.hides_field(o, f))
    {
        Some((o, f)) => Err(soql::SoqlError {
            error_code: "INVALID_FIELD",
            message: format!(
                "No such column '{f}' on entity '{o}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names."
            ),
        }),
        None => Ok(()),
    }
}

/// `GET query/<locator>-<offset>`: the next page of an earlier query.
pub fn next_page(shared: &Shared, req: &RestRequest, raw: &str) -> RestResponse {
    if req.method.as_str() != "GET" {
        return super::errors::method_not_allowed(req.method.as_str(), "GET,HEAD");
    }
    let invalid = || ApiError::new(400, "INVALID_QUERY_LOCATOR", "invalid query locator").into();
    let Some((locator, offset)) = raw.rsplit_once('-') else {
        return invalid();
    };
    let Ok(offset) = offset.parse::<usize>() else {
        return invalid();
    };
    let cursor = lock(&shared.cursors).get(locator).cloned();
    match cursor {
        Some(cursor) if offset < cursor.records.len() => {
            page(&req.version, locator, &cursor, offset)
        }
        _ => invalid(),
    }
}
