//! The use case over the in-memory adapters and a fake Salesforce.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeDelta, Utc};

use super::*;
use crate::diagnostics::error_chain;
use crate::domain::{AccountId, OrderId};
use crate::messages::{MessageOrigin, ProvisioningMessage};
use crate::ports::memory::{
    InMemoryAccountStatuses, InMemoryDeadLetters, InMemoryProvisioningRecords, InMemoryQueue,
    InMemoryReconcileAttempts, InMemoryReplayStore, QueueConfig,
};
use crate::ports::{
    AccountStatusSync, Clock, DeadLetter, DeadLetters, EVENT_DLQ, Gap, InactiveAccounts,
    LeaseOwner, PROVISIONING_DLQ, PortalStatusChange, PortalStatusChanges, PortalStatusPage,
    ProvisioningRecords, QueueDepth, ReplayStore, StuckOrder, StuckOrderPage, StuckOrderQuery,
    StuckOrders, SweepError, TestClock, WhmcsOrder,
};

/// A fake org: Orders `Activating` with their `LastModifiedDate`, selected
/// like the SOQL query does.
#[derive(Default)]
struct FakeOrg {
    activating: Mutex<Vec<StuckOrder>>,
    queries: Mutex<Vec<StuckOrderQuery>>,
    down: Mutex<bool>,
}

impl FakeOrg {
    fn add(&self, order_id: &OrderId, last_modified: DateTime<Utc>) {
        self.activating.lock().unwrap().push(StuckOrder {
            order_id: order_id.clone(),
            last_modified,
        });
    }
}

impl StuckOrders for Arc<FakeOrg> {
    async fn activating(&self, query: &StuckOrderQuery) -> Result<StuckOrderPage, SweepError> {
        self.queries.lock().unwrap().push(query.clone());
        if *self.down.lock().unwrap() {
            return Err(SweepError::Unavailable("connection refused".into()));
        }
        let mut matching: Vec<StuckOrder> = self
            .activating
            .lock()
            .unwrap()
            .iter()
            .filter(|o| {
                o.last_modified <= query.modified_before
                    || query.gap_windows.iter().any(|w| {
                        w.start.is_none_or(|s| s <= o.last_modified) && o.last_modified <= w.end
                    })
            })
            .filter(|o| query.after.as_ref().is_none_or(|a| &o.order_id > a))
            .cloned()
            .collect();
        matching.sort_by(|a, b| a.order_id.cmp(&b.order_id));
        let limit = query.limit as usize;
        let more = matching.len() > limit;
        matching.truncate(limit);
        Ok(StuckOrderPage {
            orders: matching,
            more,
        })
    }
}

/// A fake org's portal Accounts: `(id, inactive, LastModifiedDate)`,
/// selected like the SOQL query does; every query is recorded.
#[derive(Default)]
struct FakeAccounts {
    accounts: Mutex<Vec<PortalStatusChange>>,
    queries: Mutex<Vec<Option<DateTime<Utc>>>>,
    down: Mutex<bool>,
}

impl FakeAccounts {
    /// Staff set the Account's status at `at` (a later change replaces an earlier one).
    fn set(&self, n: u32, inactive: bool, at: DateTime<Utc>) {
        let mut accounts = self.accounts.lock().unwrap();
        accounts.retain(|a| a.account_id != account(n));
        accounts.push(PortalStatusChange {
            account_id: account(n),
            inactive,
            modified_at: at,
        });
    }
}

impl PortalStatusChanges for Arc<FakeAccounts> {
    async fn changed_since(
        &self,
        since: Option<DateTime<Utc>>,
        limit: u32,
    ) -> Result<PortalStatusPage, SweepError> {
        self.queries.lock().unwrap().push(since);
        if *self.down.lock().unwrap() {
            return Err(SweepError::Unavailable("connection refused".into()));
        }
        let mut matching: Vec<PortalStatusChange> = self
            .accounts
            .lock()
            .unwrap()
            .iter()
            .filter(|a| since.is_none_or(|s| a.modified_at >= s))
            .cloned()
            .collect();
        matching
            .sort_by(|a, b| (a.modified_at, &a.account_id).cmp(&(b.modified_at, &b.account_id)));
        let more = matching.len() > limit as usize;
        matching.truncate(limit as usize);
        Ok(PortalStatusPage {
            changes: matching,
            more,
        })
    }
}

fn account(n: u32) -> AccountId {
    AccountId::parse(&format!("001000000000{n:03}")).unwrap()
}

