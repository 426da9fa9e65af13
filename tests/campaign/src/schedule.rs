//! What one seed does: the customers and their journeys, the world's
//! conditions, and the faults injected at moments of the fault window. A
//! [`Schedule`] is a pure function of the seed ([`Schedule::draw`]), so
//! `CAMPAIGN_SEED=<n>` gives the same schedule again.
//!
//! A seed draws 2–5 classes of the mix ([`FaultClass::MIXED`]), each fault at
//! a random moment of the window. Then each *scenario* ([`FaultClass::SCENARIOS`])
//! joins the seed with a chance of its own ([`Shape::scenario_chance`]): a
//! scenario is the shape a defect needs that random moments almost never
//! make, set up on purpose. Scenarios are drawn after everything else, so a
//! seed's mix, customers and faults are what they were before scenarios
//! existed (a seed named in an old report replays the same, plus a scenario
//! at times).
//!
//! - `catalog-change-on-lost-order`: an AddOrder's answer is lost (WHMCS
//!   commits, then times out, answers late or cuts the connection) and, the
//!   moment WHMCS commits, staff remove the WHMCS mapping of that order's
//!   products — so the delivery after the lost answer meets a broken mapping
//!   before anything settled the unknown outcome. Once the Order has failed
//!   (or after a while) the mapping is put back, the window's faults are
//!   lifted and staff approve the failed Order again. One WHMCS order per
//!   Order must still hold. The world carries it out
//!   ([`crate::world::lost_order`]).
//! - `reconciler-backlog`: the org holds 200–400 Orders approved long ago and
//!   `Activating` ever since, whose reconcile attempts are used up (left to
//!   staff; the reconciler reports them and never re-enqueues them), older
//!   than every Order of the seed; the reconciler reads production's pages
//!   (200 Orders, 3 pages a run); and the subscriber is away from the start
//!   of the window for longer than the events are retained, so the
//!   customers' approvals are lost with their events and only the
//!   reconciler's sweep can find their Orders behind the backlog. The
//!   invariants leave the backlog out by design and still hold every other
//!   approved Order to `Provisioned` ([`crate::world::backlog`]).

use std::fmt;

use rand::rngs::StdRng;
use rand::seq::IndexedRandom as _;
use rand::{Rng as _, SeedableRng as _};

/// A kind of fault; the bench's table has one row per class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FaultClass {
    /// Salesforce answers 503 (an outage, from now or after a few requests).
    SalesforceOutage,
    /// Writes fail with `UNABLE_TO_LOCK_ROW`.
    SalesforceLock,
    /// `REQUEST_LIMIT_EXCEEDED` (concurrent or daily).
    SalesforceRequestLimit,
    /// Every session revoked mid-run.
    SalesforceSessionExpired,
    /// A write commits, then its answer comes too late or the connection drops.
    SalesforceCommitLost,
    /// WHMCS answers 500 or an HTML page, nothing done.
    WhmcsError,
    /// WHMCS commits, then answers past the client's timeout (or never).
    WhmcsTimeout,
    /// WHMCS commits, then cuts the connection mid-body.
    WhmcsDropAfterCommit,
    /// AddOrder makes the order without its last line.
    WhmcsIncompleteOrder,
    /// Customers are WHMCS clients with more than a page (25) of services.
    WhmcsManyServices,
    /// Open Pub/Sub streams end, or new ones are refused.
    PubSubDrop,
    /// Streams stay open and send nothing (a half-open connection).
    PubSubSilence,
    /// Subscriptions refused with the corrupted-replay error.
    PubSubCorruptedReplay,
    /// Events are retained briefly and the subscriber is down for longer.
    PubSubRetentionExpiry,
    /// An event whose payload is not Avro.
    PubSubUndecodable,
    /// The subscriber aborted at an await point, restarted from what it keeps.
    SubscriberKilled,
    /// A provisioner worker aborted at an await point (a Lambda killed).
    ProvisionerKilled,
    /// The reconciler aborted at an await point mid-run.
    ReconcilerKilled,
    /// Queue messages delivered twice.
    QueueDuplicate,
    /// Queue messages visible only later.
    QueueDelay,
    /// Deliveries handed over in another order.
    QueueReorder,
    /// A visibility timeout lapses while the message is in hand.
    VisibilityExpiry,
    /// Staff change a product's WHMCS mapping for a while.
    CatalogChange,
    /// Scenario: an AddOrder answer lost, and that order's mapping removed
    /// at once, until the Order failed; then staff approve it again.
    CatalogChangeOnLostOrder,
    /// Scenario: 200+ old Orders the reconciler will not act on, ahead of
    /// the customers' Orders, whose events the subscriber missed.
    ReconcilerBacklog,
}

