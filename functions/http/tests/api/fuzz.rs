//! Random bodies and headers at every route with a valid token: never a 5xx,
//! and every response valid against `openapi.json` (checked by the helpers).

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Map, Value, json};

use crate::helpers::{TestApp, spawn_app};

const ROUTES: &[(&str, &str, &str)] = &[
    ("GET", "/health", "/health"),
    ("POST", "/registrations", "/registrations"),
    ("GET", "/account", "/account"),
    ("POST", "/eligibility-requests", "/eligibility-requests"),
    ("POST", "/id-verifications", "/id-verifications"),
    ("GET", "/catalog", "/catalog"),
    ("POST", "/orders", "/orders"),
    ("GET", "/orders", "/orders"),
    ("GET", "/orders/{orderId}", "/orders/801000000000001AAA"),
    ("GET", "/services", "/services"),
    ("POST", "/cancellations", "/cancellations"),
    ("POST", "/support-cases", "/support-cases"),
    ("GET", "/support-cases", "/support-cases"),
];

/// Field names the routes know, so random objects often reach the use cases.
const KEYS: &[&str] = &[
    "firstName",
    "lastName",
    "phone",
    "companyName",
    "customerNumber",
    "source",
    "commodityType",
    "address",
    "postalCode",
    "prefecture",
    "city",
    "street",
    "building",
    "notes",
    "documentType",
    "items",
    "productId",
    "quantity",
    "serviceId",
    "cancellationDate",
    "reason",
    "subject",
    "description",
];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (0i64..120).prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,40}".prop_map(Value::String),
        prop::sample::select(vec![
            "SIM",
            "VPN",
            "Personal SonixNet Home Internet",
            "passport",
            "checkout",
            "150-0001",
            "Tokyo",
            "2999-12-31",
            "2020-01-01",
            "01t000000000000AAA",
            "",
        ])
        .prop_map(|s| Value::String(s.to_owned())),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..6).prop_map(|pairs| {
                Value::Object(
                    pairs
                        .into_iter()
                        .map(|(k, v)| (k.to_owned(), v))
                        .collect::<Map<_, _>>(),
                )
            }),
        ]
    })
}

/// One part of a random `multipart/form-data` form.
#[derive(Debug, Clone)]
struct Part {
    name: &'static str,
    file_name: Option<String>,
    content: Vec<u8>,
}

#[derive(Debug, Clone)]
enum Body {
    Json(Value),
    Bytes(Vec<u8>),
    /// A form; `broken` cuts it short.
    Form(Vec<Part>, bool),
    Huge,
    None,
}

/// File contents: a JPEG, PNG or PDF signature (or none) before random bytes.
fn file_content() -> impl Strategy<Value = Vec<u8>> {
    let signature = prop::sample::select(vec![
        b"\xff\xd8\xff".to_vec(),
        b"\x89PNG\r\n\x1a\n".to_vec(),
        b"%PDF-".to_vec(),
        b"MZ".to_vec(),
        Vec::new(),
    ]);
    (signature, prop::collection::vec(any::<u8>(), 0..64)).prop_map(|(mut head, tail)| {
        head.extend(tail);
        head
    })
}

fn part() -> impl Strategy<Value = Part> {
    let name = prop::sample::select(vec!["documentType", "notes", "documents", "other", ""]);
    let value = prop_oneof![
        file_content(),
        prop::sample::select(vec!["passport", "drivers_license", "", "x"])
            .prop_map(|s| s.as_bytes().to_vec()),
        prop::collection::vec(any::<u8>(), 0..40),
    ];
    let file_name = prop::option::of("[ -~]{0,20}");
    (name, file_name, value).prop_map(|(name, file_name, content)| Part {
        name,
        file_name,
        content,
    })
}

