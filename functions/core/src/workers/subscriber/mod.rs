//! The subscriber: platform events from an [`EventSource`] onto the
//! provisioning queue, the replay position saved durably, one active
//! instance at a time. [`run()`] is the loop, over its [`Ports`]; the Fargate
//! task (`subscriber` crate) and portal-local run it with the Pub/Sub client
//! as the event source, tests with the in-memory one.
//!
//! 1. **Lease** ([`lease`](self#lease)). Take the [`SubscriberLease`] (one
//!    conditional write with an expiry); while another instance holds it,
//!    ask again every `lease_poll`. While active, a concurrent renewal extends
//!    it every third of its length; when a renewal answers `LeaseLost` (or
//!    cannot succeed before the lease lapses), consuming stops at once,
//!    nothing more is saved, and the instance goes back to waiting.
//! 2. **Subscribe.** Check the topic, then subscribe from the saved replay id,
//!    or without one from `LATEST` (`EARLIEST` by setting).
//! 3. **Forward** (`forwarding.rs`). Events are collected up to 10 (or until
//!    the source has none ready, or none arrived for a non-zero
//!    `flush_after`) and sent with one queue call (group =
//!    Order id, deduplication id = event id); failed entries are retried with
//!    full-jitter backoff, entries refused for good are dead-lettered, and
//!    undecodable events go to the dead-letter destination with their raw
//!    payload. The replay id of the last event of the contiguous accepted
//!    prefix is saved only then: a crash replays, it never skips.
//! 4. **Failures.** Transient stream failures (and a tripped watchdog)
//!    resubscribe from the saved replay id with full-jitter backoff, reset
//!    after a stream stayed up for the healthy period; a refused session (the
//!    source already logged in again once) is retried the same way a few
//!    times. A replay id refused as corrupted or expired records a gap and
//!    resumes at `LATEST`; a refusal without a replay id is permanent, so it
//!    never loops. A missing topic or no permission stops with an error.
//! 5. **Position** (`position.rs`): gaps, and keepalives. A keepalive moves
//!    the saved position to its latest replay id only when nothing is in
//!    flight (every event received is accepted and saved) *and* the previous
//!    keepalive, with no event in between, carried the same id: the server
//!    keeps requests pending and sends a keepalive only when it has nothing
//!    to deliver, so an id that stayed the newest for a whole keepalive
//!    interval without reaching us was delivered already. This keeps a quiet
//!    topic's position within the 72-hour retention without risking a skip
//!    on a racing publish.
//! 6. **Stop.** On [`Shutdown`]: stop pulling, send the batch in hand
//!    (within four fifths of the stop timeout), save the replay id, release
//!    the lease, return `Ok`.
//!
//! Every wait is tokio time and every random wait comes from the settings'
//! [`Jitter`](super::Jitter), so a test with paused time and a seeded jitter
//! replays exactly.

mod error;
mod forwarding;
mod lease;
mod metrics;
mod position;
mod settings;
#[cfg(test)]
mod tests;

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::time::Instant;
use tracing::Instrument as _;

use self::forwarding::StreamEnd;
use self::position::Position;
use super::{Backoff, Shutdown};
use crate::diagnostics::error_chain;
use crate::domain::ReplayId;
use crate::ports::{
    Clock, DeadLetters, EventSource, ProvisioningQueue, ReplayFrom, ReplayStore, SourceError,
    SourceFailure, SubscriberLease,
};

pub use error::SubscriberError;
pub use forwarding::{Batch, Entry, Prepared, Unforwardable, Work, prepare, to_message};
pub use metrics::{Discard, Metrics, MetricsSink, MetricsSnapshot, MetricsWindow};
pub use settings::{SQS_BATCH, Settings, StartFrom};

/// Consecutive refused sessions tolerated before stopping.
const MAX_AUTH_FAILURES: u32 = 5;

/// The outside world the loop needs: one adapter per port.
#[derive(Debug, Clone)]
pub struct Ports<E, R, L, Q, D, C> {
    /// The platform events (the Pub/Sub API, or in memory).
    pub events: E,
    /// The replay position and gaps (DynamoDB or memory).
    pub replay_store: R,
    /// One active subscriber (DynamoDB or memory).
    pub lease: L,
    /// The provisioning queue (SQS FIFO or memory).
    pub queue: Q,
    /// Where undeliverable events go (SQS DLQ or memory).
    pub dead_letters: D,
    /// The time.
    pub clock: C,
}

