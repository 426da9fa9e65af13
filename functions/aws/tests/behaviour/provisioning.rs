//! `ProvisioningRecords` behaviours.

use std::collections::BTreeSet;

use chrono::TimeDelta;
use portal_aws::DynamoProvisioningRecords;
use portal_core::domain::OrderId;
use portal_core::ports::memory::InMemoryProvisioningRecords;
use portal_core::ports::{
    Clock, ProvisioningClaim, ProvisioningError, ProvisioningRecords, ProvisioningState, WhmcsOrder,
};

use crate::{behaviours, clock, owner};

async fn dynamo() -> DynamoProvisioningRecords {
    let (client, table) = crate::table().await;
    DynamoProvisioningRecords::new(client, table)
}

fn memory() -> InMemoryProvisioningRecords {
    InMemoryProvisioningRecords::new()
}

fn order(n: u32) -> OrderId {
    OrderId::parse(&format!("801{n:012}")).unwrap()
}

fn whmcs() -> WhmcsOrder {
    WhmcsOrder {
        order_id: 42,
        service_ids: vec![31, 32],
    }
}

const LEASE: TimeDelta = TimeDelta::seconds(60);

async fn claim_then_complete_is_terminal(records: impl ProvisioningRecords) {
    let clock = clock();
    let a = owner("lambda-a");
    let id = order(1);
    assert_eq!(
        records
            .claim(&id, &a, clock.now() + LEASE, clock.now())
            .await
            .unwrap(),
        ProvisioningClaim::Acquired {
            previous: None,
            started_at: Some(clock.now()),
        }
    );
    records
        .record_ordered(&id, &a, Some(7), &whmcs(), clock.now())
        .await
        .unwrap();
    records
        .complete(&id, &a, &whmcs(), clock.now())
        .await
        .unwrap();

    let record = records.get(&id).await.unwrap().unwrap();
    assert_eq!(
        record.state,
        ProvisioningState::Completed { order: whmcs() }
    );
    assert_eq!(record.holder, None);
    assert_eq!(record.attempts, 1);

    clock.advance(TimeDelta::hours(1));
    for who in ["lambda-a", "lambda-b"] {
        assert_eq!(
            records
                .claim(&id, &owner(who), clock.now() + LEASE, clock.now())
                .await
                .unwrap(),
            ProvisioningClaim::Completed(whmcs()),
            "COMPLETED is terminal"
        );
    }
    assert!(matches!(
        records.fail(&id, &a, "late failure", clock.now()).await,
        Err(ProvisioningError::LeaseLost)
    ));
    assert_eq!(records.get(&order(2)).await.unwrap(), None);
}

async fn busy_while_leased_then_takeover_sees_previous_state(records: impl ProvisioningRecords) {
    let clock = clock();
    let (a, b) = (owner("lambda-a"), owner("lambda-b"));
    let id = order(1);
    let lease_until = clock.now() + LEASE;
    records
        .claim(&id, &a, lease_until, clock.now())
        .await
        .unwrap();
    records
        .record_ordered(&id, &a, Some(7), &whmcs(), clock.now())
        .await
        .unwrap();
    clock.advance(TimeDelta::seconds(59));
    assert_eq!(
        records
            .claim(&id, &b, clock.now() + LEASE, clock.now())
            .await
            .unwrap(),
        ProvisioningClaim::Busy { lease_until }
    );
    clock.advance(TimeDelta::seconds(1));
    assert_eq!(
        records
            .claim(&id, &b, clock.now() + LEASE, clock.now())
            .await
            .unwrap(),
        ProvisioningClaim::Acquired {
            previous: Some(ProvisioningState::Ordered {
                whmcs_client_id: Some(7),
                order: whmcs(),
            }),
            started_at: Some(crate::start()),
        },
        "the new holder learns WHMCS already has the order, and when the record began"
    );
    let record = records.get(&id).await.unwrap().unwrap();
    assert_eq!(record.holder.map(|h| h.owner), Some(b));
    assert_eq!(record.attempts, 2);
}

