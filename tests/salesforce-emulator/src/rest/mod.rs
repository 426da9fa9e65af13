//! The REST API under `/services/data/v{version}/`: authentication, API-call
//! counting and `Sforce-Limit-Info`, faults, then [`dispatch`] to the resources
//! (sObjects, describe, query, composite), which composite reuses for its subrequests.

mod composite;
mod describe;
mod errors;
mod files;
mod query;
mod sobjects;
mod tooling;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, Method, Uri, header};
use axum::response::Response;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::faults::{AfterCommit, Refusal};
use crate::net::Connection;
use crate::server::Shared;
use crate::store::{Actor, Txn};
use crate::{LATEST_API_MAJOR, OLDEST_API_MAJOR};

pub use files::MAX_REQUEST_BYTES;
pub use query::QueryCursor;

/// One REST request, from HTTP or from a composite subrequest.
#[derive(Debug, Clone)]
pub struct RestRequest {
    pub method: Method,
    /// The API version of the URL, e.g. `62.0`.
    pub version: String,
    /// The path after `/services/data/vXX.X/`, percent-decoded per segment.
    pub segments: Vec<String>,
    /// The raw query string.
    pub query: Option<String>,
    /// `batchSize` of an `Sforce-Query-Options` header.
    pub batch_size: Option<usize>,
    /// The JSON body, if any.
    pub body: Option<Value>,
}

impl RestRequest {
    /// The value of a query-string parameter.
    pub fn param(&self, name: &str) -> Option<String> {
        let query = self.query.as_deref()?;
        url::form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }
}

/// The result of a REST request, before it becomes HTTP (or a composite result).
#[derive(Debug, Clone)]
pub struct RestResponse {
    pub status: u16,
    pub body: Option<Value>,
    /// The `Location` header of a created record.
    pub location: Option<String>,
}

impl RestResponse {
    /// A response with a JSON body.
    pub fn json(status: u16, body: Value) -> Self {
        RestResponse {
            status,
            body: Some(body),
            location: None,
        }
    }

    /// 204 No Content.
    pub fn no_content() -> Self {
        RestResponse {
            status: 204,
            body: None,
            location: None,
        }
    }

    fn is_success(&self) -> bool {
        self.status < 400
    }
}

/// Parses `v62.0` into `62.0` when the version is served.
pub fn parse_version(segment: &str) -> Option<String> {
    let number = segment.strip_prefix('v')?;
    let major = number.strip_suffix(".0")?;
    let major: u32 = major
        .parse()
        .ok()
        .filter(|m| (OLDEST_API_MAJOR..=LATEST_API_MAJOR).contains(m))?;
    Some(format!("{major}.0"))
}

/// Percent-decodes one path segment.
fn decode_segment(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(hi), Some(lo)) => {
                out.push(u8::try_from(hi * 16 + lo).unwrap_or(b'?'));
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Splits a path after `/services/data/` (`v62.0/sobjects/Account`) into version and segments.
pub fn split_path(path: &str) -> Option<(String, Vec<String>)> {
    let mut parts = path.split('/');
    let version = parse_version(parts.next()?)?;
    let segments = parts
        .filter(|s| !s.is_empty())
        .map(decode_segment)
        .collect();
    Some((version, segments))
}

/// `batchSize=N` of `Sforce-Query-Options`, clamped to Salesforce's 200..=2000.
pub fn batch_size_option(value: &str) -> Option<usize> {
    value.split(',').find_map(|part| {
        let (k, v) = part.split_once('=')?;
        (k.trim().eq_ignore_ascii_case("batchSize"))
            .then(|| v.trim().parse::<usize>().ok())
            .flatten()
            .map(|n| n.clamp(200, 2000))
    })
}

/// `GET /services/data/`: the versions served (no authentication, no limit header).
pub async fn versions() -> Response {
    let list: Vec<Value> = (OLDEST_API_MAJOR..=LATEST_API_MAJOR)
        .map(|m| json!({"label": format!("API {m}.0"), "url": format!("/services/data/v{m}.0"), "version": format!("{m}.0")}))
        .collect();
    errors::to_http(RestResponse::json(200, Value::Array(list)), None)
}

fn usage(shared: &Shared) -> String {
    format!(
        "api-usage={}/{}",
        shared.api_usage.used(Instant::now()),
        shared.config.daily_api_limit
    )
}

/// The token of an `Authorization: Bearer …` (or `OAuth …`) header.
pub(crate) fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("Bearer") || scheme.eq_ignore_ascii_case("OAuth"))
        .then(|| token.trim())
}

