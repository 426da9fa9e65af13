//! What runs locally is what runs in AWS: one sequence of deliveries, fed to
//! the provisioner Lambda's SQS handler (`provisioner::handle_batch`) and to
//! one receive of portal-local's provisioner worker (its queue, and the step
//! its loop `poll` takes per receive), with the same scripted use case behind
//! both. The two must attempt the same messages in the same order and leave
//! the same ones for redelivery.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failure should panic loudly

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use aws_lambda_events::event::sqs::SqsEvent;
use chrono::{DateTime, TimeDelta, Utc};
use portal_core::messages::ProvisioningMessage;
use portal_core::ports::{Clock as _, LeaseOwner, ProvisioningDeliveries, WhmcsOrder};
use portal_core::provisioning::{ProvisioningOutcome, RetryReason, SkipReason};
use portal_core::workers::Shutdown;
use portal_core::workers::provisioner::{
    Invocation, PollCounters, PollSettings, Provision, settle_received,
};
use portal_local::Shared;
use serde_json::json;

/// One message of a sequence: its group (an Order number), its key, and its body.
struct Sent {
    order: u32,
    key: &'static str,
    body: String,
}

fn order_id(order: u32) -> String {
    portal_core::domain::OrderId::parse(&format!("801{order:012}"))
        .expect("an Order id")
        .as_str()
        .to_owned()
}

fn sent(order: u32, key: &'static str) -> Sent {
    let body = json!({
        "schemaVersion": 1,
        "orderId": order_id(order),
        "idempotencyKey": key,
        "correlationId": key,
        "requestedBy": "reconciler",
        "source": "reconciler",
    })
    .to_string();
    Sent { order, key, body }
}

fn malformed(order: u32, key: &'static str) -> Sent {
    Sent {
        order,
        key,
        body: "not a provisioning message".to_owned(),
    }
}

/// Answers scripted outcomes per idempotency key (else `Provisioned`) and
/// records which keys it was asked for, in order.
#[derive(Debug, Default)]
struct Scripted {
    outcomes: Mutex<HashMap<String, VecDeque<ProvisioningOutcome>>>,
    calls: Mutex<Vec<String>>,
}

impl Scripted {
    fn new(script: &[(&str, ProvisioningOutcome)]) -> Self {
        let scripted = Self::default();
        for (key, outcome) in script {
            scripted
                .outcomes
                .lock()
                .unwrap()
                .entry((*key).to_owned())
                .or_default()
                .push_back(outcome.clone());
        }
        scripted
    }

    fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }
}

impl Provision for Scripted {
    async fn provision(
        &self,
        message: &ProvisioningMessage,
        _owner: &LeaseOwner,
        _deadline: DateTime<Utc>,
    ) -> ProvisioningOutcome {
        let key = message.idempotency_key.as_str().to_owned();
        self.calls.lock().unwrap().push(key.clone());
        self.outcomes
            .lock()
            .unwrap()
            .get_mut(&key)
            .and_then(VecDeque::pop_front)
            .unwrap_or(ProvisioningOutcome::Provisioned(WhmcsOrder {
                order_id: 1,
                service_ids: vec![1],
            }))
    }
}

/// What a host did with one receive: the keys it attempted, in order, and
/// the keys it left unacknowledged.
#[derive(Debug, PartialEq, Eq)]
struct Handled {
    attempted: Vec<String>,
    unacknowledged: Vec<String>,
}

