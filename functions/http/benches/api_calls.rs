//! Salesforce API calls per route: the org emulator's `api_calls()` (counted
//! as Salesforce counts them: a `/composite` is one call, OAuth token
//! requests are not API calls) read around ONE request of each route through
//! the real router, next to the call-by-call count of the setup guide's
//! "Data Flow Summary". Deterministic: one run is enough.
//!
//! `cargo bench -p portal-http --bench api_calls`

#![allow(clippy::print_stdout, reason = "a benchmark reports on stdout")]

mod common;

use anyhow::Context as _;
use axum::body::Body;
use http::{Request, StatusCode};
use salesforce::schema::{account, opportunity};
use serde_json::{Value, json};

use common::{World, get, post};

/// One measured request.
struct Row {
    route: &'static str,
    case: &'static str,
    status: StatusCode,
    calls: u64,
    logins: u64,
    target: Option<u64>,
    guide: &'static str,
}

/// Calls made by `request`, and the JSON body.
async fn measure(
    world: &World,
    request: Request<Body>,
) -> anyhow::Result<(StatusCode, u64, u64, Value)> {
    let calls = world.emulator.api_calls();
    let logins = world.emulator.token_requests();
    let (status, body) = world.send(request).await?;
    let calls = world.emulator.api_calls() - calls;
    let logins = world.emulator.token_requests() - logins;
    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
    anyhow::ensure!(status.is_success(), "the route answered {status}: {body}");
    Ok((status, calls, logins, body))
}

