//! One active subscriber: taking the lease (waiting while another instance
//! holds it), renewing it every third of its length while active, and
//! giving it up on stop.

use chrono::{DateTime, TimeDelta, Utc};

use super::{Ctx, SubscriberError};
use crate::diagnostics::error_chain;
use crate::ports::{
    Clock, DeadLetters, EventSource, LeaseAcquisition, LeaseError, ProvisioningQueue, ReplayStore,
    SubscriberLease, lapsed,
};

impl<E, R, L, Q, D, C> Ctx<'_, E, R, L, Q, D, C>
where
    E: EventSource,
    R: ReplayStore,
    L: SubscriberLease,
    Q: ProvisioningQueue,
    D: DeadLetters,
    C: Clock,
{
    /// Takes the lease, waiting while another instance holds it; `None` when stopped first.
    pub(super) async fn acquire_lease(&self) -> Result<Option<DateTime<Utc>>, SubscriberError> {
        let s = self.settings;
        let mut backoff = self.backoff();
        let mut announced = false;
        loop {
            if self.shutdown.is_requested() {
                return Ok(None);
            }
            let acquire =
                self.ports
                    .lease
                    .acquire(&s.lease_name, &s.instance, s.lease_ttl, self.now());
            let Some(answer) = self.unless_stopped(acquire).await else {
                return Ok(None);
            };
            let wait = match answer {
                Ok(LeaseAcquisition::Acquired { until }) => return Ok(Some(until)),
                Ok(LeaseAcquisition::HeldBy { owner, until }) => {
                    self.metrics.lease_wait();
                    if !announced {
                        tracing::info!(holder = %owner, until = %until, "another instance holds the lease; waiting");
                        announced = true;
                    }
                    s.lease_poll
                }
                Err(error) if error.is_retryable() => {
                    let delay = backoff.next_delay();
                    tracing::warn!(error = %error_chain(&error), delay_ms = delay.as_millis(), "taking the lease failed; retrying");
                    delay
                }
                Err(error) => return Err(SubscriberError::Lease(error)),
            };
            if !self.pause(wait).await {
                return Ok(None);
            }
        }
    }

    /// Renews the lease every third of its length; returns when it is lost.
    pub(super) async fn keep_lease(&self, mut until: DateTime<Utc>) {
        let s = self.settings;
        let margin = TimeDelta::from_std(s.lease_ttl / 10).unwrap_or(TimeDelta::zero());
        let mut backoff = self.backoff();
        let mut wait = s.renew_every();
        loop {
            tokio::time::sleep(wait).await;
            match self
                .ports
                .lease
                .renew(&s.lease_name, &s.instance, s.lease_ttl, self.now())
                .await
            {
                Ok(next) => {
                    until = next;
                    backoff.reset();
                    wait = s.renew_every();
                }
                Err(LeaseError::LeaseLost) => {
                    tracing::warn!("another instance holds the lease now");
                    return;
                }
                Err(LeaseError::Store(error)) => {
                    if lapsed(until - margin, self.now()) {
                        tracing::warn!(error = %error_chain(&error), "the lease could not be renewed before it lapsed");
                        return;
                    }
                    wait = backoff.next_delay().min(s.renew_every());
                    tracing::warn!(error = %error_chain(&error), "renewing the lease failed; retrying");
                }
            }
        }
    }

    /// Gives the lease up (within the stop timeout when stopping).
    pub(super) async fn release_lease(&self) {
        let s = self.settings;
        let release = self.ports.lease.release(&s.lease_name, &s.instance);
        match self.bounded(s.stop_timeout.mul_f64(0.95), release).await {
            Some(Ok(())) => tracing::info!("lease released"),
            Some(Err(error)) => {
                tracing::warn!(error = %error_chain(&error), "releasing the lease failed; it lapses by itself");
            }
            None => tracing::warn!(
                "stop timeout reached before the lease was released; it lapses by itself"
            ),
        }
    }
}
