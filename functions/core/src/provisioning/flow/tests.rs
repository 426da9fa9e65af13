//! The use case's decisions over in-memory fakes of Salesforce and WHMCS.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};

use super::*;
use crate::domain::AccountId;
use crate::messages::ProvisioningMessage;
use crate::ports::memory::InMemoryProvisioningRecords;
use crate::ports::{
    BilledService, BillingAccount, BillingContact, BillingLine, ClientOrder, EnsuredClient,
    OrderBundle, OrderLineRecord,
};
use crate::ports::{ProvisioningStatus, TestClock};
use crate::provisioning::outcome::{RetryReason, SkipReason};

const ORDER: &str = "801000000000001AAA";

fn order_id() -> OrderId {
    OrderId::parse(ORDER).expect("valid order id")
}

fn message() -> ProvisioningMessage {
    ProvisioningMessage::from_json(&format!(
        r#"{{"schemaVersion":1,"orderId":"{ORDER}","idempotencyKey":"k1","correlationId":"c1","requestedBy":"005000000000001AAA","source":"reconciler"}}"#
    ))
    .expect("valid message")
}

fn item(name: &str, pid: Option<&str>, class: &str) -> OrderLineRecord {
    OrderLineRecord {
        product_name: name.to_owned(),
        whmcs_product_id: pid.map(str::to_owned),
        billing_cycle: Some("Monthly".to_owned()),
        item_class: Some(class.to_owned()),
        config_options_json: Some(r#"{"12":"1201"}"#.to_owned()),
        quantity: 1.0,
    }
}

fn bundle() -> OrderBundle {
    OrderBundle {
        order_id: order_id(),
        status: "Approved".to_owned(),
        activation_status: Some("Activating".to_owned()),
        whmcs_order_id: None,
        account: BillingAccount {
            id: AccountId::parse("001000000000001").expect("valid account id"),
            name: "Acme".to_owned(),
            whmcs_client_id: None,
        },
        contact: Some(BillingContact {
            first_name: Some("Aiko".to_owned()),
            last_name: "Sato".to_owned(),
            email: Some("aiko@example.com".to_owned()),
            phone: None,
        }),
        opportunity_id: None,
        items: vec![
            item("Activation", Some("103"), "Activation"),
            item("Home 1G", Some("101"), "Service"),
        ],
    }
}

#[derive(Default)]
struct FakeLedger {
    bundle: Mutex<Option<OrderBundle>>,
    provisioned: Mutex<Vec<ProvisionedOrder>>,
    failed: Mutex<Vec<FailedOrder>>,
    failing_writes: Mutex<u32>,
    /// Never answer `record_provisioned` (an invocation killed at its deadline).
    hang_on_write: Mutex<bool>,
    /// `record_provisioned` commits, then answers as if it timed out.
    lost_answers: Mutex<u32>,
    /// The next `record_failed` calls fail transiently, writing nothing.
    failing_failure_writes: Mutex<u32>,
}

impl FakeLedger {
    fn with(bundle: OrderBundle) -> Self {
        Self {
            bundle: Mutex::new(Some(bundle)),
            ..Self::default()
        }
    }
}

fn unavailable() -> LedgerError {
    LedgerError::Unavailable("UNABLE_TO_LOCK_ROW".into())
}

impl OrderLedger for FakeLedger {
    async fn load(&self, _: &OrderId) -> Result<OrderBundle, LedgerError> {
        self.bundle
            .lock()
            .expect("lock")
            .clone()
            .ok_or(LedgerError::OrderNotFound)
    }

    async fn record_provisioned(&self, order: &ProvisionedOrder) -> Result<(), LedgerError> {
        if *self.hang_on_write.lock().expect("lock") {
            std::future::pending::<()>().await;
        }
        {
            let mut failing = self.failing_writes.lock().expect("lock");
            if *failing > 0 {
                *failing -= 1;
                return Err(unavailable());
            }
        }
        if let Some(b) = self.bundle.lock().expect("lock").as_mut() {
            b.status = "Activated".to_owned();
            b.activation_status = Some("Provisioned".to_owned());
            b.whmcs_order_id = Some(order.whmcs_order_id);
        }
        self.provisioned.lock().expect("lock").push(order.clone());
        let mut lost = self.lost_answers.lock().expect("lock");
        if *lost > 0 {
            *lost -= 1;
            return Err(LedgerError::Unavailable("request timed out".into()));
        }
        Ok(())
    }

    async fn record_failed(&self, failure: &FailedOrder) -> Result<(), LedgerError> {
        {
            let mut failing = self.failing_failure_writes.lock().expect("lock");
            if *failing > 0 {
                *failing -= 1;
                return Err(unavailable());
            }
        }
        if let Some(b) = self.bundle.lock().expect("lock").as_mut() {
            b.activation_status = Some("Failed".to_owned());
        }
        self.failed.lock().expect("lock").push(failure.clone());
        Ok(())
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum BillingFault {
    /// The next AddOrder commits and answers as if it timed out.
    UnknownAfterCommit,
    /// The next AddOrder is refused.
    Refuse,
    /// The next AddOrder makes the order without its last line (`IncompleteOrder`).
    Incomplete,
    /// The next AddOrder makes the order without its last line, and its
    /// answer is lost (a timeout or a cut connection after the commit).
    IncompleteUnknown,
    /// The next AddOrder makes the order without its first line (`IncompleteOrder`).
    IncompleteFirst,
    /// The next read of the client's orders gets no answer (timed out).
    OrdersLost,
}

#[derive(Default)]
struct FakeBilling {
    /// (client, Salesforce Order Id, order).
    orders: Mutex<Vec<(u64, String, WhmcsOrder)>>,
    /// Orders made outside the portal: (client, order id, placed at, whether
    /// WHMCS shows a service of it).
    foreign_orders: Mutex<Vec<(u64, u64, NaiveDateTime, bool)>>,
    /// When each order was placed, in WHMCS's local time (UTC+9 here).
    placed_at: Mutex<HashMap<u64, NaiveDateTime>>,
    /// The time, set by `world`.
    clock: Mutex<Option<TestClock>>,
    /// The product of each service (WHMCS's `pid`).
    service_pids: Mutex<HashMap<u64, u32>>,
    fault: Mutex<Option<BillingFault>>,
    clients_created: Mutex<u32>,
    accepted: Mutex<Vec<u64>>,
}

impl FakeBilling {
    fn orders_created(&self) -> usize {
        self.orders.lock().expect("lock").len()
    }
}

impl BillingGateway for FakeBilling {
    async fn ensure_client(
        &self,
        account: &BillingAccount,
        _: Option<&BillingContact>,
    ) -> Result<EnsuredClient, BillingError> {
        if let Some(id) = account.whmcs_client_id {
            return Ok(EnsuredClient {
                client_id: id,
                linked: false,
            });
        }
        *self.clients_created.lock().expect("lock") += 1;
        Ok(EnsuredClient {
            client_id: 42,
            linked: true,
        })
    }

    async fn place_order(
        &self,
        client_id: u64,
        order_id: &OrderId,
        lines: &[BillingLine],
    ) -> Result<WhmcsOrder, BillingError> {
        let fault = self.fault.lock().expect("lock").take();
        if fault == Some(BillingFault::Refuse) {
            return Err(BillingError::Rejected {
                reason: "WHMCS AddOrder failed: Invalid Billing Cycle Requested".to_owned(),
                source: "refused".into(),
            });
        }
        let mut orders = self.orders.lock().expect("lock");
        let n = u64::try_from(orders.len()).expect("few orders") + 1;
        let incomplete = matches!(
            fault,
            Some(
                BillingFault::Incomplete
                    | BillingFault::IncompleteUnknown
                    | BillingFault::IncompleteFirst
            )
        );
        let sold: &[BillingLine] = match fault {
            Some(BillingFault::IncompleteFirst) => &lines[1..],
            _ if incomplete => &lines[..lines.len() - 1],
            _ => lines,
        };
        let made = sold.len();
        let order = WhmcsOrder {
            order_id: n * 10,
            service_ids: (0..made as u64).map(|i| n * 100 + i).collect(),
        };
        {
            let mut pids = self.service_pids.lock().expect("lock");
            for (id, line) in order.service_ids.iter().zip(sold) {
                pids.insert(*id, line.pid);
            }
        }
        orders.push((client_id, order_id.to_string(), order.clone()));
        if let Some(clock) = self.clock.lock().expect("lock").as_ref() {
            self.placed_at
                .lock()
                .expect("lock")
                .insert(order.order_id, whmcs_local(clock.now()));
        }
        if fault == Some(BillingFault::IncompleteUnknown) {
            return Err(BillingError::OutcomeUnknown("connection cut".into()));
        }
        if matches!(
            fault,
            Some(BillingFault::Incomplete | BillingFault::IncompleteFirst)
        ) {
            return Err(BillingError::Incomplete {
                reason: format!(
                    "WHMCS created order {} with {made} of its {} lines",
                    order.order_id,
                    lines.len()
                ),
                order,
            });
        }
        if fault == Some(BillingFault::UnknownAfterCommit) {
            return Err(BillingError::OutcomeUnknown("timed out".into()));
        }
        Ok(order)
    }

    async fn accept(&self, whmcs_order_id: u64) -> Result<(), BillingError> {
        self.accepted.lock().expect("lock").push(whmcs_order_id);
        Ok(())
    }

    async fn find_by_salesforce_order(
        &self,
        client_id: u64,
        order_id: &OrderId,
    ) -> Result<Vec<BilledService>, BillingError> {
        let pids = self.service_pids.lock().expect("lock").clone();
        Ok(self
            .orders
            .lock()
            .expect("lock")
            .iter()
            .filter(|(c, o, _)| *c == client_id && o == order_id.as_str())
            .flat_map(|(_, _, order)| {
                order.service_ids.iter().map(|s| BilledService {
                    service_id: *s,
                    order_id: order.order_id,
                    pid: pids.get(s).copied(),
                })
            })
            .collect())
    }

    async fn client_orders(&self, client_id: u64) -> Result<Vec<ClientOrder>, BillingError> {
        {
            let mut fault = self.fault.lock().expect("lock");
            if *fault == Some(BillingFault::OrdersLost) {
                *fault = None;
                return Err(BillingError::Unavailable("GetOrders timed out".into()));
            }
        }
        let placed = self.placed_at.lock().expect("lock").clone();
        let ours = self
            .orders
            .lock()
            .expect("lock")
            .iter()
            .filter(|(c, _, _)| *c == client_id)
            .map(|(_, _, order)| ClientOrder {
                order_id: order.order_id,
                placed_at: placed.get(&order.order_id).copied(),
                status: "Pending".to_owned(),
                has_services: !order.service_ids.is_empty(),
            })
            .collect::<Vec<_>>();
        let foreign = self.foreign_orders.lock().expect("lock").clone();
        Ok(ours
            .into_iter()
            .chain(
                foreign
                    .into_iter()
                    .filter(|(c, _, _, _)| *c == client_id)
                    .map(|(_, id, at, has_services)| ClientOrder {
                        order_id: id,
                        placed_at: Some(at),
                        status: "Active".to_owned(),
                        has_services,
                    }),
            )
            .collect())
    }
}

/// `t` as a WHMCS server in Tokyo writes it (GetOrders `date`: local, no zone).
fn whmcs_local(t: DateTime<Utc>) -> NaiveDateTime {
    (t + TimeDelta::hours(9)).naive_utc()
}

type World = Provisioner<FakeLedger, FakeBilling, InMemoryProvisioningRecords, TestClock>;

fn start() -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000, 0).expect("valid timestamp")
}

fn world(bundle: OrderBundle) -> (World, TestClock) {
    let clock = TestClock::new(start());
    let billing = FakeBilling::default();
    *billing.clock.lock().expect("lock") = Some(clock.clone());
    let p = Provisioner::new(
        FakeLedger::with(bundle),
        billing,
        InMemoryProvisioningRecords::new(),
        clock.clone(),
        ProvisioningSettings::default(),
    );
    (p, clock)
}

fn owner(name: &str) -> LeaseOwner {
    LeaseOwner::new(name).expect("valid owner")
}

async fn deliver(p: &World, clock: &TestClock, name: &str) -> ProvisioningOutcome {
    p.provision(
        &message(),
        &owner(name),
        clock.now() + TimeDelta::minutes(1),
    )
    .await
}

/// A holder ("dead") claims the Order with a lease of `lease` and is never
/// heard of again: whatever it did, its outcome is unknown to the next one.
async fn claimed_by_a_dead_holder(p: &World, clock: &TestClock, lease: TimeDelta) {
    p.records()
        .claim(
            &order_id(),
            &owner("dead"),
            clock.now() + lease,
            clock.now(),
        )
        .await
        .expect("claimed");
}

async fn status(p: &World) -> Option<ProvisioningStatus> {
    p.records()
        .get(&order_id())
        .await
        .expect("store answers")
        .map(|r| r.state.status())
}

#[tokio::test]
async fn when_an_order_is_approved_should_provision_it_once_and_link_the_client() {
    let (p, clock) = world(bundle());
    let outcome = deliver(&p, &clock, "a").await;
    let ProvisioningOutcome::Provisioned(order) = outcome else {
        panic!("expected Provisioned, got {outcome:?}");
    };
    let written = p.ledger().provisioned.lock().expect("lock").clone();
    assert_eq!(written.len(), 1);
    assert_eq!(written[0].whmcs_order_id, order.order_id);
    // The Service item is the second line.
    assert_eq!(written[0].whmcs_service_id, Some(order.service_ids[1]));
    assert_eq!(written[0].link_account.as_ref().map(|(_, c)| *c), Some(42));
    assert_eq!(status(&p).await, Some(ProvisioningStatus::Completed));
    assert_eq!(
        *p.billing().accepted.lock().expect("lock"),
        vec![order.order_id]
    );

    let again = deliver(&p, &clock, "b").await;
    assert_eq!(
        again,
        ProvisioningOutcome::Skipped(SkipReason::AlreadyProvisioned)
    );
    assert_eq!(p.billing().orders_created(), 1);
}

#[tokio::test]
async fn when_add_order_outcome_is_unknown_should_record_it_and_settle_on_the_next_delivery() {
    let (p, clock) = world(bundle());
    *p.billing().fault.lock().expect("lock") = Some(BillingFault::UnknownAfterCommit);
    assert_eq!(
        deliver(&p, &clock, "a").await,
        ProvisioningOutcome::Retry(RetryReason::OutcomeUnknown)
    );
    assert_eq!(status(&p).await, Some(ProvisioningStatus::Unknown));

    let outcome = deliver(&p, &clock, "b").await;
    assert!(
        matches!(outcome, ProvisioningOutcome::Provisioned(_)),
        "{outcome:?}"
    );
    assert_eq!(p.billing().orders_created(), 1);
    assert_eq!(status(&p).await, Some(ProvisioningStatus::Completed));
}

#[tokio::test]
async fn when_the_salesforce_write_fails_should_retry_without_ordering_again() {
    let (p, clock) = world(bundle());
    *p.ledger().failing_writes.lock().expect("lock") = 1;
    assert_eq!(
        deliver(&p, &clock, "a").await,
        ProvisioningOutcome::Retry(RetryReason::Salesforce)
    );
    assert_eq!(status(&p).await, Some(ProvisioningStatus::Ordered));
    let outcome = deliver(&p, &clock, "b").await;
    assert!(
        matches!(outcome, ProvisioningOutcome::Provisioned(_)),
        "{outcome:?}"
    );
    assert_eq!(p.billing().orders_created(), 1);
    // AcceptOrder ran on both deliveries (already accepted is a success).
    assert_eq!(p.billing().accepted.lock().expect("lock").len(), 2);
}

#[tokio::test]
async fn when_the_invocation_dies_after_ordering_should_resume_after_the_lease_lapses() {
    let (p, clock) = world(bundle());
    *p.ledger().hang_on_write.lock().expect("lock") = true;
    let killed = tokio::time::timeout(
        std::time::Duration::from_millis(50),
        deliver(&p, &clock, "a"),
    )
    .await;
    assert!(killed.is_err(), "the first delivery must hang on the write");
    assert_eq!(status(&p).await, Some(ProvisioningStatus::Ordered));
    *p.ledger().hang_on_write.lock().expect("lock") = false;

    // Before the lease lapses another delivery is told to come back later.
    assert!(matches!(
        deliver(&p, &clock, "b").await,
        ProvisioningOutcome::Retry(RetryReason::Busy { .. })
    ));
    clock.advance(TimeDelta::minutes(2));
    let outcome = deliver(&p, &clock, "c").await;
    assert!(
        matches!(outcome, ProvisioningOutcome::Provisioned(_)),
        "{outcome:?}"
    );
    assert_eq!(p.billing().orders_created(), 1);
}

#[tokio::test]
async fn when_a_holder_died_before_recording_should_settle_before_ordering() {
    let (p, clock) = world(bundle());
    // A holder claimed, AddOrder committed, and it died before recording it.
    claimed_by_a_dead_holder(&p, &clock, TimeDelta::seconds(5)).await;
    let lines = ProvisioningPlan::from_bundle(&bundle())
        .expect("plan")
        .lines;
    p.billing()
        .place_order(42, &order_id(), &lines)
        .await
        .expect("order");
    clock.advance(TimeDelta::seconds(10));
    let outcome = deliver(&p, &clock, "b").await;
    assert!(
        matches!(outcome, ProvisioningOutcome::Provisioned(_)),
        "{outcome:?}"
    );
    assert_eq!(p.billing().orders_created(), 1);
}

#[tokio::test]
async fn when_the_mapping_is_bad_should_fail_with_a_readable_error_and_acknowledge() {
    let mut b = bundle();
    b.items[1].whmcs_product_id = None;
    let (p, clock) = world(b);
    let outcome = deliver(&p, &clock, "a").await;
    let ProvisioningOutcome::Failed(error) = outcome else {
        panic!("expected Failed, got {outcome:?}");
    };
    assert!(error.as_str().contains("Home 1G"), "{error}");
    assert!(error.as_str().contains("WHMCS Product Id"), "{error}");
    let failed = p.ledger().failed.lock().expect("lock").clone();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].error, error);
    assert_eq!(status(&p).await, Some(ProvisioningStatus::Failed));
    assert_eq!(p.billing().orders_created(), 0);
    assert_eq!(
        deliver(&p, &clock, "b").await,
        ProvisioningOutcome::Skipped(SkipReason::PreviouslyFailed)
    );
}

