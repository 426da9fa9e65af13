//! Request bodies: `Content-Type` (415), size (413), JSON syntax (400 naming
//! the line and column) and shape (422 naming every bad field), before any
//! use case runs.
//!
//! A body whose fields all have the right JSON types goes to its use case,
//! whose `parse` lists every bad value. A body with a field of the wrong type
//! is read again as a [`serde_json::Value`]: each field that does not fit its
//! type is recorded and stood in for by `null` (or another empty value when
//! the position takes no `null`), the body is read again until it fits, and
//! the request type's own checks ([`RequestBody::value_errors`]) run on what
//! is left. The one 422 then lists the type errors and the value errors of
//! the other fields together, in the order of the request type's fields.

use std::fmt;

use axum::body::{Body, Bytes};
use chrono::NaiveDate;
use http::HeaderMap;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use http_body_util::BodyExt as _;
use portal_core::domain::FieldError;
use portal_core::portal::{
    CancellationRequest, EligibilityRequest, OrderRequest, RegistrationRequest, SupportCaseRequest,
};
use serde::Serialize;
use serde::de::{DeserializeOwned, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use serde_path_to_error::Segment;

use crate::problem::{Problem, ProblemField};

/// How a POST route reads its body: the media type it takes (415 otherwise,
/// naming it), the most bytes it reads (413 beyond) and the parse (400 for
/// syntax, 422 listing every bad field). JSON bodies are every
/// [`RequestBody`]; the ID documents' `multipart/form-data` body is
/// [`crate::upload::IdVerificationForm`].
pub trait PostBody: Sized + Send {
    /// The media type the route takes, named in its 415.
    const MEDIA_TYPE: &'static str;

    /// Whether the request's `Content-Type` is [`Self::MEDIA_TYPE`].
    fn accepts(headers: &HeaderMap) -> bool;

    /// The largest body read, in bytes.
    fn max_bytes(limits: &crate::app::Limits) -> usize;

    /// Reads the body; `today` is the date in the portal's timezone.
    fn parse(
        headers: &HeaderMap,
        bytes: Bytes,
        today: NaiveDate,
    ) -> impl Future<Output = Result<Self, Problem>> + Send;

    /// What the idempotency fingerprint covers: the exact body bytes (the
    /// default), or a form's content whatever its encoding.
    fn fingerprint_body(&self, raw: &Bytes) -> Bytes {
        raw.clone()
    }
}

impl<T: RequestBody + Send> PostBody for T {
    const MEDIA_TYPE: &'static str = "application/json";

    fn accepts(headers: &HeaderMap) -> bool {
        is_json(headers)
    }

    fn max_bytes(limits: &crate::app::Limits) -> usize {
        limits.max_body_bytes
    }

    async fn parse(_headers: &HeaderMap, bytes: Bytes, today: NaiveDate) -> Result<Self, Problem> {
        parse_json(&bytes, today)
    }
}

/// A request body type: its JSON shape (serde) and its value checks, so that
/// one 422 can list type errors and value errors together.
pub trait RequestBody: DeserializeOwned + Serialize {
    /// Every field error of the body's `parse` (none when it is valid), in
    /// the body's field order; `today` is the date in the portal's timezone.
    fn value_errors(self, today: NaiveDate) -> Vec<FieldError>;
}

macro_rules! request_bodies {
    ($($body:ty),* $(,)?) => {$(
        impl RequestBody for $body {
            fn value_errors(self, _today: NaiveDate) -> Vec<FieldError> {
                self.parse().err().unwrap_or_default()
            }
        }
    )*};
}

request_bodies!(
    RegistrationRequest,
    EligibilityRequest,
    OrderRequest,
    SupportCaseRequest,
);

impl RequestBody for CancellationRequest {
    fn value_errors(self, today: NaiveDate) -> Vec<FieldError> {
        self.parse(today).err().unwrap_or_default()
    }
}

/// The most type errors one answer lists; past them the value checks are
/// skipped too (such a body is not a form someone filled in).
pub const MAX_TYPE_ERRORS: usize = 100;

/// What stands in for a value of the wrong type, tried in this order until
/// the position accepts one: `null` fits every optional field.
const STAND_INS: [fn() -> Value; 6] = [
    || Value::Null,
    || Value::Object(serde_json::Map::new()),
    || Value::Array(Vec::new()),
    || Value::String(String::new()),
    || Value::from(0),
    || Value::Bool(false),
];

/// The largest request body accepted, in bytes (64 KiB).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Whether the request declares a JSON body (`application/json`, any parameters).
pub fn is_json(headers: &HeaderMap) -> bool {
    media_type(headers).is_some_and(|essence| essence.eq_ignore_ascii_case("application/json"))
}

/// The essence (`type/subtype`) of the one `Content-Type` header, if there is exactly one.
pub fn media_type(headers: &HeaderMap) -> Option<&str> {
    let mut values = headers.get_all(CONTENT_TYPE).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return None;
    };
    value
        .to_str()
        .ok()
        .map(|v| v.split(';').next().unwrap_or_default().trim())
}

