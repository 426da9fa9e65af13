//! The campaign over many seeds: `cargo bench -p campaign --bench campaign`
//! runs `CAMPAIGN_RUNS` seeds (default 1000) from `CAMPAIGN_FIRST` (default
//! 1), `CAMPAIGN_PARALLEL` at a time (default 4), and prints a table per
//! fault class (schedules, Orders approved, violations) and per invariant,
//! then the failing seeds with their first violation (each replays with
//! `CAMPAIGN_SEED=<n> cargo test -p campaign --test campaign`).
//! `CAMPAIGN_VERBOSE=1` prints every failing seed's whole report as it ends.
//! `CAMPAIGN_CLASSES=whmcs-many-services,whmcs-drop-after-commit` keeps only
//! the seeds whose schedule holds every class named (`CAMPAIGN_RUNS` of them);
//! a scenario is named the same way (`CAMPAIGN_CLASSES=reconciler-backlog`,
//! `catalog-change-on-lost-order`: see `campaign::schedule`).

#![allow(clippy::print_stdout)]

use std::io::Write as _;
use std::time::Instant;

use campaign::{Schedule, Shape, Tally, Timings, run_seeds};

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

fn main() {
    // `cargo bench` passes `--bench`; the harness is this binary.
    let runs = env_number("CAMPAIGN_RUNS", 1000);
    let first = env_number("CAMPAIGN_FIRST", 1);
    let parallel = usize::try_from(env_number("CAMPAIGN_PARALLEL", 4)).unwrap_or(4);
    let verbose = std::env::var_os("CAMPAIGN_VERBOSE").is_some();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime starts");
    let started = Instant::now();
    let mut tally = Tally::default();
    let shape = Shape::default();
    let wanted: Vec<String> = std::env::var("CAMPAIGN_CLASSES")
        .unwrap_or_default()
        .split(',')
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty())
        .collect();
    let seeds: Vec<u64> = (first..)
        .filter(|seed| {
            let classes: Vec<String> = Schedule::draw(*seed, &shape)
                .classes
                .iter()
                .map(ToString::to_string)
                .collect();
            wanted.iter().all(|w| classes.contains(w))
        })
        .take(usize::try_from(runs).unwrap_or(usize::MAX))
        .collect();
    let (lowest, highest) = (
        seeds.first().copied().unwrap_or(first),
        seeds.last().copied().unwrap_or(first),
    );
    runtime.block_on(run_seeds(
        seeds,
        parallel,
        shape,
        Timings::compressed(),
        |seed, result| {
            match result {
                Ok(report) => {
                    if verbose && !report.passed() {
                        eprintln!("{report}");
                    }
                    tally.add(&report);
                }
                Err(error) => tally.error(seed, error.to_string()),
            }
            let done = tally.seeds + u32::try_from(tally.errors.len()).unwrap_or(u32::MAX);
            if done % 50 == 0 {
                eprintln!(
                    "{done}/{runs} seeds, {} failing, {:.0} s",
                    tally.failed.len(),
                    started.elapsed().as_secs_f64()
                );
            }
        },
    ));
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "{runs} seeds in {lowest}..={highest}{} ({parallel} at a time), {:.0} s wall\n",
        if wanted.is_empty() {
            String::new()
        } else {
            format!(" holding {}", wanted.join(" + "))
        },
        started.elapsed().as_secs_f64()
    );
    let _ = write!(out, "{}", tally.markdown());
}