#[tokio::test]
async fn when_whmcs_refuses_the_order_should_fail_with_its_message() {
    let (p, clock) = world(bundle());
    *p.billing().fault.lock().expect("lock") = Some(BillingFault::Refuse);
    let outcome = deliver(&p, &clock, "a").await;
    let ProvisioningOutcome::Failed(error) = outcome else {
        panic!("expected Failed, got {outcome:?}");
    };
    assert!(error.as_str().contains("Invalid Billing Cycle"), "{error}");
    assert_eq!(status(&p).await, Some(ProvisioningStatus::Failed));
}

#[tokio::test]
async fn when_no_client_and_no_email_should_fail_before_calling_whmcs() {
    let mut b = bundle();
    b.contact = None;
    let (p, clock) = world(b);
    let outcome = deliver(&p, &clock, "a").await;
    assert!(
        matches!(outcome, ProvisioningOutcome::Failed(_)),
        "{outcome:?}"
    );
    assert_eq!(*p.billing().clients_created.lock().expect("lock"), 0);
}

#[tokio::test]
async fn when_the_order_no_longer_awaits_provisioning_should_skip_it() {
    let mut b = bundle();
    b.status = "Cancelled".to_owned();
    let (p, clock) = world(b);
    let outcome = deliver(&p, &clock, "a").await;
    assert!(
        matches!(
            &outcome,
            ProvisioningOutcome::Skipped(SkipReason::NotAwaitingProvisioning { status, .. }) if status == "Cancelled"
        ),
        "{outcome:?}"
    );
    assert!(outcome.is_settled());
    assert_eq!(p.billing().orders_created(), 0);
    // The lease was released: another delivery may claim at once.
    let record = p
        .records()
        .get(&order_id())
        .await
        .expect("store")
        .expect("record");
    assert!(record.holder.is_none());
}

