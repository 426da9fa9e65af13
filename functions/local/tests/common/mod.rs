//! What the local runner's tests share: one HTTP call, a login, a customer
//! registered with a SIM order placed, and that Order approved and awaited.

use std::time::Duration;

use serde_json::{Value, json};

/// Sends `request`; the status and the JSON body (`Null` when not JSON).
pub async fn send(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.expect("the server answers");
    let status = response.status().as_u16();
    let body = response.bytes().await.expect("a body");
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

/// A portal login and the names it registers with.
#[derive(Clone, Copy)]
pub struct Customer<'a> {
    pub sub: &'a str,
    pub email: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
}

/// A token for `customer`'s login from portal-local's stand-in identity provider.
pub async fn local_token(http: &reqwest::Client, api: &str, customer: &Customer<'_>) -> String {
    let (_, body) = send(
        http.post(format!("{api}/_local/token"))
            .json(&json!({"sub": customer.sub, "email": customer.email})),
    )
    .await;
    body["token"].as_str().expect("a token").to_owned()
}

/// Registers `customer` through the API (which links their login), places a
/// SIM order with the same token, and returns that token and the Order's id.
pub async fn place_order(
    http: &reqwest::Client,
    api: &str,
    customer: Customer<'_>,
) -> (String, String) {
    let token = local_token(http, api, &customer).await;
    let (status, registered) = send(
        http.post(format!("{api}/registrations"))
            .bearer_auth(&token)
            .header("Idempotency-Key", format!("{}-registration", customer.sub))
            .json(&json!({"firstName": customer.first_name, "lastName": customer.last_name})),
    )
    .await;
    assert_eq!(status, 201, "{registered}");
    let (_, catalog) = send(http.get(format!("{api}/catalog")).bearer_auth(&token)).await;
    let sim = catalog["products"]
        .as_array()
        .expect("products")
        .iter()
        .find(|p| p["family"] == "SIM" && p["itemClass"] == "Service")
        .expect("a SIM plan")["productId"]
        .clone();
    let (status, placed) = send(
        http.post(format!("{api}/orders"))
            .bearer_auth(&token)
            .header("Idempotency-Key", format!("{}-order", customer.sub))
            .json(&json!({"commodityType": "SIM", "items": [{"productId": sim, "quantity": 1}]})),
    )
    .await;
    assert_eq!(status, 201, "{placed}");
    let order_id = placed["orderId"].as_str().expect("an order id").to_owned();
    (token, order_id)
}

/// Staff approve `order_id` in the org at `org` (204), then the Order is
/// polled through the API every 200 ms for up to 30 s until it is
/// `Provisioned`; its last answer is returned (asserted `Provisioned`).
#[allow(
    dead_code,
    reason = "approve_twice.rs approves on its own terms (twice, watching WHMCS)"
)]
pub async fn approve_and_await_provisioning(
    http: &reqwest::Client,
    api: &str,
    org: &str,
    token: &str,
    order_id: &str,
) -> Value {
    let (status, body) = send(
        http.patch(format!(
            "{org}/services/data/v62.0/sobjects/Order/{order_id}"
        ))
        .bearer_auth("local-admin")
        .json(&json!({"Status": "Approved"})),
    )
    .await;
    assert_eq!(status, 204, "{body}");
    let mut order = Value::Null;
    for _ in 0..150 {
        let (status, body) = send(
            http.get(format!("{api}/orders/{order_id}"))
                .bearer_auth(token),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        order = body;
        if order["activationStatus"] == "Provisioned" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(order["activationStatus"], "Provisioned", "{order}");
    order
}