type TestReconciler = Reconciler<
    Arc<FakeOrg>,
    Arc<InMemoryProvisioningRecords>,
    Arc<InMemoryReconcileAttempts>,
    Arc<InMemoryReplayStore>,
    Arc<InMemoryQueue>,
    (Arc<InMemoryQueue>, Arc<InMemoryDeadLetters>),
    TestClock,
    Arc<FakeAccounts>,
    Arc<InMemoryAccountStatuses>,
>;

struct World {
    org: Arc<FakeOrg>,
    accounts: Arc<FakeAccounts>,
    statuses: Arc<InMemoryAccountStatuses>,
    records: Arc<InMemoryProvisioningRecords>,
    replay: Arc<InMemoryReplayStore>,
    queue: Arc<InMemoryQueue>,
    dead_letters: Arc<InMemoryDeadLetters>,
    clock: TestClock,
    reconciler: TestReconciler,
}

fn start() -> DateTime<Utc> {
    DateTime::from_timestamp(1_714_557_600, 0).expect("valid")
}

fn world() -> World {
    world_with(ReconcileSettings::default())
}

fn world_with(settings: ReconcileSettings) -> World {
    let clock = TestClock::new(start());
    let org = Arc::new(FakeOrg::default());
    let records = Arc::new(InMemoryProvisioningRecords::new());
    let replay = Arc::new(InMemoryReplayStore::new());
    let queue = Arc::new(InMemoryQueue::new(
        Arc::new(clock.clone()),
        QueueConfig::default(),
    ));
    let dead_letters = Arc::new(InMemoryDeadLetters::new());
    let accounts = Arc::new(FakeAccounts::default());
    let statuses = Arc::new(InMemoryAccountStatuses::new());
    let reconciler = Reconciler::new(
        ReconcilePorts {
            orders: Arc::clone(&org),
            records: Arc::clone(&records),
            attempts: Arc::new(InMemoryReconcileAttempts::new()),
            gaps: Arc::clone(&replay),
            queue: Arc::clone(&queue),
            depths: (Arc::clone(&queue), Arc::clone(&dead_letters)),
            clock: clock.clone(),
            portal_statuses: Arc::clone(&accounts),
            account_statuses: Arc::clone(&statuses),
        },
        settings,
    );
    World {
        org,
        accounts,
        statuses,
        records,
        replay,
        queue,
        dead_letters,
        clock,
        reconciler,
    }
}

impl World {
    /// Takes every message the queue holds (acknowledged at once).
    fn drain(&self) -> Vec<ProvisioningMessage> {
        let deliveries = self.queue.receive(100);
        for d in &deliveries {
            self.queue.ack(&d.receipt).unwrap();
        }
        deliveries
            .into_iter()
            .map(|d| d.message.expect("a provisioning message"))
            .collect()
    }

    fn minutes_ago(&self, minutes: i64) -> DateTime<Utc> {
        use crate::ports::Clock as _;
        self.clock.now() - TimeDelta::minutes(minutes)
    }
}

fn order(n: u32) -> OrderId {
    OrderId::parse(&format!("801000000000{n:03}")).unwrap()
}

fn owner(name: &str) -> LeaseOwner {
    LeaseOwner::new(name).unwrap()
}

#[tokio::test]
async fn a_stuck_order_is_reenqueued_once_per_backoff_window() {
    let w = world();
    w.org.add(&order(1), w.minutes_ago(20));

    let report = w.reconciler.run("run-1").await;
    assert!(report.is_clean(), "{:?}", report.failures);
    assert_eq!((report.stuck_orders, report.reenqueued), (1, 1));
    let sent = w.drain();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].order_id, order(1));
    assert_eq!(sent[0].origin, MessageOrigin::Reconciler);
    assert_eq!(sent[0].dedup_id(), "reconcile-801000000000001AAA-1");
    assert_eq!(sent[0].requested_by, "reconciler");
    assert_eq!(sent[0].correlation_id.as_str(), "reconcile-run-1");

    w.clock.advance(TimeDelta::minutes(5));
    let report = w.reconciler.run("run-2").await;
    assert_eq!((report.reenqueued, report.backing_off), (0, 1));
    assert!(w.drain().is_empty(), "within the 15-minute backoff");

    w.clock.advance(TimeDelta::minutes(10));
    let report = w.reconciler.run("run-3").await;
    assert_eq!(report.reenqueued, 1);
    let sent = w.drain();
    assert_eq!(sent[0].dedup_id(), "reconcile-801000000000001AAA-2");
}

