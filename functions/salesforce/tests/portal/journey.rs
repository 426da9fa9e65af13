//! End to end through the core use cases over the adapters: a customer's
//! journey, with the Salesforce API calls each use case costs (each POST at
//! most 2, each GET 1) and the staff steps done as Salesforce writes.

use std::future::Future;

use portal_core::domain::AddressInput;
use portal_core::domain::{AccountId, OrderStatus};
use portal_core::portal::cancellation::CancellationRequest;
use portal_core::portal::id_verification::{DocumentUpload, IdVerificationRequest};
use portal_core::portal::orders::OrderItemInput;
use portal_core::portal::support::SupportCaseRequest;
use portal_core::portal::{
    ConflictReason, EligibilityRequest, OrderRequest, PortalError, PortalSettings, Registration,
    RegistrationRequest, get_account, get_catalog, get_order, list_orders, list_support_cases,
    open_support_case, place_order, register, request_cancellation, request_eligibility,
    submit_id_verification,
};
use salesforce::schema::{account, case, opportunity, order, order_item};
use serde_json::json;

use crate::helpers::{SeededProduct, TestOrg, attempt, caller, logins, now, org};

/// Runs `f` and returns its output with the API calls it cost.
async fn cost<T>(org: &TestOrg, f: impl Future<Output = T>) -> (T, u64) {
    let before = org.calls();
    let out = f.await;
    (out, org.calls() - before)
}

fn internet_order(products: &[&SeededProduct]) -> OrderRequest {
    OrderRequest {
        commodity_type: Some("Personal SonixNet Home Internet".into()),
        items: Some(
            products
                .iter()
                .map(|p| OrderItemInput {
                    product_id: Some(p.id.as_str().to_owned()),
                    quantity: Some(1),
                })
                .collect(),
        ),
    }
}

fn eligibility_body() -> EligibilityRequest {
    EligibilityRequest {
        commodity_type: None,
        address: Some(AddressInput {
            postal_code: Some("1500001".into()),
            prefecture: Some("Tokyo".into()),
            city: Some("渋谷区".into()),
            street: Some("神宮前1-2-3".into()),
            building: None,
        }),
        notes: Some("Fiber please".into()),
    }
}

