//! [`Reconciler::run`]: one scheduled pass (see the module docs).

use std::collections::BTreeMap;
use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::policy::{Decision, ReconcileSettings, decide, idempotency_key};
use crate::diagnostics::error_chain;
use crate::domain::OrderId;
use crate::messages::{MessageOrigin, ProvisioningMessage, Token};
use crate::ports::{
    AccountStatusSync, Clock, GapSweeps, PortalStatusChanges, ProvisioningQueue,
    ProvisioningRecords, ProvisioningState, QueueDepth, QueueDepths, ReconcileAttempt,
    ReconcileAttempts, SendOutcome, StuckOrderQuery, StuckOrders, SweepCursor, TimeWindow,
    UnsweptGap, lapsed,
};

/// `requestedBy` of every re-enqueued message.
pub const REQUESTED_BY: &str = "reconciler";

/// A step of the run that failed (the run carries on with the others).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ReconcileStep {
    /// Reading or marking the replay gaps.
    Gaps,
    /// The Salesforce query.
    Salesforce,
    /// Reading provisioning records.
    Records,
    /// Reading or writing the per-Order attempt records.
    Attempts,
    /// Sending to the provisioning queue.
    Queue,
    /// Reading the dead-letter queues' depth.
    DeadLetterDepths,
    /// Copying the Accounts' portal statuses (Salesforce query or the store).
    AccountStatuses,
}

impl fmt::Display for ReconcileStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Gaps => "gaps",
            Self::Salesforce => "salesforce",
            Self::Records => "records",
            Self::Attempts => "attempts",
            Self::Queue => "queue",
            Self::DeadLetterDepths => "dead-letter-depths",
            Self::AccountStatuses => "account-statuses",
        })
    }
}

/// One failed step, for the log.
#[derive(Clone, Debug)]
pub struct StepFailure {
    /// Which step.
    pub step: ReconcileStep,
    /// Why, with its causes (no personal data: adapters never put any in errors).
    pub error: Arc<dyn StdError + Send + Sync>,
}

/// Messages the queue did not take (each one's failure is logged by the adapter).
#[derive(Debug, thiserror::Error)]
#[error("the queue did not take {0} message(s)")]
pub struct NotTaken(pub u32);

/// What one run found and did. Counts only, plus Order ids (not personal data).
#[derive(Clone, Debug, Default)]
pub struct ReconcileReport {
    /// Orders `Activating` the Salesforce sweep read in this run (every page).
    pub stuck_orders: u32,
    /// The sweep's pass is not complete: the next run goes on from where this one stopped.
    pub more_stuck_orders: bool,
    /// Provisioning records found unclaimed past the threshold.
    pub unsettled_records: u32,
    /// Orders sent to the provisioning queue.
    pub reenqueued: u32,
    /// Orders `Activating` whose record is already COMPLETED: WHMCS has the
    /// order but Salesforce was not told (the provisioner's write-back failed
    /// until its message was dead-lettered). Re-enqueued like the others: the
    /// provisioner finds the record COMPLETED and only writes `Provisioned`.
    pub already_provisioned: u32,
    /// Orders whose record is held by a live lease.
    pub in_flight: u32,
    /// Orders waiting for their backoff to pass.
    pub backing_off: u32,
    /// Orders whose attempts are used up, reported instead of re-enqueued.
    pub exhausted: Vec<OrderId>,
    /// Messages the queue did not take.
    pub send_failures: u32,
    /// Gaps swept (marked) in this run.
    pub gaps_swept: u32,
    /// Gaps left for a later run (the sweep was incomplete or failed).
    pub gaps_pending: u32,
    /// The dead-letter queues' depth (empty when it could not be read).
    pub dead_letters: Vec<QueueDepth>,
    /// Portal Accounts whose status was copied in this run.
    pub accounts_synced: u32,
    /// Of those, the ones staff deactivated.
    pub accounts_inactive: u32,
    /// More Accounts changed than one run reads; the next runs continue.
    pub more_accounts: bool,
    /// Steps that failed.
    pub failures: Vec<StepFailure>,
}