impl FaultClass {
    /// Every class, in table order: the mix, then the scenarios.
    pub const ALL: [Self; Self::MIXED.len() + Self::SCENARIOS.len()] = {
        let mut all = [Self::SalesforceOutage; Self::MIXED.len() + Self::SCENARIOS.len()];
        let mut i = 0;
        while i < Self::MIXED.len() {
            all[i] = Self::MIXED[i];
            i += 1;
        }
        let mut j = 0;
        while j < Self::SCENARIOS.len() {
            all[i + j] = Self::SCENARIOS[j];
            j += 1;
        }
        all
    };

    /// The mix: a seed draws 2–5 of these, each fault at a random moment.
    pub const MIXED: [Self; 23] = [
        Self::SalesforceOutage,
        Self::SalesforceLock,
        Self::SalesforceRequestLimit,
        Self::SalesforceSessionExpired,
        Self::SalesforceCommitLost,
        Self::WhmcsError,
        Self::WhmcsTimeout,
        Self::WhmcsDropAfterCommit,
        Self::WhmcsIncompleteOrder,
        Self::WhmcsManyServices,
        Self::PubSubDrop,
        Self::PubSubSilence,
        Self::PubSubCorruptedReplay,
        Self::PubSubRetentionExpiry,
        Self::PubSubUndecodable,
        Self::SubscriberKilled,
        Self::ProvisionerKilled,
        Self::ReconcilerKilled,
        Self::QueueDuplicate,
        Self::QueueDelay,
        Self::QueueReorder,
        Self::VisibilityExpiry,
        Self::CatalogChange,
    ];

    /// The scenarios: each joins a seed with [`Shape::scenario_chance`].
    pub const SCENARIOS: [Self; 2] = [Self::CatalogChangeOnLostOrder, Self::ReconcilerBacklog];

    /// The class's name in tables and schedules.
    pub fn name(self) -> &'static str {
        match self {
            Self::SalesforceOutage => "salesforce-outage",
            Self::SalesforceLock => "salesforce-lock",
            Self::SalesforceRequestLimit => "salesforce-request-limit",
            Self::SalesforceSessionExpired => "salesforce-session-expired",
            Self::SalesforceCommitLost => "salesforce-commit-lost",
            Self::WhmcsError => "whmcs-error",
            Self::WhmcsTimeout => "whmcs-timeout-after-commit",
            Self::WhmcsDropAfterCommit => "whmcs-drop-after-commit",
            Self::WhmcsIncompleteOrder => "whmcs-incomplete-order",
            Self::WhmcsManyServices => "whmcs-many-services",
            Self::PubSubDrop => "pubsub-drop",
            Self::PubSubSilence => "pubsub-silence",
            Self::PubSubCorruptedReplay => "pubsub-corrupted-replay",
            Self::PubSubRetentionExpiry => "pubsub-retention-expiry",
            Self::PubSubUndecodable => "pubsub-undecodable-event",
            Self::SubscriberKilled => "subscriber-killed",
            Self::ProvisionerKilled => "provisioner-killed",
            Self::ReconcilerKilled => "reconciler-killed",
            Self::QueueDuplicate => "queue-duplicate",
            Self::QueueDelay => "queue-delay",
            Self::QueueReorder => "queue-reorder",
            Self::VisibilityExpiry => "visibility-timeout-expiry",
            Self::CatalogChange => "catalog-mapping-change",
            Self::CatalogChangeOnLostOrder => "catalog-change-on-lost-order",
            Self::ReconcilerBacklog => "reconciler-backlog",
        }
    }
}

impl fmt::Display for FaultClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A worker the campaign can abort and restart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Worker {
    /// The Pub/Sub subscriber (Fargate in AWS).
    Subscriber,
    /// Provisioner worker `n` (a concurrent Lambda invocation in AWS).
    Provisioner(usize),
    /// The reconciler (the scheduled Lambda).
    Reconciler,
}