#[tokio::test]
async fn when_the_deadline_is_too_close_should_retry_without_ordering() {
    let (p, clock) = world(bundle());
    let outcome = p
        .provision(
            &message(),
            &owner("a"),
            clock.now() + TimeDelta::seconds(10),
        )
        .await;
    assert_eq!(
        outcome,
        ProvisioningOutcome::Retry(RetryReason::DeadlineTooClose)
    );
    assert!(!outcome.is_settled());
    assert_eq!(p.billing().orders_created(), 0);
    let record = p
        .records()
        .get(&order_id())
        .await
        .expect("store")
        .expect("record");
    assert!(record.holder.is_none(), "the lease is released");
}

#[tokio::test]
async fn when_staff_approve_a_failed_order_again_should_reopen_and_provision_it() {
    let mut b = bundle();
    b.items[1].whmcs_product_id = None;
    let (p, clock) = world(b);
    assert!(matches!(
        deliver(&p, &clock, "a").await,
        ProvisioningOutcome::Failed(_)
    ));
    // Staff fix the product and set the Order back to Activating.
    {
        let mut stored = p.ledger().bundle.lock().expect("lock");
        let fixed = stored.as_mut().expect("a bundle");
        fixed.items[1].whmcs_product_id = Some("101".to_owned());
        fixed.activation_status = Some("Activating".to_owned());
    }
    let outcome = deliver(&p, &clock, "b").await;
    assert!(
        matches!(outcome, ProvisioningOutcome::Provisioned(_)),
        "{outcome:?}"
    );
    assert_eq!(p.billing().orders_created(), 1);
    assert_eq!(status(&p).await, Some(ProvisioningStatus::Completed));
}

