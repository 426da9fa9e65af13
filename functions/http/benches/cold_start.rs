//! Cold start of the `portal-api` Lambda binary: each run starts a fresh
//! process whose `AWS_LAMBDA_RUNTIME_API` points at a Lambda Runtime API
//! emulator holding ONE queued API Gateway HTTP API event, and whose
//! `PORTAL_*` / `SF_*` settings point at an in-process org emulator. Measured:
//! process start → response posted (ms), split into init (start → first
//! `GET …/invocation/next`) and the first invocation (event handed out →
//! response posted); then the peak RSS (`VmHWM`, read just before the kill).
//! `GET /health` needs nothing; `GET /catalog` (valid token) verifies the
//! token and makes the process's first Salesforce login and query. A second
//! `GET /catalog` in the same process shows the warm cost.
//!
//! `cargo bench -p portal-http --bench cold_start` (`BENCH_RUNS`, default 15)
//! measures the bench-profile build; `PORTAL_API_BIN=<copy of the release
//! build>` measures the stripped release artifact (see `benches/README.md`).

#![allow(clippy::print_stdout, reason = "a benchmark reports on stdout")]

mod common;

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use lambda_runtime_emulator::{FunctionProcess, HttpApiEvent, RuntimeApi};
use portal_aws::{
    AwsClients, DynamoAccountStatuses, DynamoIdempotencyStore, DynamoLoginLimits, DynamoLoginLinks,
};
use portal_core::config::Config as _;
use portal_http::{Api, ApiConfig, ApiStores, Authenticator, SalesforcePorts};
use salesforce::{SalesforceClient, SalesforceConfig};

use common::{SigningKey, lambda_env, median, portal_api_binary, setting};

/// How long one invocation may take before the run is declared failed.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(20);
/// The targets of issue 3.
const TARGET_MS: f64 = 30.0;
const TARGET_MB: f64 = 30.0;

/// Run as `<this bench> --init-breakdown`: time each start-up step of
/// `src/bin/portal-api.rs` (the same calls, in the same order, minus the
/// Secrets Manager overlay, a no-op without `SF_PRIVATE_KEY_SECRET_ARN`) in a
/// fresh process and print them as JSON.
const PROBE_FLAG: &str = "--init-breakdown";

/// The start-up steps of `portal-api`, in order.
const STEPS: [&str; 7] = [
    "JSON log subscriber",
    "ApiConfig::from_env",
    "SalesforceConfig::from_env (RSA key parse + test signature)",
    "SalesforceClient::new (reqwest + rustls roots)",
    "AwsClients::from_env (SDK config + HTTPS client)",
    "Authenticator::new (PEM public key)",
    "Api::new(..).router()",
];

async fn probe() -> anyhow::Result<()> {
    let mut times = Vec::with_capacity(STEPS.len());
    let mut t = Instant::now();
    let mut lap = |times: &mut Vec<f64>| {
        times.push(t.elapsed().as_secs_f64() * 1e3);
        t = Instant::now();
    };
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(tracing_subscriber::EnvFilter::new("info"))
        .with_current_span(false)
        .without_time()
        .with_writer(std::io::sink)
        .init();
    lap(&mut times);
    let config = ApiConfig::from_env()?;
    lap(&mut times);
    let salesforce = SalesforceConfig::from_env()?;
    lap(&mut times);
    let client = SalesforceClient::new(salesforce)?;
    let ports = SalesforcePorts::new(client, config.price_book.clone());
    lap(&mut times);
    let aws = AwsClients::from_env(None).await;
    let table = config.idempotency_table.as_str();
    let store = ApiStores {
        idempotency: DynamoIdempotencyStore::new(aws.dynamo.clone(), table),
        links: DynamoLoginLinks::new(aws.dynamo.clone(), table),
        inactive: DynamoAccountStatuses::new(aws.dynamo.clone(), table),
        limits: DynamoLoginLimits::new(aws.dynamo, table),
    };
    lap(&mut times);
    let auth = Authenticator::new(&config.auth)?;
    lap(&mut times);
    let _router = Api::new(Arc::new(ports), Arc::new(store), Arc::new(auth))
        .with_settings(config.settings)
        .with_identity(config.identity)
        .router();
    lap(&mut times);
    println!("{}", serde_json::to_string(&times)?);
    Ok(())
}

/// Median time of each start-up step over `runs` fresh processes.
fn init_breakdown(env: &[(String, String)], runs: usize) -> anyhow::Result<Vec<f64>> {
    let exe = std::env::current_exe().context("the bench's own path")?;
    let mut columns: Vec<Vec<f64>> = vec![Vec::with_capacity(runs); STEPS.len()];
    for _ in 0..runs {
        let output = Command::new(&exe)
            .arg(PROBE_FLAG)
            .env_clear()
            .envs(env.iter().cloned())
            .stdin(Stdio::null())
            .stderr(Stdio::inherit())
            .output()
            .context("running the start-up probe")?;
        anyhow::ensure!(output.status.success(), "the start-up probe failed");
        let times: Vec<f64> = serde_json::from_slice(&output.stdout)?;
        for (column, time) in columns.iter_mut().zip(times) {
            column.push(time);
        }
    }
    Ok(columns.iter_mut().map(|c| median(c)).collect())
}

/// One cold start.
struct Sample {
    total_ms: f64,
    init_ms: f64,
    first_ms: f64,
    warm_ms: Option<f64>,
    peak_mb: f64,
}

fn ms(from: Instant, to: Instant) -> f64 {
    to.saturating_duration_since(from).as_secs_f64() * 1e3
}