impl ReconcileReport {
    /// Whether every step succeeded.
    pub fn is_clean(&self) -> bool {
        self.failures.is_empty()
    }

    fn fail(&mut self, step: ReconcileStep, error: impl StdError + Send + Sync + 'static) {
        tracing::error!(%step, error = %error_chain(&error), "a reconciliation step failed");
        self.failures.push(StepFailure {
            step,
            error: Arc::new(error),
        });
    }
}

/// Why an Order needs a claimant.
#[derive(Clone, Copy, Debug)]
struct Candidate {
    /// Its `LastModifiedDate`, when Salesforce listed it.
    order_modified_at: Option<DateTime<Utc>>,
}

/// The outside world one reconciliation needs: one adapter per port.
#[derive(Debug, Clone)]
pub struct ReconcilePorts<S, R, A, G, Q, D, C, P, T> {
    /// Salesforce: Orders stuck in `Activating`.
    pub orders: S,
    /// The provisioning records.
    pub records: R,
    /// The reconciler's attempts per Order (its backoff).
    pub attempts: A,
    /// The replay gaps the subscriber recorded.
    pub gaps: G,
    /// The provisioning queue.
    pub queue: Q,
    /// The dead-letter queues' depth.
    pub depths: D,
    /// The time.
    pub clock: C,
    /// Salesforce: portal Accounts by last modification.
    pub portal_statuses: P,
    /// Where the deactivated Accounts are kept for the API.
    pub account_statuses: T,
}

/// The reconciliation use case over its ports.
#[derive(Debug)]
pub struct Reconciler<S, R, A, G, Q, D, C, P, T> {
    ports: ReconcilePorts<S, R, A, G, Q, D, C, P, T>,
    settings: ReconcileSettings,
}