#[tokio::test]
async fn when_a_provisioned_order_is_approved_again_should_rewrite_the_result_without_ordering() {
    let (p, clock) = world(bundle());
    let ProvisioningOutcome::Provisioned(order) = deliver(&p, &clock, "a").await else {
        panic!("expected Provisioned");
    };
    // Salesforce now shows it provisioned: a redelivery writes nothing.
    let provisioned = OrderBundle {
        status: "Activated".to_owned(),
        activation_status: Some("Provisioned".to_owned()),
        ..bundle()
    };
    *p.ledger().bundle.lock().expect("lock") = Some(provisioned.clone());
    assert_eq!(
        deliver(&p, &clock, "b").await,
        ProvisioningOutcome::Skipped(SkipReason::AlreadyProvisioned)
    );
    assert_eq!(p.ledger().provisioned.lock().expect("lock").len(), 1);

    // Staff set Activating again: the known result is written back, nothing ordered.
    *p.ledger().bundle.lock().expect("lock") = Some(OrderBundle {
        activation_status: Some("Activating".to_owned()),
        ..provisioned
    });
    assert_eq!(
        deliver(&p, &clock, "c").await,
        ProvisioningOutcome::Skipped(SkipReason::AlreadyProvisioned)
    );
    let written = p.ledger().provisioned.lock().expect("lock").clone();
    assert_eq!(written.len(), 2);
    assert_eq!(written[1].whmcs_order_id, order.order_id);
    assert_eq!(written[1].whmcs_service_id, Some(order.service_ids[1]));
    assert_eq!(written[1].link_account, None);
    assert_eq!(p.billing().orders_created(), 1);
}