#[tokio::test]
async fn a_recent_order_waits_for_the_threshold() {
    let w = world();
    w.org.add(&order(1), w.minutes_ago(5));
    let report = w.reconciler.run("run").await;
    assert_eq!((report.stuck_orders, report.reenqueued), (0, 0));
    let query = w.org.queries.lock().unwrap()[0].clone();
    assert_eq!(query.modified_before, w.minutes_ago(15));
    assert_eq!(query.limit, 200);
    assert!(query.gap_windows.is_empty());
}

#[tokio::test]
async fn an_in_flight_order_is_left_alone_and_a_provisioned_one_still_activating_is_reenqueued() {
    let w = world();
    let done = order(1);
    let busy = order(2);
    w.org.add(&done, w.minutes_ago(30));
    w.org.add(&busy, w.minutes_ago(30));
    let now = start();
    let me = owner("provisioner-1");
    w.records
        .claim(&done, &me, now + TimeDelta::seconds(60), now)
        .await
        .unwrap();
    let whmcs = WhmcsOrder {
        order_id: 7,
        service_ids: vec![70],
    };
    w.records.complete(&done, &me, &whmcs, now).await.unwrap();
    w.records
        .claim(&busy, &me, now + TimeDelta::seconds(60), now)
        .await
        .unwrap();

    let report = w.reconciler.run("run").await;
    assert_eq!(report.stuck_orders, 2);
    assert_eq!(report.already_provisioned, 1);
    assert_eq!(report.in_flight, 1);
    assert_eq!(report.reenqueued, 1);
    let sent: Vec<_> = w.drain().into_iter().map(|m| m.order_id).collect();
    assert_eq!(
        sent,
        vec![done],
        "WHMCS has the order but Salesforce was never told: the provisioner writes it back"
    );
}

#[tokio::test]
async fn an_unknown_record_past_the_threshold_is_reenqueued() {
    let w = world();
    let unknown = order(3);
    let me = owner("provisioner-1");
    let now = start();
    w.records
        .claim(&unknown, &me, now + TimeDelta::seconds(60), now)
        .await
        .unwrap();
    w.records
        .record_unknown(&unknown, &me, Some(4), "AddOrder timed out", now)
        .await
        .unwrap();

    let report = w.reconciler.run("early").await;
    assert_eq!(report.unsettled_records, 0, "younger than 15 minutes");
    assert!(w.drain().is_empty());

    w.clock.advance(TimeDelta::minutes(16));
    let report = w.reconciler.run("later").await;
    assert_eq!((report.unsettled_records, report.reenqueued), (1, 1));
    let sent = w.drain();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].order_id, unknown);
}

#[tokio::test]
async fn an_order_in_both_sweeps_is_sent_once() {
    let w = world();
    let id = order(4);
    let me = owner("provisioner-1");
    let now = start() - TimeDelta::minutes(30);
    w.records
        .claim(&id, &me, now + TimeDelta::seconds(60), now)
        .await
        .unwrap();
    w.records.release(&id, &me, now).await.unwrap();
    w.org.add(&id, w.minutes_ago(30));
    let report = w.reconciler.run("run").await;
    assert_eq!((report.stuck_orders, report.unsettled_records), (1, 1));
    assert_eq!(report.reenqueued, 1);
    assert_eq!(w.drain().len(), 1);
}

#[tokio::test]
async fn a_gap_sweeps_recent_orders_of_its_window_once() {
    let w = world();
    let in_gap = order(5);
    let after_gap = order(6);
    w.org.add(&in_gap, w.minutes_ago(3));
    w.org.add(&after_gap, w.minutes_ago(1));
    w.replay
        .record_gap(
            "/event/OrderProvisionRequested__e",
            &Gap {
                from: None,
                to: None,
                reason: "replay id corrupted".into(),
                window_start: Some(w.minutes_ago(4)),
                detected_at: w.minutes_ago(2),
            },
        )
        .await
        .unwrap();

    let report = w.reconciler.run("run-1").await;
    assert_eq!(report.gaps_swept, 1);
    assert_eq!(report.reenqueued, 1);
    let sent = w.drain();
    assert_eq!(
        sent[0].order_id, in_gap,
        "only the Order modified inside the window"
    );
    assert!(w.replay.unswept_gaps_for_test().await.is_empty());
    assert_eq!(
        w.replay
            .gaps("/event/OrderProvisionRequested__e")
            .await
            .unwrap()
            .len(),
        1,
        "the gap itself stays recorded"
    );

    let report = w.reconciler.run("run-2").await;
    assert_eq!(report.gaps_swept, 0, "a swept gap is not swept again");
    let query = w.org.queries.lock().unwrap()[1].clone();
    assert!(query.gap_windows.is_empty());
}

