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
//! A second table puts the API's state on the moto server (the DynamoDB
//! adapters: idempotency records, per-login counters, the login link and the
//! Account's status), at concurrency 1, with the login's link cached (the
//! default) and uncached (`PORTAL_LINK_CACHE_SECS=0`: every request reads the
//! link and the status), beside the in-memory state and the direct calls.
//!
//! `cargo bench -p portal-http --bench handler_overhead`
//! (`BENCH_ROUNDS`, default 5; `BENCH_REQUESTS`, per round and measurement, default 800;
//! the GETs send 4× as many at concurrency 16; `BENCH_MOTO_REQUESTS`, default 200).

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

use common::{State, World, get, median, post, quantile, setting};

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
        Self::start_with(State::InMemory).await
    }

    /// A fresh world keeping the API's state in `state`, with one registered customer.
    async fn start_with(state: State) -> anyhow::Result<Arc<Self>> {
        let world = World::start_with(state).await?;
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
                        uc::open_support_case(ports.support(), &self.caller, body).await?;
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
    moto_table(rounds, setting("BENCH_MOTO_REQUESTS", 200)).await
}

/// The API's own cost with its state on moto, link cached and uncached.
async fn moto_table(rounds: usize, requests: usize) -> anyhow::Result<()> {
    let cached = std::time::Duration::from_secs(60);
    let states = [
        ("in memory", State::InMemory),
        ("moto, link cached", State::Moto { link_cache: cached }),
        (
            "moto, link uncached",
            State::Moto {
                link_cache: std::time::Duration::ZERO,
            },
        ),
    ];
    let started = Instant::now();
    // Per route: direct, then one sample set per state.
    let mut results: Vec<(Route, Samples, Vec<Samples>)> = Vec::new();
    for route in Route::ALL {
        let mut direct = Samples::default();
        let mut by_state: Vec<Samples> = states.iter().map(|_| Samples::default()).collect();
        // GETs reuse one world per state; POSTs get a fresh one per measurement.
        let mut worlds = Vec::new();
        if route != Route::SupportCase {
            for (_, state) in &states {
                let bench = Bench::start_with(*state).await?;
                run(&bench, route, Mode::Router, 1, 20).await?;
                worlds.push(bench);
            }
        }
        for round in 0..rounds {
            let bench = if route == Route::SupportCase {
                Bench::start().await?
            } else {
                Arc::clone(&worlds[0])
            };
            direct.push(&run(&bench, route, Mode::Direct, 1, requests).await?);
            for offset in 0..states.len() {
                // Rotate which state goes first.
                let i = (round + offset) % states.len();
                let bench = if route == Route::SupportCase {
                    let fresh = Bench::start_with(states[i].1).await?;
                    run(&fresh, route, Mode::Router, 1, 10).await?;
                    fresh
                } else {
                    Arc::clone(&worlds[i])
                };
                by_state[i].push(&run(&bench, route, Mode::Router, 1, requests).await?);
            }
        }
        results.push((route, direct, by_state));
    }
    println!("\n## The API's own cost with its state on moto (concurrency 1)\n");
    println!(
        "Medians over {rounds} rounds of {requests} requests. *own cost* = API p50 − direct p50. \
         *moto* = the DynamoDB adapters on the local moto server (a Python process: one call \
         costs it ~1 ms, more than DynamoDB from Lambda); *link uncached* = \
         `PORTAL_LINK_CACHE_SECS=0`, so every request reads the link item and the Account's \
         status (2 GetItem) before its route.\n"
    );
    println!(
        "| route | direct p50 µs | in memory: p50 µs (own cost) | moto, link cached: p50 µs (own cost) | moto, link uncached: p50 µs (own cost) | link lookup, uncached − cached |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    for (route, mut direct, mut by_state) in results {
        let (d50, _, _) = direct.medians();
        let p50: Vec<f64> = by_state.iter_mut().map(|s| s.medians().0).collect();
        println!(
            "| {} | {d50:.0} | {:.0} (+{:.0}) | {:.0} (+{:.0}) | {:.0} (+{:.0}) | +{:.0} µs |",
            route.name(),
            p50[0],
            p50[0] - d50,
            p50[1],
            p50[1] - d50,
            p50[2],
            p50[2] - d50,
            p50[2] - p50[1]
        );
    }
    println!(
        "\nMeasured in {:.1} s; machine: {}.",
        started.elapsed().as_secs_f64(),
        common::machine()
    );
    Ok(())
}