/// How [`run()`] ended after a stop request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Stopped {
    /// The replay position saved when it stopped (loaded or saved by this run), if any.
    pub saved: Option<ReplayId>,
}

/// Runs the subscriber until `shutdown` is triggered (`Ok`) or a failure it
/// cannot work around (`Err`; the task should exit non-zero).
pub async fn run<E, R, L, Q, D, C>(
    ports: &Ports<E, R, L, Q, D, C>,
    settings: &Settings,
    metrics: &Metrics,
    shutdown: &Shutdown,
) -> Result<Stopped, SubscriberError>
where
    E: EventSource,
    R: ReplayStore,
    L: SubscriberLease,
    Q: ProvisioningQueue,
    D: DeadLetters,
    C: Clock,
{
    let ctx = Ctx {
        ports,
        settings,
        metrics,
        shutdown,
    };
    let span = tracing::info_span!(
        "subscriber",
        topic = %settings.topic,
        instance = %settings.instance,
    );
    let result = tokio::select! {
        result = Box::pin(ctx.cycles()).instrument(span) => result,
        never = ctx.heartbeat() => match never {},
    };
    metrics.set_active(false);
    metrics.flush(ports.clock.now());
    match &result {
        Ok(_) => tracing::info!("the subscriber stopped"),
        Err(error) => tracing::error!(error = %error_chain(error), "the subscriber failed"),
    }
    result
}

/// The loop's context: its ports, settings, counters and stop signal.
struct Ctx<'a, E, R, L, Q, D, C> {
    ports: &'a Ports<E, R, L, Q, D, C>,
    settings: &'a Settings,
    metrics: &'a Metrics,
    shutdown: &'a Shutdown,
}

