//! `GET /account` under load as the org fills up: the measurement issue 12
//! quotes (10,239 → 600 → 356 requests/s at 64 connections as 1,200 and then
//! 2,800 Cases were created, the org emulator copying the org per request).
//!
//! `cargo bench -p portal-local --bench account_load`: starts the release
//! `portal-local` on free ports, registers one customer, then at 0, 1,200,
//! 2,800 and 8,000 of their Cases (created through `POST /support-cases`)
//! sends `GET /account` from 64 connections for 3 s and prints requests/s.
#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)] // a bench binary

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const CONNECTIONS: usize = 64;
const LOAD_FOR: Duration = Duration::from_secs(3);
const STEPS: [usize; 4] = [0, 1_200, 2_800, 8_000];

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start() -> (Running, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_portal-local"))
        .env("PORT", "0")
        .env("SF_EMULATOR_BIND", "127.0.0.1:0")
        .env("SF_EMULATOR_PUBSUB_BIND", "127.0.0.1:0")
        .env("WHMCS_EMULATOR_BIND", "127.0.0.1:0")
        .env("SF_EMULATOR_DAILY_API_LIMIT", "100000000")
        .env("PORTAL_POSTS_PER_MINUTE", "10000")
        .env("PORTAL_POSTS_PER_DAY", "1000000")
        .env_remove("SF_LOGIN_URL")
        .env_remove("WHMCS_API_URL")
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("portal-local starts");
    let stdout = child.stdout.take().expect("stdout is piped");
    let running = Running(child);
    let mut api = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("a line of output");
        if let Some(url) = line.trim().strip_prefix("API:") {
            api = Some(url.trim().to_owned());
        }
        if line.trim().starts_with("admin token:") {
            break;
        }
    }
    (running, api.expect("the runner prints the API's URL"))
}

async fn json(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn load(http: &reqwest::Client, url: &str, token: &str) -> f64 {
    let done = Arc::new(AtomicU64::new(0));
    let until = Instant::now() + LOAD_FOR;
    let started = Instant::now();
    let workers: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            let (http, url, token, done) =
                (http.clone(), url.to_owned(), token.to_owned(), done.clone());
            tokio::spawn(async move {
                while Instant::now() < until {
                    let response = http.get(&url).bearer_auth(&token).send().await.unwrap();
                    assert_eq!(response.status(), 200);
                    response.bytes().await.unwrap();
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.unwrap();
    }
    done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() {
    let (_running, api) = start();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(CONNECTIONS)
        .build()
        .unwrap();
    let (_, body) = json(
        http.post(format!("{api}/_local/token"))
            .json(&json!({"sub": "load-1", "email": "load@example.jp"})),
    )
    .await;
    let token = body["token"].as_str().unwrap().to_owned();
    let (status, registered) = json(
        http.post(format!("{api}/registrations"))
            .bearer_auth(&token)
            .header("Idempotency-Key", "load-registration")
            .json(&json!({"firstName": "Load", "lastName": "Test"})),
    )
    .await;
    assert_eq!(status, 201, "{registered}");
    println!("| Cases in the org | GET /account, {CONNECTIONS} connections (req/s) |");
    println!("| ---: | ---: |");
    let mut cases = 0;
    for step in STEPS {
        while cases < step {
            let (status, created) = json(
                http.post(format!("{api}/support-cases"))
                    .bearer_auth(&token)
                    .header("Idempotency-Key", format!("load-case-{cases}"))
                    .json(&json!({"subject": "Load", "description": "A question."})),
            )
            .await;
            assert_eq!(status, 201, "{created}");
            cases += 1;
        }
        let rate = load(&http, &format!("{api}/account"), &token).await;
        println!("| {cases} | {rate:.0} |");
    }
}
