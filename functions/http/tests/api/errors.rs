//! Every error status of the API, as problem+json.

use serde_json::json;

use crate::helpers::{Response, spawn_app};

#[tokio::test]
async fn an_unknown_route_is_a_404_problem() {
    let app = spawn_app().await;
    let (token, _) = app.customer("hanako").await;
    for path in ["/nope", "/orders/", "/orders/a/b", "/_local/token"] {
        let response = app.call("GET", None, path).token(&token).send().await;
        assert_eq!(response.status, 404, "{path}");
        assert_eq!(response.problem(), "not-found");
    }
}

#[tokio::test]
async fn a_known_route_with_another_method_is_405_with_allow() {
    let app = spawn_app().await;
    let response = app.call("DELETE", Some("/orders"), "/orders").send().await;
    assert_eq!(response.status, 405);
    assert_eq!(response.problem(), "method-not-allowed");
    let allow = response.header("allow").unwrap().to_owned();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    let put = app.call("PUT", Some("/health"), "/health").send().await;
    assert_eq!(put.status, 405);
}

#[tokio::test]
async fn a_body_over_64_kib_is_413() {
    let app = spawn_app().await;
    let (token, _) = app.customer("hanako").await;
    let huge = json!({"subject": "Big", "description": "x".repeat(70 * 1024)});
    let response = app
        .post("/support-cases")
        .token(&token)
        .json(&huge)
        .send()
        .await;
    assert_eq!(response.status, 413);
    assert_eq!(response.problem(), "payload-too-large");
}

#[tokio::test]
async fn a_post_without_json_is_415() {
    let app = spawn_app().await;
    let (token, _) = app.customer("hanako").await;
    for content_type in [
        &b"text/plain"[..],
        b"application/x-www-form-urlencoded",
        b"",
    ] {
        let response = app
            .post("/support-cases")
            .token(&token)
            .raw(content_type, b"subject=Hi".to_vec())
            .send()
            .await;
        assert_eq!(response.status, 415);
        assert_eq!(response.problem(), "unsupported-media-type");
    }
}

#[tokio::test]
async fn malformed_json_is_400_naming_the_position() {
    let app = spawn_app().await;
    let (token, _) = app.customer("hanako").await;
    let response = app
        .post("/support-cases")
        .token(&token)
        .raw(
            b"application/json",
            b"{\n  \"subject\": \"Hi\",\n  oops\n}".to_vec(),
        )
        .send()
        .await;
    assert_eq!(response.status, 400);
    assert_eq!(response.problem(), "malformed-json");
    let detail = response.json()["detail"].as_str().unwrap().to_owned();
    assert!(detail.contains("line 3 column"), "{detail}");

    for body in [&b"[1,2]"[..], b"\"text\"", b"", b"{\"subject\": \"\xff\"}"] {
        let response = app
            .post("/support-cases")
            .token(&token)
            .raw(b"application/json", body.to_vec())
            .send()
            .await;
        assert_eq!(response.status, 400, "{body:?}");
    }
}

/// The `(field, message)` pairs of a 422 `validation-failed`.
fn bad_fields(response: &Response) -> Vec<(String, String)> {
    assert_eq!(response.status, 422);
    assert_eq!(response.problem(), "validation-failed");
    response.json()["errors"]
        .as_array()
        .expect("errors is an array")
        .iter()
        .map(|e| {
            (
                e["field"].as_str().expect("a field").to_owned(),
                e["message"].as_str().expect("a message").to_owned(),
            )
        })
        .collect()
}

fn names(fields: &[(String, String)]) -> Vec<&str> {
    fields.iter().map(|(f, _)| f.as_str()).collect()
}