/// Seeds 464, 610, 729 and 872 of the fault campaign: the write of the
/// result commits but its answer is lost (the record stays ORDERED), and
/// before the redelivery staff approve the provisioned Order again
/// (`Activated`/`Activating`). The redelivery must not take it for an Order
/// that no longer awaits provisioning and skip it: that left the record
/// ORDERED and the Order `Activating` for good, every re-enqueue of the
/// reconciler skipped the same way until its attempts were used up.
#[tokio::test]
async fn when_the_written_result_was_lost_and_staff_approve_again_should_complete_and_rewrite_it() {
    let (p, clock) = world(bundle());
    *p.ledger().lost_answers.lock().expect("lock") = 1;
    assert_eq!(
        deliver(&p, &clock, "a").await,
        ProvisioningOutcome::Retry(RetryReason::Salesforce)
    );
    assert_eq!(status(&p).await, Some(ProvisioningStatus::Ordered));
    let written = p.ledger().provisioned.lock().expect("lock").clone();
    assert_eq!(written.len(), 1, "the write committed");
    let whmcs_order_id = written[0].whmcs_order_id;

    // Staff approve the Order Salesforce shows provisioned again.
    if let Some(b) = p.ledger().bundle.lock().expect("lock").as_mut() {
        b.activation_status = Some("Activating".to_owned());
    }
    assert_eq!(
        deliver(&p, &clock, "b").await,
        ProvisioningOutcome::Skipped(SkipReason::AlreadyProvisioned)
    );
    assert_eq!(status(&p).await, Some(ProvisioningStatus::Completed));
    let written = p.ledger().provisioned.lock().expect("lock").clone();
    assert_eq!(written.len(), 2, "the known result is written again");
    assert_eq!(written[1].whmcs_order_id, whmcs_order_id);
    assert_eq!(written[1].link_account, None);
    let shown = p
        .ledger()
        .bundle
        .lock()
        .expect("lock")
        .clone()
        .expect("the Order");
    assert_eq!(shown.activation_status.as_deref(), Some("Provisioned"));
    assert_eq!(p.billing().orders_created(), 1, "nothing ordered again");
}