fn authenticate(shared: &Shared, headers: &HeaderMap) -> Option<Actor> {
    shared.actor_of_token(bearer_token(headers)?)
}

/// Every request under `/services/data/{version}/…`.
pub async fn handle(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(connection): ConnectInfo<Connection>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(latency) = shared.faults.latency() {
        crate::faults::wait_out(Instant::now(), latency).await;
    }
    let path = uri
        .path()
        .strip_prefix("/services/data/")
        .unwrap_or_default();
    let Some((version, segments)) = split_path(path) else {
        return errors::to_http(ApiError::not_found().into(), Some(usage(&shared)));
    };
    let Some(actor) = authenticate(&shared, &headers) else {
        let e = ApiError::new(401, "INVALID_SESSION_ID", "Session expired or invalid");
        return errors::to_http(e.into(), Some(usage(&shared)));
    };
    match shared.faults.take_refusal() {
        Some(Refusal::Unavailable) => return errors::outage(Some(usage(&shared))),
        Some(Refusal::LimitExceeded { concurrent }) => {
            let message = if concurrent {
                "ConcurrentPerOrgLongTxn Limit exceeded."
            } else {
                "TotalRequests Limit exceeded."
            };
            let e = ApiError::new(403, "REQUEST_LIMIT_EXCEEDED", message);
            return errors::to_http(e.into(), Some(usage(&shared)));
        }
        None => {}
    }
    if !shared
        .api_usage
        .try_count(shared.config.daily_api_limit, Instant::now())
    {
        let e = ApiError::new(
            403,
            "REQUEST_LIMIT_EXCEEDED",
            "TotalRequests Limit exceeded.",
        );
        return errors::to_http(e.into(), Some(usage(&shared)));
    }
    shared.api_calls.fetch_add(1, Ordering::SeqCst);
    if body.len() > MAX_REQUEST_BYTES {
        return errors::to_http(files::request_too_large().into(), Some(usage(&shared)));
    }
    if method == Method::GET
        && let Some(id) = files::version_data_path(&segments)
    {
        let served = files::version_data(&crate::server::lock(&shared.store), id);
        return match served {
            Ok(mut response) => {
                if let Ok(value) = usage(&shared).parse() {
                    response.headers_mut().insert("sforce-limit-info", value);
                }
                response
            }
            Err(e) => errors::to_http(e.into(), Some(usage(&shared))),
        };
    }
    let body = if body.is_empty() {
        None
    } else {
        match serde_json::from_slice::<Value>(&body) {
            Ok(v) => Some(v),
            Err(e) => {
                let e = ApiError::new(
                    400,
                    "JSON_PARSER_ERROR",
                    format!("Unexpected character in the request body: {e}"),
                );
                return errors::to_http(e.into(), Some(usage(&shared)));
            }
        }
    };
    let request = RestRequest {
        method: method.clone(),
        version,
        segments,
        query: uri.query().map(str::to_owned),
        batch_size: headers
            .get("sforce-query-options")
            .and_then(|v| v.to_str().ok())
            .and_then(batch_size_option),
        body,
    };
    let (result, wrote) = shared.transact(actor, |txn| {
        let result = dispatch(&shared, txn, &request, false);
        let ok = result.is_success();
        ((result, ok && txn.wrote()), ok)
    });
    tracing::debug!(%method, path = %uri.path(), status = result.status, "REST request");
    if wrote {
        match shared.faults.take_after_commit() {
            Some(AfterCommit::Stall(delay)) => {
                tracing::info!(path = %uri.path(), ?delay, "fault: committed, answering late");
                tokio::time::sleep(delay).await;
            }
            Some(AfterCommit::Drop) => {
                tracing::info!(path = %uri.path(), "fault: committed, dropping the connection");
                connection.kill();
            }
            None => {}
        }
    }
    errors::to_http(result, Some(usage(&shared)))
}