/// How much more than its limit a request body is read (and discarded) to
/// answer 413 cleanly: a client still sending when the server answers sees a
/// broken connection instead of the answer. A body declared larger than its
/// limit plus this is refused without reading.
pub const DRAIN_LIMIT: usize = 1024 * 1024;

/// Reads the whole body, refusing more than `limit` bytes (413). Up to
/// [`DRAIN_LIMIT`] bytes more are read even when the body is too large, so
/// that the client gets its 413.
pub async fn read_limited(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, Problem> {
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let drain_limit = limit.saturating_add(DRAIN_LIMIT);
    if declared.is_some_and(|n| n > drain_limit as u64) {
        return Err(Problem::payload_too_large(limit));
    }
    let mut too_large = declared.is_some_and(|n| n > limit as u64);
    let mut body = body;
    // Sized once from Content-Length when it is within the limit: a 4 MB
    // upload is not copied through doubling reallocations.
    let mut buffer = Vec::with_capacity(
        declared
            .and_then(|n| usize::try_from(n).ok())
            .filter(|n| *n <= limit)
            .unwrap_or(0),
    );
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
        if total > drain_limit {
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
/// a non-object body is 400, fields of the wrong type are 422 listing every
/// bad field of the body (wrong types, missing fields and bad values, checked
/// with `today` as the date in the portal's timezone).
pub fn parse_json<T: RequestBody>(bytes: &[u8], today: NaiveDate) -> Result<T, Problem> {
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
    let first = match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Ok(value) => {
            de.end().map_err(|e| classify(&e, "."))?;
            return Ok(value);
        }
        Err(e) => e,
    };
    let path = first.path().to_string();
    let problem = classify(&first.into_inner(), &path);
    if problem.status != 422 {
        return Err(problem);
    }
    // A field has the wrong type: read the whole body to list every bad field
    // (a syntax error further on is still a 400).
    let mut value: Value = serde_json::from_slice(bytes).map_err(|e| classify(&e, "."))?;
    // No type error in the value means the first one was something a value
    // does not keep (a repeated field): answer it alone, as found.
    Err(every_bad_field::<T>(&mut value, today).unwrap_or(problem))
}

/// The 422 listing every bad field of `body`, or `None` when every field has
/// the right type. Fields of the wrong type are replaced in `body`.
fn every_bad_field<T: RequestBody>(body: &mut Value, today: NaiveDate) -> Option<Problem> {
    let mut type_errors: Vec<ProblemField> = Vec::new();
    let mut stand_in = 0;
    let fitted = loop {
        let error = match serde_path_to_error::deserialize::<_, T>(&*body) {
            Ok(fitted) => break Some(fitted),
            Err(error) => error,
        };
        let field = error.path().to_string();
        if type_errors.last().is_some_and(|last| last.field == field) {
            stand_in += 1;
        } else if type_errors.len() < MAX_TYPE_ERRORS && error.path().iter().next().is_some() {
            stand_in = 0;
            type_errors.push(ProblemField {
                field,
                message: describe_data_error(&error.inner().to_string()),
            });
        } else {
            break None;
        }
        let (Some(slot), Some(make)) = (locate(body, error.path()), STAND_INS.get(stand_in)) else {
            break None;
        };
        *slot = make();
    };
    if type_errors.is_empty() {
        return None;
    }
    let Some(fitted) = fitted else {
        return Some(Problem::validation(type_errors));
    };
    let order = field_order(&fitted);
    let value_errors = fitted
        .value_errors(today)
        .into_iter()
        .map(ProblemField::from)
        // A field of the wrong type was stood in for: its value checks say nothing.
        .filter(|e| !type_errors.iter().any(|t| is_within(&e.field, &t.field)))
        .collect::<Vec<_>>();
    let mut errors = type_errors;
    errors.extend(value_errors);
    errors.sort_by_key(|e| position(&e.field, &order));
    Some(Problem::validation(errors))
}

/// The value at `path` in `body`.
fn locate<'v>(body: &'v mut Value, path: &serde_path_to_error::Path) -> Option<&'v mut Value> {
    path.iter().try_fold(body, |value, segment| match segment {
        Segment::Seq { index } => value.as_array_mut()?.get_mut(*index),
        Segment::Map { key } => value.as_object_mut()?.get_mut(key),
        Segment::Enum { .. } | Segment::Unknown => None,
    })
}

