//! One category per test: stuck Orders, provisioned Orders, UNKNOWN records,
//! gaps and the dead-letter depths, against the org emulator and moto.

use chrono::TimeDelta;
use portal_core::messages::MessageOrigin;
use portal_core::ports::{
    Clock, EVENT_DLQ, Gap, GapSweeps, LeaseOwner, PROVISIONING_DLQ, ProvisioningRecords,
    QueueDepth, ReplayStore, WhmcsOrder,
};
use portal_core::schema::order_provision_requested::TOPIC;

use portal_core::reconcile::ReconcileSettings;

use crate::helpers::{world, world_with};

#[tokio::test]
async fn a_stuck_order_is_reenqueued_once_and_not_again_within_the_backoff() {
    let w = world().await;
    let order = w.seed_order(&["SIM-VOICE-DATA-20GB"]);
    w.approve(&order);

    let early = w.run().await;
    assert!(early.is_clean(), "{:?}", early.failures);
    assert_eq!(early.stuck_orders, 0, "approved just now: not stuck yet");
    assert!(w.drain().await.is_empty());

    w.clock.advance(TimeDelta::minutes(20));
    let calls = w.sf.api_calls();
    let report = w.run().await;
    assert!(report.is_clean(), "{:?}", report.failures);
    assert_eq!((report.stuck_orders, report.reenqueued), (1, 1));
    assert_eq!(
        w.sf.api_calls() - calls,
        2,
        "one Salesforce query for stuck Orders and one for Account statuses per run, \
         however many Orders it re-enqueues"
    );
    let sent = w.drain().await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].message.order_id, order);
    assert_eq!(sent[0].message.origin, MessageOrigin::Reconciler);
    assert_eq!(
        sent[0].message.idempotency_key.as_str(),
        format!("reconcile-{}-1", order.as_str())
    );

    w.clock.advance(TimeDelta::minutes(5));
    let again = w.run().await;
    assert_eq!((again.reenqueued, again.backing_off), (0, 1));
    assert!(w.drain().await.is_empty(), "within the 15-minute backoff");
}

#[tokio::test]
async fn a_provisioned_order_still_activating_is_reenqueued_for_its_write_back() {
    let w = world().await;
    let order = w.seed_order(&["SIM-VOICE-DATA-20GB"]);
    w.approve(&order);
    // WHMCS has the order (the record is COMPLETED) and the Order shows
    // `Activating` again: approved again, and that event was lost.
    let records = w.records();
    let me = LeaseOwner::new("provisioner-1").unwrap();
    let now = w.clock.now();
    records
        .claim(&order, &me, now + TimeDelta::seconds(60), now)
        .await
        .unwrap();
    let whmcs = WhmcsOrder {
        order_id: 1,
        service_ids: vec![1],
    };
    records.complete(&order, &me, &whmcs, now).await.unwrap();

    w.clock.advance(TimeDelta::minutes(20));
    let report = w.run().await;
    assert_eq!(
        (
            report.stuck_orders,
            report.already_provisioned,
            report.reenqueued
        ),
        (1, 1, 1)
    );
    let sent = w.drain().await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].message.order_id, order);
}

#[tokio::test]
async fn an_unknown_record_is_reenqueued() {
    let w = world().await;
    let order = w.seed_order(&["SIM-VOICE-DATA-20GB"]);
    let records = w.records();
    let me = LeaseOwner::new("provisioner-1").unwrap();
    let now = w.clock.now();
    records
        .claim(&order, &me, now + TimeDelta::seconds(60), now)
        .await
        .unwrap();
    records
        .record_unknown(&order, &me, Some(1), "AddOrder timed out", now)
        .await
        .unwrap();

    w.clock.advance(TimeDelta::minutes(16));
    let report = w.run().await;
    assert!(report.is_clean(), "{:?}", report.failures);
    assert_eq!((report.unsettled_records, report.reenqueued), (1, 1));
    let sent = w.drain().await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].message.order_id, order);
}

#[tokio::test]
async fn a_gap_is_swept_once() {
    let w = world().await;
    let order = w.seed_order(&["SIM-VOICE-DATA-20GB"]);
    let replay = w.replay();
    let start = w.clock.now() - TimeDelta::minutes(1);
    w.approve(&order);
    let gap = Gap {
        from: None,
        to: None,
        reason: "replay id corrupted; resumed at LATEST".into(),
        window_start: Some(start),
        detected_at: w.clock.now() + TimeDelta::seconds(1),
    };
    replay.record_gap(TOPIC, &gap).await.unwrap();

    w.clock.advance(TimeDelta::minutes(2));
    let report = w.run().await;
    assert!(report.is_clean(), "{:?}", report.failures);
    assert_eq!(report.gaps_swept, 1);
    assert_eq!(
        report.reenqueued, 1,
        "approved 2 minutes ago, inside the gap: re-enqueued without waiting 15 minutes"
    );
    assert_eq!(w.drain().await[0].message.order_id, order);
    assert!(replay.unswept_gaps(TOPIC).await.unwrap().is_empty());

    let again = w.run().await;
    assert_eq!(again.gaps_swept, 0, "a swept gap is not swept again");
    assert_eq!(again.stuck_orders, 0);
    let recorded = replay.gaps(TOPIC).await.unwrap();
    assert_eq!(recorded.len(), 1, "the gap stays recorded");
    assert_eq!(recorded[0].reason, gap.reason);
}