impl fmt::Display for Worker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Subscriber => f.write_str("subscriber"),
            Self::Provisioner(n) => write!(f, "provisioner-{n}"),
            Self::Reconciler => f.write_str("reconciler"),
        }
    }
}

/// The WHMCS actions a fault can hit.
pub const WHMCS_ACTIONS: [&str; 5] = [
    "AddOrder",
    "AcceptOrder",
    "AddClient",
    "GetClientsDetails",
    "GetClientsProducts",
];

/// One fault, applied at a moment of the fault window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// The next `n` Salesforce requests after `after` more are refused with 503.
    SalesforceOutage { after: u32, n: u32 },
    /// The next `n` Salesforce writes fail with `UNABLE_TO_LOCK_ROW`.
    SalesforceLock { n: u32 },
    /// The next `n` Salesforce requests are refused with `REQUEST_LIMIT_EXCEEDED`.
    SalesforceRequestLimit { n: u32, concurrent: bool },
    /// Every Salesforce session is revoked.
    SalesforceRevokeSessions,
    /// The next `n` committed Salesforce writes answer past the client's timeout.
    SalesforceCommitThenStall { n: u32 },
    /// The next `n` committed Salesforce writes lose their connection.
    SalesforceCommitThenDrop { n: u32 },
    /// The next call of `action` answers HTTP 500, nothing done.
    WhmcsServerError { action: &'static str },
    /// The next call of `action` answers an HTML page, nothing done.
    WhmcsHtmlBody { action: &'static str },
    /// The next call of `action` commits and answers past the client's timeout.
    WhmcsStallAfterCommit { action: &'static str },
    /// The next call of `action` commits and never answers.
    WhmcsTimeoutAfterCommit { action: &'static str },
    /// The next call of `action` commits and cuts the connection mid-body.
    WhmcsDropAfterCommit { action: &'static str },
    /// The next AddOrder drops its last line.
    WhmcsIncompleteOrder,
    /// Every open Pub/Sub stream ends.
    PubSubDropStreams,
    /// The next `n` subscriptions answer `UNAVAILABLE`.
    PubSubUnavailable { n: u32 },
    /// Streams send nothing, until the faults are lifted at the end of the window.
    PubSubSilence,
    /// The next `n` subscriptions are refused as corrupted replay ids.
    PubSubReplayCorrupted { n: u32 },
    /// An undecodable event is published (for an Order of customer `customer`
    /// when it has one, else a made-up Order id).
    PubSubUndecodable { customer: usize },
    /// `worker` is aborted after `after_polls` more polls (at an await point)
    /// and restarted `down_millis` later with only the state production keeps.
    Kill {
        worker: Worker,
        after_polls: u32,
        down_millis: u64,
    },
    /// The next `n` messages sent are enqueued twice.
    QueueDuplicate { n: u32 },
    /// The next `n` messages sent become visible `millis` later.
    QueueDelay { n: u32, millis: u64 },
    /// The next `n` receives hand their deliveries over shuffled.
    QueueReorder { n: u32 },
    /// The next `n` deliveries become visible again while in hand.
    VisibilityExpiry { n: u32 },
    /// A product's WHMCS mapping is removed for `millis`, then restored.
    CatalogChange { product: &'static str, millis: u64 },
    /// The next AddOrder commits and its answer is lost (`answer`); the
    /// moment WHMCS commits, its products' mappings are removed until the
    /// Order failed (see [`crate::world::lost_order`]).
    CatalogChangeOnLostOrder { answer: LostAnswer },
}

/// How an answer after commit is lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LostAnswer {
    /// Never comes (the client times out).
    Timeout,
    /// Comes past the client's timeout.
    Stall,
    /// The connection is cut mid-body.
    Drop,
}

impl Fault {
    /// The class it belongs to.
    pub fn class(&self) -> FaultClass {
        match self {
            Self::SalesforceOutage { .. } => FaultClass::SalesforceOutage,
            Self::SalesforceLock { .. } => FaultClass::SalesforceLock,
            Self::SalesforceRequestLimit { .. } => FaultClass::SalesforceRequestLimit,
            Self::SalesforceRevokeSessions => FaultClass::SalesforceSessionExpired,
            Self::SalesforceCommitThenStall { .. } | Self::SalesforceCommitThenDrop { .. } => {
                FaultClass::SalesforceCommitLost
            }
            Self::WhmcsServerError { .. } | Self::WhmcsHtmlBody { .. } => FaultClass::WhmcsError,
            Self::WhmcsStallAfterCommit { .. } | Self::WhmcsTimeoutAfterCommit { .. } => {
                FaultClass::WhmcsTimeout
            }
            Self::WhmcsDropAfterCommit { .. } => FaultClass::WhmcsDropAfterCommit,
            Self::WhmcsIncompleteOrder => FaultClass::WhmcsIncompleteOrder,
            Self::PubSubDropStreams | Self::PubSubUnavailable { .. } => FaultClass::PubSubDrop,
            Self::PubSubSilence => FaultClass::PubSubSilence,
            Self::PubSubReplayCorrupted { .. } => FaultClass::PubSubCorruptedReplay,
            Self::PubSubUndecodable { .. } => FaultClass::PubSubUndecodable,
            Self::Kill { worker, .. } => match worker {
                Worker::Subscriber => FaultClass::SubscriberKilled,
                Worker::Provisioner(_) => FaultClass::ProvisionerKilled,
                Worker::Reconciler => FaultClass::ReconcilerKilled,
            },
            Self::QueueDuplicate { .. } => FaultClass::QueueDuplicate,
            Self::QueueDelay { .. } => FaultClass::QueueDelay,
            Self::QueueReorder { .. } => FaultClass::QueueReorder,
            Self::VisibilityExpiry { .. } => FaultClass::VisibilityExpiry,
            Self::CatalogChange { .. } => FaultClass::CatalogChange,
            Self::CatalogChangeOnLostOrder { .. } => FaultClass::CatalogChangeOnLostOrder,
        }
    }
}

/// A fault and when in the fault window it is applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scheduled {
    /// Milliseconds after the start of the fault window.
    pub at_millis: u64,
    /// The fault.
    pub fault: Fault,
}

/// What a customer buys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Commodity {
    /// SIM plan + SIM activation fee; no eligibility needed.
    Sim,
    /// VPN plan; no eligibility needed.
    Vpn,
    /// Internet plan + activation fee, after an eligibility check by staff.
    Internet,
}

impl Commodity {
    /// The `commodityType` of `POST /orders`.
    pub fn commodity_type(self) -> &'static str {
        match self {
            Self::Sim => "SIM",
            Self::Vpn => "VPN",
            Self::Internet => "Personal SonixNet Home Internet",
        }
    }

    /// The catalog names of the order's lines, the service plan first.
    pub fn product_names(self) -> &'static [&'static str] {
        match self {
            Self::Sim => &["SonixNet SIM Data 20GB", "SIM Activation Fee"],
            Self::Vpn => &["SonixNet VPN Monthly"],
            Self::Internet => &["SonixNet Home 1G", "Internet Activation Fee"],
        }
    }
}

