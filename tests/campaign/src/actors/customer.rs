//! A simulated customer's journey through the portal: log in, register, (for
//! Internet) ask for eligibility and wait for staff to check it, read the
//! catalog, order, and maybe open a support case. Every POST goes through
//! [`Portal::post`] (one key per request, retried with the same key).

use std::time::Duration;

use serde_json::{Value, json};
use tokio::time::Instant;

use super::portal::{Portal, PostHistory};
use super::staff::Staff;
use crate::schedule::{Commodity, CustomerPlan};

/// What happened to one customer.
#[derive(Debug, Clone)]
pub struct CustomerRecord {
    /// The plan it followed.
    pub plan: CustomerPlan,
    /// Its login's subject.
    pub sub: String,
    /// Its verified e-mail.
    pub email: String,
    /// Its Account, as registration told it.
    pub account_id: Option<String>,
    /// Every POST it made, with every answer.
    pub posts: Vec<PostHistory>,
    /// Where the journey stopped early, if it did.
    pub stopped: Option<&'static str>,
}

impl CustomerRecord {
    /// The history of the POST with idempotency key `key`.
    pub fn post(&self, key: &str) -> Option<&PostHistory> {
        self.posts.iter().find(|p| p.key == key)
    }
}

/// The e-mail of customer `index`.
pub fn email(index: usize) -> String {
    format!("customer{index}@campaign.example.jp")
}

/// Runs `plan`'s journey, retrying until `until`.
pub async fn journey(
    plan: &CustomerPlan,
    window_start: Instant,
    portal: &Portal,
    staff: &Staff,
    until: Instant,
) -> CustomerRecord {
    tokio::time::sleep_until(window_start + Duration::from_millis(plan.start_millis)).await;
    let i = plan.index;
    let mut record = CustomerRecord {
        plan: plan.clone(),
        sub: format!("customer-{i}"),
        email: email(i),
        account_id: None,
        posts: Vec::new(),
        stopped: None,
    };
    let Some(token) = portal.token(&record.sub, &record.email).await else {
        record.stopped = Some("no login token");
        return record;
    };
    let registration = portal
        .post(
            &token,
            "/registrations",
            &format!("reg-{i}"),
            &json!({"firstName": "Campaign", "lastName": format!("Customer{i}"), "phone": "+81 3-1234-5678"}),
            until,
        )
        .await;
    let account = registration
        .success()
        .and_then(|a| a.body["accountId"].as_str().map(str::to_owned));
    record.posts.push(registration);
    let Some(account) = account else {
        record.stopped = Some("registration");
        return record;
    };
    record.account_id = Some(account.clone());
    if plan.approve_twice {
        staff
            .twice
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(account.clone());
    }

    if plan.commodity == Commodity::Internet {
        let eligibility = portal
            .post(
                &token,
                "/eligibility-requests",
                &format!("elig-{i}"),
                &json!({"address": {"postalCode": "150-0001", "prefecture": "Tokyo", "city": "Shibuya-ku", "street": format!("1-2-{i} Jingumae")}}),
                until,
            )
            .await;
        let opportunity = eligibility
            .success()
            .and_then(|a| a.body["opportunityId"].as_str().map(str::to_owned));
        record.posts.push(eligibility);
        let Some(opportunity) = opportunity else {
            record.stopped = Some("eligibility request");
            return record;
        };
        if !staff.check_eligibility(&account, &opportunity, until).await {
            record.stopped = Some("eligibility check by staff");
            return record;
        }
    }

    let Some(catalog) = portal.get(&token, "/catalog", until).await else {
        record.stopped = Some("catalog");
        return record;
    };
    let Some(items) = items(&catalog, plan.commodity) else {
        record.stopped = Some("catalog without the products");
        return record;
    };
    let order = portal
        .post(
            &token,
            "/orders",
            &format!("order-{i}"),
            &json!({"commodityType": plan.commodity.commodity_type(), "items": items}),
            until,
        )
        .await;
    record.posts.push(order);

    if plan.support_case {
        let case = portal
            .post(
                &token,
                "/support-cases",
                &format!("case-{i}"),
                &json!({"subject": format!("Question {i}"), "description": "Which router do I need?"}),
                until,
            )
            .await;
        record.posts.push(case);
    }
    record
}

/// The order lines of `commodity` from the catalog, by product name.
fn items(catalog: &Value, commodity: Commodity) -> Option<Vec<Value>> {
    let products = catalog["products"].as_array()?;
    commodity
        .product_names()
        .iter()
        .map(|name| {
            products
                .iter()
                .find(|p| p["name"] == *name)
                .map(|p| json!({"productId": p["productId"], "quantity": 1}))
        })
        .collect()
}
