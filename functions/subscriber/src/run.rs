//! [`run()`]: the subscriber loop.
//!
//! 1. **Lease.** Take the [`SubscriberLease`] (one conditional write with an
//!    expiry); while another instance holds it, ask again every
//!    `lease_poll`. While active, a concurrent renewal extends it every third
//!    of its length; when a renewal answers `LeaseLost` (or cannot succeed
//!    before the lease lapses), consuming stops at once, nothing more is
//!    saved, and the instance goes back to waiting.
//! 2. **Subscribe.** `GetTopic`, then `Subscribe` from the saved replay id
//!    (`CUSTOM`), or without one from `LATEST` (`EARLIEST` by setting).
//! 3. **Batch.** Events are collected up to 10 (or until none arrived for
//!    `flush_after`) and sent with one queue call (group = Order id,
//!    deduplication id = event id); failed entries are retried with
//!    full-jitter backoff, entries refused for good are dead-lettered, and
//!    undecodable events go to the dead-letter destination with their raw
//!    payload. The replay id of the last event of the contiguous accepted
//!    prefix is saved only then: a crash replays, it never skips.
//! 4. **Failures.** Transient stream failures (and a tripped watchdog)
//!    resubscribe from the saved replay id with full-jitter backoff, reset
//!    after a stream stayed up for the healthy period; `AuthFailed` (the
//!    client already logged in again once) is retried the same way a few
//!    times. A replay id refused as corrupted or expired records a gap and
//!    resumes at `LATEST`; a refusal without a replay id is permanent, so it
//!    never loops. A missing topic or no permission stops with an error.
//! 5. **Keepalives.** A keepalive moves the saved position to its
//!    `latest_replay_id` only when nothing is in flight (every event received
//!    is accepted and saved) *and* the previous keepalive, with no event in
//!    between, carried the same id: the server keeps requests pending and
//!    sends a keepalive only when it has nothing to deliver, so an id that
//!    stayed the newest for a whole keepalive interval without reaching us
//!    was delivered already. This keeps a quiet topic's position within the
//!    72-hour retention without risking a skip on a racing publish.
//! 6. **Stop.** On [`Shutdown`]: stop pulling, send the batch in hand
//!    (within four fifths of the stop timeout), save the replay id, release
//!    the lease, return `Ok`.

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use portal_core::ports::{
    Clock, DeadLetters, Gap, LeaseAcquisition, LeaseError, ProvisioningQueue, ReplayId,
    ReplayStore, SendOutcome, SubscriberLease, lapsed,
};
use salesforce::pubsub::{
    PubSubClient, PubSubError, REPLAY_ID_CORRUPTED_CODE, ReplayFrom, ReplayId as WireReplayId,
    Subscription, SubscriptionItem, TransientError,
};
use tokio::time::Instant;
use tracing::Instrument as _;

use crate::backoff::Backoff;
use crate::batch::{self, Batch};
use crate::error::SubscriberError;
use crate::metrics::Metrics;
use crate::settings::{SQS_BATCH, Settings, StartFrom};
use crate::shutdown::Shutdown;
use portal_core::diagnostics::error_chain;

/// Consecutive `AuthFailed` answers tolerated before stopping.
const MAX_AUTH_FAILURES: u32 = 5;

/// Attempts at saving one replay position before moving on (the next batch saves a later one).
const SAVE_ATTEMPTS: u32 = 3;

