//! `cargo test --workspace` runs a handful of seeds: the first seeds whose
//! schedules, together, hold every fault class. `CAMPAIGN_SEED=<n>` runs
//! that seed alone (its schedule again); `CAMPAIGN_SEEDS=a,b,c` those.
//! A failure prints each failing seed's schedule, the faults as applied,
//! what every customer was told and the violations.

use campaign::schedule::covering_seeds;
use campaign::{Shape, Timings, run_seeds};

fn seeds(shape: &Shape) -> Vec<u64> {
    if let Ok(one) = std::env::var("CAMPAIGN_SEED") {
        return vec![one.trim().parse().expect("CAMPAIGN_SEED is a number")];
    }
    if let Ok(list) = std::env::var("CAMPAIGN_SEEDS") {
        return list
            .split(',')
            .map(|s| s.trim().parse().expect("CAMPAIGN_SEEDS are numbers"))
            .collect();
    }
    covering_seeds(1, 12, shape)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_invariant_should_hold_under_every_fault_class() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let shape = Shape::default();
    let seeds = seeds(&shape);
    let mut failures = Vec::new();
    let mut passed = Vec::new();
    let verbose = std::env::var_os("CAMPAIGN_VERBOSE").is_some();
    run_seeds(
        seeds,
        4,
        shape,
        Timings::compressed(),
        |seed, result| match result {
            Ok(report) if report.passed() && verbose => passed.push(report.to_string()),
            Ok(report) if report.passed() => passed.push(format!(
                "seed {seed}: {} approved, {:.1} s",
                report.approved,
                report.elapsed.as_secs_f64()
            )),
            Ok(report) => failures.push(report.to_string()),
            Err(error) => failures.push(format!("seed {seed} did not run: {error}")),
        },
    )
    .await;
    eprintln!("{}", passed.join("\n"));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
