//! Cold start and peak RSS of every Lambda function: each run starts a fresh
//! process against a Lambda Runtime API emulator holding ONE event, with the
//! function's world behind it (`artifact_tests::worlds`): `portal-api` gets
//! `GET /catalog` (token check, first Salesforce login and query), the
//! provisioner one approved Order (login, WHMCS AddClient/AddOrder/AcceptOrder,
//! DynamoDB claim on moto, the composite write-back), the reconciler one
//! scheduled run (a Salesforce query, DynamoDB, SQS). Measured: process start →
//! response posted, split into init (start → first `GET …/next`) and the
//! invocation; peak RSS (`VmHWM`) just before the kill. Each answer is checked
//! as the tests check it.
//!
//! Two builds of each function:
//! - native: `target/release/<binary>` (`cargo build --release -p portal-http
//!   -p provisioner -p reconciler`), x86_64;
//! - arm64: the `bootstrap` of `sam build` (`infra/build functions`) under
//!   `qemu-aarch64`; reported as a ratio to native. Under qemu the RSS is
//!   qemu's process (guest memory plus the translator's code cache).
//!
//! `cargo bench -p artifact-tests --bench cold_start` (`BENCH_RUNS`, default 10;
//! `BENCH_QEMU_RUNS`, default 5). A build that is absent is reported as such.

#![allow(clippy::print_stdout, reason = "a benchmark reports on stdout")]

use std::path::Path;
use std::time::Instant;

use anyhow::Context as _;
use artifact_tests::worlds::{ANSWER_TIMEOUT, ApiWorld, ProvisionerWorld, ReconcilerWorld};
use artifact_tests::{FUNCTIONS, Function, PORTAL_API, PROVISIONER, RECONCILER, Runner};
use lambda_runtime_emulator::{FunctionProcess, RuntimeApi, Settled};
use serde_json::Value;

/// The worlds, built once; every run uses a fresh process (and, for the
/// provisioner, a fresh Order).
struct Worlds {
    api: ApiWorld,
    provisioner: ProvisionerWorld,
    reconciler: ReconcilerWorld,
}

/// One cold start.
#[derive(Debug, Clone, Copy)]
struct Sample {
    total_ms: f64,
    init_ms: f64,
    invocation_ms: f64,
    peak_mb: f64,
}

fn ms(from: Instant, to: Instant) -> f64 {
    to.saturating_duration_since(from).as_secs_f64() * 1e3
}

impl Worlds {
    fn env(&self, function: Function) -> Vec<(String, String)> {
        let mut env = match function.binary {
            "portal-api" => self.api.env(),
            "provisioner" => self.provisioner.env(),
            _ => self.reconciler.env(),
        };
        env.push(("AWS_LAMBDA_FUNCTION_NAME".into(), function.binary.into()));
        env
    }

    /// The event for one run and a check of its answer.
    fn event(&self, function: Function) -> anyhow::Result<(Value, Check)> {
        Ok(match function.binary {
            "portal-api" => (self.api.catalog().to_json(), Check::Catalog),
            "provisioner" => {
                let order = self.provisioner.queue_order()?;
                (order.event.clone(), Check::Provisioned(Box::new(order)))
            }
            _ => (self.reconciler.event(), Check::Reconciled),
        })
    }

    fn verify(&self, check: &Check, settled: &Settled) -> anyhow::Result<()> {
        match check {
            Check::Catalog => self.api.verify_catalog(settled),
            Check::Provisioned(order) => self.provisioner.verify(order, settled),
            Check::Reconciled => self.reconciler.verify(settled),
        }
    }

    async fn cold_start(
        &self,
        function: Function,
        runner: Runner,
        binary: &Path,
    ) -> anyhow::Result<Sample> {
        let (event, check) = self.event(function)?;
        let api = RuntimeApi::start().await?;
        let id = api.enqueue(&event);
        let process = FunctionProcess::spawn_under(
            &runner.prefix(),
            binary,
            &api.address(),
            self.env(function),
        )?;
        let started = process.started_at();
        let settled = api.wait_for(&id, ANSWER_TIMEOUT).await?;
        let memory = process.memory()?;
        process.kill()?;
        self.verify(&check, &settled)?;
        let first_poll = api.next_polls().first().copied().context("no poll")?;
        Ok(Sample {
            total_ms: ms(started, settled.settled_at),
            init_ms: ms(started, first_poll),
            invocation_ms: ms(settled.delivered_at, settled.settled_at),
            peak_mb: memory.peak_rss_kib as f64 / 1024.0,
        })
    }
}