async fn cold_start(
    binary: &std::path::Path,
    env: &[(String, String)],
    event: &HttpApiEvent,
    warm_again: bool,
) -> anyhow::Result<Sample> {
    let api = RuntimeApi::start().await?;
    let id = api.enqueue(&event.to_json());
    let process = FunctionProcess::spawn(binary, &api.address(), env.iter().cloned())?;
    let started = process.started_at();
    let settled = api.wait_for(&id, ANSWER_TIMEOUT).await?;
    let response = settled
        .http_response()
        .context("the function reported an error")??;
    anyhow::ensure!(
        response.status == 200,
        "the function answered {}: {}",
        response.status,
        String::from_utf8_lossy(&response.body)
    );
    let first_poll = api
        .next_polls()
        .first()
        .copied()
        .context("no poll recorded")?;
    let warm_ms = if warm_again {
        let again = api.enqueue(&event.to_json());
        let warm = api.wait_for(&again, ANSWER_TIMEOUT).await?;
        Some(ms(warm.delivered_at, warm.settled_at))
    } else {
        None
    };
    let memory = process.memory()?;
    process.kill()?;
    Ok(Sample {
        total_ms: ms(started, settled.settled_at),
        init_ms: ms(started, first_poll),
        first_ms: ms(settled.delivered_at, settled.settled_at),
        warm_ms,
        peak_mb: memory.peak_rss_kib as f64 / 1024.0,
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if std::env::args().any(|a| a == PROBE_FLAG) {
        return probe().await;
    }
    common::init_logs();
    let runs = setting("BENCH_RUNS", 15);
    let (binary, origin) = portal_api_binary(env!("CARGO_BIN_EXE_portal-api"));
    let size_mb = std::fs::metadata(&binary)
        .with_context(|| format!("no binary at {}", binary.display()))?
        .len() as f64
        / 1e6;
    let emulator = common::emulator().await?;
    let key = SigningKey::generate()?;
    // A registered Account and its login's link item (on moto), so that the
    // catalog token is linked.
    let account_id = emulator.insert(
        salesforce::schema::account::OBJECT,
        serde_json::json!({salesforce::schema::account::NAME: "Bench Customer"}),
    )?;
    let state = common::StateTable::create().await;
    state.link("cold", &account_id).await?;
    let env = lambda_env(&emulator, &key, &state);
    let token = key.token("cold", None)?;
    let cases = [
        ("GET /health", HttpApiEvent::get("/health"), false),
        (
            "GET /catalog (valid token)",
            HttpApiEvent::get("/catalog").bearer(&token),
            true,
        ),
    ];
    println!("## Cold start of `portal-api` under a Lambda Runtime API emulator\n");
    println!(
        "binary: {} ({origin}, {size_mb:.1} MB); {runs} runs per event, a fresh process each; medians (min–max).\n",
        binary.display()
    );
    println!(
        "| event | start → response ms | init ms (start → first poll) | 1st invocation ms | warm 2nd invocation ms | peak RSS (VmHWM) MB | targets 30 ms / 30 MB |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | --- |");
    let started = Instant::now();
    for (name, event, warm) in &cases {
        // One untimed start first, so the binary's pages are in the page cache.
        cold_start(&binary, &env, event, *warm).await?;
        let mut samples = Vec::with_capacity(runs);
        for _ in 0..runs {
            samples.push(cold_start(&binary, &env, event, *warm).await?);
        }
        let column = |f: fn(&Sample) -> Option<f64>| -> (f64, f64, f64) {
            let mut values: Vec<f64> = samples.iter().filter_map(f).collect();
            let m = median(&mut values);
            let min = values.first().copied().unwrap_or(f64::NAN);
            let max = values.last().copied().unwrap_or(f64::NAN);
            (m, min, max)
        };
        let total = column(|s| Some(s.total_ms));
        let init = column(|s| Some(s.init_ms));
        let first = column(|s| Some(s.first_ms));
        let warm_ms = column(|s| s.warm_ms);
        let peak = column(|s| Some(s.peak_mb));
        let verdict = |value: f64, target: f64, unit: &str| {
            if value < target {
                format!("under by {:.1} {unit}", target - value)
            } else {
                format!("OVER by {:.1} {unit}", value - target)
            }
        };
        let range = |(m, lo, hi): (f64, f64, f64)| {
            if m.is_nan() {
                "—".to_owned()
            } else {
                format!("{m:.1} ({lo:.1}–{hi:.1})")
            }
        };
        println!(
            "| {name} | {} | {} | {} | {} | {} | {}; {} |",
            range(total),
            range(init),
            range(first),
            range(warm_ms),
            range(peak),
            verdict(total.0, TARGET_MS, "ms"),
            verdict(peak.0, TARGET_MB, "MB"),
        );
    }
    let steps = init_breakdown(&env, runs)?;
    println!(
        "\n### Where init goes (each step of `portal-api`'s `main`, fresh process, median ms)\n"
    );
    println!("| step | ms |");
    println!("| --- | ---: |");
    for (step, ms) in STEPS.iter().zip(&steps) {
        println!("| {step} | {ms:.2} |");
    }
    println!("| sum | {:.2} |", steps.iter().sum::<f64>());
    println!(
        "\nThe catalog's 1st invocation includes the process's first Salesforce login \
         (RS256 JWT bearer assertion + token request) and the query; the emulator speaks \
         plain HTTP, so a real org's TLS handshakes are not included. Measured in {:.1} s; \
         machine: {}.",
        started.elapsed().as_secs_f64(),
        common::machine()
    );
    Ok(())
}
