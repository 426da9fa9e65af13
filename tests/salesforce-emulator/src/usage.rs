//! The org's API request allocation over a rolling window, as Salesforce counts
//! it: "Limits are enforced against the aggregate of all API calls made to the
//! org in a 24-hour period … Calls are blocked until usage for the preceding
//! 24 hours drops below the limit" (Salesforce Help, "System Overview: API
//! Usage"). Calls are counted in buckets of 1/1440 of the window (a minute of a
//! day), so usage falls as the oldest buckets leave the window.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::server::lock;

/// How many buckets a window has.
const BUCKETS: u32 = 1440;

/// API calls counted over a rolling window.
#[derive(Debug)]
pub struct ApiUsage {
    window: Duration,
    bucket: Duration,
    /// (bucket start, calls in it), oldest first.
    counts: Mutex<VecDeque<(Instant, u64)>>,
}

impl ApiUsage {
    /// Usage over a rolling `window` (Salesforce: 24 hours).
    pub fn new(window: Duration) -> Self {
        Self {
            window,
            bucket: (window / BUCKETS).max(Duration::from_millis(1)),
            counts: Mutex::new(VecDeque::new()),
        }
    }

    /// Counts one call unless `limit` calls were made in the window before `now`;
    /// returns whether it was counted.
    pub fn try_count(&self, limit: u64, now: Instant) -> bool {
        let mut counts = lock(&self.counts);
        self.expire(&mut counts, now);
        if counts.iter().map(|(_, n)| n).sum::<u64>() >= limit {
            return false;
        }
        match counts.back_mut() {
            Some((start, n)) if now < *start + self.bucket => *n += 1,
            _ => counts.push_back((now, 1)),
        }
        true
    }

    /// Calls made in the window before `now`.
    pub fn used(&self, now: Instant) -> u64 {
        let mut counts = lock(&self.counts);
        self.expire(&mut counts, now);
        counts.iter().map(|(_, n)| n).sum()
    }

    fn expire(&self, counts: &mut VecDeque<(Instant, u64)>, now: Instant) {
        while counts
            .front()
            .is_some_and(|(start, _)| *start + self.bucket + self.window <= now)
        {
            counts.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_leave_the_allocation_as_they_leave_the_rolling_window() {
        let day = Duration::from_secs(24 * 60 * 60);
        let usage = ApiUsage::new(day);
        let t0 = Instant::now();
        assert!(usage.try_count(3, t0));
        assert!(usage.try_count(3, t0 + Duration::from_secs(3600)));
        assert!(usage.try_count(3, t0 + Duration::from_secs(7200)));
        // Limit reached: refused, and a refusal is not counted.
        assert!(!usage.try_count(3, t0 + Duration::from_secs(7300)));
        assert_eq!(usage.used(t0 + Duration::from_secs(7300)), 3);
        // A day after the first call (plus its bucket) it no longer counts.
        let later = t0 + day + Duration::from_secs(61);
        assert_eq!(usage.used(later), 2);
        assert!(usage.try_count(3, later));
        assert!(!usage.try_count(3, later));
        assert_eq!(usage.used(t0 + 2 * day + Duration::from_secs(7400)), 0);
    }
}
