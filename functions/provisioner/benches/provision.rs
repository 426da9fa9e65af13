//! Orders provisioned per second through the use case, with the Salesforce
//! and WHMCS emulators in-process over real HTTP and the records in memory.
//!
//! For each emulator latency (zero; realistic: Salesforce 80 ms, WHMCS
//! 150 ms per call) and each concurrency N, N Orders (different Order ids,
//! one new customer each) are provisioned at once, then a second Order for
//! each of those, now linked, customers. Prints a markdown table with the
//! calls each system saw per Order. `cargo bench -p provisioner`.

#![allow(clippy::print_stdout)] // the table is the bench's output

use std::time::{Duration, Instant};

use futures::future::join_all;
use portal_core::ports::memory::InMemoryProvisioningRecords;
use salesforce_emulator::Fault;
use whmcs_emulator::WhmcsFault;

#[allow(dead_code)] // the bench uses part of the tests' world
#[path = "../tests/provisioning/helpers.rs"]
mod helpers;

use helpers::{World, world_with};

struct Row {
    latency: &'static str,
    customers: &'static str,
    concurrency: usize,
    elapsed: Duration,
    sf_calls: u64,
    whmcs_calls: u64,
}

/// Provisions one Order per seeded account, all at once; returns the measurements.
async fn run(
    w: &World<InMemoryProvisioningRecords>,
    orders: &[helpers::SeededOrder],
) -> (Duration, u64, u64) {
    let messages: Vec<_> = orders.iter().map(|o| w.approve(o)).collect();
    let (sf_before, whmcs_before) = (w.sf.api_calls(), w.whmcs_calls());
    let started = Instant::now();
    let acknowledged = join_all(messages.iter().map(|m| w.deliver_one(m))).await;
    let elapsed = started.elapsed();
    assert!(
        acknowledged.iter().all(|a| *a),
        "every Order is provisioned"
    );
    (
        elapsed,
        w.sf.api_calls() - sf_before,
        w.whmcs_calls() - whmcs_before,
    )
}

async fn scenario(latency: &'static str, sf: Duration, whmcs: Duration, n: usize) -> [Row; 2] {
    let w = world_with(InMemoryProvisioningRecords::new(), Duration::from_secs(15)).await;
    let first: Vec<_> = (0..n)
        .map(|_| w.seed_order("SIM", &["SIM-DATA-20GB", "SIM-ACTIVATION"]))
        .collect();
    if !sf.is_zero() {
        w.sf.inject(Fault::Latency(sf));
    }
    if !whmcs.is_zero() {
        w.whmcs.inject(WhmcsFault::Latency(whmcs));
    }
    // Log in and cache the WHMCS product fields outside the measurement.
    let warm = w.seed_order("VPN", &["VPN-MONTHLY"]);
    let _ = run(&w, std::slice::from_ref(&warm)).await;

    let (elapsed, sf_calls, whmcs_calls) = run(&w, &first).await;
    let new = Row {
        latency,
        customers: "new",
        concurrency: n,
        elapsed,
        sf_calls,
        whmcs_calls,
    };
    let second: Vec<_> = first
        .iter()
        .map(|o| w.seed_order_for(&o.account_id, &o.email, "VPN", &["VPN-MONTHLY"]))
        .collect();
    let (elapsed, sf_calls, whmcs_calls) = run(&w, &second).await;
    let linked = Row {
        latency,
        customers: "linked",
        concurrency: n,
        elapsed,
        sf_calls,
        whmcs_calls,
    };
    [new, linked]
}

#[tokio::main]
async fn main() {
    let mut rows = Vec::new();
    let latencies = [
        ("zero", Duration::ZERO, Duration::ZERO),
        (
            "SF 80 ms, WHMCS 150 ms",
            Duration::from_millis(80),
            Duration::from_millis(150),
        ),
    ];
    for (name, sf, whmcs) in latencies {
        for n in [1, 8, 32] {
            rows.extend(scenario(name, sf, whmcs, n).await);
        }
    }
    println!(
        "| emulator latency | customers | concurrent orders | elapsed | orders/s | Salesforce calls/order | WHMCS calls/order |"
    );
    println!("| --- | --- | ---: | ---: | ---: | ---: | ---: |");
    for r in rows {
        let n = r.concurrency as f64;
        println!(
            "| {} | {} | {} | {:.0} ms | {:.1} | {:.2} | {:.2} |",
            r.latency,
            r.customers,
            r.concurrency,
            r.elapsed.as_secs_f64() * 1000.0,
            n / r.elapsed.as_secs_f64(),
            r.sf_calls as f64 / n,
            r.whmcs_calls as f64 / n,
        );
    }
}
