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
//! production timings, except the provisioner's wait after an empty receive
//! (`LATENCY_IDLE_WAIT_MS`, default 1 ms: the Lambda's event source mapping
//! long-polls SQS and hands a message over as it arrives) and the reconciler,
//! kept off the path (its schedule is an hour).

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
        let mut samples = Vec::with_capacity(ids.len());
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
                tokio::time::sleep(Duration::from_millis(1)).await;
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
        }
        samples
    });
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
        "{} Orders approved one at a time; Salesforce {} ms and WHMCS {} ms a call; provisioner idle wait {} ms\n",
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
}