async fn unknown_outcome_is_handed_to_the_next_claimant(records: impl ProvisioningRecords) {
    let clock = clock();
    let (a, b) = (owner("lambda-a"), owner("reconciler"));
    let id = order(1);
    records
        .claim(&id, &a, clock.now() + LEASE, clock.now())
        .await
        .unwrap();
    records
        .record_unknown(&id, &a, Some(7), "AddOrder timed out", clock.now())
        .await
        .unwrap();
    assert_eq!(
        records
            .claim(&id, &b, clock.now() + LEASE, clock.now())
            .await
            .unwrap(),
        ProvisioningClaim::Acquired {
            previous: Some(ProvisioningState::Unknown {
                whmcs_client_id: Some(7),
                detail: "AddOrder timed out".into(),
            }),
            started_at: Some(crate::start()),
        },
        "UNKNOWN drops the lease, so the next claimant takes it at once"
    );
    assert!(matches!(
        records
            .record_ordered(&id, &a, Some(7), &whmcs(), clock.now())
            .await,
        Err(ProvisioningError::LeaseLost)
    ));
}

async fn stale_owner_writes_fail_with_lease_lost(records: impl ProvisioningRecords) {
    let clock = clock();
    let (a, b) = (owner("lambda-a"), owner("lambda-b"));
    let id = order(1);
    records
        .claim(&id, &a, clock.now() + LEASE, clock.now())
        .await
        .unwrap();
    clock.advance(LEASE);
    assert!(matches!(
        records
            .claim(&id, &b, clock.now() + LEASE, clock.now())
            .await
            .unwrap(),
        ProvisioningClaim::Acquired {
            previous: Some(ProvisioningState::InProgress),
            ..
        }
    ));
    let now = clock.now();
    assert!(matches!(
        records.record_ordered(&id, &a, None, &whmcs(), now).await,
        Err(ProvisioningError::LeaseLost)
    ));
    assert!(matches!(
        records.record_unknown(&id, &a, None, "timeout", now).await,
        Err(ProvisioningError::LeaseLost)
    ));
    assert!(matches!(
        records.complete(&id, &a, &whmcs(), now).await,
        Err(ProvisioningError::LeaseLost)
    ));
    assert!(matches!(
        records.fail(&id, &a, "bad", now).await,
        Err(ProvisioningError::LeaseLost)
    ));
    assert!(matches!(
        records.release(&id, &a, now).await,
        Err(ProvisioningError::LeaseLost)
    ));
    let record = records.get(&id).await.unwrap().unwrap();
    assert_eq!(record.state, ProvisioningState::InProgress);
    assert_eq!(record.holder.map(|h| h.owner), Some(b));
}

async fn ordered_record_cannot_fail_and_failed_can_be_reopened(records: impl ProvisioningRecords) {
    let clock = clock();
    let a = owner("lambda-a");
    let (ordered, failed) = (order(1), order(2));
    records
        .claim(&ordered, &a, clock.now() + LEASE, clock.now())
        .await
        .unwrap();
    records
        .record_ordered(&ordered, &a, None, &whmcs(), clock.now())
        .await
        .unwrap();
    assert!(matches!(
        records.fail(&ordered, &a, "oops", clock.now()).await,
        Err(ProvisioningError::AlreadyOrdered)
    ));
    assert!(matches!(
        records
            .record_unknown(&ordered, &a, None, "oops", clock.now())
            .await,
        Err(ProvisioningError::AlreadyOrdered)
    ));
    assert!(!records.reopen_failed(&ordered).await.unwrap());

    records
        .claim(&failed, &a, clock.now() + LEASE, clock.now())
        .await
        .unwrap();
    records
        .fail(&failed, &a, "Product has no WHMCS product id", clock.now())
        .await
        .unwrap();
    assert_eq!(
        records
            .claim(
                &failed,
                &owner("lambda-b"),
                clock.now() + LEASE,
                clock.now()
            )
            .await
            .unwrap(),
        ProvisioningClaim::Failed {
            error: "Product has no WHMCS product id".into()
        }
    );
    assert!(records.reopen_failed(&failed).await.unwrap());
    assert_eq!(
        records
            .claim(
                &failed,
                &owner("lambda-b"),
                clock.now() + LEASE,
                clock.now()
            )
            .await
            .unwrap(),
        ProvisioningClaim::Acquired {
            previous: None,
            started_at: Some(clock.now()),
        }
    );
}