#[tokio::test]
async fn a_gap_stays_unswept_while_the_sweep_is_incomplete() {
    let w = world_with(ReconcileSettings {
        order_limit: 1,
        ..ReconcileSettings::default()
    });
    w.org.add(&order(7), w.minutes_ago(40));
    w.org.add(&order(8), w.minutes_ago(30));
    w.replay
        .record_gap(
            "/event/OrderProvisionRequested__e",
            &Gap {
                from: None,
                to: None,
                reason: "expired".into(),
                window_start: None,
                detected_at: w.minutes_ago(20),
            },
        )
        .await
        .unwrap();
    let report = w.reconciler.run("run").await;
    assert!(report.more_stuck_orders);
    assert_eq!((report.gaps_swept, report.gaps_pending), (0, 1));
    assert_eq!(w.drain()[0].order_id, order(7), "Id order");

    // The next run goes on after the last Order read: the pass ends there, and
    // the gap detected before the pass started is swept.
    let report = w.reconciler.run("run-2").await;
    assert!(!report.more_stuck_orders);
    assert_eq!((report.stuck_orders, report.reenqueued), (1, 1));
    assert_eq!((report.gaps_swept, report.gaps_pending), (1, 0));
    assert_eq!(w.drain()[0].order_id, order(8));

    // A new pass starts from the first Order again.
    w.clock.advance(TimeDelta::minutes(20));
    let report = w.reconciler.run("run-3").await;
    assert_eq!(report.stuck_orders, 1);
    assert_eq!(w.drain()[0].order_id, order(7));
}

#[tokio::test]
async fn a_run_reads_past_the_orders_it_will_not_act_on_and_the_next_goes_on_from_there() {
    let w = world_with(ReconcileSettings {
        order_limit: 2,
        sweep_pages: 2,
        ..ReconcileSettings::default()
    });
    // Orders 1 to 6 are in a provisioner's hands; order 7 is stuck.
    for n in 1..=6 {
        w.org.add(&order(n), w.minutes_ago(60));
        let me = LeaseOwner::new("provisioner").unwrap();
        let at = w.clock.now();
        w.records
            .claim(&order(n), &me, at + TimeDelta::hours(1), at)
            .await
            .unwrap();
    }
    w.org.add(&order(7), w.minutes_ago(30));

    let first = w.reconciler.run("1").await;
    assert_eq!((first.stuck_orders, first.in_flight), (4, 4));
    assert!(
        first.more_stuck_orders,
        "two pages of two, then the run stops"
    );
    assert!(w.drain().is_empty());
    let second = w.reconciler.run("2").await;
    assert_eq!((second.stuck_orders, second.reenqueued), (3, 1));
    assert!(!second.more_stuck_orders);
    assert_eq!(w.drain()[0].order_id, order(7));
    let queries = w.org.queries.lock().unwrap();
    assert_eq!(queries.len(), 4, "one query per page");
    assert_eq!(queries[2].after, Some(order(4)), "from where run 1 stopped");
}

#[tokio::test]
async fn after_the_last_attempt_the_order_is_reported_not_reenqueued() {
    let w = world_with(ReconcileSettings {
        max_attempts: 2,
        ..ReconcileSettings::default()
    });
    let id = order(9);
    w.org.add(&id, w.minutes_ago(60));
    assert_eq!(w.reconciler.run("1").await.reenqueued, 1);
    w.clock.advance(TimeDelta::minutes(15));
    assert_eq!(w.reconciler.run("2").await.reenqueued, 1);
    w.clock.advance(TimeDelta::minutes(29));
    let report = w.reconciler.run("3").await;
    assert_eq!(
        (report.reenqueued, report.backing_off),
        (0, 1),
        "the 30-minute wait"
    );
    w.clock.advance(TimeDelta::minutes(1));
    let report = w.reconciler.run("4").await;
    assert_eq!(report.reenqueued, 0);
    assert_eq!(report.exhausted, vec![id.clone()]);
    assert_eq!(w.drain().len(), 2, "two attempts in all");

    // Staff approve the Order again: it was modified since, so it starts over.
    w.org.activating.lock().unwrap()[0].last_modified = w.minutes_ago(16);
    let report = w.reconciler.run("5").await;
    assert_eq!(report.reenqueued, 1);
    assert_eq!(
        w.drain()[0].dedup_id(),
        format!("reconcile-{}-1", id.as_str())
    );
}