/// Whether `field` is `outer` or inside it (`items[0]` is within `items`).
fn is_within(field: &str, outer: &str) -> bool {
    field
        .strip_prefix(outer)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('.') || rest.starts_with('['))
}

/// Where `field` (or, for a field the body does not have, its nearest
/// enclosing field) comes in `order`; unknown fields come last.
fn position(field: &str, order: &[String]) -> usize {
    let mut field = field;
    loop {
        if let Some(at) = order.iter().position(|f| f == field) {
            return at;
        }
        match field.rfind(['.', '[']) {
            Some(end) => field = &field[..end],
            None => return usize::MAX,
        }
    }
}

/// The path of every field of `body`, in the order its type declares them
/// (serialisation follows declaration order), e.g. `items`, `items[0]`,
/// `items[0].productId`.
fn field_order<T: Serialize>(body: &T) -> Vec<String> {
    let mut paths = Vec::new();
    let Ok(text) = serde_json::to_vec(body) else {
        return paths;
    };
    let mut de = serde_json::Deserializer::from_slice(&text);
    // Only an invalid document could fail, and serde_json wrote this one.
    let _ = FieldPaths {
        prefix: String::new(),
        paths: &mut paths,
    }
    .deserialize(&mut de);
    paths
}

/// Records the path of every member and element of a JSON document, in order.
struct FieldPaths<'p> {
    prefix: String,
    paths: &'p mut Vec<String>,
}

