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
        window: &LimitWindow,
        now: DateTime<Utc>,
    ) -> Result<LimitDecision, StoreError> {
        let index = window.index(now);
        let mut counters = lock(&self.counters);
        let counter = counters
            .entry((login.clone(), window.name))
            .or_insert((index, 0));
        if counter.0 != index {
            *counter = (index, 0);
        }
        if counter.1 >= window.max {
            return Ok(LimitDecision::Limited {
                retry_after: window.retry_after(now),
            });
        }
        counter.1 += 1;
        Ok(LimitDecision::Allowed)
    }
}
