//! The fault campaign: the whole pipeline in one process under a fault
//! schedule drawn from a seed, then the invariants checked against the
//! systems of record and against what every client was told.
//!
//! | part | module |
//! | --- | --- |
//! | the schedule of a seed: customers, conditions, faults by time; the mix of fault classes and the scenarios | [`schedule`] |
//! | the pipeline: emulators, API, workers (killable), stores, the queue's faults, the replay audit | [`world`] |
//! | scenario `catalog-change-on-lost-order`: a mapping removed the moment an AddOrder answer is lost | [`world::lost_order`] |
//! | scenario `reconciler-backlog`: 200+ old Orders the reconciler skips, ahead of Orders only it can find | [`world::backlog`] |
//! | customers and staff | [`actors`] |
//! | one seed from start to verdict | [`run`] |
//! | the invariants | [`invariants`] |
//! | many seeds added up | [`report`] |
//! | the timings (compressed for the campaign, production for the latency bench) | [`timings`] |
//!
//! **Replay.** `CAMPAIGN_SEED=<n>` replays the *schedule* exactly — the same
//! customers, the same faults at the same moments of the window, the same
//! kill points (the k-th poll of a worker), the same queue shuffles and the
//! same subscriber jitter — but not the exact interleaving. The pipeline
//! runs over real sockets on a multi-threaded runtime and in real time, as
//! `portal-local` does: the clients are the production reqwest/tonic
//! clients, which cannot run over a simulated network (turmoil needs its own
//! connector, reqwest has no such hook), and tokio's paused clock jumps
//! forward whenever every task waits — including while a request is in the
//! kernel's loopback — firing timeouts that never happen in production. The
//! emulators also stamp records with the wall clock, and ids and session
//! tokens are random. So a seed is a reproducible *scenario*: a failure
//! prints the schedule and the faults as applied (with their moments), which
//! is what a person needs to reproduce it by hand, and running the seed again
//! usually, not always, fails the same way.

pub mod actors;
pub mod invariants;
pub mod report;
pub mod run;
pub mod schedule;
pub mod timings;
pub mod world;

use std::sync::Arc;

use futures::StreamExt as _;

pub use report::Tally;
pub use run::{SeedReport, run_seed};
pub use schedule::{FaultClass, Schedule, Shape};
pub use timings::Timings;

/// Runs `seeds`, `parallel` at a time, calling `each` with every verdict as
/// it comes (or the seed and why its world did not start).
pub async fn run_seeds(
    seeds: Vec<u64>,
    parallel: usize,
    shape: Shape,
    timings: Timings,
    mut each: impl FnMut(u64, Result<SeedReport, world::WorldError>),
) {
    let shape = Arc::new(shape);
    let timings = Arc::new(timings);
    let mut running = futures::stream::iter(seeds.into_iter().map(|seed| {
        let (shape, timings) = (Arc::clone(&shape), Arc::clone(&timings));
        async move {
            // Each seed on its own task: a panic in one is that seed's failure.
            let handle = tokio::spawn(async move { run_seed(seed, &shape, &timings).await });
            (seed, handle.await)
        }
    }))
    .buffer_unordered(parallel.max(1));
    while let Some((seed, joined)) = running.next().await {
        match joined {
            Ok(result) => each(seed, result),
            Err(panic) => each(seed, Err(world::WorldError::Panicked(panic.to_string()))),
        }
    }
}
