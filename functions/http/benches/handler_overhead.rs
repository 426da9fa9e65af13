//! Handler overhead: latency (p50/p99, µs) and requests/s of the real router
//! (in process, as `lambda_http` drives it) against the org emulator at zero
//! latency, at concurrency 1 and 16, for `GET /catalog`, `GET /account` and
//! `POST /support-cases` (a fresh `Idempotency-Key` each, in-memory store);
//! and, in the same rounds, the same use cases called directly on the
//! Salesforce adapters (the same Salesforce calls, no router, no token, no
//! idempotency), so the API's own overhead is the difference. Rounds
//! alternate the two so that noise hits both; the table shows medians over
//! rounds. Also: the cost of verifying one ES256 token alone.
//!
//! `cargo bench -p portal-http --bench handler_overhead`
//! (`BENCH_ROUNDS`, default 5; `BENCH_REQUESTS`, per round and measurement, default 800;
//! the GETs send 4× as many at concurrency 16).

#![allow(clippy::print_stdout, reason = "a benchmark reports on stdout")]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use anyhow::Context as _;
use http::StatusCode;
use portal_core::domain::{AccountId, Email, Login};
use portal_core::portal::{self as uc, Caller, PortalSettings, SupportCaseRequest};
use portal_http::{Authenticator, PortalPorts as _};
use serde_json::json;

use common::{World, get, median, post, quantile, setting};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    Catalog,
    Account,
    SupportCase,
}

impl Route {
    const ALL: [Route; 3] = [Route::Catalog, Route::Account, Route::SupportCase];

    fn name(self) -> &'static str {
        match self {
            Route::Catalog => "GET /catalog",
            Route::Account => "GET /account",
            Route::SupportCase => "POST /support-cases",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Through the router: token, idempotency, JSON, problem mapping.
    Router,
    /// The use case on the adapters: the Salesforce calls only.
    Direct,
}

struct Bench {
    world: World,
    token: String,
    caller: Caller,
    settings: PortalSettings,
    keys: AtomicU64,
}

impl Bench {
    /// A fresh world with one registered customer.
    async fn start() -> anyhow::Result<Arc<Self>> {
        let world = World::start().await?;
        let (token, account_id) = world.customer("bench").await?;
        let caller = Caller {
            login: Login::new(common::ISSUER, "bench").context("a login")?,
            email: Email::parse("bench@example.jp").context("an e-mail")?,
            email_verified: true,
            account_id: Some(AccountId::parse(&account_id).context("an Account id")?),
        };
        Ok(Arc::new(Self {
            world,
            token,
            caller,
            settings: PortalSettings::default(),
            keys: AtomicU64::new(0),
        }))
    }