impl<'de> DeserializeSeed<'de> for FieldPaths<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for FieldPaths<'_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            let path = if self.prefix.is_empty() {
                key
            } else {
                format!("{}.{key}", self.prefix)
            };
            self.paths.push(path.clone());
            map.next_value_seed(FieldPaths {
                prefix: path,
                paths: &mut *self.paths,
            })?;
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0usize;
        loop {
            let path = format!("{}[{index}]", self.prefix);
            self.paths.push(path.clone());
            let element = FieldPaths {
                prefix: path,
                paths: &mut *self.paths,
            };
            if seq.next_element_seed(element)?.is_none() {
                self.paths.pop();
                return Ok(());
            }
            index += 1;
        }
    }
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

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2030, 6, 1).unwrap()
    }

    /// The `(field, message)` pairs of a 422.
    fn bad_fields<T: RequestBody + fmt::Debug>(body: &str) -> Vec<(String, String)> {
        let problem = parse_json::<T>(body.as_bytes(), today()).unwrap_err();
        assert_eq!(problem.status, 422, "{problem:?}");
        assert_eq!(problem.code, "validation-failed");
        problem
            .errors
            .unwrap()
            .into_iter()
            .map(|e| (e.field, e.message))
            .collect()
    }

    fn names(fields: &[(String, String)]) -> Vec<&str> {
        fields.iter().map(|(f, _)| f.as_str()).collect()
    }

    #[test]
    fn when_one_field_has_the_wrong_type_should_list_the_bad_values_of_the_others_too() {
        let fields = bad_fields::<RegistrationRequest>(r#"{"firstName":"","lastName":123}"#);
        assert_eq!(names(&fields), ["firstName", "lastName"]);
        assert_eq!(fields[1].1, "must be a string");
        assert_ne!(fields[0].1, "must be a string");
    }

    #[test]
    fn when_two_fields_have_the_wrong_type_should_list_both() {
        let fields = bad_fields::<RegistrationRequest>(
            r#"{"lastName":"Yamada","phone":false,"firstName":["Hanako"]}"#,
        );
        assert_eq!(
            fields,
            [
                ("firstName".to_owned(), "must be a string".to_owned()),
                ("phone".to_owned(), "must be a string".to_owned()),
            ]
        );
    }

    #[test]
    fn when_fields_are_listed_should_follow_the_request_types_order_not_the_alphabet() {
        let fields = bad_fields::<RegistrationRequest>(
            r#"{"companyName":2,"firstName":"Hanako","lastName":"Yamada","phone":1}"#,
        );
        assert_eq!(names(&fields), ["phone", "companyName"]);
        let fields = bad_fields::<EligibilityRequest>(r#"{"address":5,"commodityType":"SIM"}"#);
        assert_eq!(names(&fields), ["commodityType", "address"]);
    }

    #[test]
    fn when_a_field_is_repeated_should_answer_that_alone_as_before() {
        let fields = bad_fields::<OrderRequest>(r#"{"items":[{"quantity":1,"quantity":2}]}"#);
        assert_eq!(names(&fields), ["items[0]"]);
        assert!(fields[0].1.contains("duplicate field"), "{fields:?}");
    }

    #[test]
    fn when_a_type_error_a_missing_field_and_a_bad_value_meet_should_list_all_three_in_field_order()
    {
        let fields =
            bad_fields::<RegistrationRequest>(r#"{"phone":"12","unknown":1,"firstName":5}"#);
        assert_eq!(names(&fields), ["firstName", "lastName", "phone"]);
        assert_eq!(fields[0].1, "must be a string");
        assert_eq!(fields[1].1, "is required");
    }

    #[test]
    fn when_an_order_line_has_a_type_error_and_a_bad_sibling_should_name_both_with_their_paths() {
        let fields = bad_fields::<OrderRequest>(
            r#"{"commodityType":"SIM","items":[{"productId":"x","quantity":"two"}]}"#,
        );
        assert_eq!(names(&fields), ["items[0].productId", "items[0].quantity"]);
        assert_eq!(fields[1].1, "must be an integer");
    }

    #[test]
    fn when_a_line_is_not_an_object_should_name_the_line_and_check_the_rest() {
        let fields = bad_fields::<OrderRequest>(
            r#"{"commodityType":"Gas","items":[null,{"productId":"01t000000000000AAA","quantity":1.5}]}"#,
        );
        assert_eq!(
            names(&fields),
            ["commodityType", "items[0]", "items[1].quantity"]
        );
        assert_eq!(fields[1].1, "must be an object");
        assert_eq!(fields[2].1, "must be an integer");
    }

    #[test]
    fn when_an_object_field_has_the_wrong_type_should_not_also_call_it_missing() {
        let fields = bad_fields::<EligibilityRequest>(r#"{"address":"Tokyo","notes":7}"#);
        assert_eq!(
            fields,
            [
                ("address".to_owned(), "must be an object".to_owned()),
                ("notes".to_owned(), "must be a string".to_owned()),
            ]
        );
        let fields = bad_fields::<EligibilityRequest>(
            r#"{"address":{"postalCode":1500001,"prefecture":"Tokyo","city":"","street":"1-2-3"}}"#,
        );
        assert_eq!(names(&fields), ["address.postalCode", "address.city"]);
    }

    #[test]
    fn when_a_cancellation_has_a_type_error_should_check_the_date_against_today() {
        let fields = bad_fields::<CancellationRequest>(
            r#"{"serviceId":"42","cancellationDate":"2030-05-31"}"#,
        );
        assert_eq!(names(&fields), ["serviceId", "cancellationDate"]);
        assert_eq!(fields[0].1, "must be an integer");
    }

    #[test]
    fn when_every_field_has_the_right_type_should_leave_the_values_to_the_use_case() {
        let body = parse_json::<RegistrationRequest>(br#"{"firstName":"","lastName":""}"#, today())
            .unwrap();
        assert_eq!(body.first_name.as_deref(), Some(""));
    }

    #[test]
    fn when_a_body_has_very_many_type_errors_should_stop_listing_at_the_limit() {
        let lines = vec![r#"{"quantity":"x"}"#; MAX_TYPE_ERRORS + 5].join(",");
        let fields = bad_fields::<OrderRequest>(&format!(r#"{{"items":[{lines}]}}"#));
        assert_eq!(fields.len(), MAX_TYPE_ERRORS);
        assert!(fields.iter().all(|(_, m)| m == "must be an integer"));
    }

    #[test]
    fn when_the_json_is_broken_should_name_the_position() {
        let problem = parse_json::<OrderRequest>(b"{\n  \"items\": [,]\n}", today()).unwrap_err();
        assert_eq!(problem.status, 400);
        assert!(
            problem.detail.contains("line 2 column"),
            "{}",
            problem.detail
        );
        // A type error first does not hide a syntax error further on.
        let problem =
            parse_json::<OrderRequest>(b"{\"items\": 5,\n \"x\": [,]}", today()).unwrap_err();
        assert_eq!(problem.status, 400);
        assert!(
            problem.detail.contains("line 2 column"),
            "{}",
            problem.detail
        );
        for body in [&b"[1, 2]"[..], b"{} x", b"  "] {
            let problem = parse_json::<OrderRequest>(body, today()).unwrap_err();
            assert_eq!(problem.status, 400, "{body:?}");
        }
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