impl<E, R, L, Q, D, C> Ctx<'_, E, R, L, Q, D, C>
where
    E: EventSource,
    R: ReplayStore,
    L: SubscriberLease,
    Q: ProvisioningQueue,
    D: DeadLetters,
    C: Clock,
{
    fn now(&self) -> DateTime<Utc> {
        self.ports.clock.now()
    }

    fn topic(&self) -> &str {
        &self.settings.topic
    }

    fn backoff(&self) -> Backoff {
        Backoff::new(self.settings.backoff, self.settings.jitter.clone())
    }

    /// Prints the metrics every interval, forever.
    async fn heartbeat(&self) -> std::convert::Infallible {
        loop {
            tokio::time::sleep(self.settings.metrics_interval).await;
            self.metrics.flush(self.now());
        }
    }

    /// `future`, unless the stop deadline `budget` after the stop request passes first.
    async fn bounded<F: Future>(&self, budget: Duration, future: F) -> Option<F::Output> {
        tokio::select! {
            biased;
            output = future => Some(output),
            () = self.shutdown.elapsed(budget) => None,
        }
    }

    /// `future`, unless the stop is requested first (`None`).
    async fn unless_stopped<F: Future>(&self, future: F) -> Option<F::Output> {
        tokio::select! {
            biased;
            () = self.shutdown.requested() => None,
            output = future => Some(output),
        }
    }

    /// Sleeps `delay`; `false` when the stop was requested meanwhile.
    async fn pause(&self, delay: Duration) -> bool {
        tokio::select! {
            () = self.shutdown.requested() => false,
            () = tokio::time::sleep(delay) => true,
        }
    }

    /// Waiting, active, and waiting again after a lost lease, until stopped.
    async fn cycles(&self) -> Result<Stopped, SubscriberError> {
        let mut stopped = Stopped::default();
        loop {
            let Some(until) = self.acquire_lease().await? else {
                return Ok(stopped);
            };
            self.metrics.set_active(true);
            tracing::info!(until = %until, "lease acquired");
            let mut position = Position::default();
            let outcome = tokio::select! {
                result = self.consume(&mut position) => Some(result),
                () = self.keep_lease(until) => None,
            };
            self.metrics.set_active(false);
            if position.saved.is_some() {
                stopped.saved.clone_from(&position.saved);
            }
            match outcome {
                Some(result) => {
                    self.release_lease().await;
                    return result.map(|()| stopped);
                }
                None => {
                    self.metrics.lease_lost();
                    tracing::warn!(
                        "the lease was lost: stopped consuming without saving anything further"
                    );
                    if self.shutdown.is_requested() {
                        return Ok(stopped);
                    }
                }
            }
        }
    }

    /// One active period: topic check, position, then subscriptions until stopped.
    async fn consume(&self, position: &mut Position) -> Result<(), SubscriberError> {
        if !self.check_topic().await? {
            return Ok(());
        }
        let Some(saved) = self.load_position().await? else {
            return Ok(());
        };
        position.saved = saved;
        let mut backoff = self.backoff();
        let mut auth_failures = 0;
        loop {
            if self.shutdown.is_requested() {
                return Ok(());
            }
            let from = self.start_point(position);
            tracing::info!(from = ?from, "subscribing");
            let started = Instant::now();
            let subscribe =
                self.ports
                    .events
                    .subscribe(self.topic(), &from, self.settings.flow_batch);
            let Some(subscribed) = self.unless_stopped(subscribe).await else {
                return Ok(());
            };
            let failure = match subscribed {
                Ok(mut stream) => {
                    auth_failures = 0;
                    match self.pump(&mut stream, position).await? {
                        StreamEnd::Shutdown => return Ok(()),
                        StreamEnd::Failed(error) => error,
                    }
                }
                Err(error) => error,
            };
            backoff.reset_if_healthy(started.elapsed());
            match failure.failure {
                SourceFailure::ReplayRefused => match from {
                    ReplayFrom::After(refused) => {
                        if !self.record_gap(position, refused, &failure).await? {
                            return Ok(());
                        }
                    }
                    ReplayFrom::Latest | ReplayFrom::Earliest => {
                        return Err(SubscriberError::ReplayLoop(failure));
                    }
                },
                SourceFailure::AuthRefused if auth_failures + 1 >= MAX_AUTH_FAILURES => {
                    return Err(SubscriberError::Source(failure));
                }
                SourceFailure::Transient | SourceFailure::AuthRefused => {
                    if failure.failure == SourceFailure::AuthRefused {
                        auth_failures += 1;
                    }
                    self.metrics.reconnect();
                    let delay = backoff.next_delay();
                    tracing::warn!(
                        error = %error_chain(&failure),
                        delay_ms = delay.as_millis(),
                        "the subscription ended; resubscribing from the saved replay id"
                    );
                    if !self.pause(delay).await {
                        return Ok(());
                    }
                }
                SourceFailure::TopicRefused => {
                    return Err(SubscriberError::Topic {
                        topic: self.topic().to_owned(),
                        source: Some(failure),
                    });
                }
                SourceFailure::RequestRefused | SourceFailure::Broken => {
                    return Err(SubscriberError::Source(failure));
                }
            }
        }
    }

    /// The topic exists and may be read. `false` when stopped while retrying.
    async fn check_topic(&self) -> Result<bool, SubscriberError> {
        let mut backoff = self.backoff();
        loop {
            let Some(answer) = self
                .unless_stopped(self.ports.events.topic(self.topic()))
                .await
            else {
                return Ok(false);
            };
            let error: SourceError = match answer {
                Ok(access) if access.can_subscribe => {
                    tracing::info!(schema_id = %access.schema_id, "the topic may be subscribed to");
                    return Ok(true);
                }
                Ok(_) => {
                    return Err(SubscriberError::Topic {
                        topic: self.topic().to_owned(),
                        source: None,
                    });
                }
                Err(error) => error,
            };
            match error.failure {
                SourceFailure::Transient => {}
                SourceFailure::AuthRefused if backoff.failures() + 1 < MAX_AUTH_FAILURES => {}
                SourceFailure::TopicRefused | SourceFailure::RequestRefused => {
                    return Err(SubscriberError::Topic {
                        topic: self.topic().to_owned(),
                        source: Some(error),
                    });
                }
                SourceFailure::AuthRefused
                | SourceFailure::ReplayRefused
                | SourceFailure::Broken => return Err(SubscriberError::Source(error)),
            }
            let delay = backoff.next_delay();
            tracing::warn!(error = %error_chain(&error), delay_ms = delay.as_millis(), "checking the topic failed; retrying");
            if !self.pause(delay).await {
                return Ok(false);
            }
        }
    }
}
