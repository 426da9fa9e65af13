//! The replay position: where to subscribe from, loading and saving it, the
//! gap left by a refused replay id, and keepalives that move a quiet topic's
//! position forward (the rule is in the module docs of [`super`]).

use chrono::{DateTime, Utc};

use super::{Ctx, StartFrom, SubscriberError};
use crate::diagnostics::error_chain;
use crate::domain::ReplayId;
use crate::ports::{
    Clock, DeadLetters, EventSource, Gap, ProvisioningQueue, ReplayFrom, ReplayStore, SourceError,
    SubscriberLease,
};

/// Attempts at saving one replay position before moving on (the next batch saves a later one).
const SAVE_ATTEMPTS: u32 = 3;

/// What one active period keeps between batches and reconnects.
#[derive(Debug, Default)]
pub(super) struct Position {
    /// The last position saved (or loaded).
    pub(super) saved: Option<ReplayId>,
    /// `CreatedDate` of the last event saved by this process (the start of a gap's window).
    saved_created: Option<DateTime<Utc>>,
    /// Saved ids were refused: subscribe at `LATEST` until a new one is saved.
    resume_latest: bool,
    /// Events were accepted but their position could not be saved.
    unsaved: bool,
    /// The latest replay id of the previous keepalive, with no event since.
    keepalive: Option<ReplayId>,
}

impl Position {
    /// An event arrived: the keepalive rule starts over.
    pub(super) fn event_seen(&mut self) {
        self.keepalive = None;
    }
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
    /// Where the next subscription starts.
    pub(super) fn start_point(&self, position: &Position) -> ReplayFrom {
        match (&position.saved, position.resume_latest) {
            (_, true) => ReplayFrom::Latest,
            (Some(saved), false) => ReplayFrom::After(saved.clone()),
            (None, false) => match self.settings.start_from {
                StartFrom::Latest => ReplayFrom::Latest,
                StartFrom::Earliest => ReplayFrom::Earliest,
            },
        }
    }

    /// The saved position (`Some(None)`: none saved); `None` when stopped while retrying.
    pub(super) async fn load_position(&self) -> Result<Option<Option<ReplayId>>, SubscriberError> {
        let mut backoff = self.backoff();
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
    pub(super) async fn record_gap(
        &self,
        position: &mut Position,
        refused: ReplayId,
        error: &SourceError,
    ) -> Result<bool, SubscriberError> {
        let now = self.now();
        let since = position.saved_created.map_or_else(
            || "the last saved event (published before this process started)".to_owned(),
            |t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        );
        let gap = Gap {
            from: Some(refused),
            to: None,
            reason: format!(
                "{}; events published from {since} to {} were not replayed; resumed at LATEST",
                error_chain(error),
                now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
            ),
            window_start: position.saved_created,
            detected_at: now,
        };
        let mut backoff = self.backoff();
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

    /// Saves `replay_id` as the position (a few attempts; a later batch saves a later one).
    pub(super) async fn save(
        &self,
        position: &mut Position,
        replay_id: ReplayId,
        created: Option<DateTime<Utc>>,
    ) -> Result<(), SubscriberError> {
        if position.saved.as_ref() == Some(&replay_id) {
            return Ok(());
        }
        let budget = self.settings.stop_timeout.mul_f64(0.9);
        let mut backoff = self.backoff();
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

    /// Moves the position to a keepalive's latest replay id under the rule of the module docs.
    pub(super) async fn on_keepalive(
        &self,
        latest: Option<ReplayId>,
        position: &mut Position,
    ) -> Result<(), SubscriberError> {
        let Some(latest) = latest else {
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
