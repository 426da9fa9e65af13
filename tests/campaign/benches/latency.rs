//! Approval → `Provisioned` through the whole pipeline (Flow, Pub/Sub,
//! subscriber, queue, provisioner) with every Salesforce call taking 80 ms
//! and every WHMCS call 150 ms, against the sum of those latencies on the
//! path: `cargo bench -p campaign --bench latency`.
//!
//! `LATENCY_ORDERS` Orders (default 40) are made first, without latency;
//! then the latencies are set and staff approve them one at a time. For each
//! Order the clock runs from the approval's answer to the moment the org
//! holds `Activation_Status__c = Provisioned`; the calls the org (REST and
//! token) and WHMCS counted in that span, times their latency, are the
//! upstream share, and what is left is the pipeline's own. The functions'
//! production timings: the provisioner's receive long-polls the queue (as
//! the Lambda's event source mapping long-polls SQS and hands a message over
//! as it arrives), then waits `LATENCY_IDLE_WAIT_MS` (default 1 ms) after an
//! empty one; the reconciler is kept off the path (its schedule is an hour).
//!
//! The pipeline's own time is then broken down per hop and per upstream call
//! from bench-only observation points (the emulators' request and event
//! timestamps, the harness's queue and event-source crossings);
//! `LATENCY_VERBOSE=1` prints every Order's.

#![allow(clippy::print_stdout)]

use std::io::Write as _;
use std::time::Duration;

use campaign::actors::portal::Portal;
use campaign::actors::staff::{Staff, text};
use campaign::schedule::Commodity;
use campaign::timings::Timings;
use campaign::world::World;
use portal_core::schema::order;
use salesforce_emulator::Fault as OrgFault;
use serde_json::{Value, json};
use tokio::time::Instant;
use whmcs_emulator::WhmcsFault;

const SALESFORCE: Duration = Duration::from_millis(80);
const WHMCS: Duration = Duration::from_millis(150);
const WHMCS_ACTIONS: [&str; 9] = [
    "GetClients",
    "GetClientsDetails",
    "AddClient",
    "AddOrder",
    "AcceptOrder",
    "GetClientsProducts",
    "GetOrders",
    "GetProducts",
    "GetPaymentMethods",
];

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// Calls so far: (Salesforce REST + token, WHMCS).
fn calls(world: &World) -> (u64, u64) {
    let whmcs = WHMCS_ACTIONS.iter().map(|a| world.whmcs.calls(a)).sum();
    (world.org.api_calls() + world.org.token_requests(), whmcs)
}

