//! What a 4 MB ID document costs the API itself: the `portal-api` Lambda
//! binary, started fresh per run under the Lambda Runtime API emulator, takes
//! `POST /id-verifications` as API Gateway's HTTP API hands it over (the
//! `multipart/form-data` body in base64), against an in-process org emulator
//! and moto's DynamoDB (the idempotency record). Per run, one process:
//!
//! 1. `GET /catalog` (the Salesforce login, warm-up), then `VmHWM`;
//! 2. an upload of one 1 KiB JPEG (another account), then `VmHWM`;
//! 3. an upload of one 4 MiB JPEG, then `VmHWM`.
//!
//! Reported: each invocation's time (event handed out → response posted) and
//! the peak RSS after it; the 4 MiB upload's extra time and memory over the
//! 1 KiB one are the document's cost. Beside them, the same 4 MiB write made
//! directly through the Salesforce adapter from this process (the
//! Salesforce side of the time: base64, JSON, HTTP and the emulator storing
//! the file), so `upload − adapter` is the API's own time (token,
//! multipart, signature check, SHA-256 fingerprint, DynamoDB claim/settle).
//!
//! `cargo bench -p portal-http --bench upload` (`BENCH_RUNS`, default 7;
//! moto from `MOTO_ENDPOINT` or started by `test-support`; the logins are
//! linked in its state table, as registrations leave them).

#![allow(clippy::print_stdout, reason = "a benchmark reports on stdout")]

mod common;

use std::time::{Duration, Instant};

use anyhow::Context as _;
use bytes::Bytes;
use chrono::Utc;
use lambda_runtime_emulator::{FunctionProcess, HttpApiEvent, RuntimeApi};
use portal_core::domain::{AccountId, CaseType, IdDocument, IdVerificationStatus};
use portal_core::portal::IdVerificationDesk;
use portal_core::portal::id_verification::IdVerificationPlan;
use portal_core::portal::plans::{CaseOpportunity, NewCase};
use salesforce::portal::{PriceBook, SalesforcePortal};
use salesforce::schema::account;

use common::{
    BOUNDARY, SigningKey, StateTable, form, jpeg, lambda_env, median, portal_api_binary, setting,
};

const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);
const SMALL: usize = 1024;
const LARGE: usize = 4 * 1024 * 1024;

struct Sample {
    small_ms: f64,
    large_ms: f64,
    warm_mb: f64,
    small_mb: f64,
    large_mb: f64,
}

fn ms(from: Instant, to: Instant) -> f64 {
    to.saturating_duration_since(from).as_secs_f64() * 1e3
}

fn upload(token: &str, key: &str, size: usize) -> HttpApiEvent {
    let content = jpeg(size);
    let body = form(
        &[("documentType", "passport")],
        &[("documents", "passport.jpg", &content)],
    );
    HttpApiEvent::post("/id-verifications")
        .bearer(token)
        .header("idempotency-key", key)
        .binary(&format!("multipart/form-data; boundary={BOUNDARY}"), &body)
}

async fn invoke(api: &RuntimeApi, event: &HttpApiEvent, expected: u16) -> anyhow::Result<f64> {
    let id = api.enqueue(&event.to_json());
    let settled = api.wait_for(&id, ANSWER_TIMEOUT).await?;
    let response = settled
        .http_response()
        .context("the function reported an error")??;
    anyhow::ensure!(
        response.status == expected,
        "the function answered {}: {}",
        response.status,
        String::from_utf8_lossy(&response.body)
    );
    Ok(ms(settled.delivered_at, settled.settled_at))
}

fn peak_mb(process: &FunctionProcess) -> anyhow::Result<f64> {
    Ok(process.memory()?.peak_rss_kib as f64 / 1024.0)
}