/// One simulated customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerPlan {
    /// Its index in the seed (names its login and e-mail).
    pub index: usize,
    /// What it orders.
    pub commodity: Commodity,
    /// When it starts, in milliseconds after the start of the fault window.
    pub start_millis: u64,
    /// Whether it also opens a support case.
    pub support_case: bool,
    /// Whether staff approve its Order a second time once it is provisioned.
    pub approve_twice: bool,
    /// Services its WHMCS client has before it orders (0: no WHMCS client yet).
    pub existing_services: u32,
}

/// The schedule of one seed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    /// The seed it was drawn from.
    pub seed: u64,
    /// The customers.
    pub customers: Vec<CustomerPlan>,
    /// How long the org retains events, in milliseconds (`None`: 72 hours).
    pub event_retention_millis: Option<u64>,
    /// The faults, by time.
    pub faults: Vec<Scheduled>,
    /// The classes drawn (some, like many services, are conditions of the
    /// world rather than timed faults).
    pub classes: Vec<FaultClass>,
    /// Orders of the reconciler's backlog seeded before the window (0: none).
    pub backlog: usize,
}

/// Bounds of what [`Schedule::draw`] draws.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    /// Customers per seed, at least and at most.
    pub customers: (usize, usize),
    /// Fault classes per seed, at least and at most.
    pub classes: (usize, usize),
    /// The fault window, in milliseconds.
    pub window_millis: u64,
    /// Provisioner workers running side by side.
    pub provisioners: usize,
    /// The chance that each scenario joins a seed.
    pub scenario_chance: f64,
}

