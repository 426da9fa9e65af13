//! What reading a request body costs (`portal_http::body::parse_json`): a
//! valid `POST /orders` body, one with a single wrong-typed field, and the
//! worst case the 422 path allows — a body near the 64 KiB limit whose order
//! lines all have wrong types, so the body is re-read once per bad field up
//! to `MAX_TYPE_ERRORS`. Ratios to the valid body, in one run.
//!
//! `cargo bench -p portal-http --bench body_parsing` (`BENCH_ITERS`, default 200).
#![allow(clippy::print_stdout, reason = "a benchmark reports on stdout")]

use std::hint::black_box;
use std::time::Instant;

use chrono::NaiveDate;
use portal_core::portal::OrderRequest;
use portal_http::body::{MAX_BODY_BYTES, MAX_TYPE_ERRORS, parse_json};
use serde_json::json;

fn median_micros(iters: usize, body: &[u8], today: NaiveDate) -> f64 {
    let mut samples: Vec<f64> = (0..iters)
        .map(|_| {
            let started = Instant::now();
            let parsed = parse_json::<OrderRequest>(black_box(body), today);
            black_box(&parsed);
            started.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn main() -> anyhow::Result<()> {
    let iters: usize = std::env::var("BENCH_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let today = NaiveDate::from_ymd_opt(2026, 11, 27).ok_or_else(|| anyhow::anyhow!("date"))?;
    let line = json!({"productId": "01tEm0000000001IAA", "quantity": 1});
    let valid = serde_json::to_vec(&json!({
        "commodityType": "Mobile",
        "items": vec![line.clone(); 5],
    }))?;
    let one_bad = serde_json::to_vec(&json!({
        "commodityType": "Mobile",
        "items": [line.clone(), {"productId": 7, "quantity": 1}, line.clone()],
    }))?;
    // Wrong-typed lines, padded with long strings up to just under the limit.
    let bad_line = json!({"productId": 7, "quantity": "x".repeat(300)});
    let per_line = serde_json::to_vec(&bad_line)?.len() + 1;
    let lines = (MAX_BODY_BYTES - 64) / per_line;
    let worst = serde_json::to_vec(&json!({
        "commodityType": 1,
        "items": vec![bad_line; lines],
    }))?;
    anyhow::ensure!(
        worst.len() <= MAX_BODY_BYTES,
        "the worst body must fit the limit"
    );
    let problem = parse_json::<OrderRequest>(&worst, today)
        .err()
        .ok_or_else(|| anyhow::anyhow!("the worst body must be refused"))?;
    let listed = problem.errors.as_ref().map_or(0, Vec::len);
    anyhow::ensure!(
        listed == MAX_TYPE_ERRORS,
        "the worst body lists {listed} errors"
    );

    let base = median_micros(iters, &valid, today);
    println!("body                                   | bytes  | median µs | × valid");
    println!("---------------------------------------|--------|-----------|--------");
    for (name, body) in [
        ("valid order (5 lines)", &valid),
        ("one wrong-typed field (3 lines)", &one_bad),
        ("worst case: 64 KiB, every field wrong", &worst),
    ] {
        let median = median_micros(iters, body, today);
        println!(
            "{name:<39}| {:>6} | {median:>9.1} | {:>6.1}",
            body.len(),
            median / base
        );
    }
    Ok(())
}
