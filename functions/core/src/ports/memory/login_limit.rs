//! `InMemoryLoginLimits`.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use super::lock;
use crate::domain::Login;
use crate::ports::{LimitDecision, LimitWindow, LoginLimits, StoreError};

/// A login's counter in one kind of window: the window's index and the count.
type Counter = (i64, u32);

/// [`LoginLimits`] in memory: one counter per login, window name and window
/// index; counters of past windows are dropped as new ones start.
#[derive(Debug, Default)]
pub struct InMemoryLoginLimits {
    counters: Mutex<HashMap<(Login, &'static str), Counter>>,
}

impl InMemoryLoginLimits {
    /// No counts.
    pub fn new() -> Self {
        Self::default()
    }
}

impl LoginLimits for InMemoryLoginLimits {
    async fn take(
        &self,
        login: &Login,
        windows: &[LimitWindow],
        now: DateTime<Utc>,
    ) -> Result<LimitDecision, StoreError> {
        let mut counters = lock(&self.counters);
        let counts: Vec<u64> = windows
            .iter()
            .map(|window| {
                counters
                    .get(&(login.clone(), window.name))
                    .filter(|(index, _)| *index == window.index(now))
                    .map_or(0, |(_, count)| u64::from(*count))
            })
            .collect();
        let decision = LimitDecision::for_counts(windows, &counts, now);
        if decision == LimitDecision::Allowed {
            for window in windows {
                let index = window.index(now);
                let counter = counters
                    .entry((login.clone(), window.name))
                    .or_insert((index, 0));
                if counter.0 != index {
                    *counter = (index, 0);
                }
                counter.1 += 1;
            }
        }
        Ok(decision)
    }
}