async fn lists_unknown_released_and_stale_records(records: impl ProvisioningRecords) {
    let clock = clock();
    let a = owner("lambda-a");
    let short = clock.now() + TimeDelta::seconds(10);
    let long = clock.now() + TimeDelta::minutes(10);
    let now = clock.now();
    // 1: UNKNOWN. 2: held, lease live. 3: held, lease lapses. 4: COMPLETED.
    // 5: FAILED. 6: released. 7: ORDERED, lease lapses. 8: ORDERED, lease
    // live. 9: ORDERED, released.
    for (n, until) in [
        (1, long),
        (2, long),
        (3, short),
        (4, long),
        (5, long),
        (6, long),
        (7, short),
        (8, long),
        (9, long),
    ] {
        records.claim(&order(n), &a, until, now).await.unwrap();
    }
    records
        .record_unknown(&order(1), &a, None, "AddOrder answered 503", now)
        .await
        .unwrap();
    records
        .complete(&order(4), &a, &whmcs(), now)
        .await
        .unwrap();
    records
        .fail(&order(5), &a, "invalid product", now)
        .await
        .unwrap();
    records.release(&order(6), &a, now).await.unwrap();
    for n in [7, 8, 9] {
        records
            .record_ordered(&order(n), &a, None, &whmcs(), now)
            .await
            .unwrap();
    }
    records.release(&order(9), &a, now).await.unwrap();

    clock.advance(TimeDelta::seconds(10));
    let listed: BTreeSet<OrderId> = records
        .list_unsettled(clock.now(), 100)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.order_id)
        .collect();
    let expected: BTreeSet<OrderId> = [1, 3, 6, 7, 9].into_iter().map(order).collect();
    assert_eq!(listed, expected);
    assert_eq!(
        records.get(&order(9)).await.unwrap().unwrap().state,
        ProvisioningState::Ordered {
            whmcs_client_id: None,
            order: whmcs(),
        },
        "a release keeps what is known"
    );

    let first_two = records.list_unsettled(clock.now(), 2).await.unwrap();
    assert_eq!(first_two.len(), 2);
    let unknown = first_two
        .iter()
        .chain(
            records
                .list_unsettled(clock.now(), 100)
                .await
                .unwrap()
                .iter(),
        )
        .find(|r| r.order_id == order(1))
        .cloned()
        .unwrap();
    assert_eq!(
        unknown.state,
        ProvisioningState::Unknown {
            whmcs_client_id: None,
            detail: "AddOrder answered 503".into()
        }
    );
}

async fn left_to_staff_leaves_the_view_until_reopened_and_keeps_the_state(
    records: impl ProvisioningRecords,
) {
    let clock = clock();
    let a = owner("lambda-a");
    let (ordered, unknown) = (order(1), order(2));
    let started = clock.now();
    for id in [&ordered, &unknown] {
        records
            .claim(id, &a, clock.now() + LEASE, clock.now())
            .await
            .unwrap();
    }
    records
        .record_ordered(&ordered, &a, Some(7), &whmcs(), clock.now())
        .await
        .unwrap();
    records
        .leave_to_staff(&ordered, &a, "complete WHMCS order 42 by hand", clock.now())
        .await
        .unwrap();
    // An UNKNOWN record whose order could not be attributed: claimed again, left to staff.
    records
        .record_unknown(&unknown, &a, Some(7), "AddOrder timed out", clock.now())
        .await
        .unwrap();
    clock.advance(TimeDelta::minutes(5));
    let b = owner("lambda-b");
    records
        .claim(&unknown, &b, clock.now() + LEASE, clock.now())
        .await
        .unwrap();
    records
        .leave_to_staff(&unknown, &b, "check WHMCS order 43", clock.now())
        .await
        .unwrap();

    let kept = records.get(&ordered).await.unwrap().unwrap();
    assert_eq!(
        kept.state,
        ProvisioningState::Ordered {
            whmcs_client_id: Some(7),
            order: whmcs(),
        },
        "what is known stays"
    );
    assert_eq!(
        kept.left_to_staff.as_deref(),
        Some("complete WHMCS order 42 by hand")
    );
    assert_eq!(kept.holder, None);
    assert_eq!(kept.started_at, Some(started));
    let unknown_kept = records.get(&unknown).await.unwrap().unwrap();
    assert!(matches!(
        unknown_kept.state,
        ProvisioningState::Unknown { .. }
    ));
    assert_eq!(unknown_kept.started_at, Some(started), "the first claim's");

    clock.advance(TimeDelta::hours(2));
    assert!(
        records
            .list_unsettled(clock.now(), 100)
            .await
            .unwrap()
            .is_empty(),
        "the reconciler no longer sees them"
    );
    assert_eq!(
        records
            .claim(&ordered, &b, clock.now() + LEASE, clock.now())
            .await
            .unwrap(),
        ProvisioningClaim::Failed {
            error: "complete WHMCS order 42 by hand".into()
        },
        "a claim answers it like a failed record"
    );
    assert_eq!(records.get(&ordered).await.unwrap().unwrap(), kept);

    // Staff approve again: the mark goes, the state stays, the next claim takes it.
    assert!(records.reopen_failed(&ordered).await.unwrap());
    assert!(!records.reopen_failed(&ordered).await.unwrap());
    assert_eq!(
        records
            .claim(&ordered, &b, clock.now() + LEASE, clock.now())
            .await
            .unwrap(),
        ProvisioningClaim::Acquired {
            previous: Some(ProvisioningState::Ordered {
                whmcs_client_id: Some(7),
                order: whmcs(),
            }),
            started_at: Some(started),
        }
    );
    let reopened = records.get(&ordered).await.unwrap().unwrap();
    assert_eq!(reopened.left_to_staff, None);
    assert_eq!(reopened.started_at, Some(started));
    records.release(&ordered, &b, clock.now()).await.unwrap();
    clock.advance(TimeDelta::seconds(1));
    let listed: Vec<OrderId> = records
        .list_unsettled(clock.now(), 100)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.order_id)
        .collect();
    assert_eq!(listed, vec![ordered], "open again once reopened");
}