/// One customer registers and orders a SIM; the Order's id.
async fn make_order(portal: &Portal, i: usize, until: Instant) -> Option<String> {
    let token = portal
        .token(
            &format!("latency-{i}"),
            &format!("latency{i}@bench.example.jp"),
        )
        .await?;
    let registration = portal
        .post(
            &token,
            "/registrations",
            &format!("reg-{i}"),
            &json!({"firstName": "Latency", "lastName": format!("Customer{i}"), "phone": "+81 3-1234-5678"}),
            until,
        )
        .await;
    registration.success()?;
    let catalog = portal.get(&token, "/catalog", until).await?;
    let products = catalog["products"].as_array()?;
    let items: Option<Vec<Value>> = Commodity::Sim
        .product_names()
        .iter()
        .map(|name| {
            products
                .iter()
                .find(|p| p["name"] == *name)
                .map(|p| json!({"productId": p["productId"], "quantity": 1}))
        })
        .collect();
    let ordered = portal
        .post(
            &token,
            "/orders",
            &format!("order-{i}"),
            &json!({"commodityType": Commodity::Sim.commodity_type(), "items": items?}),
            until,
        )
        .await;
    ordered
        .success()
        .and_then(|a| a.body["orderId"].as_str().map(str::to_owned))
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn main() {
    let orders = usize::try_from(env_number("LATENCY_ORDERS", 40)).unwrap_or(40);
    let idle_wait = Duration::from_millis(env_number("LATENCY_IDLE_WAIT_MS", 1));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime starts");
    let samples = runtime.block_on(async {
        let mut timings = Timings::production();
        timings.idle_wait = idle_wait;
        timings.reconcile_every = Duration::from_secs(3600);
        let world = World::start(1, timings, None)
            .await
            .expect("the world starts");
        let portal = Portal::new(&world.api_url, Duration::from_secs(30));
        let staff = Staff::new(&world.org.base_url(), "local-admin");
        let until = Instant::now() + Duration::from_secs(1800);
        let mut ids = Vec::with_capacity(orders);
        for i in 0..orders {
            match make_order(&portal, i, until).await {
                Some(id) => ids.push(id),
                None => eprintln!("customer {i} could not order"),
            }
        }
        world.org.inject(OrgFault::Latency(SALESFORCE));
        world.whmcs.inject(WhmcsFault::Latency(WHMCS));
        world.org.observe(true);
        world.whmcs.observe(true);
        let mut samples = Vec::with_capacity(ids.len());
        let mut hops = Vec::with_capacity(ids.len());
        for id in &ids {
            if !staff
                .patch(order::OBJECT, id, &json!({"Status": "Approved"}), until)
                .await
            {
                eprintln!("Order {id} could not be approved");
                continue;
            }
            let started = Instant::now();
            let before = calls(&world);
            let provisioned = loop {
                // Registered before the record is read, so no commit in
                // between is missed.
                let committed = world.org.observed().next_commit();
                let status = world
                    .org
                    .record(id)
                    .map(|r| text(&r, order::ACTIVATION_STATUS))
                    .unwrap_or_default();
                if status == "Provisioned" {
                    break true;
                }
                if status == "Failed" || started.elapsed() > Duration::from_secs(120) {
                    break false;
                }
                // Woken by the org's next commit (the timer only as a
                // fallback): polling every 1 ms added up to 4 ms of the
                // bench's own lag to an Order's time.
                let _ = tokio::time::timeout(Duration::from_millis(50), committed).await;
            };
            let took = started.elapsed();
            let after = calls(&world);
            if !provisioned {
                eprintln!("Order {id} was not provisioned");
                continue;
            }
            let (sf, wh) = (after.0 - before.0, after.1 - before.1);
            let upstream = SALESFORCE * u32::try_from(sf).unwrap_or(u32::MAX)
                + WHMCS * u32::try_from(wh).unwrap_or(u32::MAX);
            samples.push((took, upstream, sf, wh));
            // The clock has stopped; the org notes the last write once its
            // answer is out, just after the commit the bench woke on.
            tokio::time::sleep(Duration::from_millis(20)).await;
            hops.push(breakdown(&world, id, started.into_std(), took));
        }
        (samples, hops)
    });
    let (samples, hops) = samples;
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mut took: Vec<f64> = samples.iter().map(|s| ms(s.0)).collect();
    let mut own: Vec<f64> = samples.iter().map(|s| ms(s.0) - ms(s.1)).collect();
    let mut share: Vec<f64> = samples
        .iter()
        .map(|s| (ms(s.0) - ms(s.1)) / ms(s.0) * 100.0)
        .collect();
    let mut upstream: Vec<f64> = samples.iter().map(|s| ms(s.1)).collect();
    for v in [&mut took, &mut own, &mut share, &mut upstream] {
        v.sort_by(f64::total_cmp);
    }
    let (sf_calls, wh_calls): (Vec<u64>, Vec<u64>) = samples.iter().map(|s| (s.2, s.3)).unzip();
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "{} Orders approved one at a time; Salesforce {} ms and WHMCS {} ms a call; the provisioner long-polls the queue, then waits {} ms\n",
        samples.len(),
        SALESFORCE.as_millis(),
        WHMCS.as_millis(),
        idle_wait.as_millis()
    );
    let _ = writeln!(
        out,
        "calls on the path: Salesforce {:?}..{:?}, WHMCS {:?}..{:?}\n",
        sf_calls.iter().min(),
        sf_calls.iter().max(),
        wh_calls.iter().min(),
        wh_calls.iter().max()
    );
    let _ = writeln!(out, "| | p50 | p99 |");
    let _ = writeln!(out, "| --- | ---: | ---: |");
    let row = |name: &str, v: &[f64], unit: &str| {
        format!(
            "| {name} | {:.1}{unit} | {:.1}{unit} |",
            percentile(v, 0.5),
            percentile(v, 0.99)
        )
    };
    let _ = writeln!(out, "{}", row("approval → Provisioned", &took, " ms"));
    let _ = writeln!(
        out,
        "{}",
        row("upstream latencies on the path", &upstream, " ms")
    );
    let _ = writeln!(out, "{}", row("the pipeline's own", &own, " ms"));
    let _ = writeln!(out, "{}", row("the pipeline's own share", &share, " %"));
    print_hops(&mut out, &hops, &own);
}

