//! The `LoginLimits` port: per-login counters in fixed windows (every POST
//! per minute and per day, registration attempts per hour).
//!
//! One [`take`](LoginLimits::take) counts one request in several windows at
//! once, atomically: when every window is below its maximum, each counter is
//! incremented; when one is full, none is, and the answer names the first
//! full window and how long until it ends. Counters expire (TTL) once their
//! window is over. Windows are aligned on the epoch; a shorter window should
//! divide the longer ones (60 s and 1 day do), so that each lies inside one
//! window of each longer length.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use super::StoreError;
use crate::domain::Login;

/// A limit: at most `max` requests per `length`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct LimitWindow {
    /// A short stable name (`post-minute`, `post-day`, `registration-hour`):
    /// part of the counter's key.
    pub name: &'static str,
    /// The window's length (whole seconds, at least one).
    pub length: Duration,
    /// The most requests per window (0 refuses every request).
    pub max: u32,
}

impl LimitWindow {
    /// The index of the window `now` falls in (windows start at the epoch).
    pub fn index(&self, now: DateTime<Utc>) -> i64 {
        let secs = i64::try_from(self.length.as_secs().max(1)).unwrap_or(i64::MAX);
        now.timestamp().div_euclid(secs)
    }

    /// When the window `now` falls in ends.
    pub fn end(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let secs = i64::try_from(self.length.as_secs().max(1)).unwrap_or(i64::MAX);
        let end = self.index(now).saturating_add(1).saturating_mul(secs);
        DateTime::from_timestamp(end, 0).unwrap_or(now)
    }

    /// Whole seconds from `now` until the window ends (at least 1).
    pub fn retry_after(&self, now: DateTime<Utc>) -> Duration {
        let left = self.end(now) - now;
        let secs = left.num_seconds() + i64::from(left.subsec_nanos() > 0);
        Duration::from_secs(u64::try_from(secs.max(1)).unwrap_or(1))
    }

    /// When a counter of the window `now` falls in may be deleted.
    pub fn expires_at(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        self.end(now) + TimeDelta::minutes(1)
    }
}

/// The answer to [`LoginLimits::take`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum LimitDecision {
    /// Counted in every window: the request may go on.
    Allowed,
    /// A window's maximum is reached; nothing was counted.
    Limited {
        /// The first full window's name.
        window: &'static str,
        /// Until that window ends.
        retry_after: Duration,
    },
}

impl LimitDecision {
    /// The decision for the counts `counts[i]` already in `windows[i]`.
    pub fn for_counts(windows: &[LimitWindow], counts: &[u64], now: DateTime<Utc>) -> Self {
        windows
            .iter()
            .zip(counts)
            .find(|(window, count)| **count >= u64::from(window.max))
            .map_or(Self::Allowed, |(window, _)| Self::Limited {
                window: window.name,
                retry_after: window.retry_after(now),
            })
    }
}

/// Per-login counters.
pub trait LoginLimits: Send + Sync {
    /// Counts one request of `login` at `now` in every one of `windows`,
    /// unless one of them is full (then in none): one atomic conditional write.
    fn take(
        &self,
        login: &Login,
        windows: &[LimitWindow],
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<LimitDecision, StoreError>> + Send;
}

impl<T: LoginLimits> LoginLimits for Arc<T> {
    fn take(
        &self,
        login: &Login,
        windows: &[LimitWindow],
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<LimitDecision, StoreError>> + Send {
        (**self).take(login, windows, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_a_window_is_current_should_end_at_its_boundary_and_say_how_long_to_wait() {
        let minute = LimitWindow {
            name: "post-minute",
            length: Duration::from_secs(60),
            max: 3,
        };
        let now = DateTime::parse_from_rfc3339("2026-04-01T00:00:59.500Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(minute.end(now).to_rfc3339(), "2026-04-01T00:01:00+00:00");
        assert_eq!(minute.retry_after(now), Duration::from_secs(1));
        let start = DateTime::parse_from_rfc3339("2026-04-01T00:01:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(minute.index(start), minute.index(now) + 1);
        assert_eq!(minute.retry_after(start), Duration::from_secs(60));
    }
}