/// Seed 552: AddOrder made the order without its line (`IncompleteOrder`), the
/// failure for staff could not be written to Salesforce, so the Order stayed
/// `Activating` and the message came again. That delivery found the record
/// ORDERED and wrote the Order back `Provisioned` with an order that has no
/// service: the customer's service was never created. It must fail the Order
/// for staff again instead; only once WHMCS shows every line (staff completed
/// it by hand) does a new approval provision it, and nothing orders twice.
#[tokio::test]
async fn when_an_incomplete_order_could_not_be_failed_in_salesforce_should_never_provision_it() {
    let (p, clock) = world(bundle());
    *p.billing().fault.lock().expect("lock") = Some(BillingFault::Incomplete);
    *p.ledger().failing_failure_writes.lock().expect("lock") = 1;
    assert_eq!(
        deliver(&p, &clock, "a").await,
        ProvisioningOutcome::Retry(RetryReason::Salesforce)
    );
    assert_eq!(status(&p).await, Some(ProvisioningStatus::Ordered));
    assert_eq!(
        p.ledger()
            .bundle
            .lock()
            .expect("lock")
            .as_ref()
            .and_then(|b| b.activation_status.clone()),
        Some("Activating".to_owned()),
        "Salesforce was not told"
    );

    // The queue's retry (or the reconciler's re-enqueue) of the same approval.
    let outcome = deliver(&p, &clock, "b").await;
    let ProvisioningOutcome::Failed(error) = outcome else {
        panic!("expected the Order failed for staff, got {outcome:?}");
    };
    assert!(error.as_str().contains("by hand"), "{error}");
    assert!(
        p.ledger().provisioned.lock().expect("lock").is_empty(),
        "never Provisioned"
    );
    assert_eq!(
        status(&p).await,
        Some(ProvisioningStatus::Ordered),
        "the record keeps the order"
    );

    // Staff approve again without completing the order: failed again.
    p.ledger()
        .bundle
        .lock()
        .expect("lock")
        .as_mut()
        .expect("bundle")
        .activation_status = Some("Activating".to_owned());
    let outcome = deliver(&p, &clock, "c").await;
    assert!(
        matches!(outcome, ProvisioningOutcome::Failed(_)),
        "{outcome:?}"
    );
    assert!(p.ledger().provisioned.lock().expect("lock").is_empty());

    // Staff complete it by hand (the missing service, with the Order Id), then approve again.
    let whmcs_order = {
        let mut orders = p.billing().orders.lock().expect("lock");
        let (_, _, order) = orders.first_mut().expect("the incomplete order");
        order.service_ids.push(999);
        order.order_id
    };
    p.ledger()
        .bundle
        .lock()
        .expect("lock")
        .as_mut()
        .expect("bundle")
        .activation_status = Some("Activating".to_owned());
    let outcome = deliver(&p, &clock, "d").await;
    let ProvisioningOutcome::Provisioned(order) = outcome else {
        panic!("expected Provisioned, got {outcome:?}");
    };
    assert_eq!(order.order_id, whmcs_order);
    assert_eq!(order.service_ids.len(), 2);
    assert_eq!(p.billing().orders_created(), 1, "never ordered twice");
    assert_eq!(status(&p).await, Some(ProvisioningStatus::Completed));
}

/// A one-line bundle: only the service.
fn one_line_bundle() -> OrderBundle {
    let mut b = bundle();
    b.items.remove(0);
    b
}

fn set_activation(p: &World, status: &str) {
    p.ledger()
        .bundle
        .lock()
        .expect("lock")
        .as_mut()
        .expect("bundle")
        .activation_status = Some(status.to_owned());
}

async fn record(p: &World) -> crate::ports::ProvisioningRecord {
    p.records()
        .get(&order_id())
        .await
        .expect("store answers")
        .expect("a record")
}

/// AddOrder of a one-line Order made an order with no service (WHMCS dropped
/// the line) and its answer was lost. Settling by the Order Id finds no
/// service, but the client's orders show one no Salesforce Order Id
/// attributes, placed during the attempt: it may be this Order's, so nothing
/// is ordered again; the Order is left to staff, and only once staff
/// complete that order by hand does a new approval provision it.
#[tokio::test]
async fn when_a_lost_add_order_may_have_made_an_order_without_services_should_leave_it_to_staff_and_never_order_again()
 {
    let (p, clock) = world(one_line_bundle());
    *p.billing().fault.lock().expect("lock") = Some(BillingFault::IncompleteUnknown);
    assert_eq!(
        deliver(&p, &clock, "a").await,
        ProvisioningOutcome::Retry(RetryReason::OutcomeUnknown)
    );
    assert_eq!(status(&p).await, Some(ProvisioningStatus::Unknown));
    assert_eq!(p.billing().orders_created(), 1);

    // The queue's redelivery settles: no service carries the Order Id.
    clock.advance(TimeDelta::minutes(6));
    let outcome = deliver(&p, &clock, "b").await;
    let ProvisioningOutcome::Failed(error) = outcome else {
        panic!("expected the Order left to staff, got {outcome:?}");
    };
    let whmcs_order = p.billing().orders.lock().expect("lock")[0].2.order_id;
    assert!(
        error.as_str().contains(&whmcs_order.to_string()),
        "names the order to check: {error}"
    );
    assert_eq!(p.billing().orders_created(), 1, "never ordered again");
    let kept = record(&p).await;
    assert_eq!(
        kept.state.status(),
        ProvisioningStatus::Unknown,
        "the outcome is still unknown: never FAILED"
    );
    assert!(kept.left_to_staff.is_some());

    // Staff approve again without looking: still unknown, still one order.
    set_activation(&p, "Activating");
    assert!(matches!(
        deliver(&p, &clock, "c").await,
        ProvisioningOutcome::Failed(_)
    ));
    assert_eq!(p.billing().orders_created(), 1);

    // Staff complete the order by hand (its service, with the Order Id), approve again.
    p.billing().orders.lock().expect("lock")[0]
        .2
        .service_ids
        .push(777);
    set_activation(&p, "Activating");
    let outcome = deliver(&p, &clock, "d").await;
    let ProvisioningOutcome::Provisioned(order) = outcome else {
        panic!("expected Provisioned, got {outcome:?}");
    };
    assert_eq!(order.order_id, whmcs_order);
    assert_eq!(order.service_ids, vec![777]);
    assert_eq!(p.billing().orders_created(), 1, "one WHMCS order in all");
    assert_eq!(status(&p).await, Some(ProvisioningStatus::Completed));
}