#[tokio::test]
async fn a_customer_registers_asks_for_eligibility_and_orders_internet_once_staff_marked_it_ready()
{
    let org = org().await;
    let settings = PortalSettings::default();
    let portal = &org.portal;

    // Registration: one read, one write; a repeat only reads.
    let body = RegistrationRequest {
        first_name: Some("Hanako".into()),
        last_name: Some("Yamada".into()),
        phone: Some("+81 3-1234-5678".into()),
        ..RegistrationRequest::default()
    };
    let anonymous = caller("hanako@example.jp", None);
    let logins = logins();
    let (registered, calls) = cost(
        &org,
        register(
            &portal.registration(),
            &logins,
            &anonymous,
            body.clone(),
            now(),
            &attempt(),
        ),
    )
    .await;
    let Registration::Linked(registered) = registered.unwrap() else {
        panic!("a new customer is linked");
    };
    assert!(registered.is_created());
    assert_eq!(calls, 2, "POST /registrations");
    let account_id: AccountId = registered.body().account_id.clone();
    let (again, calls) = cost(
        &org,
        register(
            &portal.registration(),
            &logins,
            &anonymous,
            body,
            now(),
            &attempt(),
        ),
    )
    .await;
    let Registration::Linked(again) = again.unwrap() else {
        panic!("a linked login stays linked");
    };
    assert!(!again.is_created());
    assert_eq!(calls, 1, "POST /registrations, already registered");
    let me = caller("hanako@example.jp", Some(&account_id));

    // The account and the catalog: one read each.
    let (overview, calls) = cost(&org, get_account(&portal.account(), &me)).await;
    assert_eq!(
        overview.unwrap().portal_status.map(|s| s.as_salesforce()),
        Some("Active")
    );
    assert_eq!(calls, 1, "GET /account");
    let (catalog, calls) = cost(&org, get_catalog(&portal.catalog(), &me, &settings)).await;
    assert_eq!(catalog.unwrap().products.len(), 9);
    assert_eq!(calls, 1, "GET /catalog");

    // Eligibility: one read, one write; a repeat while pending only reads.
    let (requested, calls) = cost(
        &org,
        request_eligibility(
            &portal.eligibility(),
            &me,
            eligibility_body(),
            now(),
            &settings,
            &attempt(),
        ),
    )
    .await;
    let requested = requested.unwrap().into_body();
    assert_eq!(calls, 2, "POST /eligibility-requests");
    let (repeat, calls) = cost(
        &org,
        request_eligibility(
            &portal.eligibility(),
            &me,
            eligibility_body(),
            now(),
            &settings,
            &attempt(),
        ),
    )
    .await;
    let repeat = repeat.unwrap();
    assert!(!repeat.is_created());
    assert_eq!(repeat.body().case_id, requested.case_id);
    assert_eq!(calls, 1, "POST /eligibility-requests, pending");

    // Before staff act, an Internet order is a conflict and writes nothing.
    let fiber = org.product("INT-HOME-1G");
    let fee = org.product("INT-ACTIVATION");
    let orders_before = org.count(order::OBJECT);
    let (refused, calls) = cost(
        &org,
        place_order(
            &portal.orders(),
            &me,
            internet_order(&[&fiber, &fee]),
            now(),
            &settings,
            &attempt(),
        ),
    )
    .await;
    assert!(
        matches!(
            refused,
            Err(PortalError::Conflict {
                reason: ConflictReason::EligibilityNotChecked
            })
        ),
        "{refused:?}"
    );
    assert_eq!(calls, 1, "POST /orders, refused after the read");
    org.update(
        account::OBJECT,
        account_id.as_str(),
        json!({
            account::ELIGIBILITY_STATUS: "Checked",
            account::ELIGIBILITY: "1G available",
            account::ELIGIBILITY_CHECKED_AT: "2026-04-02T01:00:00Z",
        }),
    );
    let still = place_order(
        &portal.orders(),
        &me,
        internet_order(&[&fiber]),
        now(),
        &settings,
        &attempt(),
    )
    .await;
    assert!(
        matches!(
            still,
            Err(PortalError::Conflict {
                reason: ConflictReason::ApplicationNotReady
            })
        ),
        "{still:?}"
    );
    assert_eq!(org.count(order::OBJECT), orders_before);

    // Staff mark the Opportunity Ready: the order is accepted.
    org.update(
        opportunity::OBJECT,
        requested.opportunity_id.as_str(),
        json!({ opportunity::STAGE: "Ready" }),
    );
    let (placed, calls) = cost(
        &org,
        place_order(
            &portal.orders(),
            &me,
            internet_order(&[&fiber, &fee]),
            now(),
            &settings,
            &attempt(),
        ),
    )
    .await;
    let placed = placed.unwrap();
    assert_eq!(calls, 2, "POST /orders");
    assert_eq!(placed.opportunity_id, requested.opportunity_id);
    assert_eq!(placed.status, OrderStatus::PendingReview);
    let opp = org.record(requested.opportunity_id.as_str());
    assert_eq!(opp[opportunity::STAGE], "Post Processing");
    assert_eq!(opp[opportunity::PORTAL_SOURCE], "Portal - Order Placement");
    let stored = org.record(placed.order_id.as_str());
    assert_eq!(stored[order::ORDER_NUMBER], placed.order_number.as_str());
    assert_eq!(stored[order::ACTIVATION_STATUS], "Pending Review");
    let lines = org.records_where(
        order_item::OBJECT,
        order_item::ORDER_ID,
        placed.order_id.as_str(),
    );
    assert_eq!(lines.len(), 2);
    assert_eq!(
        lines[0][order_item::UNIT_PRICE],
        fiber.price,
        "the entry's price"
    );

    // Reading the orders back: one call each.
    let (list, calls) = cost(&org, list_orders(&portal.orders(), &me)).await;
    assert_eq!(list.unwrap().orders.len(), 1);
    assert_eq!(calls, 1, "GET /orders");
    let (detail, calls) = cost(
        &org,
        get_order(&portal.orders(), &me, placed.order_id.as_str()),
    )
    .await;
    assert_eq!(detail.unwrap().items.len(), 2);
    assert_eq!(calls, 1, "GET /orders/{{orderId}}");

    // Another customer sees none of it.
    let stranger_account =
        org.account("Somebody Else", json!({ account::PORTAL_STATUS: "Active" }));
    let stranger = caller("someone@example.jp", Some(&stranger_account));
    assert!(matches!(
        get_order(&portal.orders(), &stranger, placed.order_id.as_str()).await,
        Err(PortalError::NotFound)
    ));
    assert!(
        list_orders(&portal.orders(), &stranger)
            .await
            .unwrap()
            .orders
            .is_empty()
    );
}

