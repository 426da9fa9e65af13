//! How REST responses are built: Salesforce's error bodies, the outage page,
//! and the conversion of a [`RestResponse`] into an HTTP response.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::Value;

use super::RestResponse;
use crate::error::ApiError;

/// Salesforce's JSON content type.
pub const JSON_CONTENT_TYPE: &str = "application/json;charset=UTF-8";

/// What a real outage sends: an HTML page, not JSON.
pub const OUTAGE_PAGE: &str = "<!DOCTYPE html>\n<html><head><title>Service Unavailable</title></head>\
<body><h1>Service Unavailable</h1><p>The server is temporarily unable to service your request due to \
maintenance downtime or capacity problems. Please try again later.</p></body></html>\n";

impl From<ApiError> for RestResponse {
    fn from(e: ApiError) -> Self {
        RestResponse {
            status: e.status,
            body: Some(e.to_body()),
            location: None,
        }
    }
}

/// `[{"errorCode":"PROCESSING_HALTED",…}]` for a subrequest rolled back with its transaction.
pub fn processing_halted() -> RestResponse {
    ApiError::new(
        400,
        "PROCESSING_HALTED",
        "The transaction was rolled back since another operation in the same transaction failed.",
    )
    .into()
}

/// 405 for a method the resource does not take.
pub fn method_not_allowed(method: &str, allowed: &str) -> RestResponse {
    ApiError::new(
        405,
        "METHOD_NOT_ALLOWED",
        format!("HTTP Method '{method}' not allowed. Allowed are {allowed}"),
    )
    .into()
}

/// The HTTP response for a REST result, with `Sforce-Limit-Info` when `usage` is given.
pub fn to_http(result: RestResponse, usage: Option<String>) -> Response {
    let status = StatusCode::from_u16(result.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = match result.body {
        Some(body) => {
            let mut r = Response::new(Body::from(body_text(&body)));
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(JSON_CONTENT_TYPE),
            );
            r
        }
        None => Response::new(Body::empty()),
    };
    *response.status_mut() = status;
    if let Some(location) = result.location.and_then(|l| HeaderValue::from_str(&l).ok()) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    if let Some(usage) = usage.and_then(|u| HeaderValue::from_str(&u).ok()) {
        response.headers_mut().insert("sforce-limit-info", usage);
    }
    response
}

/// The outage page as a 503 response.
pub fn outage(usage: Option<String>) -> Response {
    let mut response = Response::new(Body::from(OUTAGE_PAGE));
    *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html;charset=UTF-8"),
    );
    if let Some(usage) = usage.and_then(|u| HeaderValue::from_str(&u).ok()) {
        response.headers_mut().insert("sforce-limit-info", usage);
    }
    response
}

fn body_text(body: &Value) -> String {
    body.to_string()
}