/// Orders with no service from before the attempt (staff
/// orders of a legacy client) do not stop settling: ordering goes on.
#[tokio::test]
async fn when_the_client_has_only_older_unattributed_orders_should_settle_and_order() {
    let (p, clock) = world(one_line_bundle());
    p.billing().foreign_orders.lock().expect("lock").push((
        42,
        5,
        whmcs_local(clock.now() - TimeDelta::days(2)),
        false,
    ));
    *p.billing().fault.lock().expect("lock") = Some(BillingFault::UnknownAfterCommit);
    assert_eq!(
        deliver(&p, &clock, "a").await,
        ProvisioningOutcome::Retry(RetryReason::OutcomeUnknown)
    );
    // The lost AddOrder did make the order (with its service): found by the Order Id.
    let outcome = deliver(&p, &clock, "b").await;
    assert!(
        matches!(outcome, ProvisioningOutcome::Provisioned(_)),
        "{outcome:?}"
    );
    assert_eq!(p.billing().orders_created(), 1);

    // A different Order of the same client whose AddOrder certainly did nothing
    // before its answer was lost settles past the old foreign order and orders.
    let (q, clock) = world(one_line_bundle());
    q.billing().foreign_orders.lock().expect("lock").push((
        42,
        5,
        whmcs_local(clock.now() - TimeDelta::days(2)),
        false,
    ));
    claimed_by_a_dead_holder(&q, &clock, TimeDelta::seconds(30)).await;
    clock.advance(TimeDelta::minutes(1));
    let outcome = deliver(&q, &clock, "b").await;
    assert!(
        matches!(outcome, ProvisioningOutcome::Provisioned(_)),
        "{outcome:?}"
    );
    assert_eq!(q.billing().orders_created(), 1);
}

/// Settling reads the client's orders, and that read's answer is lost: the
/// delivery is retried without ordering, failing or leaving anything to
/// staff (nothing is known yet), and the next delivery settles and orders once.
#[tokio::test]
async fn when_reading_the_client_orders_gets_no_answer_should_retry_without_ordering() {
    let (p, clock) = world(one_line_bundle());
    claimed_by_a_dead_holder(&p, &clock, TimeDelta::seconds(30)).await;
    clock.advance(TimeDelta::minutes(1));
    *p.billing().fault.lock().expect("lock") = Some(BillingFault::OrdersLost);

    assert_eq!(
        deliver(&p, &clock, "b").await,
        ProvisioningOutcome::Retry(RetryReason::Whmcs)
    );
    assert_eq!(p.billing().orders_created(), 0, "nothing ordered");
    assert!(
        p.ledger().failed.lock().expect("lock").is_empty(),
        "nothing failed for staff"
    );
    assert!(record(&p).await.left_to_staff.is_none());

    clock.advance(TimeDelta::minutes(1));
    let outcome = deliver(&p, &clock, "c").await;
    assert!(
        matches!(outcome, ProvisioningOutcome::Provisioned(_)),
        "{outcome:?}"
    );
    assert_eq!(p.billing().orders_created(), 1);
}

/// A staff order placed for the client just now, with services that carry no
/// Salesforce Order Id (a legacy client's services, or staff selling by hand),
/// is not what a lost AddOrder of ours can hide (each service ours makes
/// carries the Order Id): settling an Order whose AddOrder certainly did
/// nothing goes on and orders, instead of leaving it to staff.
#[tokio::test]
async fn when_the_client_has_a_recent_staff_order_with_services_should_settle_and_order() {
    let (p, clock) = world(one_line_bundle());
    p.billing()
        .foreign_orders
        .lock()
        .expect("lock")
        .push((42, 5, whmcs_local(clock.now()), true));
    // A holder claimed and died before AddOrder: the outcome is unknown.
    claimed_by_a_dead_holder(&p, &clock, TimeDelta::seconds(30)).await;
    clock.advance(TimeDelta::minutes(1));

    let outcome = deliver(&p, &clock, "b").await;

    assert!(
        matches!(outcome, ProvisioningOutcome::Provisioned(_)),
        "{outcome:?}"
    );
    assert_eq!(p.billing().orders_created(), 1);
    assert!(
        p.ledger().failed.lock().expect("lock").is_empty(),
        "nothing failed for staff"
    );
}

