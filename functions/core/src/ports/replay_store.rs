//! The `ReplayStore` port: the Pub/Sub replay position per topic, and the
//! gaps the subscriber could not replay.
//!
//! The subscriber saves a replay id only after SQS accepted every event up to
//! it, so any saved position is safe to resume from; a save simply overwrites.
//! Two subscribers racing (a zombie after a lease takeover) can only move the
//! position to another safe point (at worst backwards, which replays events
//! the queue deduplicates), never past an event that was not sent.
//!
//! [`GapSweeps`] is the reconciler's side of the gaps: the ones not swept
//! yet, and marking one swept once Salesforce was searched for the Orders its
//! window may hold (a swept gap is never swept again); and where its sweep of
//! Salesforce stands ([`SweepCursor`]), kept between runs beside the gaps.

use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::StoreError;
use crate::domain::{OrderId, ReplayId};

/// Where the reconciler's sweep of Orders `Activating` stands between runs: a
/// pass reads them in Id order, a few pages per run, and starts again from the
/// first when it has read the last.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct SweepCursor {
    /// The last Order read; the next run reads the ones after it. `None`: a new
    /// pass starts at the first Order.
    pub after: Option<OrderId>,
    /// When the pass in progress started: a gap detected before then is swept
    /// when the pass ends.
    pub pass_started_at: DateTime<Utc>,
}

/// Events the subscriber could not replay (expired or corrupted replay id):
/// it resumed at LATEST, and the reconciler sweeps Salesforce for what the
/// gap may hold.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Gap {
    /// The last saved position, which Salesforce refused (if any).
    pub from: Option<ReplayId>,
    /// The first position after resuming, when known.
    pub to: Option<ReplayId>,
    /// A readable reason, e.g. the Pub/Sub error code.
    pub reason: String,
    /// The start of the window whose events may be lost: the `CreatedDate`
    /// of the last event whose position was saved, when the subscriber knew
    /// it (`None`: unknown, the window is open-ended into the past).
    pub window_start: Option<DateTime<Utc>>,
    /// When the subscriber noticed: the end of the window.
    pub detected_at: DateTime<Utc>,
}

/// Identifies one recorded gap within its topic (opaque; the adapter's key).
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct GapId(String);

impl GapId {
    /// Wraps an adapter's key.
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    /// The adapter's key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A gap the reconciler has not swept yet.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct UnsweptGap {
    /// Which gap.
    pub id: GapId,
    /// What the subscriber recorded.
    pub gap: Gap,
}

/// Replay positions and gaps per topic (e.g. `/event/OrderProvisionRequested__e`).
pub trait ReplayStore: Send + Sync {
    /// The saved position, if any.
    fn load(
        &self,
        topic: &str,
    ) -> impl Future<Output = Result<Option<ReplayId>, StoreError>> + Send;

    /// Saves the position (overwrites).
    fn save(
        &self,
        topic: &str,
        replay_id: &ReplayId,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Records a gap.
    fn record_gap(
        &self,
        topic: &str,
        gap: &Gap,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Every recorded gap of the topic, oldest first.
    fn gaps(&self, topic: &str) -> impl Future<Output = Result<Vec<Gap>, StoreError>> + Send;
}

/// The reconciler's view of the gaps of a topic.
pub trait GapSweeps: Send + Sync {
    /// The gaps of `topic` not swept yet, oldest first.
    fn unswept_gaps(
        &self,
        topic: &str,
    ) -> impl Future<Output = Result<Vec<UnsweptGap>, StoreError>> + Send;

    /// Marks the gap swept at `swept_at`; `false` when no such gap exists.
    fn mark_gap_swept(
        &self,
        topic: &str,
        id: &GapId,
        swept_at: DateTime<Utc>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Where the sweep for `topic` stands; `None` before the first run.
    fn sweep_cursor(
        &self,
        topic: &str,
    ) -> impl Future<Output = Result<Option<SweepCursor>, StoreError>> + Send;

    /// Saves where the sweep for `topic` stands (overwrites).
    fn save_sweep_cursor(
        &self,
        topic: &str,
        cursor: &SweepCursor,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

impl<T: GapSweeps> GapSweeps for Arc<T> {
    fn unswept_gaps(
        &self,
        topic: &str,
    ) -> impl Future<Output = Result<Vec<UnsweptGap>, StoreError>> + Send {
        (**self).unswept_gaps(topic)
    }

    fn mark_gap_swept(
        &self,
        topic: &str,
        id: &GapId,
        swept_at: DateTime<Utc>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        (**self).mark_gap_swept(topic, id, swept_at)
    }

    fn sweep_cursor(
        &self,
        topic: &str,
    ) -> impl Future<Output = Result<Option<SweepCursor>, StoreError>> + Send {
        (**self).sweep_cursor(topic)
    }

    fn save_sweep_cursor(
        &self,
        topic: &str,
        cursor: &SweepCursor,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).save_sweep_cursor(topic, cursor)
    }
}

impl<T: ReplayStore> ReplayStore for Arc<T> {
    fn load(
        &self,
        topic: &str,
    ) -> impl Future<Output = Result<Option<ReplayId>, StoreError>> + Send {
        (**self).load(topic)
    }

    fn save(
        &self,
        topic: &str,
        replay_id: &ReplayId,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).save(topic, replay_id)
    }

    fn record_gap(
        &self,
        topic: &str,
        gap: &Gap,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).record_gap(topic, gap)
    }

    fn gaps(&self, topic: &str) -> impl Future<Output = Result<Vec<Gap>, StoreError>> + Send {
        (**self).gaps(topic)
    }
}