impl Default for Shape {
    fn default() -> Self {
        Self {
            customers: (3, 5),
            classes: (2, 5),
            window_millis: 1_500,
            provisioners: 2,
            // About as often as a class of the mix (3.5 of 23 a seed).
            scenario_chance: 0.15,
        }
    }
}

impl Schedule {
    /// The schedule of `seed`.
    pub fn draw(seed: u64, shape: &Shape) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let window = shape.window_millis;
        let mut classes: Vec<FaultClass> = FaultClass::MIXED.to_vec();
        let count = rng.random_range(shape.classes.0..=shape.classes.1);
        let mut drawn = Vec::with_capacity(count);
        for _ in 0..count.min(classes.len()) {
            let i = rng.random_range(0..classes.len());
            drawn.push(classes.swap_remove(i));
        }
        drawn.sort();
        let many_services = drawn.contains(&FaultClass::WhmcsManyServices);
        let customers: Vec<CustomerPlan> = (0..rng
            .random_range(shape.customers.0..=shape.customers.1))
            .map(|index| CustomerPlan {
                index,
                commodity: *[Commodity::Sim, Commodity::Internet, Commodity::Vpn]
                    .choose(&mut rng)
                    .expect("three commodities"),
                start_millis: rng.random_range(0..window / 2),
                support_case: rng.random_bool(0.5),
                approve_twice: rng.random_bool(0.2),
                existing_services: if many_services && rng.random_bool(0.8) {
                    rng.random_range(26..=40)
                } else {
                    0
                },
            })
            .collect();
        let mut faults = Vec::new();
        let mut retention = None;
        for class in &drawn {
            let times = rng.random_range(1..=2);
            for _ in 0..times {
                let at_millis = rng.random_range(0..window);
                if let Some(fault) =
                    draw_fault(*class, &mut rng, shape, customers.len(), &mut retention)
                {
                    faults.push(Scheduled { at_millis, fault });
                }
            }
        }
        // The scenarios last: nothing above depends on them.
        let mut backlog = 0;
        for scenario in FaultClass::SCENARIOS {
            if !rng.random_bool(shape.scenario_chance.clamp(0.0, 1.0)) {
                continue;
            }
            drawn.push(scenario);
            match scenario {
                FaultClass::CatalogChangeOnLostOrder => faults.push(Scheduled {
                    // Early, so that an AddOrder comes after it.
                    at_millis: rng.random_range(0..window / 4),
                    fault: Fault::CatalogChangeOnLostOrder {
                        answer: *[LostAnswer::Timeout, LostAnswer::Stall, LostAnswer::Drop]
                            .choose(&mut rng)
                            .expect("three ways"),
                    },
                }),
                FaultClass::ReconcilerBacklog => {
                    backlog = rng.random_range(200..=400);
                    // Away from the start of the window until well past the
                    // customers' approvals and the events' retention: their
                    // events are gone when it is back.
                    let kept = *retention.get_or_insert_with(|| rng.random_range(300..=500));
                    faults.push(Scheduled {
                        at_millis: 0,
                        fault: Fault::Kill {
                            worker: Worker::Subscriber,
                            after_polls: 1,
                            down_millis: window + kept * 2,
                        },
                    });
                }
                _ => {}
            }
        }
        faults.sort_by_key(|s| s.at_millis);
        Self {
            seed,
            customers,
            event_retention_millis: retention,
            faults,
            classes: drawn,
            backlog,
        }
    }

    /// Whether the schedule has a fault of `class` (or its condition).
    pub fn has(&self, class: FaultClass) -> bool {
        self.classes.contains(&class)
    }
}