#[tokio::test]
async fn a_field_of_the_wrong_type_is_listed_with_the_bad_values_of_the_other_fields() {
    let app = spawn_app().await;
    let token = app.token("sub-1", "taro@example.jp", None);
    let response = app
        .post("/registrations")
        .token(&token)
        .raw(
            b"application/json",
            br#"{"firstName":"","lastName":123}"#.to_vec(),
        )
        .send()
        .await;
    let fields = bad_fields(&response);
    assert_eq!(names(&fields), ["firstName", "lastName"]);
    assert_eq!(fields[1].1, "must be a string");
    assert_eq!(
        response.json()["detail"],
        "2 field(s) are invalid; see errors."
    );
    assert_eq!(app.emulator.count("Account"), 0);
}

#[tokio::test]
async fn two_fields_of_the_wrong_type_are_both_listed() {
    let app = spawn_app().await;
    let (token, _) = app.customer("hanako").await;
    let response = app
        .post("/support-cases")
        .token(&token)
        .json(&json!({"subject": 1, "description": ["Hello"]}))
        .send()
        .await;
    assert_eq!(
        bad_fields(&response),
        [
            ("subject".to_owned(), "must be a string".to_owned()),
            ("description".to_owned(), "must be a string".to_owned()),
        ]
    );
}

#[tokio::test]
async fn a_type_error_a_missing_field_and_a_bad_value_are_listed_together_in_field_order() {
    let app = spawn_app().await;
    let token = app.token("sub-1", "taro@example.jp", None);
    let response = app
        .post("/registrations")
        .token(&token)
        .json(&json!({"phone": "12", "firstName": 5}))
        .send()
        .await;
    let fields = bad_fields(&response);
    assert_eq!(names(&fields), ["firstName", "lastName", "phone"]);
    assert_eq!(fields[0].1, "must be a string");
    assert_eq!(fields[1].1, "is required");
    assert_eq!(app.emulator.count("Account"), 0);
}

#[tokio::test]
async fn an_order_line_with_a_type_error_and_a_bad_sibling_names_both_by_path() {
    let app = spawn_app().await;
    let (token, _) = app.customer("hanako").await;
    let response = app
        .post("/orders")
        .token(&token)
        .json(&json!({"commodityType": "SIM", "items": [{"productId": "x", "quantity": "two"}]}))
        .send()
        .await;
    let fields = bad_fields(&response);
    assert_eq!(names(&fields), ["items[0].productId", "items[0].quantity"]);
    assert_eq!(fields[1].1, "must be an integer");
    assert_eq!(app.emulator.count("Order"), 0);
}

#[tokio::test]
async fn salesforce_outages_after_retries_are_503_with_retry_after() {
    let app = spawn_app().await;
    let (token, _) = app.customer("hanako").await;
    app.emulator
        .inject(salesforce_emulator::Fault::ServiceUnavailable(10));
    let response = app.get("/orders", "/orders").token(&token).send().await;
    assert_eq!(response.status, 503);
    assert!(response.header("retry-after").is_some());
}

#[tokio::test]
async fn lengths_count_utf16_code_units_as_salesforce_does_and_name_the_field() {
    let app = spawn_app().await;
    let token = app.token("sub-kanji", "kanji@example.jp", None);
    // 40 × 𠮷 is 40 characters but 80 UTF-16 code units: too long for Text(40).
    let response = app
        .post("/registrations")
        .token(&token)
        .key("too-long")
        .json(&json!({"firstName": "𠮷".repeat(40), "lastName": "吉".repeat(80)}))
        .send()
        .await;
    assert_eq!(response.status, 422);
    let fields = bad_fields(&response);
    assert_eq!(names(&fields), ["firstName"]);
    assert!(fields[0].1.contains("40"), "{fields:?}");
    assert_eq!(
        app.emulator.count("Account"),
        0,
        "nothing reached Salesforce"
    );
    let fits = app
        .post("/registrations")
        .token(&token)
        .key("fits")
        .json(&json!({"firstName": "𠮷".repeat(20), "lastName": "吉".repeat(80)}))
        .send()
        .await;
    assert_eq!(fits.status, 201, "{:?}", fits.json());
}
