//! Where portal-local keeps its state: [`InMemory`] (the default, gone when
//! it stops) or [`Aws`] (a DynamoDB table and SQS queues at the AWS SDK's
//! endpoint — a moto server or a real account — so it survives a restart
//! and can be watched with the AWS CLI). [`State`] names one adapter per
//! port; the components are written once over it.

use std::fmt::Debug;
use std::sync::Arc;

use portal_aws::resources::{ResourceError, ensure_queues, ensure_state_table};
use portal_aws::{
    AwsClients, DynamoAccountStatuses, DynamoIdempotencyStore, DynamoLoginLimits, DynamoLoginLinks,
    DynamoProvisioningRecords, DynamoReconcileAttempts, DynamoReplayStore, DynamoSubscriberLease,
    SqsDeadLetters, SqsProvisioningQueue, SqsQueueDepths,
};
use portal_core::ports::memory::{
    InMemoryAccountStatuses, InMemoryDeadLetters, InMemoryIdempotencyStore, InMemoryLoginLimits,
    InMemoryLoginLinks, InMemoryProvisioningRecords, InMemoryQueue, InMemoryReconcileAttempts,
    InMemoryReplayStore, InMemorySubscriberLease, QueueConfig,
};
use portal_core::ports::{
    AccountStatusSync, Clock, DeadLetters, EVENT_DLQ, GapSweeps, IdempotencyStore,
    InactiveAccounts, LoginLimits, LoginLinks, PROVISIONING_DLQ, ProvisioningDeliveries,
    ProvisioningQueue, ProvisioningRecords, QueueDepths, ReconcileAttempts, ReplayStore,
    SubscriberLease, SystemClock,
};

/// One adapter per port of the shared state.
pub trait State: Send + Sync + 'static {
    /// HTTP idempotency records.
    type Idempotency: IdempotencyStore + Debug + 'static;
    /// Login → Account links.
    type LoginLinks: LoginLinks + Debug + 'static;
    /// Per-login counters.
    type LoginLimits: LoginLimits + Debug + 'static;
    /// Deactivated Accounts.
    type AccountStatuses: InactiveAccounts + AccountStatusSync + Debug + 'static;
    /// The provisioning queue, both sides.
    type Queue: ProvisioningQueue + ProvisioningDeliveries + Debug + 'static;
    /// Replay positions and gaps.
    type Replay: ReplayStore + GapSweeps + Debug + 'static;
    /// The subscriber's lease.
    type Lease: SubscriberLease + Debug + 'static;
    /// The subscriber's dead letters.
    type DeadLetters: DeadLetters + Debug + 'static;
    /// The provisioner's records.
    type Records: ProvisioningRecords + Clone + Debug + 'static;
    /// The reconciler's attempts.
    type Attempts: ReconcileAttempts + Clone + Debug + 'static;
    /// The dead-letter queues' depth.
    type Depths: QueueDepths + Clone + Debug + 'static;
}

/// The in-memory twins (the default).
#[derive(Debug, Clone, Copy)]
pub struct InMemory;

impl State for InMemory {
    type Idempotency = InMemoryIdempotencyStore;
    type LoginLinks = InMemoryLoginLinks;
    type LoginLimits = InMemoryLoginLimits;
    type AccountStatuses = InMemoryAccountStatuses;
    type Queue = InMemoryQueue;
    type Replay = InMemoryReplayStore;
    type Lease = InMemorySubscriberLease;
    type DeadLetters = InMemoryDeadLetters;
    type Records = Arc<InMemoryProvisioningRecords>;
    type Attempts = Arc<InMemoryReconcileAttempts>;
    type Depths = (Arc<InMemoryQueue>, Arc<InMemoryDeadLetters>);
}

/// DynamoDB and SQS, as the Lambdas and the Fargate task use them.
#[derive(Debug, Clone, Copy)]
pub struct Aws;

impl State for Aws {
    type Idempotency = DynamoIdempotencyStore;
    type LoginLinks = DynamoLoginLinks;
    type LoginLimits = DynamoLoginLimits;
    type AccountStatuses = DynamoAccountStatuses;
    type Queue = SqsProvisioningQueue;
    type Replay = DynamoReplayStore;
    type Lease = DynamoSubscriberLease;
    type DeadLetters = SqsDeadLetters;
    type Records = DynamoProvisioningRecords;
    type Attempts = DynamoReconcileAttempts;
    type Depths = SqsQueueDepths;
}

/// The state the components share (in AWS: DynamoDB and SQS).
pub struct Shared<S: State = InMemory> {
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// HTTP idempotency records.
    pub idempotency: Arc<S::Idempotency>,
    /// Login → Account links.
    pub login_links: Arc<S::LoginLinks>,
    /// Per-login request counters.
    pub login_limits: Arc<S::LoginLimits>,
    /// Accounts staff deactivated (the reconciler's sync writes, the API reads).
    pub account_statuses: Arc<S::AccountStatuses>,
    /// The provisioning queue the subscriber and the reconciler feed.
    pub queue: Arc<S::Queue>,
    /// The subscriber's replay position and gaps.
    pub replay: Arc<S::Replay>,
    /// The subscriber's lease.
    pub lease: Arc<S::Lease>,
    /// Events the subscriber could not turn into messages.
    pub dead_letters: Arc<S::DeadLetters>,
    /// The provisioner's per-Order records.
    pub records: S::Records,
    /// The reconciler's per-Order attempts.
    pub reconcile_attempts: S::Attempts,
    /// The dead-letter queues' depth.
    pub depths: S::Depths,
    /// Where it lives, for the summary.
    pub place: String,
}

