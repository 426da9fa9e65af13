//! One `Subscribe` stream: events are sent only while the client is owed some
//! (never more than it asked for, the owed count capped at 100); a keepalive
//! carrying `latest_replay_id` goes out when requests are pending and nothing
//! was sent for the keepalive interval; a stream owed nothing for the idle time
//! is closed. The fault switches can silence or drop it.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use salesforce::pubsub::MAX_OWED_EVENTS;
use salesforce::pubsub::proto::{ConsumerEvent, FetchRequest, FetchResponse, ProducerEvent};
use tokio::sync::{broadcast, mpsc};
use tokio::time::Instant;
use tonic::{Status, Streaming};

use super::PubSubState;
use super::service::rpc_id;
use crate::events::PublishedEvent;
use crate::server::Shared;

/// Where a stream starts: the events to send first and the replay id after
/// which live events count.
#[derive(Debug)]
pub(crate) struct Start {
    /// Live events at or before this id are already in `backlog` or not wanted.
    pub after: Option<[u8; 8]>,
    /// Retained events to send first, oldest first.
    pub backlog: Vec<PublishedEvent>,
}

/// The status a stream left without requests is closed with.
pub(crate) fn idle_status(idle: Duration) -> Status {
    Status::unavailable(format!(
        "The subscription was closed: no FetchRequest within {} ms after all requested \
         events were delivered",
        idle.as_millis()
    ))
}

type Outbound = mpsc::Sender<Result<FetchResponse, Status>>;

/// Counts the stream as open for as long as it lives (from before the call returns).
struct OpenStream(Arc<Shared>);

impl OpenStream {
    fn new(shared: Arc<Shared>) -> Self {
        shared.pubsub.open_streams.fetch_add(1, Ordering::SeqCst);
        Self(shared)
    }
}

impl Drop for OpenStream {
    fn drop(&mut self) {
        self.0.pubsub.open_streams.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Runs the stream on its own task.
pub(crate) fn spawn(
    shared: Arc<Shared>,
    inbound: Streaming<FetchRequest>,
    live: broadcast::Receiver<PublishedEvent>,
    start: Start,
    first_requested: i32,
    outbound: Outbound,
) {
    let open = OpenStream::new(shared);
    tokio::spawn(async move {
        run(&open.0, inbound, live, start, first_requested, outbound).await;
    });
}

/// Adds a request to the owed count, capped at 100 (negative requests add nothing).
fn add_requested(state: &PubSubState, owed: &mut u32, requested: i32) {
    let requested = u32::try_from(requested).unwrap_or(0);
    *owed = owed.saturating_add(requested).min(MAX_OWED_EVENTS);
    state.max_owed.fetch_max(*owed, Ordering::SeqCst);
}

async fn at(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

fn latest_replay_id(shared: &Shared) -> Vec<u8> {
    shared
        .events
        .latest_replay_id()
        .map(|id| id.to_vec())
        .unwrap_or_default()
}

fn pending(owed: u32) -> i32 {
    i32::try_from(owed).unwrap_or(i32::MAX)
}

async fn run(
    shared: &Shared,
    mut inbound: Streaming<FetchRequest>,
    mut live: broadcast::Receiver<PublishedEvent>,
    start: Start,
    first_requested: i32,
    outbound: Outbound,
) {
    let state = &shared.pubsub;
    let keepalive_interval = shared.config.pubsub_keepalive_interval;
    let idle_timeout = shared.config.pubsub_idle_timeout;
    let mut drops = shared.faults.pubsub.watch_drops();
    let mut silence = shared.faults.pubsub.watch_silence();
    let mut queue: VecDeque<PublishedEvent> = start.backlog.into();
    let mut cursor = queue.back().map(|e| e.replay_id).or(start.after);
    let mut owed = 0;
    add_requested(state, &mut owed, first_requested);
    let mut last_sent = Instant::now();
    let mut idle_since = (owed == 0).then(Instant::now);
    loop {
        let silent = *silence.borrow_and_update();
        if !silent && owed > 0 && !queue.is_empty() {
            let n = queue.len().min(owed as usize);
            let mut events = Vec::with_capacity(n);
            for event in queue.drain(..n) {
                let payload = match state.payload(&event) {
                    Ok(payload) => payload,
                    Err(error) => {
                        let _ = outbound
                            .send(Err(Status::internal(error.to_string())))
                            .await;
                        return;
                    }
                };
                events.push(ConsumerEvent {
                    event: Some(ProducerEvent {
                        id: event.event_id,
                        schema_id: event.schema_id,
                        payload,
                        headers: Vec::new(),
                    }),
                    replay_id: event.replay_id.to_vec(),
                });
            }
            owed -= u32::try_from(n).unwrap_or(owed);
            let event_ids: Vec<String> = if shared.observed.is_on() {
                events
                    .iter()
                    .filter_map(|e| e.event.as_ref().map(|p| p.id.clone()))
                    .collect()
            } else {
                Vec::new()
            };
            let response = FetchResponse {
                events,
                latest_replay_id: latest_replay_id(shared),
                rpc_id: rpc_id(),
                pending_num_requested: pending(owed),
            };
            if outbound.send(Ok(response)).await.is_err() {
                return;
            }
            last_sent = Instant::now();
            for id in &event_ids {
                shared.observed.streamed(id, last_sent.into_std());
            }
            if owed == 0 {
                idle_since = Some(last_sent);
            }
            continue;
        }
        let keepalive_at = (!silent && owed > 0).then(|| last_sent + keepalive_interval);
        let idle_at = idle_since
            .filter(|_| !silent)
            .map(|since| since + idle_timeout);
        tokio::select! {
            biased;
            _ = drops.changed() => {
                let _ = outbound
                    .send(Err(Status::unavailable("The stream was reset by the server (injected)")))
                    .await;
                return;
            }
            _ = silence.changed() => {
                // Timers restart when the stream speaks again.
                last_sent = Instant::now();
                idle_since = idle_since.map(|_| last_sent);
            }
            message = inbound.message() => match message {
                Ok(Some(request)) => {
                    let before = owed;
                    add_requested(state, &mut owed, request.num_requested);
                    if owed > 0 {
                        idle_since = None;
                        if before == 0 {
                            last_sent = Instant::now();
                        }
                    }
                }
                // The client went away or half-closed: nothing more to do.
                Ok(None) | Err(_) => return,
            },
            event = live.recv() => match event {
                Ok(event) => {
                    if cursor.is_none_or(|c| event.replay_id > c) {
                        cursor = Some(event.replay_id);
                        queue.push_back(event);
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    for event in shared.events.after(cursor) {
                        cursor = Some(event.replay_id);
                        queue.push_back(event);
                    }
                }
                Err(broadcast::error::RecvError::Closed) => return,
            },
            () = at(keepalive_at) => {
                let keepalive = FetchResponse {
                    events: Vec::new(),
                    latest_replay_id: latest_replay_id(shared),
                    rpc_id: rpc_id(),
                    pending_num_requested: pending(owed),
                };
                if outbound.send(Ok(keepalive)).await.is_err() {
                    return;
                }
                state.keepalives.fetch_add(1, Ordering::SeqCst);
                last_sent = Instant::now();
            }
            () = at(idle_at) => {
                state.idle_closes.fetch_add(1, Ordering::SeqCst);
                let _ = outbound.send(Err(idle_status(idle_timeout))).await;
                return;
            }
        }
    }
}
