//! Starts `portal-local` as a process on free ports and drives the whole
//! pipeline over HTTP: token → registration → SIM order → staff approval in
//! the emulated org → the Order provisioned into the emulated WHMCS, seen
//! through the portal API.

mod common;

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};

use crate::common::{Customer, approve_and_await_provisioning, place_order, send};

/// Kills the runner when the test ends, whatever happens.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The URLs the runner printed.
struct Urls {
    api: String,
    org: String,
    whmcs: String,
}

/// The URL at the start of a summary value (`http://… (emulated)`).
fn url_of(value: &str) -> String {
    value.split_whitespace().next().expect("a URL").to_owned()
}

fn start() -> (Running, Urls) {
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
    let (mut api, mut org, mut whmcs, mut login) = (None, None, None, None);
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("a line of output");
        let line = line.trim();
        if let Some(v) = line.strip_prefix("API:") {
            api = Some(url_of(v));
        } else if let Some(v) = line.strip_prefix("Salesforce org:") {
            org = Some(url_of(v));
        } else if let Some(v) = line.strip_prefix("WHMCS API:") {
            whmcs = Some(url_of(v));
        } else if let Some(v) = line.strip_prefix("WHMCS login:") {
            login = Some(v.trim().to_owned());
        } else if line.starts_with("admin token:") {
            break;
        }
    }
    assert_eq!(login.as_deref(), Some("local / local"));
    let urls = Urls {
        api: api.expect("the API's URL"),
        org: org.expect("the org's URL"),
        whmcs: whmcs.expect("the WHMCS API's URL"),
    };
    (running, urls)
}

#[tokio::test]
async fn a_staff_approval_ends_as_a_provisioned_service_in_whmcs_and_salesforce() {
    let (_runner, urls) = start();
    let api = &urls.api;
    let http = reqwest::Client::new();

    let customer = Customer {
        sub: "user-1",
        email: "hanako@example.jp",
        first_name: "Hanako",
        last_name: "Yamada",
    };
    let (token, order_id) = place_order(&http, api, customer).await;

    let order = approve_and_await_provisioning(&http, api, &urls.org, &token, &order_id).await;
    let whmcs_order_id = order["whmcsOrderId"].as_u64().expect("a WHMCS order id");
    assert!(order["serviceId"].as_u64().is_some(), "{order}");

    let (status, orders) = send(http.post(&urls.whmcs).form(&[
        ("action", "GetOrders"),
        ("identifier", "local"),
        ("secret", "local"),
        ("responsetype", "json"),
    ]))
    .await;
    assert_eq!(status, 200, "{orders}");
    assert_eq!(orders["result"], "success", "{orders}");
    let listed = orders["orders"]["order"]
        .as_array()
        .expect("a list of orders");
    assert_eq!(listed.len(), 1, "{orders}");
    assert_eq!(
        listed[0]["id"]
            .as_u64()
            .or_else(|| listed[0]["id"].as_str().and_then(|id| id.parse().ok())),
        Some(whmcs_order_id),
        "{orders}"
    );
}