fn draw_fault(
    class: FaultClass,
    rng: &mut StdRng,
    shape: &Shape,
    customers: usize,
    retention: &mut Option<u64>,
) -> Option<Fault> {
    let action = |rng: &mut StdRng| *WHMCS_ACTIONS.choose(rng).expect("actions");
    // Most commit-then-lose faults aim at the calls that matter most.
    let write_action = |rng: &mut StdRng| {
        if rng.random_bool(0.6) {
            "AddOrder"
        } else {
            *["AcceptOrder", "AddClient"].choose(rng).expect("actions")
        }
    };
    Some(match class {
        FaultClass::SalesforceOutage => Fault::SalesforceOutage {
            after: rng.random_range(0..4),
            n: rng.random_range(1..=6),
        },
        FaultClass::SalesforceLock => Fault::SalesforceLock {
            n: rng.random_range(1..=4),
        },
        FaultClass::SalesforceRequestLimit => Fault::SalesforceRequestLimit {
            n: rng.random_range(1..=4),
            concurrent: rng.random_bool(0.5),
        },
        FaultClass::SalesforceSessionExpired => Fault::SalesforceRevokeSessions,
        FaultClass::SalesforceCommitLost => {
            let n = rng.random_range(1..=3);
            if rng.random_bool(0.5) {
                Fault::SalesforceCommitThenStall { n }
            } else {
                Fault::SalesforceCommitThenDrop { n }
            }
        }
        FaultClass::WhmcsError => {
            let action = action(rng);
            if rng.random_bool(0.5) {
                Fault::WhmcsServerError { action }
            } else {
                Fault::WhmcsHtmlBody { action }
            }
        }
        FaultClass::WhmcsTimeout => {
            let action = write_action(rng);
            if rng.random_bool(0.5) {
                Fault::WhmcsStallAfterCommit { action }
            } else {
                Fault::WhmcsTimeoutAfterCommit { action }
            }
        }
        FaultClass::WhmcsDropAfterCommit => Fault::WhmcsDropAfterCommit {
            action: write_action(rng),
        },
        FaultClass::WhmcsIncompleteOrder => Fault::WhmcsIncompleteOrder,
        // Many services: the customers' WHMCS clients are seeded, and the
        // settle lookup matters only when an AddOrder answer is lost.
        FaultClass::WhmcsManyServices => Fault::WhmcsTimeoutAfterCommit { action: "AddOrder" },
        FaultClass::PubSubDrop => {
            if rng.random_bool(0.5) {
                Fault::PubSubDropStreams
            } else {
                Fault::PubSubUnavailable {
                    n: rng.random_range(1..=3),
                }
            }
        }
        FaultClass::PubSubSilence => Fault::PubSubSilence,
        FaultClass::PubSubCorruptedReplay => Fault::PubSubReplayCorrupted {
            n: rng.random_range(1..=2),
        },
        FaultClass::PubSubRetentionExpiry => {
            // Events kept for well under the subscriber's time away.
            let kept = rng.random_range(300..=700);
            *retention = Some(kept);
            Fault::Kill {
                worker: Worker::Subscriber,
                after_polls: rng.random_range(1..=40),
                down_millis: kept * 2 + rng.random_range(0..=500),
            }
        }
        FaultClass::PubSubUndecodable => Fault::PubSubUndecodable {
            customer: rng.random_range(0..customers.max(1)),
        },
        FaultClass::SubscriberKilled => Fault::Kill {
            worker: Worker::Subscriber,
            after_polls: rng.random_range(1..=60),
            down_millis: rng.random_range(0..=600),
        },
        FaultClass::ProvisionerKilled => Fault::Kill {
            worker: Worker::Provisioner(rng.random_range(0..shape.provisioners.max(1))),
            after_polls: rng.random_range(1..=60),
            down_millis: rng.random_range(0..=600),
        },
        FaultClass::ReconcilerKilled => Fault::Kill {
            worker: Worker::Reconciler,
            after_polls: rng.random_range(1..=30),
            down_millis: rng.random_range(0..=600),
        },
        FaultClass::QueueDuplicate => Fault::QueueDuplicate {
            n: rng.random_range(1..=4),
        },
        FaultClass::QueueDelay => Fault::QueueDelay {
            n: rng.random_range(1..=4),
            millis: rng.random_range(100..=1_500),
        },
        FaultClass::QueueReorder => Fault::QueueReorder {
            n: rng.random_range(1..=4),
        },
        FaultClass::VisibilityExpiry => Fault::VisibilityExpiry {
            n: rng.random_range(1..=3),
        },
        FaultClass::CatalogChange => Fault::CatalogChange {
            product: ["SIM-DATA-20GB", "INT-HOME-1G", "VPN-MONTHLY"]
                .choose(rng)
                .expect("products"),
            millis: rng.random_range(200..=1_200),
        },
        // Scenarios are drawn apart, in `Schedule::draw`.
        FaultClass::CatalogChangeOnLostOrder | FaultClass::ReconcilerBacklog => return None,
    })
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "seed {}", self.seed)?;
        let classes: Vec<&str> = self.classes.iter().map(|c| c.name()).collect();
        writeln!(f, "  classes: {}", classes.join(", "))?;
        if let Some(kept) = self.event_retention_millis {
            writeln!(f, "  events retained {kept} ms")?;
        }
        if self.backlog > 0 {
            writeln!(
                f,
                "  reconciler's backlog: {} old Orders Activating, attempts used up",
                self.backlog
            )?;
        }
        for c in &self.customers {
            writeln!(
                f,
                "  customer {}: {:?} at {} ms{}{}{}",
                c.index,
                c.commodity,
                c.start_millis,
                if c.support_case { ", support case" } else { "" },
                if c.approve_twice {
                    ", approved twice"
                } else {
                    ""
                },
                if c.existing_services > 0 {
                    format!(", {} WHMCS services already", c.existing_services)
                } else {
                    String::new()
                },
            )?;
        }
        for s in &self.faults {
            writeln!(f, "  {:>5} ms  {:?}", s.at_millis, s.fault)?;
        }
        Ok(())
    }
}