#[tokio::test]
async fn the_dead_letter_depths_are_reported() {
    let w = world().await;
    w.aws
        .sqs
        .send_message()
        .queue_url(&w.targets.event_dlq_url)
        .message_body("{\"kind\":\"undeliverablePlatformEvent\"}")
        .message_group_id("pubsub-dead-letters")
        .message_deduplication_id("e-1")
        .send()
        .await
        .unwrap();
    let (report, metrics) = w.run_with_metrics().await;
    assert!(report.is_clean(), "{:?}", report.failures);
    let event_dlq = metrics
        .iter()
        .find(|m| m["Queue"] == EVENT_DLQ)
        .expect("an EMF line per dead-letter queue");
    assert_eq!(event_dlq["DeadLetterDepth"], 1);
    assert_eq!(
        event_dlq["_aws"]["CloudWatchMetrics"][0]["Namespace"],
        "CustomerPortal/Reconciler"
    );
    assert_eq!(
        report.dead_letters,
        vec![
            QueueDepth {
                queue: PROVISIONING_DLQ.into(),
                visible: 0,
                in_flight: 0
            },
            QueueDepth {
                queue: EVENT_DLQ.into(),
                visible: 1,
                in_flight: 0
            },
        ]
    );
}

/// Defect 5: the sweep read the `order_limit` oldest Orders `Activating`; once
/// that many were Orders it never acts on (in a provisioner's hands here), a newer
/// stuck Order was never found.
#[tokio::test]
async fn a_stuck_order_is_found_behind_more_skipped_orders_than_one_run_reads() {
    let w = world_with(ReconcileSettings {
        order_limit: 3,
        ..ReconcileSettings::default()
    })
    .await;
    let records = w.records();
    let me = LeaseOwner::new("provisioner-1").unwrap();
    let now = w.clock.now();
    for _ in 0..7 {
        let busy = w.seed_order(&["SIM-VOICE-DATA-20GB"]);
        w.approve(&busy);
        records
            .claim(&busy, &me, now + TimeDelta::hours(2), now)
            .await
            .unwrap();
    }
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let stuck = w.seed_order(&["SIM-VOICE-DATA-20GB"]);
    w.approve(&stuck);

    w.clock.advance(TimeDelta::minutes(20));
    let mut found = Vec::new();
    // Three runs, within the first re-enqueue's 15-minute backoff.
    for _ in 0..3 {
        let report = w.run().await;
        assert!(report.is_clean(), "{:?}", report.failures);
        found.extend(w.drain().await.into_iter().map(|r| r.message.order_id));
        w.clock.advance(TimeDelta::minutes(5));
    }
    assert_eq!(found, vec![stuck], "re-enqueued once, past the 7 skipped");
}

#[tokio::test]
async fn a_staff_deactivation_reaches_the_api_s_items_and_a_reactivation_lifts_it() {
    use portal_aws::DynamoAccountStatuses;
    use portal_core::domain::AccountId;
    use portal_core::ports::InactiveAccounts as _;

    let w = world().await;
    let account =
        w.sf.insert(
            "Account",
            serde_json::json!({"Name": "Leaving Customer", "Portal_Status__c": "Active"}),
        )
        .unwrap();
    let statuses = DynamoAccountStatuses::new(w.aws.dynamo.clone(), w.targets.state_table.clone());
    let id = AccountId::parse(&account).unwrap();

    let first = w.run().await;
    assert!(first.is_clean(), "{:?}", first.failures);
    assert!(first.accounts_synced >= 1);
    assert!(!statuses.is_inactive(&id).await.unwrap());

    w.sf.update(
        "Account",
        &account,
        serde_json::json!({"Portal_Status__c": "Inactive"}),
    )
    .unwrap();
    w.clock.advance(TimeDelta::minutes(5));
    let calls = w.sf.api_calls();
    let second = w.run().await;
    assert!(second.is_clean(), "{:?}", second.failures);
    assert_eq!(second.accounts_inactive, 1);
    assert!(
        statuses.is_inactive(&id).await.unwrap(),
        "the API now refuses it"
    );
    assert_eq!(w.sf.api_calls() - calls, 2, "the sync is one query");

    w.sf.update(
        "Account",
        &account,
        serde_json::json!({"Portal_Status__c": "Active"}),
    )
    .unwrap();
    w.clock.advance(TimeDelta::minutes(5));
    assert!(w.run().await.is_clean());
    assert!(
        !statuses.is_inactive(&id).await.unwrap(),
        "re-activated by staff"
    );
}