impl<S, R, A, G, Q, D, C, P, T> Reconciler<S, R, A, G, Q, D, C, P, T>
where
    S: StuckOrders,
    R: ProvisioningRecords,
    A: ReconcileAttempts,
    G: GapSweeps,
    Q: ProvisioningQueue,
    D: QueueDepths,
    C: Clock,
    P: PortalStatusChanges,
    T: AccountStatusSync,
{
    /// The use case over `ports` with `settings`.
    pub fn new(
        ports: ReconcilePorts<S, R, A, G, Q, D, C, P, T>,
        settings: ReconcileSettings,
    ) -> Self {
        Self { ports, settings }
    }

    /// The settings in use.
    pub fn settings(&self) -> &ReconcileSettings {
        &self.settings
    }

    /// One pass; `run_id` (e.g. the Lambda request id) becomes part of the
    /// messages' correlation id. Never fails as a whole: a failed step is in
    /// [`ReconcileReport::failures`] and the others still run.
    #[tracing::instrument(name = "reconcile", skip_all, fields(run_id = %run_id))]
    pub async fn run(&self, run_id: &str) -> ReconcileReport {
        let now = self.ports.clock.now();
        let mut report = ReconcileReport::default();

        let gaps = match self.ports.gaps.unswept_gaps(&self.settings.topic).await {
            Ok(mut gaps) => {
                report.gaps_pending = count(gaps.len().saturating_sub(self.settings.gap_limit));
                gaps.truncate(self.settings.gap_limit);
                gaps
            }
            Err(e) => {
                report.fail(ReconcileStep::Gaps, e);
                Vec::new()
            }
        };

        let mut candidates: BTreeMap<OrderId, Candidate> = BTreeMap::new();
        let pass = self
            .stuck_orders(&gaps, now, &mut report, &mut candidates)
            .await;
        self.unsettled_records(now, &mut report, &mut candidates)
            .await;
        self.reenqueue(run_id, now, candidates, &mut report).await;

        match pass {
            // A complete pass swept every gap detected before it started.
            Some(started) => {
                let (covered, later): (Vec<UnsweptGap>, Vec<UnsweptGap>) =
                    gaps.into_iter().partition(|g| g.gap.detected_at <= started);
                report.gaps_pending += count(later.len());
                self.mark_swept(&covered, now, &mut report).await;
            }
            None => report.gaps_pending += count(gaps.len()),
        }

        match self.ports.depths.depths().await {
            Ok(depths) => report.dead_letters = depths,
            Err(e) => report.fail(ReconcileStep::DeadLetterDepths, e),
        }
        self.sync_account_statuses(now, &mut report).await;
        log(&report);
        report
    }

    /// Step 7: the portal Accounts modified since the last sync, each
    /// recorded as deactivated or not; then where the next sync starts: the
    /// last Account read when more remain, else `now` minus the overlap (a
    /// change committed late with an earlier `LastModifiedDate` is read
    /// again, never missed). A failure leaves the cursor where it was.
    async fn sync_account_statuses(&self, now: DateTime<Utc>, report: &mut ReconcileReport) {
        let statuses = &self.ports.account_statuses;
        let cursor = match statuses.cursor().await {
            Ok(cursor) => cursor,
            Err(e) => return report.fail(ReconcileStep::AccountStatuses, e),
        };
        let page = match self
            .ports
            .portal_statuses
            .changed_since(cursor, self.settings.account_limit)
            .await
        {
            Ok(page) => page,
            Err(e) => return report.fail(ReconcileStep::AccountStatuses, e),
        };
        for change in &page.changes {
            if let Err(e) = statuses
                .record(&change.account_id, change.inactive, change.modified_at)
                .await
            {
                return report.fail(ReconcileStep::AccountStatuses, e);
            }
            report.accounts_synced += 1;
            if change.inactive {
                report.accounts_inactive += 1;
                tracing::info!(account_id = %change.account_id, "Account deactivated by staff: its logins are refused");
            }
        }
        report.more_accounts = page.more;
        let next = match (page.more, page.changes.first(), page.changes.last()) {
            // A whole page modified in one second would be read forever: step past it.
            (true, Some(first), Some(last)) if first.modified_at == last.modified_at => {
                last.modified_at + chrono::TimeDelta::seconds(1)
            }
            (true, _, Some(last)) => last.modified_at,
            _ => now - self.settings.account_overlap,
        };
        if let Err(e) = statuses.save_cursor(next).await {
            report.fail(ReconcileStep::AccountStatuses, e);
        }
    }

    /// Step 2: the Salesforce sweep, each Order checked against its record.
    ///
    /// The sweep reads the Orders `Activating` in Id order, a page of
    /// `order_limit` at a time, from where the previous run stopped (the
    /// [`SweepCursor`]): Orders it will not act on (in flight, backing off,
    /// attempts used up) never hide newer ones, however many
    /// there are. A run stops after `sweep_pages` pages, or once a page gave it
    /// `order_limit` Orders to re-enqueue, or at the last page: then the pass is
    /// complete and the next run starts a new one from the first Order.
    /// Returns when the completed pass started (`None`: not complete).
    async fn stuck_orders(
        &self,
        gaps: &[UnsweptGap],
        now: DateTime<Utc>,
        report: &mut ReconcileReport,
        candidates: &mut BTreeMap<OrderId, Candidate>,
    ) -> Option<DateTime<Utc>> {
        let topic = &self.settings.topic;
        let cursor = match self.ports.gaps.sweep_cursor(topic).await {
            Ok(cursor) => cursor,
            Err(e) => {
                report.fail(ReconcileStep::Gaps, e);
                None
            }
        };
        let (mut after, pass_started_at) = match cursor {
            Some(SweepCursor {
                after: Some(after),
                pass_started_at,
            }) => (Some(after), pass_started_at),
            _ => (None, now),
        };
        let gap_windows: Vec<TimeWindow> = gaps
            .iter()
            .map(|g| TimeWindow {
                start: g.gap.window_start,
                end: g.gap.detected_at,
            })
            .collect();
        let limit = self.settings.order_limit;
        let mut found: u32 = 0;
        let mut pages: u32 = 0;
        let complete = loop {
            if pages >= self.settings.sweep_pages.max(1) || found >= limit {
                break false;
            }
            let query = StuckOrderQuery {
                modified_before: now - self.settings.stuck_after,
                gap_windows: gap_windows.clone(),
                after: after.clone(),
                limit,
            };
            pages += 1;
            let page = match self.ports.orders.activating(&query).await {
                Ok(page) => page,
                Err(e) => {
                    report.fail(ReconcileStep::Salesforce, e);
                    break false;
                }
            };
            report.stuck_orders += count(page.orders.len());
            for order in page.orders {
                after = Some(order.order_id.clone());
                if self.acts_on(&order.order_id, now, report).await {
                    found += 1;
                    candidates.insert(
                        order.order_id,
                        Candidate {
                            order_modified_at: Some(order.last_modified),
                        },
                    );
                }
            }
            if !page.more {
                break true;
            }
        };
        report.more_stuck_orders = !complete;
        let next = SweepCursor {
            after: if complete { None } else { after },
            pass_started_at,
        };
        if let Err(e) = self.ports.gaps.save_sweep_cursor(topic, &next).await {
            report.fail(ReconcileStep::Gaps, e);
        }
        complete.then_some(pass_started_at)
    }

    /// Whether the sweep may act on an Order `Activating`: not when its record is
    /// held by a live lease (counted in the report). A COMPLETED record is
    /// acted on (and counted): the Order is still `Activating` past the
    /// threshold, so the provisioner's write-back was lost, and a re-enqueued
    /// message makes the provisioner write `Provisioned` without touching WHMCS.
    async fn acts_on(
        &self,
        order_id: &OrderId,
        now: DateTime<Utc>,
        report: &mut ReconcileReport,
    ) -> bool {
        let record = match self.ports.records.get(order_id).await {
            Ok(record) => record,
            Err(e) => {
                report.fail(ReconcileStep::Records, e);
                return false;
            }
        };
        if let Some(record) = record {
            if matches!(record.state, ProvisioningState::Completed { .. }) {
                report.already_provisioned += 1;
                return true;
            }
            if record
                .holder
                .as_ref()
                .is_some_and(|h| !lapsed(h.lease_until, now))
            {
                report.in_flight += 1;
                return false;
            }
        }
        true
    }

    /// Step 3: records unclaimed for longer than the threshold.
    async fn unsettled_records(
        &self,
        now: DateTime<Utc>,
        report: &mut ReconcileReport,
        candidates: &mut BTreeMap<OrderId, Candidate>,
    ) {
        let since = now - self.settings.unsettled_after;
        match self
            .ports
            .records
            .list_unsettled(since, self.settings.record_limit)
            .await
        {
            Ok(records) => {
                report.unsettled_records = count(records.len());
                for record in records {
                    candidates.entry(record.order_id).or_insert(Candidate {
                        order_modified_at: None,
                    });
                }
            }
            Err(e) => report.fail(ReconcileStep::Records, e),
        }
    }

    /// Step 4: backoff per Order, one batch to the queue, then the attempt records.
    async fn reenqueue(
        &self,
        run_id: &str,
        now: DateTime<Utc>,
        candidates: BTreeMap<OrderId, Candidate>,
        report: &mut ReconcileReport,
    ) {
        let mut planned: Vec<(ProvisioningMessage, ReconcileAttempt)> = Vec::new();
        for (order_id, candidate) in candidates {
            let previous = match self.ports.attempts.attempt(&order_id, now).await {
                Ok(previous) => previous,
                Err(e) => {
                    report.fail(ReconcileStep::Attempts, e);
                    continue;
                }
            };
            match decide(
                previous.as_ref(),
                candidate.order_modified_at,
                now,
                &self.settings,
            ) {
                Decision::BackingOff { .. } => report.backing_off += 1,
                Decision::Exhausted { attempts } => {
                    tracing::warn!(
                        order_id = %order_id,
                        attempts,
                        "reconciliation attempts exhausted: the Order stays unprovisioned until someone looks at it"
                    );
                    report.exhausted.push(order_id);
                }
                Decision::Enqueue { attempt } => {
                    let next = ReconcileAttempt {
                        attempts: attempt,
                        next_at: now + self.settings.backoff(attempt),
                        last_at: now,
                        order_modified_at: candidate
                            .order_modified_at
                            .or(previous.and_then(|p| p.order_modified_at)),
                        expires_at: now + self.settings.attempt_retention,
                    };
                    planned.push((message(&order_id, attempt, run_id), next));
                }
            }
        }
        if planned.is_empty() {
            return;
        }
        let messages: Vec<ProvisioningMessage> = planned.iter().map(|(m, _)| m.clone()).collect();
        let outcomes = match self.ports.queue.send(&messages).await {
            Ok(outcomes) => outcomes,
            Err(e) => {
                report.send_failures += count(messages.len());
                report.fail(ReconcileStep::Queue, e);
                return;
            }
        };
        let mut refused = 0;
        for ((message, next), outcome) in planned.iter().zip(outcomes) {
            if let SendOutcome::Failed(failure) = outcome {
                tracing::warn!(order_id = %message.order_id, code = %failure.code, "the queue did not take a re-enqueued Order");
                refused += 1;
                continue;
            }
            report.reenqueued += 1;
            tracing::info!(
                order_id = %message.order_id,
                attempt = next.attempts,
                idempotency_key = %message.idempotency_key,
                "Order re-enqueued for provisioning"
            );
            // Sent before recorded: a failed write only means the next run
            // sends the same attempt again, which SQS deduplicates within
            // 5 minutes and the provisioner's claim makes harmless after.
            if let Err(e) = self
                .ports
                .attempts
                .record_attempt(&message.order_id, next)
                .await
            {
                report.fail(ReconcileStep::Attempts, e);
            }
        }
        if refused > 0 {
            report.send_failures += refused;
            report.fail(ReconcileStep::Queue, NotTaken(refused));
        }
    }

    /// Step 5: the gaps whose window the complete sweep covered.
    async fn mark_swept(
        &self,
        gaps: &[UnsweptGap],
        now: DateTime<Utc>,
        report: &mut ReconcileReport,
    ) {
        for gap in gaps {
            match self
                .ports
                .gaps
                .mark_gap_swept(&self.settings.topic, &gap.id, now)
                .await
            {
                Ok(_) => {
                    report.gaps_swept += 1;
                    tracing::info!(
                        window_start = ?gap.gap.window_start,
                        window_end = %gap.gap.detected_at,
                        "replay gap swept"
                    );
                }
                Err(e) => {
                    report.gaps_pending += 1;
                    report.fail(ReconcileStep::Gaps, e);
                }
            }
        }
    }
}