/// The first seeds from `start` whose schedules, together, hold every class
/// of the mix (each seed kept adds a class not held yet), at most `max` of
/// them; then, for each scenario none of those holds, the first seed from
/// `start` that holds it.
pub fn covering_seeds(start: u64, max: usize, shape: &Shape) -> Vec<u64> {
    let mut missing: Vec<FaultClass> = FaultClass::MIXED.to_vec();
    let mut seeds = Vec::new();
    let mut seed = start;
    while !missing.is_empty() && seeds.len() < max && seed < start + 10_000 {
        let schedule = Schedule::draw(seed, shape);
        let adds = schedule
            .classes
            .iter()
            .filter(|c| missing.contains(c))
            .count();
        // Greedy: take a seed adding at least a third of what is still missing.
        if adds > 0 && adds * 3 >= missing.len().min(6) {
            missing.retain(|c| !schedule.classes.contains(c));
            seeds.push(seed);
        }
        seed += 1;
    }
    for scenario in FaultClass::SCENARIOS {
        let held = |seed: &u64| Schedule::draw(*seed, shape).has(scenario);
        if !seeds.iter().any(held)
            && let Some(seed) = (start..start + 10_000).find(held)
        {
            seeds.push(seed);
        }
    }
    seeds
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_should_draw_the_same_schedule() {
        let shape = Shape::default();
        assert_eq!(Schedule::draw(7, &shape), Schedule::draw(7, &shape));
        assert_ne!(Schedule::draw(7, &shape), Schedule::draw(8, &shape));
    }

    #[test]
    fn every_class_should_be_drawn_by_some_seed_and_its_faults_belong_to_it() {
        let shape = Shape::default();
        let mut seen = std::collections::HashSet::new();
        for seed in 0..500 {
            let schedule = Schedule::draw(seed, &shape);
            for s in &schedule.faults {
                let class = s.fault.class();
                // Retention expiry, many services and the backlog are
                // realised by other faults.
                assert!(
                    schedule.has(class)
                        || schedule.has(FaultClass::PubSubRetentionExpiry)
                        || schedule.has(FaultClass::WhmcsManyServices)
                        || schedule.has(FaultClass::ReconcilerBacklog),
                    "seed {seed}: {:?} outside its classes",
                    s.fault
                );
                assert!(s.at_millis < shape.window_millis);
            }
            seen.extend(schedule.classes);
        }
        assert_eq!(seen.len(), FaultClass::ALL.len());
    }

    #[test]
    fn covering_seeds_should_hold_every_class() {
        let shape = Shape::default();
        let seeds = covering_seeds(1, 12, &shape);
        let mut seen = std::collections::HashSet::new();
        for seed in &seeds {
            seen.extend(Schedule::draw(*seed, &shape).classes);
        }
        assert_eq!(seen.len(), FaultClass::ALL.len(), "{seeds:?}");
    }
}
