//! Every error status of the API, as problem+json.

use serde_json::json;

use crate::helpers::spawn_app;

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

#[tokio::test]
async fn a_field_of_the_wrong_type_is_422_naming_it() {
    let app = spawn_app().await;
    let (token, _) = app.customer("hanako").await;
    let response = app
        .post("/orders")
        .token(&token)
        .json(&json!({"commodityType": "SIM", "items": [{"productId": "x", "quantity": "two"}]}))
        .send()
        .await;
    assert_eq!(response.status, 422);
    assert_eq!(response.json()["errors"][0]["field"], "items[0].quantity");
    assert_eq!(
        response.json()["errors"][0]["message"],
        "must be an integer"
    );
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
