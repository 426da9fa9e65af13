//! Full-jitter exponential backoff: the n-th wait is uniform in
//! `[0, min(cap, base · 2ⁿ)]`, and the count starts over once the caller
//! reports a healthy period (a stream that stayed up long enough).
//!
//! The randomness is a [`Jitter`]: the thread's generator in production, a
//! [`SeededJitter`] where a run must replay exactly (a fault campaign).

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};

/// Where backoff draws its waits from.
pub trait Jitter: Send + Sync + fmt::Debug {
    /// A whole number uniform in `0..=ceiling`.
    fn draw(&self, ceiling: u64) -> u64;
}

/// The thread's random generator.
#[derive(Debug, Clone, Copy, Default)]
pub struct ThreadJitter;

impl Jitter for ThreadJitter {
    fn draw(&self, ceiling: u64) -> u64 {
        rand::rng().random_range(0..=ceiling)
    }
}

/// A generator seeded once: the same seed draws the same waits.
#[derive(Debug)]
pub struct SeededJitter(Mutex<StdRng>);

impl SeededJitter {
    /// A generator starting from `seed`.
    pub fn new(seed: u64) -> Self {
        Self(Mutex::new(StdRng::seed_from_u64(seed)))
    }
}

impl Jitter for SeededJitter {
    fn draw(&self, ceiling: u64) -> u64 {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .random_range(0..=ceiling)
    }
}

/// The backoff's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackoffPolicy {
    /// The ceiling of the first wait.
    pub base: Duration,
    /// The largest ceiling.
    pub cap: Duration,
    /// A stream that stayed up this long resets the count.
    pub healthy_after: Duration,
}

impl Default for BackoffPolicy {
    fn default() -> Self {
        Self {
            base: Duration::from_millis(500),
            cap: Duration::from_secs(30),
            healthy_after: Duration::from_secs(60),
        }
    }
}

/// Consecutive failures and the next wait.
#[derive(Debug, Clone)]
pub struct Backoff {
    policy: BackoffPolicy,
    jitter: Arc<dyn Jitter>,
    failures: u32,
}

impl Backoff {
    /// No failure yet; waits drawn from `jitter`.
    pub fn new(policy: BackoffPolicy, jitter: Arc<dyn Jitter>) -> Self {
        Self {
            policy,
            jitter,
            failures: 0,
        }
    }

    /// The ceiling of the next wait.
    pub fn ceiling(&self) -> Duration {
        let factor = 2u32.saturating_pow(self.failures.min(30));
        self.policy
            .base
            .checked_mul(factor)
            .unwrap_or(self.policy.cap)
            .min(self.policy.cap)
    }

    /// Counts a failure and returns how long to wait before the next try.
    pub fn next_delay(&mut self) -> Duration {
        let ceiling = self.ceiling();
        self.failures = self.failures.saturating_add(1);
        let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(self.jitter.draw(millis))
    }

    /// Consecutive failures counted so far.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// Starts over after a success or a healthy period.
    pub fn reset(&mut self) {
        self.failures = 0;
    }

    /// Resets when something stayed up for the policy's healthy period.
    pub fn reset_if_healthy(&mut self, up_for: Duration) {
        if up_for >= self.policy.healthy_after {
            self.reset();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> BackoffPolicy {
        BackoffPolicy {
            base: Duration::from_millis(100),
            cap: Duration::from_secs(1),
            healthy_after: Duration::from_secs(10),
        }
    }

    #[test]
    fn when_failing_the_ceiling_should_double_up_to_the_cap_and_waits_stay_under_it() {
        let mut backoff = Backoff::new(policy(), Arc::new(ThreadJitter));
        let mut ceilings = Vec::new();
        for _ in 0..6 {
            let ceiling = backoff.ceiling();
            ceilings.push(ceiling.as_millis());
            assert!(backoff.next_delay() <= ceiling);
        }
        assert_eq!(ceilings, [100, 200, 400, 800, 1000, 1000]);
        for _ in 0..100 {
            backoff.next_delay();
        }
        assert_eq!(backoff.ceiling(), Duration::from_secs(1));
    }

    #[test]
    fn when_healthy_long_enough_should_start_over() {
        let mut backoff = Backoff::new(policy(), Arc::new(ThreadJitter));
        backoff.next_delay();
        backoff.next_delay();
        backoff.reset_if_healthy(Duration::from_secs(9));
        assert_eq!(backoff.failures(), 2);
        backoff.reset_if_healthy(Duration::from_secs(10));
        assert_eq!(backoff.failures(), 0);
        assert_eq!(backoff.ceiling(), Duration::from_millis(100));
    }

    #[test]
    fn when_seeded_alike_should_draw_the_same_waits() {
        let draws = |seed| {
            let mut backoff = Backoff::new(policy(), Arc::new(SeededJitter::new(seed)));
            (0..8).map(|_| backoff.next_delay()).collect::<Vec<_>>()
        };
        assert_eq!(draws(7), draws(7));
        assert_ne!(draws(7), draws(8));
    }
}