/// Routes one REST request (top-level or composite subrequest) to its resource.
pub fn dispatch(
    shared: &Shared,
    txn: &mut Txn<'_>,
    req: &RestRequest,
    in_composite: bool,
) -> RestResponse {
    let segments: Vec<&str> = req.segments.iter().map(String::as_str).collect();
    let method = req.method.as_str();
    match segments.as_slice() {
        [] => match method {
            "GET" => resources(&req.version, &shared.identity_url(&txn.actor().user_id)),
            _ => errors::method_not_allowed(method, "GET,HEAD"),
        },
        ["limits"] => match method {
            "GET" => limits(shared),
            _ => errors::method_not_allowed(method, "GET,HEAD"),
        },
        ["sobjects", rest @ ..] => sobjects::route(txn, req, rest),
        ["query" | "queryAll"] => query::run(shared, txn, req),
        ["query" | "queryAll", locator] => query::next_page(shared, req, locator),
        ["composite"] if !in_composite => composite::composite(shared, txn, req),
        ["composite", "sobjects"] => composite::collection(txn, req),
        ["tooling", "query"] if !in_composite => tooling::query(shared, req),
        _ => ApiError::not_found().into(),
    }
}

/// Resources by Version: the resources the emulator serves, and the caller's
/// identity URL, absolute, as Salesforce lists it (SF docs
/// `dome_discoveryresource`; jsforce's `Connection.identity()` reads it there).
fn resources(version: &str, identity: &str) -> RestResponse {
    let base = format!("/services/data/v{version}");
    RestResponse::json(
        200,
        json!({
            "identity": identity,
            "sobjects": format!("{base}/sobjects"),
            "query": format!("{base}/query"),
            "queryAll": format!("{base}/queryAll"),
            "composite": format!("{base}/composite"),
            "limits": format!("{base}/limits"),
        }),
    )
}

fn limits(shared: &Shared) -> RestResponse {
    let max = shared.config.daily_api_limit;
    let used = shared.api_usage.used(Instant::now());
    RestResponse::json(
        200,
        json!({"DailyApiRequests": {"Max": max, "Remaining": max.saturating_sub(used)}}),
    )
}

/// The JSON object body of a write, or Salesforce's parser error.
pub fn object_body(req: &RestRequest) -> Result<&serde_json::Map<String, Value>, ApiError> {
    match &req.body {
        Some(Value::Object(map)) => Ok(map),
        Some(other) => Err(ApiError::new(
            400,
            "JSON_PARSER_ERROR",
            format!(
                "Cannot deserialize instance of sObject from {} value",
                if other.is_array() {
                    "START_ARRAY"
                } else {
                    "VALUE_STRING"
                }
            ),
        )),
        None => Err(ApiError::new(
            400,
            "JSON_PARSER_ERROR",
            "The HTTP entity body is required, but this request has no entity body.",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_31_to_66_are_served() {
        assert_eq!(parse_version("v62.0").as_deref(), Some("62.0"));
        assert_eq!(parse_version("v31.0").as_deref(), Some("31.0"));
        assert_eq!(parse_version("v66.0").as_deref(), Some("66.0"));
        for bad in ["v30.0", "v67.0", "62.0", "v62", "v62.1", "vX.0"] {
            assert_eq!(parse_version(bad), None, "{bad}");
        }
    }

    #[test]
    fn paths_are_split_and_decoded() {
        let (v, s) = split_path("v62.0/sobjects/Account/SF_Account_No__c/A%20B").unwrap();
        assert_eq!(v, "62.0");
        assert_eq!(s, ["sobjects", "Account", "SF_Account_No__c", "A B"]);
    }

    #[test]
    fn batch_size_is_clamped() {
        assert_eq!(batch_size_option("batchSize=500"), Some(500));
        assert_eq!(batch_size_option("batchSize=10"), Some(200));
        assert_eq!(batch_size_option("batchSize=5000"), Some(2000));
        assert_eq!(batch_size_option("other=1"), None);
    }
}
