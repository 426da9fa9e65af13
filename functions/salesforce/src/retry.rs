//! Retry policy: exponential backoff with full jitter.
//!
//! `sleep = random(0, min(cap, base * 2^attempt))` (AWS Architecture Blog,
//! "Exponential Backoff And Jitter"). Which errors are retried, and for which
//! requests, is decided by [`should_retry`].

use std::time::Duration;

use rand::Rng as _;

use crate::error::SalesforceError;

/// How many times, and how patiently, the client retries transient errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 = never retry).
    pub max_attempts: u32,
    /// The backoff ceiling of the first retry.
    pub base: Duration,
    /// The largest backoff ceiling.
    pub cap: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base: Duration::from_millis(200),
            cap: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// Never retries.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The largest sleep before retry number `attempt + 1` (`attempt` counts from 0):
    /// `min(cap, base * 2^attempt)`.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.cap)
    }

    /// A random sleep in `[0, ceiling(attempt)]`.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let ceiling = u64::try_from(self.ceiling(attempt).as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(rand::rng().random_range(0..=ceiling))
    }
}

/// Whether a request that failed with `error` may be tried again.
///
/// Requests that are safe to repeat (reads, PATCH updates, upserts) are retried
/// on every transient error. Others (POST create, composite) only when the
/// error proves nothing was done: a lock error, the concurrent-request limit,
/// or a login failure before the request went out. A 5xx or a timeout on a
/// create may hide a record that was written.
pub fn should_retry(error: &SalesforceError, idempotent: bool) -> bool {
    error.is_retryable() && (idempotent || error.proves_nothing_was_done())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ApiError;

    #[test]
    fn backoff_stays_within_the_full_jitter_bounds() {
        let policy = RetryPolicy {
            max_attempts: 10,
            base: Duration::from_millis(100),
            cap: Duration::from_secs(1),
        };
        assert_eq!(policy.ceiling(0), Duration::from_millis(100));
        assert_eq!(policy.ceiling(1), Duration::from_millis(200));
        assert_eq!(policy.ceiling(3), Duration::from_millis(800));
        assert_eq!(policy.ceiling(4), Duration::from_secs(1));
        assert_eq!(policy.ceiling(200), Duration::from_secs(1));
        for attempt in 0..40 {
            for _ in 0..50 {
                assert!(policy.backoff(attempt) <= policy.ceiling(attempt));
            }
        }
        // Full jitter: the sleeps spread over the range rather than sitting at the ceiling.
        let sleeps: Vec<Duration> = (0..200).map(|_| policy.backoff(4)).collect();
        assert!(sleeps.iter().any(|d| *d < Duration::from_millis(500)));
        assert!(sleeps.iter().any(|d| *d > Duration::from_millis(500)));
    }

    #[test]
    fn creates_are_retried_only_when_nothing_was_done() {
        let lock = SalesforceError::Api {
            status: 400,
            errors: vec![ApiError {
                error_code: "UNABLE_TO_LOCK_ROW".into(),
                message: "unable to obtain exclusive access to this record".into(),
                fields: vec![],
            }],
        };
        let outage = SalesforceError::UndecodableBody {
            status: 503,
            snippet: "<html>".into(),
            source: None,
        };
        assert!(should_retry(&lock, false) && should_retry(&lock, true));
        assert!(should_retry(&outage, true));
        assert!(!should_retry(&outage, false));
    }
}