/// The message that re-enqueues attempt `attempt` of the Order.
fn message(order_id: &OrderId, attempt: u32, run_id: &str) -> ProvisioningMessage {
    let key = idempotency_key(order_id, attempt);
    let idempotency_key = Token::parse("idempotencyKey", &key)
        .expect("reconcile-<18 alphanumerics>-<number> is printable ASCII under 128 bytes");
    let correlation_id = Token::parse("correlationId", &format!("reconcile-{run_id}"))
        .unwrap_or_else(|_| idempotency_key.clone());
    ProvisioningMessage {
        order_id: order_id.clone(),
        idempotency_key,
        correlation_id,
        requested_by: REQUESTED_BY.to_owned(),
        origin: MessageOrigin::Reconciler,
    }
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn log(report: &ReconcileReport) {
    tracing::info!(
        stuck_orders = report.stuck_orders,
        more_stuck_orders = report.more_stuck_orders,
        unsettled_records = report.unsettled_records,
        reenqueued = report.reenqueued,
        already_provisioned = report.already_provisioned,
        in_flight = report.in_flight,
        backing_off = report.backing_off,
        exhausted = report.exhausted.len(),
        send_failures = report.send_failures,
        gaps_swept = report.gaps_swept,
        gaps_pending = report.gaps_pending,
        accounts_synced = report.accounts_synced,
        accounts_inactive = report.accounts_inactive,
        more_accounts = report.more_accounts,
        dead_letters = ?report
            .dead_letters
            .iter()
            .map(|d| (d.queue.as_str(), d.visible))
            .collect::<Vec<_>>(),
        failed_steps = report.failures.len(),
        "reconciliation run finished"
    );
}
