//! The `ReplayStore` port: the Pub/Sub replay position per topic, and the
//! gaps the subscriber could not replay.
//!
//! The subscriber saves a replay id only after SQS accepted every event up to
//! it, so any saved position is safe to resume from; a save simply overwrites.
//! Two subscribers racing (a zombie after a lease takeover) can only move the
//! position to another safe point (at worst backwards, which replays events
//! the queue deduplicates), never past an event that was not sent.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::StoreError;

/// A Pub/Sub replay id: opaque bytes (no arithmetic, no ordering), never empty.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ReplayId(Vec<u8>);

impl ReplayId {
    /// Wraps the bytes; `None` when empty.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Option<Self> {
        let bytes = bytes.into();
        (!bytes.is_empty()).then_some(Self(bytes))
    }

    /// The bytes, as Salesforce sent them.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for ReplayId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ReplayId(")?;
        for b in &self.0 {
            write!(f, "{b:02x}")?;
        }
        f.write_str(")")
    }
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
    /// When the subscriber noticed.
    pub detected_at: DateTime<Utc>,
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