fn body() -> impl Strategy<Value = Body> {
    prop_oneof![
        6 => json_value().prop_map(Body::Json),
        3 => (prop::collection::vec(part(), 0..5), prop::bool::weighted(0.2))
            .prop_map(|(parts, broken)| Body::Form(parts, broken)),
        2 => prop::collection::vec(any::<u8>(), 0..200).prop_map(Body::Bytes),
        1 => Just(Body::Huge),
        1 => Just(Body::None),
    ]
}

const BOUNDARY: &str = "fuzzBoundary42";

fn content_type() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => Just(b"application/json".to_vec()),
        1 => Just(b"application/json; charset=utf-8".to_vec()),
        3 => Just(format!("multipart/form-data; boundary={BOUNDARY}").into_bytes()),
        1 => Just(b"multipart/form-data".to_vec()),
        1 => Just(b"text/plain".to_vec()),
        1 => Just(Vec::new()),
        1 => prop::collection::vec(0x20u8..0x7f, 0..30),
    ]
}

fn form_bytes(parts: &[Part], broken: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for part in parts {
        out.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{}\"",
                part.name
            )
            .as_bytes(),
        );
        if let Some(file) = &part.file_name {
            out.extend_from_slice(format!("; filename=\"{}\"", file.replace('"', "'")).as_bytes());
        }
        out.extend_from_slice(b"\r\n\r\n");
        out.extend_from_slice(&part.content);
        out.extend_from_slice(b"\r\n");
    }
    if broken {
        out.truncate(out.len() / 2);
    } else {
        out.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    }
    out
}

/// Header-legal bytes (visible ASCII, space, tab, obs-text), any length.
fn idempotency_key() -> impl Strategy<Value = Option<Vec<u8>>> {
    prop_oneof![
        2 => Just(None),
        2 => "[!-~]{1,40}".prop_map(|k| Some(k.into_bytes())),
        1 => prop::collection::vec(
            prop_oneof![Just(b'\t'), 0x20u8..0x7f, 0x80u8..=0xff],
            0..300
        )
        .prop_map(Some),
    ]
}

async fn throw(
    app: &TestApp,
    token: &str,
    route: usize,
    body: &Body,
    content_type: &[u8],
    key: Option<&[u8]>,
) {
    let (method, template, path) = ROUTES[route];
    let mut call = app.call(method, Some(template), path).token(token);
    call = match key {
        Some(key) => call.header("idempotency-key", key),
        None => call.without_key(),
    };
    call = match body {
        Body::Json(value) => call.raw(content_type, value.to_string().into_bytes()),
        Body::Bytes(bytes) => call.raw(content_type, bytes.clone()),
        Body::Form(parts, broken) => call.raw(content_type, form_bytes(parts, *broken)),
        Body::Huge => call.raw(content_type, vec![b' '; 80 * 1024]),
        Body::None => call,
    };
    let response = call.send().await;
    assert!(
        response.status < 500,
        "{method} {path} answered {} to {body:?}: {:?}",
        response.status,
        String::from_utf8_lossy(&response.body)
    );
}

#[test]
fn random_bodies_and_headers_never_cause_a_5xx_and_always_follow_the_contract() {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let (app, token) = runtime.block_on(async {
        let app = spawn_app().await;
        let (token, _) = app.customer("fuzz").await;
        // A well-formed order id of this account, for the detail route.
        let product = app.product(&token, "SIM").await;
        let placed = app
            .post("/orders")
            .token(&token)
            .json(
                &json!({"commodityType": "SIM", "items": [{"productId": product, "quantity": 1}]}),
            )
            .send()
            .await;
        assert_eq!(placed.status, 201);
        (app, token)
    });
    let mut runner = TestRunner::new(Config {
        cases: 256,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(
            &(0..ROUTES.len(), body(), content_type(), idempotency_key()),
            |(route, body, content_type, key)| {
                runtime.block_on(throw(
                    &app,
                    &token,
                    route,
                    &body,
                    &content_type,
                    key.as_deref(),
                ));
                Ok(())
            },
        )
        .expect("no 5xx, every response per the contract");
}
