//! Starts `portal-local` as a process on free ports and drives a customer's
//! journey over HTTP: token → registration (which links the login, so the
//! same token goes on) → staff-free routes → account.

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};

/// Kills the runner when the test ends, whatever happens.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the runner on free ports and returns it with the API's URL.
fn start() -> (Running, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_portal-local"))
        .env("PORT", "0")
        .env("SF_EMULATOR_BIND", "127.0.0.1:0")
        .env("SF_EMULATOR_PUBSUB_BIND", "127.0.0.1:0")
        .env("WHMCS_EMULATOR_BIND", "127.0.0.1:0")
        .env_remove("SF_LOGIN_URL")
        .env_remove("WHMCS_API_URL")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("portal-local starts");
    let stdout = child.stdout.take().expect("stdout is piped");
    let running = Running(child);
    let mut api = None;
    let mut admin = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("a line of output");
        if let Some(url) = line.trim().strip_prefix("API:") {
            api = Some(url.trim().to_owned());
        }
        if let Some(token) = line.trim().strip_prefix("admin token:") {
            admin = Some(token.trim().to_owned());
            break;
        }
    }
    assert_eq!(admin.as_deref(), Some("local-admin"));
    (running, api.expect("the runner prints the API's URL"))
}

async fn post(
    http: &reqwest::Client,
    url: String,
    token: Option<&str>,
    body: Value,
) -> (u16, Value) {
    let mut request = http.post(url).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("the API answers");
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON body"))
}

async fn get(http: &reqwest::Client, url: String, token: &str) -> (u16, Value) {
    let response = http
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .expect("the API answers");
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON body"))
}

fn token_of(body: &Value) -> String {
    body["token"].as_str().expect("a token").to_owned()
}

#[tokio::test]
async fn a_customer_journey_through_the_local_runner() {
    let (_runner, api) = start();
    let http = reqwest::Client::new();

    let (status, body) = post(
        &http,
        format!("{api}/_local/token"),
        None,
        json!({"sub": "user-1", "email": "hanako@example.jp"}),
    )
    .await;
    assert_eq!(status, 200);
    let token = token_of(&body);

    let (status, bad) = post(
        &http,
        format!("{api}/_local/token"),
        None,
        json!({"sub": "", "email": "nope"}),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(bad["errors"].as_array().map(Vec::len), Some(2));

    let (status, not_yet) = get(&http, format!("{api}/account"), &token).await;
    assert_eq!(status, 403);
    assert_eq!(not_yet["type"], "urn:portal:problem:not-linked");

    // An unverified e-mail cannot register.
    let (_, body) = post(
        &http,
        format!("{api}/_local/token"),
        None,
        json!({"sub": "user-2", "email": "other@example.jp", "email_verified": false}),
    )
    .await;
    let (status, refused) = post(
        &http,
        format!("{api}/registrations"),
        Some(&token_of(&body)),
        json!({"firstName": "Other", "lastName": "Person"}),
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(refused["type"], "urn:portal:problem:email-not-verified");

    let (status, registered) = post(
        &http,
        format!("{api}/registrations"),
        Some(&token),
        json!({"firstName": "Hanako", "lastName": "Yamada"}),
    )
    .await;
    assert_eq!(status, 201, "{registered}");
    let account_id = registered["accountId"].as_str().expect("an account id");

    let (status, requested) = post(
        &http,
        format!("{api}/eligibility-requests"),
        Some(&token),
        json!({"address": {"postalCode": "150-0001", "prefecture": "Tokyo", "city": "Shibuya-ku", "street": "1-2-3 Jingumae"}}),
    )
    .await;
    assert_eq!(status, 202, "{requested}");
    let (status, _) = post(
        &http,
        format!("{api}/id-verifications"),
        Some(&token),
        json!({"documentType": "passport"}),
    )
    .await;
    assert_eq!(status, 202);
    let (status, catalog) = get(&http, format!("{api}/catalog"), &token).await;
    assert_eq!(status, 200);
    let sim = catalog["products"]
        .as_array()
        .expect("products")
        .iter()
        .find(|p| p["family"] == "SIM" && p["itemClass"] == "Service")
        .expect("a SIM plan")["productId"]
        .clone();
    let (status, placed) = post(
        &http,
        format!("{api}/orders"),
        Some(&token),
        json!({"commodityType": "SIM", "items": [{"productId": sim, "quantity": 1}]}),
    )
    .await;
    assert_eq!(status, 201, "{placed}");
    let (status, orders) = get(&http, format!("{api}/orders"), &token).await;
    assert_eq!(status, 200);
    assert_eq!(orders["orders"][0]["orderId"], placed["orderId"]);
    let (status, _) = post(
        &http,
        format!("{api}/support-cases"),
        Some(&token),
        json!({"subject": "Hello", "description": "A question."}),
    )
    .await;
    assert_eq!(status, 201);

    let (status, account) = get(&http, format!("{api}/account"), &token).await;
    assert_eq!(status, 200);
    assert_eq!(account["accountId"], account_id);
    assert_eq!(account["eligibility"]["status"], "Pending");
    assert_eq!(account["idVerification"]["status"], "Pending");
}
