//! Client overhead against the in-process org emulator on localhost.
//!
//! `cargo bench -p salesforce --bench client` prints a markdown table:
//! latency of a sequential `get` of one record (median and p99 over 2,000
//! calls after warm-up), throughput at concurrency 1 and 32, and the token
//! requests a fresh client makes for 1,000 calls (expected: exactly 1).
//! The figures include the emulator's own work; they bound the client's.

use std::io::Write as _;
use std::time::{Duration, Instant};

use salesforce::schema::account;
use salesforce::{Id, SalesforceClient, SalesforceConfig};
use salesforce_emulator::{Emulator, EmulatorConfig, fixtures};
use serde_json::{Value, json};

const WARM_UP: usize = 300;
const SEQUENTIAL: usize = 2_000;
const CONCURRENT_TASKS: usize = 32;
const CONCURRENT_CALLS: usize = 6_400;
const TOKEN_PROBE_CALLS: usize = 1_000;

fn client(emulator: &Emulator) -> SalesforceClient {
    let config = SalesforceConfig::new(
        &emulator.base_url(),
        emulator.config().client_id.clone(),
        emulator.config().username.clone(),
        fixtures::CLIENT_PRIVATE_KEY_PEM.as_bytes(),
    )
    .expect("the bench configuration is valid");
    SalesforceClient::new(config).expect("the client builds")
}

async fn get(client: &SalesforceClient, id: &Id) {
    let _: Value = client
        .get(account::OBJECT, id, &[account::NAME])
        .await
        .expect("the get succeeds");
}

/// Runs `calls` gets spread over `tasks` concurrent tasks; returns the wall time.
async fn concurrent(client: &SalesforceClient, id: &Id, tasks: usize, calls: usize) -> Duration {
    let started = Instant::now();
    let handles: Vec<_> = (0..tasks)
        .map(|t| {
            let client = client.clone();
            let id = id.clone();
            let share = calls / tasks + usize::from(t < calls % tasks);
            tokio::spawn(async move {
                for _ in 0..share {
                    get(&client, &id).await;
                }
            })
        })
        .collect();
    for handle in handles {
        handle.await.expect("a bench task panicked");
    }
    started.elapsed()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn per_second(calls: usize, elapsed: Duration) -> f64 {
    calls as f64 / elapsed.as_secs_f64()
}

#[tokio::main]
async fn main() {
    let emulator = Emulator::start(EmulatorConfig::default())
        .await
        .expect("the emulator starts");
    let id = Id::parse(
        &emulator
            .insert(account::OBJECT, json!({ account::NAME: "Bench Account" }))
            .expect("the bench record is stored"),
    )
    .expect("the emulator returns a valid id");

    let client = client(&emulator);
    for _ in 0..WARM_UP {
        get(&client, &id).await;
    }

    let mut samples = Vec::with_capacity(SEQUENTIAL);
    let started = Instant::now();
    for _ in 0..SEQUENTIAL {
        let call = Instant::now();
        get(&client, &id).await;
        samples.push(call.elapsed());
    }
    let sequential = started.elapsed();
    samples.sort_unstable();

    let parallel = concurrent(&client, &id, CONCURRENT_TASKS, CONCURRENT_CALLS).await;

    let tokens_before = emulator.token_requests();
    let fresh = self::client(&emulator);
    concurrent(&fresh, &id, CONCURRENT_TASKS, TOKEN_PROBE_CALLS).await;
    let tokens = emulator.token_requests() - tokens_before;

    let mut out = std::io::stdout().lock();
    let rows = [
        (
            "sequential `get`, median".to_owned(),
            format!("{} µs", percentile(&samples, 0.5).as_micros()),
        ),
        (
            "sequential `get`, p99".to_owned(),
            format!("{} µs", percentile(&samples, 0.99).as_micros()),
        ),
        (
            "calls/s, concurrency 1".to_owned(),
            format!("{:.0}", per_second(SEQUENTIAL, sequential)),
        ),
        (
            format!("calls/s, concurrency {CONCURRENT_TASKS}"),
            format!("{:.0}", per_second(CONCURRENT_CALLS, parallel)),
        ),
        (
            "token requests per 1,000 calls (fresh client)".to_owned(),
            tokens.to_string(),
        ),
    ];
    let _ = writeln!(
        out,
        "\n| Salesforce client on localhost ({SEQUENTIAL} sequential calls) | value |\n| --- | ---: |"
    );
    for (what, value) in rows {
        let _ = writeln!(out, "| {what} | {value} |");
    }
    let _ = out.flush();
    assert_eq!(tokens, 1, "one login per client, whatever the concurrency");
    emulator.shutdown();
}