impl<S: State> Clone for Shared<S> {
    fn clone(&self) -> Self {
        Self {
            clock: Arc::clone(&self.clock),
            idempotency: Arc::clone(&self.idempotency),
            login_links: Arc::clone(&self.login_links),
            login_limits: Arc::clone(&self.login_limits),
            account_statuses: Arc::clone(&self.account_statuses),
            queue: Arc::clone(&self.queue),
            replay: Arc::clone(&self.replay),
            lease: Arc::clone(&self.lease),
            dead_letters: Arc::clone(&self.dead_letters),
            records: self.records.clone(),
            reconcile_attempts: self.reconcile_attempts.clone(),
            depths: self.depths.clone(),
            place: self.place.clone(),
        }
    }
}

impl<S: State> Debug for Shared<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("place", &self.place)
            .finish_non_exhaustive()
    }
}

impl Shared<InMemory> {
    /// Empty in-memory state on the system clock.
    pub fn in_memory() -> Self {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let queue = Arc::new(InMemoryQueue::new(
            Arc::clone(&clock),
            QueueConfig::default(),
        ));
        let dead_letters = Arc::new(InMemoryDeadLetters::new());
        Self {
            depths: (Arc::clone(&queue), Arc::clone(&dead_letters)),
            queue,
            idempotency: Arc::new(InMemoryIdempotencyStore::new()),
            login_links: Arc::new(InMemoryLoginLinks::new()),
            login_limits: Arc::new(InMemoryLoginLimits::new()),
            account_statuses: Arc::new(InMemoryAccountStatuses::new()),
            replay: Arc::new(InMemoryReplayStore::new()),
            lease: Arc::new(InMemorySubscriberLease::new()),
            dead_letters,
            records: Arc::new(InMemoryProvisioningRecords::new()),
            reconcile_attempts: Arc::new(InMemoryReconcileAttempts::new()),
            clock,
            place: "in memory".to_owned(),
        }
    }
}

impl Default for Shared<InMemory> {
    fn default() -> Self {
        Self::in_memory()
    }
}

/// The names of the table and queues ([`crate::StateTarget::Aws`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsNames {
    /// The table.
    pub table: String,
    /// The provisioning queue (FIFO).
    pub provisioning_queue: String,
    /// Its dead-letter queue.
    pub provisioning_dlq: String,
    /// The subscriber's dead-letter queue.
    pub event_dlq: String,
}

impl Shared<Aws> {
    /// The table and queues named `names` at the SDK's endpoint
    /// (`AWS_ENDPOINT_URL`, region and credentials from the environment),
    /// created when missing.
    ///
    /// # Errors
    /// [`ResourceError`] naming the table or queue that can be neither found nor created.
    pub async fn aws(clients: &AwsClients, names: &AwsNames) -> Result<Self, ResourceError> {
        ensure_state_table(clients, &names.table).await?;
        let urls = ensure_queues(
            clients,
            &names.provisioning_queue,
            &names.provisioning_dlq,
            &names.event_dlq,
        )
        .await?;
        let dynamo = &clients.dynamo;
        let table = names.table.as_str();
        Ok(Self {
            clock: Arc::new(SystemClock),
            idempotency: Arc::new(DynamoIdempotencyStore::new(dynamo.clone(), table)),
            login_links: Arc::new(DynamoLoginLinks::new(dynamo.clone(), table)),
            login_limits: Arc::new(DynamoLoginLimits::new(dynamo.clone(), table)),
            account_statuses: Arc::new(DynamoAccountStatuses::new(dynamo.clone(), table)),
            queue: Arc::new(SqsProvisioningQueue::new(
                clients.sqs.clone(),
                urls.provisioning.as_str(),
            )),
            replay: Arc::new(DynamoReplayStore::new(dynamo.clone(), table)),
            lease: Arc::new(DynamoSubscriberLease::new(dynamo.clone(), table)),
            dead_letters: Arc::new(SqsDeadLetters::new(
                clients.sqs.clone(),
                urls.event_dlq.as_str(),
            )),
            records: DynamoProvisioningRecords::new(dynamo.clone(), table),
            reconcile_attempts: DynamoReconcileAttempts::new(dynamo.clone(), table),
            depths: SqsQueueDepths::new(
                clients.sqs.clone(),
                vec![
                    (PROVISIONING_DLQ.to_owned(), urls.provisioning_dlq.clone()),
                    (EVENT_DLQ.to_owned(), urls.event_dlq.clone()),
                ],
            ),
            place: format!(
                "DynamoDB table {table}, SQS queue {}",
                names.provisioning_queue
            ),
        })
    }
}