async fn one_run(
    binary: &std::path::Path,
    env: &[(String, String)],
    key: &SigningKey,
    emulator: &salesforce_emulator::Emulator,
    state: &StateTable,
    run: usize,
) -> anyhow::Result<Sample> {
    // Two linked logins (as registrations leave them), one per upload.
    let mut tokens = Vec::new();
    for name in ["small", "large"] {
        let id = emulator.insert(account::OBJECT, serde_json::json!({account::NAME: name}))?;
        let sub = format!("{name}-{run}");
        state.link(&sub, &id).await?;
        tokens.push(key.token(&sub, None)?);
    }
    let (small_token, large_token) = (tokens[0].clone(), tokens[1].clone());
    let api = RuntimeApi::start().await?;
    let process = FunctionProcess::spawn(binary, &api.address(), env.iter().cloned())?;
    invoke(
        &api,
        &HttpApiEvent::get("/catalog").bearer(&small_token),
        200,
    )
    .await?;
    let warm_mb = peak_mb(&process)?;
    let small_ms = invoke(&api, &upload(&small_token, &format!("s{run}"), SMALL), 202).await?;
    let small_mb = peak_mb(&process)?;
    let large_ms = invoke(&api, &upload(&large_token, &format!("l{run}"), LARGE), 202).await?;
    let large_mb = peak_mb(&process)?;
    process.kill()?;
    Ok(Sample {
        small_ms,
        large_ms,
        warm_mb,
        small_mb,
        large_mb,
    })
}

/// The same 4 MiB write through the Salesforce adapter, from this process.
async fn adapter_ms(emulator: &salesforce_emulator::Emulator) -> anyhow::Result<f64> {
    let portal = SalesforcePortal::new(common::salesforce_client(emulator)?, PriceBook::Standard);
    let desk = portal.id_verification();
    let id = emulator.insert(
        account::OBJECT,
        serde_json::json!({account::NAME: "direct"}),
    )?;
    let account_id = AccountId::parse(&id)?;
    let document = IdDocument::parse(Some("passport.jpg"), Bytes::from(jpeg(LARGE)), 0)?;
    let plan = IdVerificationPlan {
        account_id: account_id.clone(),
        status: IdVerificationStatus::Pending,
        submitted_at: Utc::now(),
        case: NewCase::portal(
            account_id,
            CaseOpportunity::None,
            CaseType::IdVerification,
            "ID verification - Passport".into(),
            "Document type: Passport\n".into(),
            portal_core::portal::RequestKey::derive(
                &portal_core::domain::Login::new("https://id.example.jp/", "bench")?,
                &uuid::Uuid::new_v4().to_string(),
                "bench",
            ),
        ),
        documents: vec![document],
    };
    let started = Instant::now();
    desk.submit_verification(&plan).await?;
    Ok(started.elapsed().as_secs_f64() * 1e3)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    common::init_logs();
    let runs = setting("BENCH_RUNS", 7);
    let (binary, origin) = portal_api_binary(env!("CARGO_BIN_EXE_portal-api"));
    let emulator = common::emulator().await?;
    let key = SigningKey::generate()?;
    let state = StateTable::create().await;
    let env = lambda_env(&emulator, &key, &state);

    let mut samples = Vec::with_capacity(runs);
    let mut direct = Vec::with_capacity(runs);
    for run in 0..runs {
        samples.push(one_run(&binary, &env, &key, &emulator, &state, run).await?);
        direct.push(adapter_ms(&emulator).await?);
    }
    let pick = |f: fn(&Sample) -> f64| median(&mut samples.iter().map(f).collect::<Vec<_>>());
    let (small_ms, large_ms) = (pick(|s| s.small_ms), pick(|s| s.large_ms));
    let (warm_mb, small_mb, large_mb) = (
        pick(|s| s.warm_mb),
        pick(|s| s.small_mb),
        pick(|s| s.large_mb),
    );
    let adapter = median(&mut direct);

    println!("## A 4 MiB ID document through `portal-api`\n");
    println!(
        "binary: {} ({origin}); {runs} runs, a fresh process each; medians. Body in the event as API Gateway sends it (base64).\n",
        binary.display()
    );
    println!("| step | invocation ms | peak RSS after (VmHWM) MB |");
    println!("| --- | ---: | ---: |");
    println!("| warm-up `GET /catalog` (login) | — | {warm_mb:.1} |");
    println!("| `POST /id-verifications`, 1 KiB JPEG | {small_ms:.1} | {small_mb:.1} |");
    println!("| `POST /id-verifications`, 4 MiB JPEG | {large_ms:.1} | {large_mb:.1} |");
    println!(
        "| the same 4 MiB write through the adapter, in process (Salesforce side) | {adapter:.1} | — |"
    );
    println!(
        "\nThe 4 MiB document costs the function {:.1} ms and {:.1} MB of peak RSS more than a 1 KiB one; of its {large_ms:.1} ms, {:.1} ms are the API's own (invocation − adapter write).",
        large_ms - small_ms,
        large_mb - small_mb,
        large_ms - adapter
    );
    println!("\nmachine: {}.", common::machine());
    Ok(())
}
