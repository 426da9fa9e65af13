//! Failures: a composite that fails midway leaves no record behind, and every
//! failure maps to the right `PortError` (transient → `Unavailable` with a
//! hint, refused data → `Rejected` with Salesforce's field names, anything
//! else → `Failed`).

use portal_core::portal::ports::{AccountProfile, OrderBook, RegistrationDirectory, SupportDesk};
use std::time::Duration;

use chrono::NaiveDate;
use portal_core::domain::{
    ActivationStatus, CommodityType, FirstName, LastName, OrderStatus, PhoneNumber, PortalStatus,
    Quantity, RegistrationSource, UnitPrice,
};
use portal_core::portal::orders::{NewOrder, NewOrderItem, OrderPlacement};
use portal_core::portal::plans::{NewOpportunity, OpportunityPlan};
use portal_core::portal::registration::{NewAccount, NewContact, RegistrationPlan};
use portal_core::portal::{Caller, PortError, RegistrationRequest, register};
use salesforce::RetryPolicy;
use salesforce::portal::error::{
    DAILY_LIMIT_RETRY_AFTER, LIMIT_RETRY_AFTER, LOCK_RETRY_AFTER, OUTAGE_RETRY_AFTER,
};
use salesforce::schema::{account, contact, opportunity, order, order_item};
use salesforce_emulator::{EmulatorConfig, Fault, SchemaGaps};
use serde_json::json;

use crate::helpers::{
    SeededProduct, TestOrg, caller, logins, now, org_with, org_without_retries, upstream,
};

fn item(p: &SeededProduct) -> NewOrderItem {
    NewOrderItem {
        product_id: p.id.clone(),
        pricebook_entry_id: p.entry.clone(),
        quantity: Quantity::new(1).expect("1 is a quantity"),
        unit_price: UnitPrice::new(p.price).expect("a seeded price"),
    }
}

fn sim_order(org: &TestOrg, items: Vec<NewOrderItem>) -> OrderPlacement {
    let mine = org.account("Hanako Yamada", json!({}));
    let today = NaiveDate::from_ymd_opt(2026, 4, 1).expect("a date");
    OrderPlacement {
        account_id: mine.clone(),
        opportunity: OpportunityPlan::Create(NewOpportunity::for_order(
            mine,
            CommodityType::Sim,
            today,
        )),
        order: NewOrder {
            status: OrderStatus::PendingReview,
            activation_status: ActivationStatus::PendingReview,
            effective_date: today,
            pricebook_id: org.standard_pricebook(),
            items,
        },
    }
}

/// (Opportunities, Orders, OrderItems) in the org.
fn order_records(org: &TestOrg) -> (usize, usize, usize) {
    (
        org.count(opportunity::OBJECT),
        org.count(order::OBJECT),
        org.count(order_item::OBJECT),
    )
}

#[tokio::test]
async fn an_order_whose_fourth_record_is_refused_leaves_nothing_behind_and_is_rejected_with_the_field()
 {
    let org = org_without_retries().await;
    let sim = org.product("SIM-DATA-20GB");
    let legacy = org.product("INT-HOME-1G-LEGACY"); // inactive: its line is refused
    let plan = sim_order(&org, vec![item(&sim), item(&legacy)]);
    let before = order_records(&org);

    let calls = org.calls();
    let err = org.portal.orders().place_order(&plan).await.unwrap_err();
    assert_eq!(org.calls() - calls, 1);
    let PortError::Rejected { fields, .. } = &err else {
        panic!("expected a rejection, got {err:?}");
    };
    assert_eq!(fields, &[order_item::PRICEBOOK_ENTRY_ID]);
    assert_eq!(
        order_records(&org),
        before,
        "the Opportunity, Order and first item rolled back"
    );
}

#[tokio::test]
async fn a_locked_row_without_retries_leaves_nothing_behind_and_is_unavailable() {
    let org = org_without_retries().await;
    let sim = org.product("SIM-DATA-20GB");
    let fee = org.product("SIM-ACTIVATION");
    let plan = sim_order(&org, vec![item(&sim), item(&fee)]);
    let before = order_records(&org);
    org.emulator.inject(Fault::LockRowOnNextWrites(1));

    let calls = org.calls();
    let err = org.portal.orders().place_order(&plan).await.unwrap_err();
    assert_eq!(org.calls() - calls, 1, "not retried");
    assert!(err.is_retryable(), "{err:?}");
    assert_eq!(err.retry_after(), Some(LOCK_RETRY_AFTER));
    assert_eq!(order_records(&org), before);

    // The same plan goes through once the lock is gone.
    org.portal.orders().place_order(&plan).await.unwrap();
    assert_eq!(order_records(&org).1, before.1 + 1);
}

