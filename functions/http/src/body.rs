//! Request bodies: `Content-Type` (415), size (413), JSON syntax (400 naming
//! the line and column) and shape (422 naming the field), before any use case
//! runs.

use axum::body::{Body, Bytes};
use http::HeaderMap;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use http_body_util::BodyExt as _;
use serde::de::DeserializeOwned;

use crate::problem::{Problem, ProblemField};

/// The largest request body accepted, in bytes (64 KiB).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Whether the request declares a JSON body (`application/json`, any parameters).
pub fn is_json(headers: &HeaderMap) -> bool {
    let mut values = headers.get_all(CONTENT_TYPE).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return false;
    };
    value.to_str().is_ok_and(|v| {
        let essence = v.split(';').next().unwrap_or_default().trim();
        essence.eq_ignore_ascii_case("application/json")
    })
}

/// The most a request body is read (and discarded) to answer 413 cleanly:
/// a client still sending when the server answers sees a broken connection
/// instead of the answer. A body declared larger is refused without reading.
pub const DRAIN_LIMIT: usize = 1024 * 1024;

/// Reads the whole body, refusing more than `limit` bytes (413). Up to
/// [`DRAIN_LIMIT`] bytes are read even when the body is too large, so that
/// the client gets its 413.
pub async fn read_limited(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, Problem> {
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > DRAIN_LIMIT as u64) {
        return Err(Problem::payload_too_large(limit));
    }
    let mut too_large = declared.is_some_and(|n| n > limit as u64);
    let mut body = body;
    let mut buffer = Vec::new();
    let mut total = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|error| {
            tracing::info!(%error, "reading the request body failed");
            Problem::malformed_json("The request body could not be read completely.")
        })?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        total = total.saturating_add(data.len());
        if total > DRAIN_LIMIT {
            return Err(Problem::payload_too_large(limit));
        }
        if total > limit {
            too_large = true;
            buffer = Vec::new();
        } else if !too_large {
            buffer.extend_from_slice(&data);
        }
    }
    if too_large {
        Err(Problem::payload_too_large(limit))
    } else {
        Ok(Bytes::from(buffer))
    }
}

/// Reads and discards a body nobody needs (a GET's), up to [`DRAIN_LIMIT`].
pub async fn drain(body: Body) {
    let mut body = body;
    let mut total = 0usize;
    while let Some(Ok(frame)) = body.frame().await {
        if let Ok(data) = frame.into_data() {
            total = total.saturating_add(data.len());
            if total > DRAIN_LIMIT {
                return;
            }
        }
    }
}

/// Parses a JSON object into `T`: syntax errors are 400 naming the position,
/// a non-object body is 400, a field of the wrong type is 422 naming the field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Problem> {
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        None => {
            return Err(Problem::malformed_json(
                "The request body is empty; send a JSON object.",
            ));
        }
        // serde would read a struct from an array too: only objects are bodies.
        Some(b'{') => {}
        Some(_) => {
            return Err(Problem::malformed_json(
                "The request body must be a JSON object.",
            ));
        }
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize::<_, T>(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        classify(&inner, &path)
    })?;
    de.end().map_err(|e| classify(&e, "."))?;
    Ok(value)
}

fn classify(error: &serde_json::Error, path: &str) -> Problem {
    use serde_json::error::Category;
    let text = error.to_string();
    let position = format!(" at line {} column {}", error.line(), error.column());
    let message = text.strip_suffix(&position).unwrap_or(&text).to_owned();
    match error.classify() {
        Category::Data if path != "." && !path.is_empty() => {
            Problem::validation(vec![ProblemField {
                field: path.to_owned(),
                message: describe_data_error(&message),
            }])
        }
        Category::Data => Problem::malformed_json("The request body must be a JSON object."),
        Category::Syntax | Category::Eof | Category::Io => Problem::malformed_json(format!(
            "The request body is not valid JSON: {message} at line {} column {}.",
            error.line(),
            error.column()
        )),
    }
}

/// serde's "invalid type: integer `5`, expected a string" reads as
/// "must be a string"; other messages are kept.
fn describe_data_error(message: &str) -> String {
    let Some((_, expected)) = message.rsplit_once(", expected ") else {
        return message.to_owned();
    };
    let what = match expected {
        "i8" | "i16" | "i32" | "i64" | "u8" | "u16" | "u32" | "u64" => "an integer",
        "f32" | "f64" => "a number",
        "a sequence" => "an array",
        "a boolean" => "true or false",
        e if e.starts_with("struct ") || e == "a map" => "an object",
        e => e,
    };
    format!("must be {what}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use portal_core::portal::OrderRequest;

    #[test]
    fn when_a_field_has_the_wrong_type_should_name_it_with_its_path() {
        let problem = parse_json::<OrderRequest>(
            br#"{"commodityType":"SIM","items":[{"productId":"x","quantity":"two"}]}"#,
        )
        .unwrap_err();
        assert_eq!(problem.status, 422);
        let errors = problem.errors.unwrap();
        assert_eq!(errors[0].field, "items[0].quantity");
        assert_eq!(errors[0].message, "must be an integer");
    }

    #[test]
    fn when_the_json_is_broken_should_name_the_position() {
        let problem = parse_json::<OrderRequest>(b"{\n  \"items\": [,]\n}").unwrap_err();
        assert_eq!(problem.status, 400);
        assert!(
            problem.detail.contains("line 2 column"),
            "{}",
            problem.detail
        );
        let problem = parse_json::<OrderRequest>(b"[1, 2]").unwrap_err();
        assert_eq!(problem.status, 400);
        let problem = parse_json::<OrderRequest>(b"{} x").unwrap_err();
        assert_eq!(problem.status, 400);
        let problem = parse_json::<OrderRequest>(b"  ").unwrap_err();
        assert_eq!(problem.status, 400);
    }

    #[test]
    fn when_the_content_type_is_json_with_parameters_should_accept_it() {
        let mut headers = HeaderMap::new();
        assert!(!is_json(&headers));
        headers.insert(
            CONTENT_TYPE,
            "Application/JSON; charset=utf-8".parse().unwrap(),
        );
        assert!(is_json(&headers));
        headers.insert(CONTENT_TYPE, "text/plain".parse().unwrap());
        assert!(!is_json(&headers));
    }
}
