//! `portal-local` on the real adapters: with `STATE_TABLE` and an AWS
//! endpoint (the moto server) it creates the table and the queues, keeps its
//! state there (an approved Order goes through the SQS queue and leaves its
//! provisioning record in DynamoDB) and finds it again after a restart (a
//! repeated `POST /orders` is answered from the stored idempotency record).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failure should panic loudly

#[allow(dead_code)] // shared helpers; this test places its order itself
mod common;

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};

use crate::common::{Customer, approve_and_await_provisioning, local_token, send};

/// Stops the runner when the test ends, whatever happens.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts portal-local on `table` (and queues named after it); its API's
/// and org's URLs and its state line.
fn start(table: &str) -> (Running, String, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_portal-local"))
        .env("PORT", "0")
        .env("SF_EMULATOR_BIND", "127.0.0.1:0")
        .env("SF_EMULATOR_PUBSUB_BIND", "127.0.0.1:0")
        .env("WHMCS_EMULATOR_BIND", "127.0.0.1:0")
        .env_remove("SF_LOGIN_URL")
        .env_remove("WHMCS_API_URL")
        .env("STATE_TABLE", table)
        .env("PROVISIONING_QUEUE", format!("{table}-provisioning.fifo"))
        .env("PROVISIONING_DLQ", format!("{table}-provisioning-dlq.fifo"))
        .env("EVENT_DLQ", format!("{table}-events-dlq.fifo"))
        .env("AWS_ENDPOINT_URL", test_support::moto::endpoint())
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("portal-local starts");
    let stdout = child.stdout.take().expect("stdout is piped");
    let running = Running(child);
    let (mut api, mut org, mut state) = (None, None, None);
    let first = |v: &str| v.split_whitespace().next().expect("a URL").to_owned();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("a line of output");
        let line = line.trim();
        if let Some(v) = line.strip_prefix("API:") {
            api = Some(first(v));
        } else if let Some(v) = line.strip_prefix("Salesforce org:") {
            org = Some(first(v));
        } else if let Some(v) = line.strip_prefix("state:") {
            state = Some(v.trim().to_owned());
        } else if line.starts_with("admin token:") {
            break;
        }
    }
    (
        running,
        api.expect("the API's URL"),
        org.expect("the org's URL"),
        state.expect("the state line"),
    )
}

#[tokio::test]
async fn the_state_lives_in_dynamodb_and_sqs_and_survives_a_restart() {
    let table = test_support::aws::unique_name("local");
    let http = reqwest::Client::new();
    let customer = Customer {
        sub: "user-aws",
        email: "jiro@example.jp",
        first_name: "Jiro",
        last_name: "Sato",
    };

    let (runner, api, org, state) = start(&table);
    assert!(state.contains(&table), "{state}");
    let token = local_token(&http, &api, &customer).await;
    let (status, body) = send(
        http.post(format!("{api}/registrations"))
            .bearer_auth(&token)
            .header("Idempotency-Key", "registration-on-aws-1")
            .json(&json!({"firstName": customer.first_name, "lastName": customer.last_name})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (_, catalog) = send(http.get(format!("{api}/catalog")).bearer_auth(&token)).await;
    let sim = catalog["products"]
        .as_array()
        .expect("products")
        .iter()
        .find(|p| p["family"] == "SIM" && p["itemClass"] == "Service")
        .expect("a SIM plan")["productId"]
        .clone();
    let order = json!({"commodityType": "SIM", "items": [{"productId": sim, "quantity": 1}]});
    let post_order = |api: &str, token: &str| {
        http.post(format!("{api}/orders"))
            .bearer_auth(token)
            .header("Idempotency-Key", "order-on-aws-1")
            .json(&order)
    };
    let (status, placed) = send(post_order(&api, &token)).await;
    assert_eq!(status, 201, "{placed}");
    let order_id = placed["orderId"].as_str().expect("an order id").to_owned();
    approve_and_await_provisioning(&http, &api, &org, &token, &order_id).await;

    // The provisioning record is in the table, not in the process.
    let dynamo = test_support::aws::dynamo_client().await;
    let items = dynamo.scan().table_name(&table).send().await.unwrap();
    let holds_order = |item: &std::collections::HashMap<String, AttributeValue>| {
        item.values()
            .any(|v| v.as_s().is_ok_and(|s| s.contains(&order_id)))
    };
    assert!(
        items.items().iter().any(holds_order),
        "no item of {order_id} in {table}: {:?}",
        items.items()
    );
    drop(runner);

    // A restart finds the table and queues, and the API its idempotency record.
    let (_runner, api, _, _) = start(&table);
    let token = local_token(&http, &api, &customer).await;
    let response = post_order(&api, &token).send().await.unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(
        response
            .headers()
            .get("idempotency-replayed")
            .and_then(|v| v.to_str().ok()),
        Some("true")
    );
    let replayed: Value = response.json().await.unwrap();
    assert_eq!(replayed["orderId"], order_id.as_str(), "{replayed}");
}
