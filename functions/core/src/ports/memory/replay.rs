//! `InMemoryReplayStore`.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use super::lock;
use crate::domain::ReplayId;
use crate::ports::{Gap, GapId, GapSweeps, ReplayStore, StoreError, SweepCursor, UnsweptGap};

#[derive(Debug, Clone)]
struct StoredGap {
    id: GapId,
    gap: Gap,
    swept_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Default)]
struct Topics {
    positions: HashMap<String, ReplayId>,
    gaps: HashMap<String, Vec<StoredGap>>,
    next_gap: u64,
    cursors: HashMap<String, SweepCursor>,
}

/// [`ReplayStore`] (and [`GapSweeps`]) in memory.
#[derive(Debug, Default)]
pub struct InMemoryReplayStore {
    topics: Mutex<Topics>,
}

impl InMemoryReplayStore {
    /// No position saved.
    pub fn new() -> Self {
        Self::default()
    }
}

impl ReplayStore for InMemoryReplayStore {
    async fn load(&self, topic: &str) -> Result<Option<ReplayId>, StoreError> {
        Ok(lock(&self.topics).positions.get(topic).cloned())
    }

    async fn save(&self, topic: &str, replay_id: &ReplayId) -> Result<(), StoreError> {
        lock(&self.topics)
            .positions
            .insert(topic.to_owned(), replay_id.clone());
        Ok(())
    }

    async fn record_gap(&self, topic: &str, gap: &Gap) -> Result<(), StoreError> {
        let mut topics = lock(&self.topics);
        topics.next_gap += 1;
        let id = GapId::new(format!("gap-{}", topics.next_gap));
        let gaps = topics.gaps.entry(topic.to_owned()).or_default();
        gaps.push(StoredGap {
            id,
            gap: gap.clone(),
            swept_at: None,
        });
        gaps.sort_by_key(|g| g.gap.detected_at.timestamp_millis());
        Ok(())
    }

    async fn gaps(&self, topic: &str) -> Result<Vec<Gap>, StoreError> {
        Ok(lock(&self.topics)
            .gaps
            .get(topic)
            .map(|gaps| gaps.iter().map(|g| g.gap.clone()).collect())
            .unwrap_or_default())
    }
}

impl GapSweeps for InMemoryReplayStore {
    async fn unswept_gaps(&self, topic: &str) -> Result<Vec<UnsweptGap>, StoreError> {
        Ok(lock(&self.topics)
            .gaps
            .get(topic)
            .map(|gaps| {
                gaps.iter()
                    .filter(|g| g.swept_at.is_none())
                    .map(|g| UnsweptGap {
                        id: g.id.clone(),
                        gap: g.gap.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn mark_gap_swept(
        &self,
        topic: &str,
        id: &GapId,
        swept_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut topics = lock(&self.topics);
        let found = topics
            .gaps
            .get_mut(topic)
            .and_then(|gaps| gaps.iter_mut().find(|g| &g.id == id));
        Ok(found.map(|g| g.swept_at = Some(swept_at)).is_some())
    }

    async fn sweep_cursor(&self, topic: &str) -> Result<Option<SweepCursor>, StoreError> {
        Ok(lock(&self.topics).cursors.get(topic).cloned())
    }

    async fn save_sweep_cursor(&self, topic: &str, cursor: &SweepCursor) -> Result<(), StoreError> {
        lock(&self.topics)
            .cursors
            .insert(topic.to_owned(), cursor.clone());
        Ok(())
    }
}
