//! The reconciler's rules, pure: thresholds, the backoff per Order, and the
//! idempotency key of a re-enqueued message.

use chrono::{DateTime, TimeDelta, Utc};

use crate::domain::OrderId;
use crate::ports::{ReconcileAttempt, lapsed};
use crate::schema::order_provision_requested;

/// What one run looks at and how patient it is.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ReconcileSettings {
    /// An Order `Activating` unmodified for this long is stuck.
    pub stuck_after: TimeDelta,
    /// A provisioning record unclaimed (UNKNOWN, released, lease lapsed) for
    /// this long is re-enqueued.
    pub unsettled_after: TimeDelta,
    /// The wait after the first re-enqueue; doubled after each further one.
    pub backoff_base: TimeDelta,
    /// The longest wait between two re-enqueues.
    pub backoff_cap: TimeDelta,
    /// Re-enqueues per Order before it is reported instead.
    pub max_attempts: u32,
    /// Orders read from Salesforce per page, and the most a run re-enqueues
    /// from the sweep.
    pub order_limit: u32,
    /// Pages of `order_limit` Orders a run may read (one query each) to get past
    /// Orders it will not act on; the next run goes on from where it stopped.
    pub sweep_pages: u32,
    /// Provisioning records read per run.
    pub record_limit: usize,
    /// Gap windows swept per run (the rest wait for the next run).
    pub gap_limit: usize,
    /// How long an Order's attempt record is kept after its last write.
    pub attempt_retention: TimeDelta,
    /// The Pub/Sub topic whose gaps are swept.
    pub topic: String,
    /// Portal Accounts read from Salesforce per run for their status (one query).
    pub account_limit: u32,
    /// How far back each account-status sync re-reads, for changes committed
    /// late with an earlier `LastModifiedDate`.
    pub account_overlap: TimeDelta,
}

impl Default for ReconcileSettings {
    fn default() -> Self {
        Self {
            stuck_after: TimeDelta::minutes(15),
            unsettled_after: TimeDelta::minutes(15),
            backoff_base: TimeDelta::minutes(15),
            backoff_cap: TimeDelta::hours(6),
            max_attempts: 8,
            order_limit: 200,
            sweep_pages: 3,
            record_limit: 200,
            gap_limit: 20,
            attempt_retention: TimeDelta::days(30),
            topic: order_provision_requested::TOPIC.to_owned(),
            account_limit: 2000,
            account_overlap: TimeDelta::minutes(5),
        }
    }
}

impl ReconcileSettings {
    /// The wait after re-enqueue number `attempt` (1-based):
    /// `min(cap, base * 2^(attempt - 1))`.
    pub fn backoff(&self, attempt: u32) -> TimeDelta {
        let doublings = attempt.saturating_sub(1).min(30);
        self.backoff_base
            .checked_mul(1 << doublings)
            .map_or(self.backoff_cap, |wait| wait.min(self.backoff_cap))
    }
}

/// What to do with one Order that needs a claimant.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Decision {
    /// Re-enqueue it as attempt number `attempt` (1-based).
    Enqueue {
        /// The attempt number.
        attempt: u32,
    },
    /// Re-enqueued recently: wait until `until`.
    BackingOff {
        /// When it may be re-enqueued again.
        until: DateTime<Utc>,
    },
    /// Re-enqueued `attempts` times already and still not settled: report it.
    Exhausted {
        /// How many times it was re-enqueued.
        attempts: u32,
    },
}

/// Decides for one Order from what the reconciler remembers about it.
///
/// A record whose `order_modified_at` is older than the Order's current
/// `LastModifiedDate` (staff approved the Order again) starts over.
pub fn decide(
    previous: Option<&ReconcileAttempt>,
    order_modified_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    settings: &ReconcileSettings,
) -> Decision {
    let Some(previous) = previous else {
        return Decision::Enqueue { attempt: 1 };
    };
    let modified_since = matches!(
        (order_modified_at, previous.order_modified_at),
        (Some(current), Some(seen)) if current > seen
    );
    if modified_since {
        return Decision::Enqueue { attempt: 1 };
    }
    if !lapsed(previous.next_at, now) {
        return Decision::BackingOff {
            until: previous.next_at,
        };
    }
    if previous.attempts >= settings.max_attempts {
        return Decision::Exhausted {
            attempts: previous.attempts,
        };
    }
    Decision::Enqueue {
        attempt: previous.attempts.saturating_add(1),
    }
}

/// The idempotency key (and SQS deduplication id) of re-enqueue `attempt`
/// of the Order: a repeat within the same attempt deduplicates in SQS.
pub fn idempotency_key(order_id: &OrderId, attempt: u32) -> String {
    format!("reconcile-{}-{attempt}", order_id.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_714_557_600, 0).expect("valid") + TimeDelta::minutes(minutes)
    }

    fn record(
        attempts: u32,
        next_at: DateTime<Utc>,
        modified: Option<DateTime<Utc>>,
    ) -> ReconcileAttempt {
        ReconcileAttempt {
            attempts,
            next_at,
            last_at: at(0),
            order_modified_at: modified,
            expires_at: at(60 * 24 * 30),
        }
    }

    #[test]
    fn backoff_should_double_from_the_base_up_to_the_cap() {
        let s = ReconcileSettings::default();
        let minutes: Vec<i64> = (1..=9).map(|n| s.backoff(n).num_minutes()).collect();
        assert_eq!(minutes, [15, 30, 60, 120, 240, 360, 360, 360, 360]);
        assert_eq!(s.backoff(u32::MAX), s.backoff_cap);
    }

    #[test]
    fn when_never_seen_should_enqueue_the_first_attempt() {
        let s = ReconcileSettings::default();
        assert_eq!(
            decide(None, None, at(0), &s),
            Decision::Enqueue { attempt: 1 }
        );
    }

    #[test]
    fn when_within_the_backoff_should_wait_and_after_it_enqueue_the_next_attempt() {
        let s = ReconcileSettings::default();
        let previous = record(2, at(30), None);
        assert_eq!(
            decide(Some(&previous), None, at(29), &s),
            Decision::BackingOff { until: at(30) }
        );
        assert_eq!(
            decide(Some(&previous), None, at(30), &s),
            Decision::Enqueue { attempt: 3 },
            "the wait ends at next_at exactly"
        );
    }

    #[test]
    fn when_the_attempts_are_used_up_should_report_instead_of_enqueue() {
        let s = ReconcileSettings::default();
        let previous = record(8, at(10), None);
        assert_eq!(
            decide(Some(&previous), None, at(5), &s),
            Decision::BackingOff { until: at(10) },
            "the last attempt still gets its wait"
        );
        assert_eq!(
            decide(Some(&previous), None, at(10), &s),
            Decision::Exhausted { attempts: 8 }
        );
    }

    #[test]
    fn when_the_order_was_modified_since_should_start_over() {
        let s = ReconcileSettings::default();
        let previous = record(8, at(500), Some(at(-20)));
        assert_eq!(
            decide(Some(&previous), Some(at(-20)), at(600), &s),
            Decision::Exhausted { attempts: 8 }
        );
        assert_eq!(
            decide(Some(&previous), Some(at(100)), at(120), &s),
            Decision::Enqueue { attempt: 1 }
        );
    }

    #[test]
    fn the_key_should_name_the_order_and_the_attempt_and_be_a_valid_dedup_id() {
        let id = OrderId::parse("801000000000001").expect("an Order id");
        let key = idempotency_key(&id, 3);
        assert_eq!(key, "reconcile-801000000000001AAA-3");
        assert!(crate::messages::Token::parse("idempotencyKey", &key).is_ok());
    }
}
