//! The stop signal every worker watches: a [`ShutdownTrigger`] (SIGTERM,
//! Ctrl-C, a test) and the [`Shutdown`] handles the loops hold. The moment of
//! the first trigger is kept, so every step of a stop is measured against one
//! deadline (tokio time, so a paused clock drives it in tests).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

/// Creates a connected trigger and shutdown handle.
pub fn shutdown_channel() -> (ShutdownTrigger, Shutdown) {
    let (sender, receiver) = watch::channel(false);
    let at = Arc::new(OnceLock::new());
    (
        ShutdownTrigger {
            sender: Arc::new(sender),
            at: Arc::clone(&at),
        },
        Shutdown { receiver, at },
    )
}

/// Asks the loop to stop; clones trigger the same shutdown.
#[derive(Debug, Clone)]
pub struct ShutdownTrigger {
    sender: Arc<watch::Sender<bool>>,
    at: Arc<OnceLock<Instant>>,
}

impl ShutdownTrigger {
    /// Requests the stop (later calls change nothing).
    pub fn trigger(&self) {
        let _ = self.at.set(Instant::now());
        self.sender.send_replace(true);
    }
}

/// Watches for the stop request; clones watch the same one.
#[derive(Debug, Clone)]
pub struct Shutdown {
    receiver: watch::Receiver<bool>,
    at: Arc<OnceLock<Instant>>,
}

impl Shutdown {
    /// A handle that is never triggered (benches, tools).
    pub fn never() -> Self {
        // With its trigger gone, the handle can never report a stop.
        shutdown_channel().1
    }

    /// Whether the stop was requested.
    pub fn is_requested(&self) -> bool {
        *self.receiver.borrow()
    }

    /// When the stop was first requested.
    pub fn requested_at(&self) -> Option<Instant> {
        self.at.get().copied()
    }

    /// Resolves once the stop is requested (never, if every trigger is gone
    /// without having fired).
    pub async fn requested(&self) {
        let mut receiver = self.receiver.clone();
        if receiver.wait_for(|stop| *stop).await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    /// Resolves `budget` after the stop was requested.
    pub async fn elapsed(&self, budget: Duration) {
        self.requested().await;
        let at = self.requested_at().unwrap_or_else(Instant::now);
        tokio::time::sleep_until(at + budget).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn when_triggered_every_clone_should_see_it_once_with_its_time() {
        let (trigger, shutdown) = shutdown_channel();
        let other = shutdown.clone();
        assert!(!shutdown.is_requested());
        assert!(shutdown.requested_at().is_none());
        trigger.clone().trigger();
        let first = shutdown.requested_at();
        trigger.trigger();
        other.requested().await;
        assert!(other.is_requested());
        assert_eq!(shutdown.requested_at(), first);
    }
}