async fn lambda(sequence: &[Sent], script: &[(&str, ProvisioningOutcome)]) -> Handled {
    let records: Vec<_> = sequence
        .iter()
        .map(|s| {
            json!({
                "messageId": s.key,
                "receiptHandle": format!("receipt-{}", s.key),
                "body": s.body,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "MessageGroupId": order_id(s.order),
                    "MessageDeduplicationId": s.key,
                },
                "messageAttributes": {},
                "eventSource": "aws:sqs",
            })
        })
        .collect();
    let event: SqsEvent =
        serde_json::from_value(json!({ "Records": records })).expect("an SQS event");
    let scripted = Scripted::new(script);
    let invocation = Invocation {
        request_id: "lambda-request".into(),
        deadline: Utc::now() + TimeDelta::minutes(1),
    };
    let response = provisioner::handle_batch(&scripted, &event, &invocation).await;
    Handled {
        attempted: scripted.calls(),
        unacknowledged: response
            .batch_item_failures
            .into_iter()
            .map(|f| f.item_identifier)
            .collect(),
    }
}

async fn local(sequence: &[Sent], script: &[(&str, ProvisioningOutcome)]) -> Handled {
    let shared = Shared::in_memory();
    for s in sequence {
        shared.queue.send_body(&order_id(s.order), s.key, &s.body);
    }
    let scripted = Scripted::new(script);
    // One receive of portal-local's worker, as `poll` runs it.
    let settings = PollSettings::default();
    let deliveries = ProvisioningDeliveries::receive(&*shared.queue, settings.batch)
        .await
        .expect("the in-memory queue answers");
    assert_eq!(
        deliveries.len(),
        sequence.len(),
        "one receive takes them all"
    );
    let invocation = Invocation {
        request_id: "local-1".into(),
        deadline: shared.clock.now() + TimeDelta::minutes(1),
    };
    let counters = PollCounters::default();
    settle_received(
        &scripted,
        &*shared.queue,
        &deliveries,
        &invocation,
        &counters,
        &Shutdown::never(),
    )
    .await;
    // Unacknowledged: still in the queue (in flight or handed back); the
    // in-memory queue names messages m-1, m-2… in sending order.
    let unacknowledged = sequence
        .iter()
        .enumerate()
        .filter(|(n, _)| shared.queue.holds(&format!("m-{}", n + 1)))
        .map(|(_, s)| s.key.to_owned())
        .collect();
    Handled {
        attempted: scripted.calls(),
        unacknowledged,
    }
}

fn retry(reason: RetryReason) -> ProvisioningOutcome {
    ProvisioningOutcome::Retry(reason)
}

/// A scenario: its name, the deliveries, and the outcomes the use case answers.
type Scenario = (
    &'static str,
    Vec<Sent>,
    Vec<(&'static str, ProvisioningOutcome)>,
);

#[tokio::test]
async fn the_lambda_and_portal_local_settle_one_sequence_alike() {
    let scenarios: Vec<Scenario> = vec![
        (
            "a retry holds its Order back, others carry on",
            vec![
                sent(1, "a1"),
                sent(2, "b1"),
                sent(1, "a2"),
                sent(3, "c1"),
                sent(2, "b2"),
            ],
            vec![
                ("a1", retry(RetryReason::Whmcs)),
                (
                    "b1",
                    ProvisioningOutcome::Skipped(SkipReason::AlreadyProvisioned),
                ),
            ],
        ),
        (
            "a malformed body is left for the dead-letter queue, holding its group",
            vec![malformed(4, "bad"), sent(4, "d1"), sent(5, "e1")],
            vec![],
        ),
        (
            "out of time: nothing after is attempted",
            vec![sent(6, "f1"), sent(7, "g1"), sent(8, "h1")],
            vec![("g1", retry(RetryReason::DeadlineTooClose))],
        ),
        (
            "a permanent failure is acknowledged",
            vec![sent(9, "i1")],
            vec![(
                "i1",
                ProvisioningOutcome::Failed(portal_core::ports::ActivationError::new(
                    "no WHMCS product",
                )),
            )],
        ),
    ];
    for (name, sequence, script) in scenarios {
        let in_aws = lambda(&sequence, &script).await;
        let in_local = local(&sequence, &script).await;
        assert_eq!(in_aws, in_local, "{name}");
        assert!(
            !in_aws.attempted.is_empty(),
            "{name}: something was attempted"
        );
    }
}