#[tokio::test]
async fn when_salesforce_is_down_the_records_are_still_reconciled_and_gaps_wait() {
    let w = world();
    *w.org.down.lock().unwrap() = true;
    let id = order(10);
    let me = owner("provisioner-1");
    let then = start() - TimeDelta::minutes(20);
    w.records
        .claim(&id, &me, then + TimeDelta::seconds(60), then)
        .await
        .unwrap();
    w.replay
        .record_gap(
            "/event/OrderProvisionRequested__e",
            &Gap {
                from: None,
                to: None,
                reason: "expired".into(),
                window_start: None,
                detected_at: w.minutes_ago(20),
            },
        )
        .await
        .unwrap();
    let report = w.reconciler.run("run").await;
    assert_eq!(report.failures.len(), 1);
    assert_eq!(report.failures[0].step, ReconcileStep::Salesforce);
    assert!(error_chain(&*report.failures[0].error).contains("connection refused"));
    assert_eq!(report.reenqueued, 1, "the lapsed IN_PROGRESS record");
    assert_eq!((report.gaps_swept, report.gaps_pending), (0, 1));
}

#[tokio::test]
async fn the_dead_letter_depths_are_reported() {
    let w = world();
    w.dead_letters
        .send(&DeadLetter {
            topic: "/event/OrderProvisionRequested__e".into(),
            event_id: "e-1".into(),
            replay_id: None,
            schema_id: "s".into(),
            payload: vec![1],
            error: "undecodable".into(),
            detected_at: start(),
        })
        .await
        .unwrap();
    let report = w.reconciler.run("run").await;
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

impl InMemoryReplayStore {
    async fn unswept_gaps_for_test(&self) -> Vec<crate::ports::UnsweptGap> {
        use crate::ports::GapSweeps as _;
        self.unswept_gaps("/event/OrderProvisionRequested__e")
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn a_staff_deactivation_is_copied_in_one_query_and_a_reactivation_lifts_it() {
    let w = world();
    w.accounts.set(1, true, w.minutes_ago(3));
    w.accounts.set(2, false, w.minutes_ago(2));

    let report = w.reconciler.run("run-1").await;
    assert!(report.is_clean(), "{:?}", report.failures);
    assert_eq!((report.accounts_synced, report.accounts_inactive), (2, 1));
    assert!(w.statuses.is_inactive(&account(1)).await.unwrap());
    assert!(!w.statuses.is_inactive(&account(2)).await.unwrap());
    assert_eq!(
        *w.accounts.queries.lock().unwrap(),
        vec![None],
        "one query, from the start"
    );
    assert_eq!(
        w.statuses.cursor().await.unwrap(),
        Some(w.minutes_ago(5)),
        "the next sync re-reads the last 5 minutes"
    );

    // Staff re-activate it; the next run (5 minutes later) sees it.
    w.clock.advance(TimeDelta::minutes(5));
    w.accounts.set(1, false, w.minutes_ago(1));
    let report = w.reconciler.run("run-2").await;
    assert!(report.is_clean(), "{:?}", report.failures);
    assert!(!w.statuses.is_inactive(&account(1)).await.unwrap());
    let queries = w.accounts.queries.lock().unwrap().clone();
    assert_eq!(queries.len(), 2, "one query per run");
    assert_eq!(queries[1], Some(w.minutes_ago(10)));
}

#[tokio::test]
async fn a_backlog_of_account_changes_is_read_a_page_per_run_from_where_the_last_stopped() {
    let w = world_with(ReconcileSettings {
        account_limit: 2,
        ..ReconcileSettings::default()
    });
    for n in 1..=5 {
        w.accounts.set(n, n == 5, w.minutes_ago(60 - i64::from(n)));
    }
    let report = w.reconciler.run("run-1").await;
    assert_eq!((report.accounts_synced, report.more_accounts), (2, true));
    assert_eq!(w.statuses.cursor().await.unwrap(), Some(w.minutes_ago(58)));
    // The last Account of a page is read again (same LastModifiedDate may
    // hold more): each further run moves on by one less than the page.
    let mut runs = 1;
    while w.reconciler.run("run").await.more_accounts {
        runs += 1;
        assert!(runs < 10, "the sync makes progress");
    }
    assert_eq!(runs, 3);
    assert!(
        w.statuses.is_inactive(&account(5)).await.unwrap(),
        "reached at last"
    );
}

#[tokio::test]
async fn when_the_account_query_fails_the_run_reports_it_and_the_cursor_stays() {
    let w = world();
    w.statuses.save_cursor(w.minutes_ago(30)).await.unwrap();
    *w.accounts.down.lock().unwrap() = true;
    let report = w.reconciler.run("run").await;
    assert_eq!(report.failures.len(), 1);
    assert_eq!(report.failures[0].step, ReconcileStep::AccountStatuses);
    assert_eq!(w.statuses.cursor().await.unwrap(), Some(w.minutes_ago(30)));
}