#[tokio::test]
async fn a_lock_is_retried_by_the_client_and_the_composite_then_writes_once() {
    let fast = RetryPolicy {
        max_attempts: 3,
        base: Duration::from_millis(1),
        cap: Duration::from_millis(5),
    };
    let org = org_with(EmulatorConfig::default(), fast).await;
    let sim = org.product("SIM-DATA-20GB");
    let plan = sim_order(&org, vec![item(&sim)]);
    let before = order_records(&org);
    org.emulator.inject(Fault::LockRowOnNextWrites(1));

    let calls = org.calls();
    org.portal.orders().place_order(&plan).await.unwrap();
    assert_eq!(org.calls() - calls, 2, "the failed attempt and the retry");
    assert_eq!(
        order_records(&org),
        (before.0 + 1, before.1 + 1, before.2 + 1)
    );
}

#[tokio::test]
async fn an_outage_or_a_request_limit_is_unavailable_with_a_hint_per_cause() {
    let org = org_without_retries().await;
    let mine = org.account("Hanako Yamada", json!({}));
    let profile = org.portal.account();

    org.emulator.inject(Fault::ServiceUnavailable(1));
    let err = profile.account_overview(&mine).await.unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
    assert_eq!(err.retry_after(), Some(OUTAGE_RETRY_AFTER));

    org.emulator.inject(Fault::RequestLimitExceeded {
        n: 1,
        concurrent: true,
    });
    let err = org.portal.support().cases(&mine).await.unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
    assert_eq!(err.retry_after(), Some(LIMIT_RETRY_AFTER));

    org.emulator.inject(Fault::RequestLimitExceeded {
        n: 1,
        concurrent: false,
    });
    let err = profile.account_overview(&mine).await.unwrap_err();
    assert!(matches!(err, PortError::Unavailable { .. }), "{err:?}");
    assert_eq!(err.retry_after(), Some(DAILY_LIMIT_RETRY_AFTER));

    assert!(profile.account_overview(&mine).await.unwrap().is_some());
}

#[tokio::test]
async fn a_required_field_or_a_too_long_value_is_rejected_with_its_fields_and_nothing_is_written() {
    let org = org_without_retries().await;
    let accounts = org.count(account::OBJECT);
    let contacts = org.count(contact::OBJECT);
    let person = NewContact {
        first_name: FirstName::parse("Hanako").unwrap(),
        last_name: LastName::parse("Yamada").unwrap(),
        email: portal_core::domain::Email::parse("hanako@example.jp").unwrap(),
        phone: Some(PhoneNumber::parse("+81 3-1234-5678").unwrap()),
    };
    let nameless = RegistrationPlan::CreateAccount {
        account: NewAccount {
            name: String::new(),
            phone: None,
            portal_status: PortalStatus::Active,
            registration_source: RegistrationSource::PortalSignup,
        },
        contact: person,
    };
    let err = org
        .portal
        .registration()
        .register(&nameless)
        .await
        .unwrap_err();
    let PortError::Rejected { message, fields } = &err else {
        panic!("expected a rejection, got {err:?}");
    };
    assert_eq!(fields, &[account::NAME]);
    assert!(message.contains("Required fields are missing"), "{message}");
    assert_eq!(org.count(account::OBJECT), accounts);
    assert_eq!(org.count(contact::OBJECT), contacts);

    let sim = org.product("SIM-DATA-20GB");
    let mut plan = sim_order(&org, vec![item(&sim)]);
    if let OpportunityPlan::Create(new) = &mut plan.opportunity {
        new.name = "x".repeat(121);
    }
    let before = order_records(&org);
    let err = org.portal.orders().place_order(&plan).await.unwrap_err();
    assert!(
        matches!(&err, PortError::Rejected { fields, .. } if fields == &[opportunity::NAME]),
        "{err:?}"
    );
    assert_eq!(order_records(&org), before);
}

#[tokio::test]
async fn a_picklist_value_the_org_lacks_is_rejected_with_its_field_through_the_use_case() {
    let config = EmulatorConfig {
        schema_gaps: SchemaGaps {
            missing_picklist_values: vec![(
                account::OBJECT,
                account::REGISTRATION_SOURCE,
                "Portal Checkout",
            )],
            ..SchemaGaps::default()
        },
        ..EmulatorConfig::default()
    };
    let org = org_with(config, RetryPolicy::none()).await;
    let accounts = org.count(account::OBJECT);
    let contacts = org.count(contact::OBJECT);
    let body = RegistrationRequest {
        first_name: Some("Hanako".into()),
        last_name: Some("Yamada".into()),
        source: Some("checkout".into()),
        ..RegistrationRequest::default()
    };
    let who: Caller = caller("hanako@example.jp", None);

    let calls = org.calls();
    let err = register(&org.portal.registration(), &logins(), &who, body, now())
        .await
        .unwrap_err();
    assert_eq!(org.calls() - calls, 2, "the read and the refused write");
    let PortError::Rejected { fields, .. } = upstream(err) else {
        panic!("expected a rejection");
    };
    assert_eq!(fields, [account::REGISTRATION_SOURCE]);
    assert_eq!(org.count(account::OBJECT), accounts);
    assert_eq!(org.count(contact::OBJECT), contacts);
}