/// The outside world the loop needs: one adapter per port.
#[derive(Debug, Clone)]
pub struct Ports<R, L, Q, D, C> {
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
pub async fn run<R, L, Q, D, C>(
    pubsub: &PubSubClient,
    ports: &Ports<R, L, Q, D, C>,
    settings: &Settings,
    metrics: &Metrics,
    shutdown: &Shutdown,
) -> Result<Stopped, SubscriberError>
where
    R: ReplayStore,
    L: SubscriberLease,
    Q: ProvisioningQueue,
    D: DeadLetters,
    C: Clock,
{
    let ctx = Ctx {
        pubsub,
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

/// What one active period keeps between batches and reconnects.
#[derive(Debug, Default)]
struct Position {
    /// The last position saved (or loaded).
    saved: Option<ReplayId>,
    /// `CreatedDate` of the last event saved by this process (the start of a gap's window).
    saved_created: Option<DateTime<Utc>>,
    /// Saved ids were refused: subscribe at `LATEST` until a new one is saved.
    resume_latest: bool,
    /// Events were accepted but their position could not be saved.
    unsaved: bool,
    /// The `latest_replay_id` of the previous keepalive, with no event since.
    keepalive: Option<ReplayId>,
}

enum StreamEnd {
    Shutdown,
    Failed(PubSubError),
}

struct Ctx<'a, R, L, Q, D, C> {
    pubsub: &'a PubSubClient,
    ports: &'a Ports<R, L, Q, D, C>,
    settings: &'a Settings,
    metrics: &'a Metrics,
    shutdown: &'a Shutdown,
}

impl<R, L, Q, D, C> Ctx<'_, R, L, Q, D, C>
where
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

    /// Takes the lease, waiting while another instance holds it; `None` when stopped first.
    async fn acquire_lease(&self) -> Result<Option<DateTime<Utc>>, SubscriberError> {
        let s = self.settings;
        let mut backoff = Backoff::new(s.backoff);
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
    async fn keep_lease(&self, mut until: DateTime<Utc>) {
        let s = self.settings;
        let margin = TimeDelta::from_std(s.lease_ttl / 10).unwrap_or(TimeDelta::zero());
        let mut backoff = Backoff::new(s.backoff);
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
    async fn release_lease(&self) {
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

    /// One active period: topic check, position, then subscriptions until stopped.
    async fn consume(&self, position: &mut Position) -> Result<(), SubscriberError> {
        if !self.check_topic().await? {
            return Ok(());
        }
        let Some(saved) = self.load_position().await? else {
            return Ok(());
        };
        position.saved = saved;
        let mut backoff = Backoff::new(self.settings.backoff);
        let mut auth_failures = 0;
        loop {
            if self.shutdown.is_requested() {
                return Ok(());
            }
            let from = self.start_point(position);
            tracing::info!(from = ?from, "subscribing");
            let started = Instant::now();
            let subscribe =
                self.pubsub
                    .subscribe(self.topic(), from.clone(), self.settings.flow_batch);
            let Some(subscribed) = self.unless_stopped(subscribe).await else {
                return Ok(());
            };
            let failure = match subscribed {
                Ok(mut subscription) => {
                    auth_failures = 0;
                    match self.pump(&mut subscription, position).await? {
                        StreamEnd::Shutdown => return Ok(()),
                        StreamEnd::Failed(error) => error,
                    }
                }
                Err(error) => error,
            };
            backoff.reset_if_healthy(started.elapsed());
            match failure {
                PubSubError::ReplayIdCorrupted { .. } => match from {
                    ReplayFrom::After(refused) => {
                        if !self.record_gap(position, refused, &failure).await? {
                            return Ok(());
                        }
                    }
                    ReplayFrom::Latest | ReplayFrom::Earliest => {
                        return Err(SubscriberError::ReplayLoop(failure));
                    }
                },
                PubSubError::AuthFailed { .. } if auth_failures + 1 >= MAX_AUTH_FAILURES => {
                    return Err(SubscriberError::PubSub(failure));
                }
                error
                    if error.is_transient() || matches!(error, PubSubError::AuthFailed { .. }) =>
                {
                    if matches!(error, PubSubError::AuthFailed { .. }) {
                        auth_failures += 1;
                    }
                    self.metrics.reconnect();
                    let delay = backoff.next_delay();
                    tracing::warn!(
                        error = %error_chain(&error),
                        delay_ms = delay.as_millis(),
                        "the subscription ended; resubscribing from the saved replay id"
                    );
                    if !self.pause(delay).await {
                        return Ok(());
                    }
                }
                error if is_topic_refusal(&error) => {
                    return Err(SubscriberError::Topic {
                        topic: self.topic().to_owned(),
                        source: Some(error),
                    });
                }
                error => return Err(SubscriberError::PubSub(error)),
            }
        }
    }

    fn start_point(&self, position: &Position) -> ReplayFrom {
        match (&position.saved, position.resume_latest) {
            (_, true) => ReplayFrom::Latest,
            (Some(saved), false) => {
                ReplayFrom::After(WireReplayId::from_bytes(saved.as_bytes().to_vec()))
            }
            (None, false) => match self.settings.start_from {
                StartFrom::Latest => ReplayFrom::Latest,
                StartFrom::Earliest => ReplayFrom::Earliest,
            },
        }
    }

    /// `GetTopic`: the topic exists and may be read. `false` when stopped while retrying.
    async fn check_topic(&self) -> Result<bool, SubscriberError> {
        let mut backoff = Backoff::new(self.settings.backoff);
        loop {
            let Some(answer) = self
                .unless_stopped(self.pubsub.get_topic(self.topic()))
                .await
            else {
                return Ok(false);
            };
            match answer {
                Ok(info) if info.can_subscribe => {
                    tracing::info!(schema_id = %info.schema_id, "the topic may be subscribed to");
                    return Ok(true);
                }
                Ok(_) => {
                    return Err(SubscriberError::Topic {
                        topic: self.topic().to_owned(),
                        source: None,
                    });
                }
                Err(error)
                    if error.is_transient()
                        || (matches!(error, PubSubError::AuthFailed { .. })
                            && backoff.failures() + 1 < MAX_AUTH_FAILURES) =>
                {
                    let delay = backoff.next_delay();
                    tracing::warn!(error = %error_chain(&error), delay_ms = delay.as_millis(), "GetTopic failed; retrying");
                    if !self.pause(delay).await {
                        return Ok(false);
                    }
                }
                Err(error @ PubSubError::Permanent { .. }) => {
                    return Err(SubscriberError::Topic {
                        topic: self.topic().to_owned(),
                        source: Some(error),
                    });
                }
                Err(error) => return Err(SubscriberError::PubSub(error)),
            }
        }
    }

    /// The saved position (`Some(None)`: none saved); `None` when stopped while retrying.
    async fn load_position(&self) -> Result<Option<Option<ReplayId>>, SubscriberError> {
        let mut backoff = Backoff::new(self.settings.backoff);
        loop {
            let Some(answer) = self
                .unless_stopped(self.ports.replay_store.load(self.topic()))
                .await
            else {
                return Ok(None);
            };
            match answer {
                Ok(saved) => {
                    tracing::info!(saved = ?saved, "replay position loaded");
                    return Ok(Some(saved));
                }
                Err(error) if error.is_retryable() => {
                    let delay = backoff.next_delay();
                    tracing::warn!(error = %error_chain(&error), "loading the replay position failed; retrying");
                    if !self.pause(delay).await {
                        return Ok(None);
                    }
                }
                Err(error) => return Err(SubscriberError::ReplayStore(error)),
            }
        }
    }

    /// Records the gap left by a refused replay id and switches to `LATEST`.
    /// `false` when stopped before the gap could be recorded.
    async fn record_gap(
        &self,
        position: &mut Position,
        refused: WireReplayId,
        error: &PubSubError,
    ) -> Result<bool, SubscriberError> {
        let now = self.now();
        let since = position.saved_created.map_or_else(
            || "the last saved event (published before this process started)".to_owned(),
            |t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        );
        let gap = Gap {
            from: ReplayId::new(refused.into_bytes()),
            to: None,
            reason: format!(
                "{REPLAY_ID_CORRUPTED_CODE}: {error}; events published from {since} to {} were not replayed; resumed at LATEST",
                now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
            ),
            window_start: position.saved_created,
            detected_at: now,
        };
        let mut backoff = Backoff::new(self.settings.backoff);
        loop {
            match self.ports.replay_store.record_gap(self.topic(), &gap).await {
                Ok(()) => break,
                Err(e) if e.is_retryable() => {
                    tracing::warn!(error = %error_chain(&e), "recording the gap failed; retrying");
                    if !self.pause(backoff.next_delay()).await {
                        return Ok(false);
                    }
                }
                Err(e) => return Err(SubscriberError::ReplayStore(e)),
            }
        }
        self.metrics.gap_recorded(now);
        tracing::error!(
            from = ?gap.from,
            window_start = %since,
            window_end = %now,
            "the saved replay id was refused as corrupted or expired: gap recorded for the reconciler, resuming at LATEST"
        );
        position.resume_latest = true;
        position.keepalive = None;
        Ok(true)
    }

    /// Drives one subscription until it fails or the stop is requested.
    async fn pump(
        &self,
        subscription: &mut Subscription,
        position: &mut Position,
    ) -> Result<StreamEnd, SubscriberError> {
        let mut batch = Batch::new();
        loop {
            if self.shutdown.is_requested() {
                self.finish(&mut batch, position).await?;
                return Ok(StreamEnd::Shutdown);
            }
            let item = tokio::select! {
                biased;
                () = self.shutdown.requested() => continue,
                () = tokio::time::sleep(self.settings.flush_after), if !batch.is_empty() => {
                    self.finish(&mut batch, position).await?;
                    continue;
                }
                item = subscription.next() => item,
            };
            match item {
                None => {
                    self.finish(&mut batch, position).await?;
                    return Ok(StreamEnd::Failed(TransientError::StreamEnded.into()));
                }
                Some(Err(error)) => {
                    // Events received before the failure are good: forward them first.
                    self.finish(&mut batch, position).await?;
                    return Ok(StreamEnd::Failed(error));
                }
                Some(Ok(SubscriptionItem::Keepalive { latest_replay_id })) => {
                    self.finish(&mut batch, position).await?;
                    self.on_keepalive(latest_replay_id, position).await?;
                }
                Some(Ok(SubscriptionItem::Event(event))) => {
                    position.keepalive = None;
                    let now = self.now();
                    let lag = event
                        .decoded
                        .as_ref()
                        .ok()
                        .map(|e| (now - e.created_date).num_milliseconds());
                    let started = std::time::Instant::now();
                    let prepared = batch::prepare(event, self.topic(), now);
                    if prepared.undecodable {
                        self.metrics.decode_failure();
                    }
                    batch.push(prepared.entry);
                    self.metrics.own_work(started.elapsed());
                    self.metrics.received(lag);
                    if batch.len() >= SQS_BATCH {
                        self.finish(&mut batch, position).await?;
                    }
                }
            }
        }
    }

    /// Sends the batch in hand (retrying until every entry is accepted, or
    /// the drain deadline passes when stopping), then saves the position of
    /// its accepted prefix and empties it.
    async fn finish(
        &self,
        batch: &mut Batch,
        position: &mut Position,
    ) -> Result<(), SubscriberError> {
        if batch.is_empty() {
            return Ok(());
        }
        let drain = self.settings.drain_budget();
        let mut backoff = Backoff::new(self.settings.backoff);
        'attempts: loop {
            let (indices, messages) = batch.pending_messages();
            if !messages.is_empty() {
                match self.bounded(drain, self.ports.queue.send(&messages)).await {
                    None => break 'attempts,
                    Some(Ok(outcomes)) => {
                        let mut sent = 0;
                        for (index, outcome) in indices.into_iter().zip(outcomes) {
                            match outcome {
                                SendOutcome::Sent => {
                                    batch.accept(index);
                                    sent += 1;
                                }
                                SendOutcome::Failed(failure) if !failure.retryable => {
                                    tracing::warn!(code = %failure.code, "the queue refused a message for good; dead-lettering it");
                                    batch.divert(
                                        index,
                                        self.topic(),
                                        format!(
                                            "the provisioning queue refused the message for good ({})",
                                            failure.code
                                        ),
                                        self.now(),
                                    );
                                }
                                SendOutcome::Failed(failure) => {
                                    tracing::warn!(code = %failure.code, "the queue did not take a message; retrying");
                                }
                            }
                        }
                        self.metrics.forwarded(sent);
                    }
                    Some(Err(error)) if error.is_retryable() => {
                        tracing::warn!(error = %error_chain(&error), "the provisioning queue is unavailable; retrying");
                    }
                    Some(Err(error)) => return Err(SubscriberError::Queue(error)),
                }
            }
            for index in batch.pending_letters() {
                let Some(letter) = batch.letter(index).cloned() else {
                    continue;
                };
                match self
                    .bounded(drain, self.ports.dead_letters.send(&letter))
                    .await
                {
                    None => break 'attempts,
                    Some(Ok(())) => {
                        batch.accept(index);
                        self.metrics.dead_lettered(1);
                        tracing::warn!(
                            event_id = %letter.event_id,
                            replay_id = ?letter.replay_id,
                            schema_id = %letter.schema_id,
                            error = %letter.error,
                            "event dead-lettered"
                        );
                    }
                    Some(Err(error)) if error.is_retryable() => {
                        tracing::warn!(error = %error_chain(&error), "the dead-letter destination is unavailable; retrying");
                        break;
                    }
                    Some(Err(error)) => return Err(SubscriberError::DeadLetters(error)),
                }
            }
            if batch.all_accepted() {
                break;
            }
            if self
                .bounded(drain, tokio::time::sleep(backoff.next_delay()))
                .await
                .is_none()
            {
                break;
            }
        }
        let started = std::time::Instant::now();
        let through = batch.accepted_through();
        if !batch.all_accepted() {
            tracing::warn!(
                in_hand = batch.len(),
                "stop deadline reached with events not accepted; they replay on the next start"
            );
        }
        *batch = Batch::new();
        self.metrics.own_work(started.elapsed());
        if let Some((replay_id, created)) = through {
            self.save(position, replay_id, created).await?;
        }
        Ok(())
    }

    /// Saves `replay_id` as the position (a few attempts; a later batch saves a later one).
    async fn save(
        &self,
        position: &mut Position,
        replay_id: ReplayId,
        created: Option<DateTime<Utc>>,
    ) -> Result<(), SubscriberError> {
        if position.saved.as_ref() == Some(&replay_id) {
            return Ok(());
        }
        let budget = self.settings.stop_timeout.mul_f64(0.9);
        let mut backoff = Backoff::new(self.settings.backoff);
        for attempt in 1..=SAVE_ATTEMPTS {
            let saved = self
                .bounded(
                    budget,
                    self.ports.replay_store.save(self.topic(), &replay_id),
                )
                .await;
            match saved {
                None => break,
                Some(Ok(())) => {
                    position.saved = Some(replay_id);
                    if created.is_some() {
                        position.saved_created = created;
                    }
                    position.resume_latest = false;
                    position.unsaved = false;
                    self.metrics.position_saved();
                    return Ok(());
                }
                Some(Err(error)) if error.is_retryable() => {
                    tracing::warn!(error = %error_chain(&error), attempt, "saving the replay position failed");
                    if attempt < SAVE_ATTEMPTS
                        && self
                            .bounded(budget, tokio::time::sleep(backoff.next_delay()))
                            .await
                            .is_none()
                    {
                        break;
                    }
                }
                Some(Err(error)) => return Err(SubscriberError::ReplayStore(error)),
            }
        }
        position.unsaved = true;
        tracing::warn!(
            "the replay position was not saved; a restart replays from the previous one"
        );
        Ok(())
    }

    /// Moves the position to a keepalive's `latest_replay_id` under the rule of the module docs.
    async fn on_keepalive(
        &self,
        latest: WireReplayId,
        position: &mut Position,
    ) -> Result<(), SubscriberError> {
        let Some(latest) = ReplayId::new(latest.into_bytes()) else {
            return Ok(());
        };
        if position.unsaved {
            position.keepalive = None;
            return Ok(());
        }
        if position.keepalive.as_ref() == Some(&latest) {
            if position.saved.as_ref() != Some(&latest) {
                tracing::debug!(latest = ?latest, "quiet topic: advancing the position to the keepalive's latest replay id");
                self.save(position, latest, None).await?;
            }
        } else {
            position.keepalive = Some(latest);
        }
        Ok(())
    }
}

/// A missing topic or no permission to read it.
fn is_topic_refusal(error: &PubSubError) -> bool {
    matches!(
        error,
        PubSubError::Permanent { code, .. }
            if matches!(code, tonic::Code::NotFound | tonic::Code::PermissionDenied)
    )
}
