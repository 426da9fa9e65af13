//! The platform-event bus of the emulated org: `OrderProvisionRequested__e`
//! events with strictly increasing 8-byte big-endian replay ids, kept for the
//! retention period and broadcast live to subscribers.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use salesforce::schema::order_provision_requested;
use tokio::sync::broadcast;

/// How many live events a slow subscriber may fall behind before it lags.
const LIVE_CAPACITY: usize = 4096;

/// One published `OrderProvisionRequested__e`.
#[derive(Debug, Clone, PartialEq)]
pub struct PublishedEvent {
    /// Strictly increasing, big-endian counter.
    pub replay_id: [u8; 8],
    /// UUID, unique per event.
    pub event_id: String,
    /// Stable id of the event's Avro schema (see [`schema_id`]).
    pub schema_id: String,
    pub created_date: DateTime<Utc>,
    /// The user whose write triggered the flow.
    pub created_by_id: String,
    pub order_id: String,
    /// `"<OrderId>-<flow timestamp>"`.
    pub idem_key: String,
    pub correlation_id: String,
    /// The user who requested provisioning (same as `created_by_id` for the flow).
    pub requested_by: String,
    /// The event schema version.
    pub version: f64,
}

/// The content of an event to publish; the bus assigns replay id, event id and schema id.
#[derive(Debug, Clone, PartialEq)]
pub struct EventPayload {
    pub created_date: DateTime<Utc>,
    pub created_by_id: String,
    pub order_id: String,
    pub idem_key: String,
    pub correlation_id: String,
    pub requested_by: String,
    pub version: f64,
}

impl EventPayload {
    /// The event the Order Approval Flow publishes for `order_id`, run by `user_id` at `now`.
    pub fn for_order(order_id: &str, user_id: &str, now: DateTime<Utc>) -> Self {
        EventPayload {
            created_date: now,
            created_by_id: user_id.to_owned(),
            order_id: order_id.to_owned(),
            idem_key: format!("{order_id}-{}", now.format("%Y-%m-%dT%H:%M:%S%.3fZ")),
            correlation_id: uuid::Uuid::new_v4().to_string(),
            requested_by: user_id.to_owned(),
            version: order_provision_requested::CURRENT_VERSION,
        }
    }
}

/// The stable schema id of `OrderProvisionRequested__e`: a 22-character
/// base64url digest of its Avro schema, shaped like Salesforce's.
pub fn schema_id() -> String {
    let schema = order_provision_requested::DEF.avro_schema;
    // FNV-1a, 128 bits: stable across runs and platforms.
    let mut hash: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    for b in schema.bytes() {
        hash ^= u128::from(b);
        hash = hash.wrapping_mul(0x0000_0000_0100_0000_0000_0000_0000_013B);
    }
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(hash.to_be_bytes())
}

/// The Avro schema (JSON) of the events this bus carries.
pub fn schema_json() -> &'static str {
    order_provision_requested::DEF.avro_schema
}

#[derive(Debug)]
struct Retained {
    events: VecDeque<PublishedEvent>,
    next_replay: u64,
}

/// A clone-able handle on the org's event bus.
#[derive(Clone, Debug)]
pub struct EventBus {
    retained: Arc<Mutex<Retained>>,
    live: broadcast::Sender<PublishedEvent>,
    retention: Duration,
}

impl EventBus {
    /// An empty bus keeping events for `retention`.
    pub fn new(retention: Duration) -> Self {
        let (live, _) = broadcast::channel(LIVE_CAPACITY);
        EventBus {
            retained: Arc::new(Mutex::new(Retained {
                events: VecDeque::new(),
                next_replay: 1,
            })),
            live,
            retention,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Retained> {
        // A panic while holding this lock leaves the queue consistent; keep going.
        self.retained.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn prune(&self, retained: &mut Retained) {
        let Ok(retention) = chrono::Duration::from_std(self.retention) else {
            return;
        };
        let horizon = Utc::now() - retention;
        while retained
            .events
            .front()
            .is_some_and(|e| e.created_date < horizon)
        {
            retained.events.pop_front();
        }
    }

    /// The retained events, oldest first.
    pub fn all(&self) -> Vec<PublishedEvent> {
        self.after(None)
    }

    /// The retained events published after `replay_id` (all of them when `None`).
    pub fn after(&self, replay_id: Option<[u8; 8]>) -> Vec<PublishedEvent> {
        let mut retained = self.lock();
        self.prune(&mut retained);
        retained
            .events
            .iter()
            .filter(|e| replay_id.is_none_or(|r| e.replay_id > r))
            .cloned()
            .collect()
    }

    /// The replay id of the newest event ever published, if any.
    pub fn latest_replay_id(&self) -> Option<[u8; 8]> {
        let retained = self.lock();
        retained
            .next_replay
            .checked_sub(1)
            .filter(|n| *n > 0)
            .map(u64::to_be_bytes)
    }

    /// True when `replay_id` was issued by this bus and its event is still retained.
    pub fn is_retained(&self, replay_id: [u8; 8]) -> bool {
        let mut retained = self.lock();
        self.prune(&mut retained);
        retained.events.iter().any(|e| e.replay_id == replay_id)
    }

    /// A live feed of events published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<PublishedEvent> {
        self.live.subscribe()
    }

    /// Publishes an event: assigns its replay id, event id and schema id, retains and broadcasts it.
    pub fn publish(&self, payload: EventPayload) -> PublishedEvent {
        let mut retained = self.lock();
        self.prune(&mut retained);
        let replay = retained.next_replay;
        retained.next_replay += 1;
        let event = PublishedEvent {
            replay_id: replay.to_be_bytes(),
            event_id: uuid::Uuid::new_v4().to_string(),
            schema_id: schema_id(),
            created_date: payload.created_date,
            created_by_id: payload.created_by_id,
            order_id: payload.order_id,
            idem_key: payload.idem_key,
            correlation_id: payload.correlation_id,
            requested_by: payload.requested_by,
            version: payload.version,
        };
        retained.events.push_back(event.clone());
        // Sent under the lock so live subscribers see events in replay order.
        // No receiver is not an error: nobody listens yet.
        let _ = self.live.send(event.clone());
        event
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replay_ids_increase_and_after_filters() {
        let bus = EventBus::new(Duration::from_secs(3600));
        assert_eq!(bus.latest_replay_id(), None);
        let a = bus.publish(EventPayload::for_order(
            "801Em0000000001AAA",
            "005x",
            Utc::now(),
        ));
        let b = bus.publish(EventPayload::for_order(
            "801Em0000000001AAA",
            "005x",
            Utc::now(),
        ));
        assert!(b.replay_id > a.replay_id);
        assert_ne!(a.event_id, b.event_id);
        assert_eq!(bus.latest_replay_id(), Some(b.replay_id));
        assert_eq!(bus.after(Some(a.replay_id)), vec![b.clone()]);
        assert_eq!(bus.all().len(), 2);
        assert!(bus.is_retained(a.replay_id));
    }

    #[test]
    fn events_older_than_the_retention_are_dropped() {
        let bus = EventBus::new(Duration::from_secs(60));
        let old = Utc::now() - chrono::Duration::hours(1);
        bus.publish(EventPayload::for_order("801Em0000000001AAA", "005x", old));
        assert!(bus.all().is_empty());
        assert!(bus.latest_replay_id().is_some());
    }

    #[test]
    fn schema_id_is_stable_and_shaped_like_salesforce() {
        assert_eq!(schema_id(), schema_id());
        assert_eq!(schema_id().len(), 22);
    }
}