enum Check {
    Catalog,
    Provisioned(Box<artifact_tests::worlds::QueuedOrder>),
    Reconciled,
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    if values.is_empty() {
        return f64::NAN;
    }
    values[(values.len() - 1) / 2]
}

/// Medians of each column.
#[derive(Debug, Clone, Copy)]
struct Medians {
    total_ms: f64,
    init_ms: f64,
    invocation_ms: f64,
    peak_mb: f64,
}

impl Medians {
    fn of(samples: &[Sample]) -> Self {
        let column = |f: fn(&Sample) -> f64| median(samples.iter().map(f).collect());
        Self {
            total_ms: column(|s| s.total_ms),
            init_ms: column(|s| s.init_ms),
            invocation_ms: column(|s| s.invocation_ms),
            peak_mb: column(|s| s.peak_mb),
        }
    }
}

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(default)
}

fn event_name(function: Function) -> &'static str {
    match function {
        f if f == PORTAL_API => "`GET /catalog` (token, login, query)",
        f if f == PROVISIONER => "one approved Order provisioned",
        f if f == RECONCILER => "one scheduled run",
        _ => "",
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let runs = setting("BENCH_RUNS", 10);
    let qemu_runs = setting("BENCH_QEMU_RUNS", 5);
    let worlds = Worlds {
        api: ApiWorld::start().await?,
        provisioner: ProvisionerWorld::start().await?,
        reconciler: ReconcilerWorld::start().await?,
    };
    let started = Instant::now();
    println!("## Cold start of every Lambda function (Runtime API emulator)\n");
    println!(
        "Medians of {runs} native and {qemu_runs} arm64 runs, a fresh process each (one untimed start first).\n"
    );
    println!(
        "| function | event | build | bytes | start → response ms | init ms | invocation ms | peak RSS MB |"
    );
    println!("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |");
    let mut ratios = Vec::new();
    for function in FUNCTIONS {
        let mut medians = [None, None];
        for (slot, (runner, binary, n)) in [
            (Runner::Native, function.native_release(), runs),
            (Runner::Qemu, function.bootstrap(), qemu_runs),
        ]
        .into_iter()
        .enumerate()
        {
            let label = match runner {
                Runner::Native => "native x86_64 (release)",
                Runner::Qemu => "arm64 bootstrap under qemu",
            };
            let Ok(meta) = std::fs::metadata(&binary) else {
                println!(
                    "| {} | {} | {label} | — | absent: {} | | | |",
                    function.binary,
                    event_name(function),
                    binary.display()
                );
                continue;
            };
            worlds.cold_start(function, runner, &binary).await?;
            let mut samples = Vec::with_capacity(n);
            for _ in 0..n {
                samples.push(worlds.cold_start(function, runner, &binary).await?);
            }
            let m = Medians::of(&samples);
            println!(
                "| {} | {} | {label} | {} | {:.1} | {:.1} | {:.1} | {:.1} |",
                function.binary,
                event_name(function),
                meta.len(),
                m.total_ms,
                m.init_ms,
                m.invocation_ms,
                m.peak_mb
            );
            medians[slot] = Some(m);
        }
        if let [Some(native), Some(qemu)] = medians {
            ratios.push((function, native, qemu));
        }
    }
    if !ratios.is_empty() {
        println!("\n### arm64 under qemu / native, same run\n");
        println!("| function | start → response | init | invocation | peak RSS |");
        println!("| --- | ---: | ---: | ---: | ---: |");
        for (function, native, qemu) in ratios {
            println!(
                "| {} | {:.1}× | {:.1}× | {:.1}× | {:.1}× |",
                function.binary,
                qemu.total_ms / native.total_ms,
                qemu.init_ms / native.init_ms,
                qemu.invocation_ms / native.invocation_ms,
                qemu.peak_mb / native.peak_mb
            );
        }
    }
    println!(
        "\nMeasured in {:.1} s on {} CPUs; the emulators speak plain HTTP (no TLS handshakes).",
        started.elapsed().as_secs_f64(),
        std::thread::available_parallelism().map_or(0, usize::from)
    );
    Ok(())
}
