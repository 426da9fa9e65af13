//! Per-login request limits: every POST per minute and per day, and
//! registration attempts per hour, counted in the API's own store
//! ([`LoginLimits`]). A request over a limit is
//! [`PortalError::TooManyRequests`] (→ 429 with `Retry-After`) and does
//! nothing else.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::domain::Login;
use crate::ports::{LimitDecision, LimitWindow, LoginLimits};

use super::error::PortalError;

/// The per-login limits (configurable; these are the defaults).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestLimits {
    /// POSTs per minute (default 30).
    pub posts_per_minute: u32,
    /// POSTs per day (default 500).
    pub posts_per_day: u32,
    /// Registration attempts per hour (default 5).
    pub registrations_per_hour: u32,
}

impl Default for RequestLimits {
    fn default() -> Self {
        Self {
            posts_per_minute: 30,
            posts_per_day: 500,
            registrations_per_hour: 5,
        }
    }
}

impl RequestLimits {
    /// The windows every POST counts in.
    pub fn post_windows(&self) -> [LimitWindow; 2] {
        [
            LimitWindow {
                name: "post-minute",
                length: Duration::from_secs(60),
                max: self.posts_per_minute,
            },
            LimitWindow {
                name: "post-day",
                length: Duration::from_secs(24 * 60 * 60),
                max: self.posts_per_day,
            },
        ]
    }

    /// The window registration attempts count in.
    pub fn registration_window(&self) -> LimitWindow {
        LimitWindow {
            name: "registration-hour",
            length: Duration::from_secs(60 * 60),
            max: self.registrations_per_hour,
        }
    }
}

/// Counts one request of `login` in every one of `windows` (one atomic
/// write); when one is full, the request is refused and counted in none.
pub async fn enforce<R: LoginLimits>(
    limits: &R,
    login: &Login,
    windows: &[LimitWindow],
    now: DateTime<Utc>,
) -> Result<(), PortalError> {
    match limits.take(login, windows, now).await? {
        LimitDecision::Allowed => Ok(()),
        LimitDecision::Limited {
            window,
            retry_after,
        } => {
            tracing::info!(
                window,
                retry_after_secs = retry_after.as_secs(),
                "per-login limit reached"
            );
            Err(PortalError::TooManyRequests {
                window,
                retry_after,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::portal::fake::now;
    use crate::ports::memory::InMemoryLoginLimits;
    use chrono::TimeDelta;

    #[tokio::test]
    async fn when_a_window_is_full_should_refuse_until_it_ends_and_count_per_login() {
        let limits = InMemoryLoginLimits::new();
        let settings = RequestLimits {
            posts_per_minute: 2,
            posts_per_day: 3,
            registrations_per_hour: 1,
        };
        let hanako = Login::new("https://id.example.jp/", "hanako").unwrap();
        let taro = Login::new("https://id.example.jp/", "taro").unwrap();
        let windows = settings.post_windows();
        let at = now();
        enforce(&limits, &hanako, &windows, at).await.unwrap();
        enforce(&limits, &hanako, &windows, at).await.unwrap();
        let err = enforce(&limits, &hanako, &windows, at).await.unwrap_err();
        let PortalError::TooManyRequests {
            window,
            retry_after,
        } = err
        else {
            panic!("expected 429, got {err:?}");
        };
        assert_eq!(window, "post-minute");
        assert_eq!(retry_after, Duration::from_secs(60));
        enforce(&limits, &taro, &windows, at).await.unwrap();
        // Next minute: the minute window is fresh, the day window has one left.
        let next = at + TimeDelta::seconds(60);
        enforce(&limits, &hanako, &windows, next).await.unwrap();
        let err = enforce(&limits, &hanako, &windows, next).await.unwrap_err();
        assert!(
            matches!(
                err,
                PortalError::TooManyRequests {
                    window: "post-day",
                    ..
                }
            ),
            "{err:?}"
        );
    }
}