/// An Order failed for staff while WHMCS has its (incomplete) order: the
/// record keeps the order, is marked left to staff and leaves the
/// reconciler's view, so no re-enqueue acts on it; later deliveries of the
/// same approval are skipped without touching the record; a new approval
/// reopens it (no second order).
#[tokio::test]
async fn when_an_order_is_failed_for_staff_with_a_whmcs_order_should_leave_it_to_staff_until_approved_again()
 {
    let (p, clock) = world(bundle());
    *p.billing().fault.lock().expect("lock") = Some(BillingFault::Incomplete);
    assert!(matches!(
        deliver(&p, &clock, "a").await,
        ProvisioningOutcome::Failed(_)
    ));
    let kept = record(&p).await;
    assert_eq!(kept.state.status(), ProvisioningStatus::Ordered);
    assert!(kept.left_to_staff.is_some(), "left to staff");
    assert!(kept.holder.is_none());
    clock.advance(TimeDelta::hours(1));
    assert!(
        p.records()
            .list_unsettled(clock.now(), 100)
            .await
            .expect("store")
            .is_empty(),
        "the reconciler does not see it"
    );

    // A late redelivery of the same approval: skipped, the record untouched.
    assert_eq!(
        deliver(&p, &clock, "b").await,
        ProvisioningOutcome::Skipped(SkipReason::PreviouslyFailed)
    );
    assert_eq!(record(&p).await, kept.clone());

    // Staff approve again (without completing it): reopened, failed again, one order.
    set_activation(&p, "Activating");
    assert!(matches!(
        deliver(&p, &clock, "c").await,
        ProvisioningOutcome::Failed(_)
    ));
    assert_eq!(p.billing().orders_created(), 1);
    assert!(record(&p).await.left_to_staff.is_some());
}

/// A record released by an earlier version (ORDERED, Order `Failed` in
/// Salesforce, no mark): the next delivery leaves it to staff instead of
/// releasing it again for the reconciler.
#[tokio::test]
async fn when_a_released_ordered_record_belongs_to_a_failed_order_should_leave_it_to_staff() {
    let (p, clock) = world(bundle());
    let a = owner("old");
    p.records()
        .claim(
            &order_id(),
            &a,
            clock.now() + TimeDelta::minutes(1),
            clock.now(),
        )
        .await
        .expect("claimed");
    let order = WhmcsOrder {
        order_id: 10,
        service_ids: vec![100],
    };
    p.records()
        .record_ordered(&order_id(), &a, Some(42), &order, clock.now())
        .await
        .expect("ordered");
    p.records()
        .release(&order_id(), &a, clock.now())
        .await
        .expect("released");
    set_activation(&p, "Failed");
    clock.advance(TimeDelta::hours(1));
    assert_eq!(
        p.records()
            .list_unsettled(clock.now(), 100)
            .await
            .expect("store")
            .len(),
        1
    );

    assert!(matches!(
        deliver(&p, &clock, "reconciler").await,
        ProvisioningOutcome::Skipped(SkipReason::NotAwaitingProvisioning { .. })
    ));
    let kept = record(&p).await;
    assert_eq!(kept.state.status(), ProvisioningStatus::Ordered);
    assert!(kept.left_to_staff.is_some());
    assert!(
        p.records()
            .list_unsettled(clock.now(), 100)
            .await
            .expect("store")
            .is_empty()
    );
}

/// WHMCS made the order without its first line (the Service: WHMCS dropped
/// its product) and staff added that service by hand: its id is higher than
/// the Activation's, so by id it comes first. The Opportunity must still get
/// the service of the plan's Service line, which WHMCS says by its product.
#[tokio::test]
async fn when_staff_complete_an_order_by_hand_should_write_the_service_of_the_service_line() {
    let mut b = bundle();
    b.items.reverse(); // Service (101) first, Activation (103) second.
    let (p, clock) = world(b);
    *p.billing().fault.lock().expect("lock") = Some(BillingFault::IncompleteFirst);
    assert!(matches!(
        deliver(&p, &clock, "a").await,
        ProvisioningOutcome::Failed(_)
    ));
    let (whmcs_order, activation_service) = {
        let orders = p.billing().orders.lock().expect("lock");
        (orders[0].2.order_id, orders[0].2.service_ids[0])
    };
    assert_eq!(
        p.billing()
            .service_pids
            .lock()
            .expect("lock")
            .get(&activation_service),
        Some(&103)
    );

    // Staff add the Service by hand (a higher id), with the Order Id, then approve again.
    let by_hand = 999;
    p.billing().orders.lock().expect("lock")[0]
        .2
        .service_ids
        .push(by_hand);
    p.billing()
        .service_pids
        .lock()
        .expect("lock")
        .insert(by_hand, 101);
    set_activation(&p, "Activating");
    let outcome = deliver(&p, &clock, "b").await;
    let ProvisioningOutcome::Provisioned(order) = outcome else {
        panic!("expected Provisioned, got {outcome:?}");
    };
    assert_eq!(order.order_id, whmcs_order);
    assert_eq!(
        order.service_ids,
        vec![by_hand, activation_service],
        "in line order"
    );
    let written = p.ledger().provisioned.lock().expect("lock").clone();
    assert_eq!(
        written[0].whmcs_service_id,
        Some(by_hand),
        "the Service line's service, not the Activation's"
    );
    assert_eq!(p.billing().orders_created(), 1);
}