/// One Order's own time, hop by hop (ms), from the observation points:
/// the org's and WHMCS's request and event timestamps and the harness's
/// queue and event-source crossings.
#[derive(Debug, Default, Clone)]
struct Breakdown {
    /// Named hops, in path order, in ms (every one own time).
    hops: Vec<(String, f64)>,
    /// Each upstream call: (name, gap before it, its time beyond the nominal latency).
    calls: Vec<(String, f64, f64)>,
    /// Whether every observation point was found.
    complete: bool,
}

fn breakdown(world: &World, id: &str, started: std::time::Instant, took: Duration) -> Breakdown {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let between = |a: std::time::Instant, b: std::time::Instant| {
        if b >= a { ms(b - a) } else { -ms(a - b) }
    };
    let seen = started + took;
    let same = |a: &str, b: &str| a.get(..15).is_some_and(|a| b.get(..15) == Some(a));
    let observed = world.org.observed();
    let Some(event) = observed
        .events()
        .into_iter()
        .rev()
        .find(|e| same(&e.order_id, id))
    else {
        return Breakdown::default();
    };
    // The Flow publishes before the approval is answered, so the pipeline
    // may call Salesforce before the bench's clock starts.
    let from = event.published.min(started);
    let streamed = observed.streamed_at(&event.event_id);
    let delivered = world.hops.delivered(&event.event_id);
    let queued = world.hops.queued(id, event.published);
    let received = world.hops.received(id, event.published);
    let mut calls: Vec<(String, std::time::Instant, std::time::Instant, Duration)> = observed
        .calls()
        .into_iter()
        .filter(|c| c.arrived >= from && c.arrived <= seen)
        .map(|c| {
            let name = c
                .path
                .rsplit('/')
                .find(|s| !s.is_empty() && !s.starts_with("801"))
                .unwrap_or_default()
                .to_owned();
            (
                format!("SF {} {name}", c.method),
                c.arrived,
                c.answered,
                SALESFORCE,
            )
        })
        .chain(
            world
                .whmcs
                .observed()
                .into_iter()
                .filter(|c| c.arrived >= from && c.arrived <= seen)
                .map(|c| (format!("WHMCS {}", c.action), c.arrived, c.answered, WHMCS)),
        )
        .collect();
    calls.sort_by_key(|c| c.1);
    let (Some(streamed), Some(delivered), Some(queued), Some(received), Some(first), Some(last)) = (
        streamed,
        delivered,
        queued,
        received,
        calls.first().cloned(),
        calls.last().cloned(),
    ) else {
        return Breakdown::default();
    };
    let mut previous = received;
    let mut gaps = 0.0;
    let mut excess = 0.0;
    let mut per_call = Vec::with_capacity(calls.len());
    for (name, arrived, answered, nominal) in &calls {
        // The last write commits before its answer: the bench may see
        // `Provisioned` first.
        let answered = &(*answered).min(seen);
        let gap = between(previous, *arrived);
        let over = between(*arrived, *answered) - ms(*nominal);
        if previous != received {
            gaps += gap;
        }
        excess += over;
        per_call.push((name.clone(), gap, over));
        previous = *answered;
    }
    Breakdown {
        hops: vec![
            (
                "approval answer → event published (org)".into(),
                between(started, event.published),
            ),
            (
                "published → handed to the Pub/Sub stream (org)".into(),
                between(event.published, streamed),
            ),
            (
                "stream → subscriber has the event (gRPC, decode)".into(),
                between(streamed, delivered),
            ),
            (
                "subscriber → SendMessageBatch (batching wait)".into(),
                between(delivered, queued),
            ),
            (
                "queue → provisioner receives (poll wait)".into(),
                between(queued, received),
            ),
            (
                "receive → first upstream call (claim…)".into(),
                between(received, first.1),
            ),
            ("provisioner between upstream calls".into(), gaps),
            (
                "upstream calls beyond their latency (emulators)".into(),
                excess,
            ),
            (
                "Provisioned written → seen by the bench".into(),
                between(last.2.min(seen), seen),
            ),
        ],
        calls: per_call,
        complete: true,
    }
}