fn text<'a>(body: &'a Value, field: &str) -> anyhow::Result<&'a str> {
    body[field]
        .as_str()
        .with_context(|| format!("no {field} in {body}"))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    common::init_logs();
    let world = World::start().await?;
    let mut rows = Vec::new();
    let mut row =
        |route, case, (status, calls, logins, _): &(StatusCode, u64, u64, Value), target, guide| {
            rows.push(Row {
                route,
                case,
                status: *status,
                calls: *calls,
                logins: *logins,
                target,
                guide,
            });
        };

    // The first Salesforce call of the process logs in (JWT bearer): shown once.
    let new_token = world.key.token("first", None)?;
    let registration = json!({"firstName": "Hanako", "lastName": "Sato"});
    let first = measure(
        &world,
        post("/registrations", &new_token, "r1", &registration)?,
    )
    .await?;
    row(
        "POST /registrations",
        "new customer, first request of the process",
        &first,
        Some(2),
        "4: find + create Account + create Contact + update Account",
    );
    anyhow::ensure!(
        first.0 == StatusCode::CREATED,
        "registration answered {}",
        first.0
    );
    let account_id = text(&first.3, "accountId")?.to_owned();
    // The token that registered: its login is linked now.
    let token = new_token.clone();

    let health = measure(&world, Request::get("/health").body(Body::empty())?).await?;
    row("GET /health", "", &health, Some(0), "—");

    let new_token = world.key.token("second", None)?;
    let second = measure(
        &world,
        post("/registrations", &new_token, "r2", &registration)?,
    )
    .await?;
    row(
        "POST /registrations",
        "new customer",
        &second,
        Some(2),
        "4: find + create Account + create Contact + update Account",
    );
    let again = measure(
        &world,
        post("/registrations", &new_token, "r3", &registration)?,
    )
    .await?;
    row(
        "POST /registrations",
        "already registered (200)",
        &again,
        Some(2),
        "— (the guide has no repeat rule)",
    );

    // Existing customers: a customer number with the Contact's verified e-mail
    // links at once; one that does not prove anything gets the staff Case.
    let legacy = world.emulator.insert(
        account::OBJECT,
        json!({account::NAME: "Legacy Customer", account::CUSTOMER_NUMBER: "C-7001"}),
    )?;
    world.emulator.insert(
        "Contact",
        json!({"LastName": "Legacy", "Email": "legacy@example.jp", "AccountId": legacy}),
    )?;
    let legacy_token = world.key.token("legacy", None)?;
    let numbered = json!({"firstName": "Ken", "lastName": "Legacy", "customerNumber": "C-7001"});
    let proved = measure(
        &world,
        post("/registrations", &legacy_token, "r4", &numbered)?,
    )
    .await?;
    row(
        "POST /registrations",
        "customer number + verified e-mail of its Contact (links, 201)",
        &proved,
        Some(2),
        "3: find + update Account (+ create Contact)",
    );
    let stranger = world.key.token("stranger", None)?;
    let unproved = measure(&world, post("/registrations", &stranger, "r5", &numbered)?).await?;
    row(
        "POST /registrations",
        "customer number not proved (202, staff Case)",
        &unproved,
        Some(2),
        "—",
    );
    let unknown = json!({"firstName": "Ken", "lastName": "Legacy", "customerNumber": "C-9999"});
    let unknown = measure(&world, post("/registrations", &stranger, "r6", &unknown)?).await?;
    row(
        "POST /registrations",
        "unknown customer number (202)",
        &unknown,
        Some(2),
        "—",
    );

    let account = measure(&world, get("/account", &token)?).await?;
    row(
        "GET /account",
        "",
        &account,
        Some(1),
        "— (reads not listed)",
    );

    let address = json!({"address": {"postalCode": "1500001", "prefecture": "Tokyo", "city": "Shibuya-ku", "street": "1-2-3"}});
    let eligibility = measure(
        &world,
        post("/eligibility-requests", &token, "e1", &address)?,
    )
    .await?;
    row(
        "POST /eligibility-requests",
        "new (creates Opportunity)",
        &eligibility,
        Some(2),
        "4: find Opp + create Opp + create Case + update Account",
    );
    let opportunity_id = text(&eligibility.3, "opportunityId")?.to_owned();
    let repeat = measure(
        &world,
        post("/eligibility-requests", &token, "e2", &address)?,
    )
    .await?;
    row(
        "POST /eligibility-requests",
        "repeat while Pending",
        &repeat,
        Some(2),
        "—",
    );

    let id_check = json!({"documentType": "passport"});
    let verification = measure(&world, post("/id-verifications", &token, "i1", &id_check)?).await?;
    row(
        "POST /id-verifications",
        "",
        &verification,
        Some(2),
        "2*: create Case + update Account",
    );

    let catalog = measure(&world, get("/catalog", &token)?).await?;
    row(
        "GET /catalog",
        "",
        &catalog,
        Some(1),
        "— (reads not listed)",
    );
    let products = |family: &str, services_only: bool| -> anyhow::Result<Vec<String>> {
        let ids: Vec<String> = catalog.3["products"]
            .as_array()
            .context("no products")?
            .iter()
            .filter(|p| p["family"] == family && (!services_only || p["itemClass"] == "Service"))
            .filter_map(|p| p["productId"].as_str())
            .map(str::to_owned)
            .collect();
        anyhow::ensure!(!ids.is_empty(), "no {family} product in the catalog");
        Ok(ids)
    };
    let sims = products("SIM", false)?;
    anyhow::ensure!(
        sims.len() >= 2,
        "fewer than two SIM products in the catalog"
    );
    let (sim, sim_fee) = (&sims[0], &sims[1]);
    let internet = &products("Internet", true)?[0];

    let one = json!({"commodityType": "SIM", "items": [{"productId": sim, "quantity": 1}]});
    let order = measure(&world, post("/orders", &token, "o1", &one)?).await?;
    row(
        "POST /orders",
        "SIM, 1 item",
        &order,
        Some(2),
        "4: find Opp + create Opp + create Order + 1 create OrderItem",
    );
    anyhow::ensure!(
        order.0 == StatusCode::CREATED,
        "order answered {}: {}",
        order.0,
        order.3
    );
    let order_id = text(&order.3, "orderId")?.to_owned();
    let two = json!({"commodityType": "SIM", "items": [{"productId": sim, "quantity": 1}, {"productId": sim_fee, "quantity": 2}]});
    let order2 = measure(&world, post("/orders", &token, "o2", &two)?).await?;
    row(
        "POST /orders",
        "SIM, 2 items",
        &order2,
        Some(2),
        "4–5: find Opp (+ create Opp when none is open) + create Order + 2 create OrderItem",
    );

    world.emulator.update(
        account::OBJECT,
        &account_id,
        json!({account::ELIGIBILITY_STATUS: "Checked"}),
    )?;
    world.emulator.update(
        opportunity::OBJECT,
        &opportunity_id,
        json!({opportunity::STAGE: "Ready"}),
    )?;
    let fiber = json!({"commodityType": "Personal SonixNet Home Internet", "items": [{"productId": internet, "quantity": 1}]});
    let order3 = measure(&world, post("/orders", &token, "o3", &fiber)?).await?;
    row(
        "POST /orders",
        "Internet, eligibility Checked, Opp Ready",
        &order3,
        Some(2),
        "3: find Opp + create Order + 1 create OrderItem",
    );

    let orders = measure(&world, get("/orders", &token)?).await?;
    row(
        "GET /orders",
        "3 orders",
        &orders,
        Some(1),
        "— (reads not listed)",
    );
    let detail = measure(&world, get(&format!("/orders/{order_id}"), &token)?).await?;
    row(
        "GET /orders/{orderId}",
        "",
        &detail,
        Some(1),
        "— (reads not listed)",
    );

    world.emulator.insert(
        opportunity::OBJECT,
        json!({
            opportunity::NAME: "SIM - seeded",
            opportunity::ACCOUNT_ID: account_id,
            opportunity::COMMODITY_TYPE: "SIM",
            opportunity::STAGE: "Active",
            opportunity::CLOSE_DATE: "2026-01-01",
            opportunity::WHMCS_SERVICE_ID: 31,
        }),
    )?;
    let date = (chrono::Utc::now() + chrono::TimeDelta::days(10))
        .date_naive()
        .to_string();
    let cancel = json!({"serviceId": 31, "cancellationDate": date});
    let cancellation = measure(&world, post("/cancellations", &token, "c1", &cancel)?).await?;
    row(
        "POST /cancellations",
        "",
        &cancellation,
        Some(2),
        "4: create Case + find Opp + update stage + set date",
    );
    let cancel_again = measure(&world, post("/cancellations", &token, "c2", &cancel)?).await?;
    row(
        "POST /cancellations",
        "repeat (existing case)",
        &cancel_again,
        Some(2),
        "—",
    );

    let case = json!({"subject": "Router blinking", "description": "The light is red."});
    let support = measure(&world, post("/support-cases", &token, "s1", &case)?).await?;
    row(
        "POST /support-cases",
        "",
        &support,
        Some(2),
        "1: create Case",
    );
    let replay = measure(&world, post("/support-cases", &token, "s1", &case)?).await?;
    row(
        "POST /support-cases",
        "Idempotency-Key replay",
        &replay,
        Some(0),
        "—",
    );
    let cases = measure(&world, get("/support-cases", &token)?).await?;
    row(
        "GET /support-cases",
        "",
        &cases,
        Some(1),
        "— (reads not listed)",
    );

    println!("## Salesforce API calls per route\n");
    println!("One request of each route through the real router against the org emulator;");
    println!(
        "calls = `Emulator::api_calls()` after − before (a `/composite` counts 1, OAuth token requests 0).\n"
    );
    println!(
        "| route | case | status | SF API calls | logins | target | within | guide, call by call |"
    );
    println!("| --- | --- | --- | ---: | ---: | ---: | --- | --- |");
    let mut misses = 0;
    for r in &rows {
        let (target, within) = match r.target {
            Some(t) => (format!("≤{t}"), if r.calls <= t { "yes" } else { "NO" }),
            None => ("—".to_owned(), "—"),
        };
        if within == "NO" {
            misses += 1;
        }
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            r.route,
            r.case,
            r.status.as_u16(),
            r.calls,
            r.logins,
            target,
            within,
            r.guide
        );
    }
    println!(
        "\nGuide count: every line of the setup guide's Data Flow Summary is one REST call, and a \
         \"Find/Create\" is a find plus a create when nothing is found; registration adds the \
         lookup that avoids duplicates. *ID verification and support cases are not in the \
         summary: counted from DESIGN's write lists the same way. Routes over target: {misses}."
    );
    println!("\nmachine: {}", common::machine());
    Ok(())
}
