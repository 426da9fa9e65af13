//! `InMemoryReplayStore`.

use std::collections::HashMap;
use std::sync::Mutex;

use super::lock;
use crate::ports::{Gap, ReplayId, ReplayStore, StoreError};

#[derive(Debug, Default)]
struct Topics {
    positions: HashMap<String, ReplayId>,
    gaps: HashMap<String, Vec<Gap>>,
}

/// [`ReplayStore`] in memory.
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
        let gaps = topics.gaps.entry(topic.to_owned()).or_default();
        gaps.push(gap.clone());
        gaps.sort_by_key(|g| g.detected_at.timestamp_millis());
        Ok(())
    }

    async fn gaps(&self, topic: &str) -> Result<Vec<Gap>, StoreError> {
        Ok(lock(&self.topics)
            .gaps
            .get(topic)
            .cloned()
            .unwrap_or_default())
    }
}