fn print_hops(out: &mut impl std::io::Write, hops: &[Breakdown], own: &[f64]) {
    let complete: Vec<&Breakdown> = hops.iter().filter(|b| b.complete).collect();
    let Some(first) = complete.first() else {
        let _ = writeln!(out, "\nno Order had every observation point");
        return;
    };
    let _ = writeln!(
        out,
        "\nthe pipeline's own time per hop ({} of {} Orders observed; p99 of each hop on its own)\n",
        complete.len(),
        hops.len()
    );
    let _ = writeln!(out, "| hop | p50 | p99 | max |");
    let _ = writeln!(out, "| --- | ---: | ---: | ---: |");
    let mut sums = vec![0.0; complete.len()];
    for (i, (name, _)) in first.hops.iter().enumerate() {
        let mut v: Vec<f64> = complete.iter().map(|b| b.hops[i].1).collect();
        for (s, x) in sums.iter_mut().zip(&v) {
            *s += x;
        }
        v.sort_by(f64::total_cmp);
        let _ = writeln!(
            out,
            "| {name} | {:.2} ms | {:.2} ms | {:.2} ms |",
            percentile(&v, 0.5),
            percentile(&v, 0.99),
            v.last().copied().unwrap_or(f64::NAN)
        );
    }
    sums.sort_by(f64::total_cmp);
    let _ = writeln!(
        out,
        "| sum of the hops (check: the pipeline's own p50 {:.2} / p99 {:.2}) | {:.2} ms | {:.2} ms | |",
        percentile(own, 0.5),
        percentile(own, 0.99),
        percentile(&sums, 0.5),
        percentile(&sums, 0.99)
    );
    let _ = writeln!(
        out,
        "\nupstream calls in order: the gap before each (after the previous answer; the first after the receive) and its time beyond the nominal latency\n"
    );
    let _ = writeln!(
        out,
        "| call | n | gap p50 | gap p99 | beyond p50 | beyond p99 |"
    );
    let _ = writeln!(out, "| --- | ---: | ---: | ---: | ---: | ---: |");
    let mut names: Vec<String> = Vec::new();
    for b in &complete {
        for (i, (name, _, _)) in b.calls.iter().enumerate() {
            let key = format!("{}. {name}", i + 1);
            if !names.contains(&key) {
                names.push(key);
            }
        }
    }
    names.sort();
    for key in &names {
        let (mut gaps, mut over): (Vec<f64>, Vec<f64>) = complete
            .iter()
            .flat_map(|b| {
                b.calls
                    .iter()
                    .enumerate()
                    .filter(|(i, (name, _, _))| format!("{}. {name}", i + 1) == *key)
                    .map(|(_, (_, g, o))| (*g, *o))
            })
            .unzip();
        gaps.sort_by(f64::total_cmp);
        over.sort_by(f64::total_cmp);
        let _ = writeln!(
            out,
            "| {key} | {} | {:.2} ms | {:.2} ms | {:.2} ms | {:.2} ms |",
            gaps.len(),
            percentile(&gaps, 0.5),
            percentile(&gaps, 0.99),
            percentile(&over, 0.5),
            percentile(&over, 0.99)
        );
    }
    if std::env::var_os("LATENCY_VERBOSE").is_some() {
        let _ = writeln!(
            out,
            "\nper Order (ms): hops, then calls as name gap/beyond\n"
        );
        for b in &complete {
            let hops: Vec<String> = b.hops.iter().map(|(_, v)| format!("{v:.1}")).collect();
            let calls: Vec<String> = b
                .calls
                .iter()
                .map(|(n, g, o)| format!("{n} {g:.1}/{o:.1}"))
                .collect();
            let _ = writeln!(out, "{} | {}", hops.join(" "), calls.join(", "));
        }
    }
}