#[tokio::test]
async fn id_verification_support_and_cancellation_cost_at_most_two_calls_per_post_and_one_per_get()
{
    let org = org().await;
    let settings = PortalSettings::default();
    let portal = &org.portal;
    let mine = org.account("Hanako Yamada", json!({ account::PORTAL_STATUS: "Active" }));
    let me = caller("hanako@example.jp", Some(&mine));

    let id_body = || IdVerificationRequest {
        document_type: Some("residence_card".into()),
        notes: None,
        documents: vec![
            DocumentUpload {
                file_name: Some("front.png".into()),
                content: bytes::Bytes::from_static(b"\x89PNG\r\n\x1a\n-front"),
            },
            DocumentUpload {
                file_name: Some("back.png".into()),
                content: bytes::Bytes::from_static(b"\x89PNG\r\n\x1a\n-back"),
            },
        ],
    };
    let (submitted, calls) = cost(
        &org,
        submit_id_verification(&portal.id_verification(), &me, id_body(), now(), &attempt()),
    )
    .await;
    let submitted = submitted.unwrap().into_body();
    assert_eq!(calls, 2, "POST /id-verifications with two documents");
    assert_eq!(submitted.documents.len(), 2);
    let (repeat, calls) = cost(
        &org,
        submit_id_verification(&portal.id_verification(), &me, id_body(), now(), &attempt()),
    )
    .await;
    assert_eq!(repeat.unwrap().body().case_id, submitted.case_id);
    assert_eq!(calls, 1, "POST /id-verifications, pending");

    let (opened, calls) = cost(
        &org,
        open_support_case(
            &portal.support(),
            &me,
            SupportCaseRequest {
                subject: Some("Router blinking".into()),
                description: Some("The light is red.".into()),
            },
            &attempt(),
        ),
    )
    .await;
    let opened = opened.unwrap();
    assert_eq!(calls, 1, "POST /support-cases");
    let (cases, calls) = cost(&org, list_support_cases(&portal.support(), &me)).await;
    let cases = cases.unwrap().cases;
    assert_eq!(calls, 1, "GET /support-cases");
    assert_eq!(cases.len(), 2, "the ID verification and the inquiry");
    assert_eq!(cases[0].case_id, opened.case_id);

    let service = org.opportunity(
        &mine,
        "SIM",
        "Active",
        json!({ opportunity::WHMCS_SERVICE_ID: 31 }),
    );
    let other = org.account("Somebody Else", json!({}));
    org.opportunity(
        &other,
        "SIM",
        "Active",
        json!({ opportunity::WHMCS_SERVICE_ID: 32 }),
    );
    let cancel = |service_id| CancellationRequest {
        service_id: Some(service_id),
        cancellation_date: Some("2026-04-05".into()),
        reason: Some("Moving abroad".into()),
    };
    let (cancelled, calls) = cost(
        &org,
        request_cancellation(
            &portal.cancellation(),
            &me,
            cancel(31),
            now(),
            &settings,
            &attempt(),
        ),
    )
    .await;
    let cancelled = cancelled.unwrap().into_body();
    assert_eq!(calls, 2, "POST /cancellations");
    assert_eq!(cancelled.opportunity_id, service);
    assert_eq!(
        org.record(service.as_str())[opportunity::STAGE],
        "△Cancelling"
    );
    assert_eq!(
        org.record(cancelled.case_id.as_str())[case::TYPE],
        "Cancellation Request"
    );
    let (repeat, calls) = cost(
        &org,
        request_cancellation(
            &portal.cancellation(),
            &me,
            cancel(31),
            now(),
            &settings,
            &attempt(),
        ),
    )
    .await;
    let repeat = repeat.unwrap();
    assert!(!repeat.is_created());
    assert_eq!(repeat.body().case_id, cancelled.case_id);
    assert_eq!(calls, 1, "POST /cancellations, repeated");
    let cases = org.count(case::OBJECT);
    assert!(matches!(
        request_cancellation(
            &portal.cancellation(),
            &me,
            cancel(32),
            now(),
            &settings,
            &attempt()
        )
        .await,
        Err(PortalError::NotFound)
    ));
    assert_eq!(
        org.record(service.as_str())[opportunity::STAGE],
        "△Cancelling"
    );
    assert_eq!(
        org.count(case::OBJECT),
        cases,
        "another account's service is untouched"
    );
}