behaviours! {
    claim_then_complete_is_terminal => dynamo, memory;
    busy_while_leased_then_takeover_sees_previous_state => dynamo, memory;
    unknown_outcome_is_handed_to_the_next_claimant => dynamo, memory;
    stale_owner_writes_fail_with_lease_lost => dynamo, memory;
    ordered_record_cannot_fail_and_failed_can_be_reopened => dynamo, memory;
    lists_unknown_released_and_stale_records => dynamo, memory;
    left_to_staff_leaves_the_view_until_reopened_and_keeps_the_state => dynamo, memory;
}

/// A record written before `started_at` was kept (an UNKNOWN one, say) is
/// claimed with no bound (`started_at: None`), and keeps none afterwards
/// (the Unix epoch), so settling it never skips an order WHMCS made before
/// the first claim after the upgrade.
#[tokio::test]
async fn a_record_written_before_started_at_is_claimed_without_a_bound_on_moto() {
    use aws_sdk_dynamodb::types::AttributeValue;
    let (client, table) = crate::table().await;
    let id = order(1);
    client
        .put_item()
        .table_name(&table)
        .item("pk", AttributeValue::S(format!("ORDER#{}", id.as_str())))
        .item("sk", AttributeValue::S("PROVISIONING".into()))
        .item("order_id", AttributeValue::S(id.as_str().into()))
        .item("status", AttributeValue::S("UNKNOWN".into()))
        .item("detail", AttributeValue::S("AddOrder timed out".into()))
        .item("attempts", AttributeValue::N("1".into()))
        .item("updated_at", AttributeValue::N("1800000000000".into()))
        .send()
        .await
        .unwrap();
    let records = DynamoProvisioningRecords::new(client, table);
    let clock = clock();
    let a = owner("lambda-a");
    assert_eq!(
        records
            .claim(&id, &a, clock.now() + LEASE, clock.now())
            .await
            .unwrap(),
        ProvisioningClaim::Acquired {
            previous: Some(ProvisioningState::Unknown {
                whmcs_client_id: None,
                detail: "AddOrder timed out".into(),
            }),
            started_at: None,
        }
    );
    records.release(&id, &a, clock.now()).await.unwrap();
    let epoch = chrono::DateTime::from_timestamp_millis(0).unwrap();
    assert_eq!(
        records.get(&id).await.unwrap().unwrap().started_at,
        Some(epoch)
    );
    assert!(matches!(
        records
            .claim(&id, &owner("lambda-b"), clock.now() + LEASE, clock.now())
            .await
            .unwrap(),
        ProvisioningClaim::Acquired {
            started_at: Some(t),
            ..
        } if t == epoch
    ));
}
