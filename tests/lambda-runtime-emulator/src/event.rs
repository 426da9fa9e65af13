//! API Gateway HTTP API events (payload format 2.0): [`HttpApiEvent`] builds
//! the request event a `lambda_http` function receives, and
//! [`HttpApiResponse`] reads the answer it posts back.

use std::collections::BTreeMap;

use base64::Engine as _;
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Map, Value, json};

/// The API id used in the events' `requestContext`.
pub const API_ID: &str = "portalapi01";
/// The domain the events say they came through.
pub const DOMAIN_NAME: &str = "portalapi01.execute-api.ap-northeast-1.amazonaws.com";

/// An answer that is not an HTTP API (2.0) response.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    /// The bytes are not a `{statusCode, headers, body, …}` object.
    #[error("not an API Gateway HTTP API response")]
    NotAResponse(#[source] serde_json::Error),
    /// `isBase64Encoded` is true but the body does not decode.
    #[error("the response body is marked base64 but does not decode")]
    Base64(#[source] base64::DecodeError),
    /// The body is not JSON.
    #[error("the response body is not JSON")]
    BodyNotJson(#[source] serde_json::Error),
}

/// An API Gateway HTTP API request event (payload format 2.0), built fluently.
///
/// Header names are lower-cased and repeated headers joined with `,`, as API
/// Gateway does; query parameters are taken from the raw query string as
/// they are (no percent-decoding).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpApiEvent {
    method: String,
    path: String,
    query: String,
    headers: BTreeMap<String, String>,
    body: Option<String>,
    /// The body is base64 (a binary body).
    base64: bool,
}

impl HttpApiEvent {
    /// A request for `method` and `path_and_query` (e.g. `/orders?limit=5`).
    pub fn new(method: &str, path_and_query: &str) -> Self {
        let (path, query) = path_and_query
            .split_once('?')
            .unwrap_or((path_and_query, ""));
        let mut headers = BTreeMap::new();
        headers.insert("host".to_owned(), DOMAIN_NAME.to_owned());
        headers.insert(
            "user-agent".to_owned(),
            "lambda-runtime-emulator".to_owned(),
        );
        headers.insert("x-forwarded-proto".to_owned(), "https".to_owned());
        Self {
            method: method.to_ascii_uppercase(),
            path: path.to_owned(),
            query: query.to_owned(),
            headers,
            body: None,
            base64: false,
        }
    }

    /// A `GET`.
    pub fn get(path_and_query: &str) -> Self {
        Self::new("GET", path_and_query)
    }

    /// A `POST`.
    pub fn post(path_and_query: &str) -> Self {
        Self::new("POST", path_and_query)
    }

    /// Adds a header (joined with `,` to an earlier one of the same name).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers
            .entry(name.to_ascii_lowercase())
            .and_modify(|v| {
                v.push(',');
                v.push_str(value);
            })
            .or_insert_with(|| value.to_owned());
        self
    }

    /// Adds `Authorization: Bearer <token>`.
    pub fn bearer(self, token: &str) -> Self {
        self.header("authorization", &format!("Bearer {token}"))
    }

    /// A JSON body with `Content-Type: application/json`.
    pub fn json(mut self, body: &Value) -> Self {
        self.headers
            .insert("content-type".to_owned(), "application/json".to_owned());
        self.body = Some(body.to_string());
        self
    }

    /// A binary body (e.g. `multipart/form-data`) with its `Content-Type`:
    /// API Gateway's HTTP API hands such a body to Lambda in base64
    /// (`isBase64Encoded: true`), which is what counts against Lambda's 6 MB
    /// invocation limit.
    pub fn binary(mut self, content_type: &str, body: &[u8]) -> Self {
        use base64::Engine as _;
        self.headers
            .insert("content-type".to_owned(), content_type.to_owned());
        self.headers
            .insert("content-length".to_owned(), body.len().to_string());
        self.body = Some(base64::engine::general_purpose::STANDARD.encode(body));
        self.base64 = true;
        self
    }

    /// The event as the Lambda service sends it.
    pub fn to_json(&self) -> Value {
        let now = Utc::now();
        let mut headers = self.headers.clone();
        if let Some(body) = &self.body
            && !self.base64
        {
            headers.insert("content-length".to_owned(), body.len().to_string());
        }
        let mut event = json!({
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": self.path,
            "rawQueryString": self.query,
            "headers": headers,
            "requestContext": {
                "accountId": "123456789012",
                "apiId": API_ID,
                "domainName": DOMAIN_NAME,
                "domainPrefix": API_ID,
                "http": {
                    "method": self.method,
                    "path": self.path,
                    "protocol": "HTTP/1.1",
                    "sourceIp": "192.0.2.10",
                    "userAgent": "lambda-runtime-emulator",
                },
                "requestId": uuid::Uuid::new_v4().simple().to_string(),
                "routeKey": "$default",
                "stage": "$default",
                "time": now.format("%d/%b/%Y:%H:%M:%S %z").to_string(),
                "timeEpoch": now.timestamp_millis(),
            },
            "isBase64Encoded": self.base64,
        });
        if !self.query.is_empty() {
            let mut params = Map::new();
            for pair in self.query.split('&').filter(|p| !p.is_empty()) {
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                match params.get_mut(name) {
                    Some(Value::String(existing)) => {
                        existing.push(',');
                        existing.push_str(value);
                    }
                    _ => {
                        params.insert(name.to_owned(), Value::String(value.to_owned()));
                    }
                }
            }
            event["queryStringParameters"] = Value::Object(params);
        }
        if let Some(body) = &self.body {
            event["body"] = Value::String(body.clone());
        }
        event
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawResponse {
    status_code: u16,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    multi_value_headers: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    cookies: Vec<String>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    is_base64_encoded: bool,
}

/// A function's answer to an HTTP API event, with the body decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpApiResponse {
    /// `statusCode`.
    pub status: u16,
    /// `headers` and `multiValueHeaders`, names lower-cased, repeats joined with `,`.
    pub headers: BTreeMap<String, String>,
    /// `cookies`.
    pub cookies: Vec<String>,
    /// The body, base64-decoded when `isBase64Encoded`.
    pub body: Vec<u8>,
}

impl HttpApiResponse {
    /// Reads the bytes a function posted to `…/invocation/{id}/response`.
    pub fn parse(bytes: &[u8]) -> Result<Self, EventError> {
        let raw: RawResponse = serde_json::from_slice(bytes).map_err(EventError::NotAResponse)?;
        let mut headers: BTreeMap<String, String> = BTreeMap::new();
        let singles = raw.headers.into_iter().map(|(k, v)| (k, vec![v]));
        for (name, values) in raw.multi_value_headers.into_iter().chain(singles) {
            let name = name.to_ascii_lowercase();
            for value in values {
                headers
                    .entry(name.clone())
                    .and_modify(|v| {
                        if !v.split(',').any(|part| part == value) {
                            v.push(',');
                            v.push_str(&value);
                        }
                    })
                    .or_insert(value);
            }
        }
        let body = match raw.body {
            None => Vec::new(),
            Some(text) if raw.is_base64_encoded => base64::engine::general_purpose::STANDARD
                .decode(text)
                .map_err(EventError::Base64)?,
            Some(text) => text.into_bytes(),
        };
        Ok(Self {
            status: raw.status_code,
            headers,
            cookies: raw.cookies,
            body,
        })
    }

    /// A header by (case-insensitive) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// The body as JSON.
    pub fn json(&self) -> Result<Value, EventError> {
        serde_json::from_slice(&self.body).map_err(EventError::BodyNotJson)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_building_an_event_should_follow_payload_format_2() {
        let event = HttpApiEvent::post("/orders?a=1&a=2&b=")
            .bearer("t0k")
            .header("X-Test", "one")
            .header("x-test", "two")
            .json(&json!({"k": 1}))
            .to_json();
        assert_eq!(event["version"], "2.0");
        assert_eq!(event["rawPath"], "/orders");
        assert_eq!(event["rawQueryString"], "a=1&a=2&b=");
        assert_eq!(event["queryStringParameters"], json!({"a": "1,2", "b": ""}));
        assert_eq!(event["requestContext"]["http"]["method"], "POST");
        assert_eq!(event["headers"]["authorization"], "Bearer t0k");
        assert_eq!(event["headers"]["x-test"], "one,two");
        assert_eq!(event["headers"]["content-type"], "application/json");
        assert_eq!(event["headers"]["content-length"], "7");
        assert_eq!(event["body"], r#"{"k":1}"#);
        assert_eq!(event["isBase64Encoded"], false);
        let get = HttpApiEvent::get("/health").to_json();
        assert!(get.get("body").is_none() && get.get("queryStringParameters").is_none());
    }

    #[test]
    fn when_parsing_a_response_should_decode_base64_and_merge_headers() {
        let text = br#"{"statusCode":201,"headers":{"Content-Type":"application/json"},
            "multiValueHeaders":{"vary":["a","b"]},"body":"eyJvayI6dHJ1ZX0=","isBase64Encoded":true,"cookies":["c=1"]}"#;
        let response = HttpApiResponse::parse(text).unwrap();
        assert_eq!(response.status, 201);
        assert_eq!(response.header("content-type"), Some("application/json"));
        assert_eq!(response.header("Vary"), Some("a,b"));
        assert_eq!(response.cookies, vec!["c=1".to_owned()]);
        assert_eq!(response.json().unwrap(), json!({"ok": true}));

        let plain = HttpApiResponse::parse(br#"{"statusCode":204}"#).unwrap();
        assert!(plain.body.is_empty());
        assert!(matches!(
            HttpApiResponse::parse(br#"{"ok":true}"#),
            Err(EventError::NotAResponse(_))
        ));
        assert!(matches!(
            HttpApiResponse::parse(br#"{"statusCode":200,"body":"%%","isBase64Encoded":true}"#),
            Err(EventError::Base64(_))
        ));
    }
}