    async fn once(&self, route: Route, mode: Mode) -> anyhow::Result<()> {
        match mode {
            Mode::Router => {
                let (request, expected) = match route {
                    Route::Catalog => (get("/catalog", &self.token)?, StatusCode::OK),
                    Route::Account => (get("/account", &self.token)?, StatusCode::OK),
                    Route::SupportCase => {
                        let key = format!("bench-{}", self.keys.fetch_add(1, Ordering::Relaxed));
                        let body = json!({"subject": "Router blinking", "description": "The light is red."});
                        (
                            post("/support-cases", &self.token, &key, &body)?,
                            StatusCode::CREATED,
                        )
                    }
                };
                let (status, body) = self.world.send(request).await?;
                anyhow::ensure!(
                    status == expected,
                    "{} answered {status}: {}",
                    route.name(),
                    String::from_utf8_lossy(&body)
                );
            }
            Mode::Direct => {
                let ports = &self.world.ports;
                match route {
                    Route::Catalog => {
                        uc::get_catalog(ports.catalog(), &self.caller, &self.settings).await?;
                    }
                    Route::Account => {
                        uc::get_account(ports.account(), &self.caller).await?;
                    }
                    Route::SupportCase => {
                        let body = SupportCaseRequest {
                            subject: Some("Router blinking".to_owned()),
                            description: Some("The light is red.".to_owned()),
                        };
                        let attempt = uc::Attempt::first(uc::RequestKey::derive(
                            &self.caller.login,
                            &uuid::Uuid::new_v4().to_string(),
                            "bench",
                        ));
                        uc::open_support_case(ports.support(), &self.caller, body, &attempt)
                            .await?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// One run: latencies (µs, sorted) and requests/s.
struct Run {
    p50: f64,
    p99: f64,
    rps: f64,
}

async fn run(
    bench: &Arc<Bench>,
    route: Route,
    mode: Mode,
    concurrency: usize,
    requests: usize,
) -> anyhow::Result<Run> {
    let per_task = requests.div_ceil(concurrency);
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let bench = Arc::clone(bench);
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(per_task);
            for _ in 0..per_task {
                let t = Instant::now();
                bench.once(route, mode).await?;
                latencies.push(t.elapsed().as_secs_f64() * 1e6);
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut latencies = Vec::with_capacity(per_task * concurrency);
    for task in tasks {
        latencies.extend(task.await.context("a load task panicked")??);
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    Ok(Run {
        p50: quantile(&latencies, 0.50),
        p99: quantile(&latencies, 0.99),
        rps: latencies.len() as f64 / elapsed,
    })
}

#[derive(Default)]
struct Samples {
    p50: Vec<f64>,
    p99: Vec<f64>,
    rps: Vec<f64>,
}

impl Samples {
    fn push(&mut self, run: &Run) {
        self.p50.push(run.p50);
        self.p99.push(run.p99);
        self.rps.push(run.rps);
    }

    fn medians(&mut self) -> (f64, f64, f64) {
        (
            median(&mut self.p50),
            median(&mut self.p99),
            median(&mut self.rps),
        )
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    common::init_logs();
    let rounds = setting("BENCH_ROUNDS", 5);
    let requests = setting("BENCH_REQUESTS", 800);
    let shared = Bench::start().await?;
    let auth = Authenticator::new(&shared.world.key.auth_config()).context("an authenticator")?;

    let concurrencies = [1_usize, 16];
    let combos: Vec<(Route, usize)> = Route::ALL
        .iter()
        .flat_map(|r| concurrencies.iter().map(move |c| (*r, *c)))
        .collect();
    // Warm up: connection pools, session, caches.
    for (route, concurrency) in &combos {
        for mode in [Mode::Router, Mode::Direct] {
            if *route != Route::SupportCase {
                run(&shared, *route, mode, *concurrency, 50).await?;
            }
        }
    }
    let mut samples: Vec<(Samples, Samples)> = combos.iter().map(|_| Default::default()).collect();
    let mut verify = Vec::new();
    let started = Instant::now();
    for round in 0..rounds {
        for (i, (route, concurrency)) in combos.iter().enumerate() {
            let n = if *concurrency == 1 || *route == Route::SupportCase {
                requests
            } else {
                requests * 4
            };
            // Alternate which goes first so neither always runs on a warmer cache.
            let order = if round % 2 == 0 {
                [Mode::Router, Mode::Direct]
            } else {
                [Mode::Direct, Mode::Router]
            };
            for mode in order {
                // The emulator's composite copies the whole org (for rollback), so writes
                // slow down as records pile up: every POST measurement gets a fresh org.
                let bench = if *route == Route::SupportCase {
                    let fresh = Bench::start().await?;
                    run(&fresh, *route, mode, *concurrency, 20).await?;
                    fresh
                } else {
                    Arc::clone(&shared)
                };
                let result = run(&bench, *route, mode, *concurrency, n).await?;
                match mode {
                    Mode::Router => samples[i].0.push(&result),
                    Mode::Direct => samples[i].1.push(&result),
                }
            }
        }
        let header = format!("Bearer {}", shared.token);
        let mut times = Vec::with_capacity(requests);
        for _ in 0..requests {
            let t = Instant::now();
            auth.authenticate(Some(header.as_bytes()))
                .await
                .context("verifying the bench token")?;
            times.push(t.elapsed().as_secs_f64() * 1e6);
        }
        verify.push(median(&mut times));
    }
    let elapsed = started.elapsed();

    println!("## Handler overhead against the org emulator (zero latency)\n");
    println!(
        "Medians over {rounds} rounds of {requests} requests (GETs: ×4 at concurrency 16), in \
         process (`Router::oneshot`, as `lambda_http` calls it). *direct* = the same use case on \
         the Salesforce adapters (same Salesforce calls, no token check, no idempotency, no HTTP \
         mapping). POSTs run on a fresh org each time (the emulator's writes slow down as \
         records pile up).\n"
    );
    println!(
        "| route | conc. | API p50 µs | API p99 µs | API req/s | direct p50 µs | direct p99 µs | direct req/s | overhead p50 µs | overhead µs/req from req/s | API/direct p50 |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for ((route, concurrency), (api, direct)) in combos.iter().zip(samples.iter_mut()) {
        let (a50, a99, arps) = api.medians();
        let (d50, d99, drps) = direct.medians();
        println!(
            "| {} | {concurrency} | {a50:.0} | {a99:.0} | {arps:.0} | {d50:.0} | {d99:.0} | {drps:.0} | {:.0} | {:.0} | {:.2} |",
            route.name(),
            a50 - d50,
            1e6 / arps - 1e6 / drps,
            a50 / d50
        );
    }
    println!(
        "\n*overhead µs/req from req/s* = 1e6/API req/s − 1e6/direct req/s: the API's own time \
         per request when the 2 cores are saturated (router, emulator and client share them).\n\
         ES256 token verification alone (`Authenticator::authenticate`, PEM key): p50 {:.0} µs.",
        median(&mut verify)
    );
    println!(
        "Measured in {:.1} s; machine: {}.",
        elapsed.as_secs_f64(),
        common::machine()
    );
    Ok(())
}
