//! What the local runner's tests share: one HTTP call, and a customer
//! registered with a SIM order placed.

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

/// Registers `customer` through the API (which links their login), places a
/// SIM order with the same token, and returns that token and the Order's id.
pub async fn place_order(
    http: &reqwest::Client,
    api: &str,
    customer: Customer<'_>,
) -> (String, String) {
    let (_, body) = send(
        http.post(format!("{api}/_local/token"))
            .json(&json!({"sub": customer.sub, "email": customer.email})),
    )
    .await;
    let token = body["token"].as_str().expect("a token").to_owned();
    let (status, registered) = send(
        http.post(format!("{api}/registrations"))
            .bearer_auth(&token)
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
            .json(&json!({"commodityType": "SIM", "items": [{"productId": sim, "quantity": 1}]})),
    )
    .await;
    assert_eq!(status, 201, "{placed}");
    let order_id = placed["orderId"].as_str().expect("an order id").to_owned();
    (token, order_id)
}
