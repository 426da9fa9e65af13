//! Fault injection: latency, row locks, outages, request limits, writes that
//! commit and then lose their answer, revoked sessions and Pub/Sub stream
//! faults, set by tests (or over `/_emulator/faults`) and consumed by the
//! requests they hit.

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use serde::Deserialize;

use crate::pubsub::PubSubFaults;

/// A fault to inject into the emulated org.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Every request (REST and OAuth) waits this long before being handled.
    Latency(Duration),
    /// The next `n` writes (each DML inside a composite counts; a failing one fails its
    /// whole request) fail with 400 `UNABLE_TO_LOCK_ROW`.
    LockRowOnNextWrites(u32),
    /// The next `n` REST requests answer 503 with an HTML body, nothing done.
    ServiceUnavailable(u32),
    /// The next `after` REST requests are served, then the `n` after them answer
    /// 503 like [`Fault::ServiceUnavailable`]: an outage starting mid-sequence.
    ServiceUnavailableAfter { after: u32, n: u32 },
    /// The next `n` REST requests answer 403 `REQUEST_LIMIT_EXCEEDED`, nothing done;
    /// `concurrent` picks the concurrent-request message over the daily one.
    RequestLimitExceeded { n: u32, concurrent: bool },
    /// The next `n` requests that commit a write (an sObject create, update or
    /// upsert, a `composite` or a `composite/sobjects` that wrote) are committed
    /// and published as usual, then their answer is held for this long: a client
    /// whose timeout is shorter sees a timeout although the write happened.
    CommitThenStall { delay: Duration, n: u32 },
    /// The next `n` requests that commit a write are committed, then their
    /// connection is closed before any byte of the answer is sent, as a
    /// connection dropped by the network after Salesforce committed.
    CommitThenDrop(u32),
    /// Every access token issued so far is revoked now (sessions expire mid-run):
    /// the next REST call with one answers 401 `INVALID_SESSION_ID`.
    RevokeSessions,
    /// Every open Pub/Sub `Subscribe` stream ends now with `UNAVAILABLE`.
    PubSubDropStreams,
    /// Open and new `Subscribe` streams send nothing (no events, no keepalives) but stay
    /// open, as over a half-open connection, until the faults are cleared.
    PubSubSilence,
    /// The next `n` `Subscribe` calls answer `UNAVAILABLE`.
    PubSubUnavailable(u32),
    /// The next `n` `Subscribe` calls are refused with the corrupted-replay error
    /// (`INVALID_ARGUMENT`, `error-code` `sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted`)
    /// whatever their replay preset, once their first `FetchRequest` is read.
    PubSubReplayCorrupted(u32),
}

/// The JSON form of a [`Fault`] accepted by `POST /_emulator/faults`, e.g.
/// `{"type":"latency","millis":200}`, `{"type":"lockRowOnNextWrites","n":1}`,
/// `{"type":"serviceUnavailable","n":2}`,
/// `{"type":"serviceUnavailableAfter","after":1,"n":1}`,
/// `{"type":"requestLimitExceeded","n":1,"concurrent":true}`,
/// `{"type":"commitThenStall","millis":30000,"n":1}`, `{"type":"commitThenDrop","n":1}`,
/// `{"type":"revokeSessions"}`,
/// `{"type":"pubSubDropStreams"}`, `{"type":"pubSubSilence"}`, `{"type":"pubSubUnavailable","n":1}`,
/// `{"type":"pubSubReplayCorrupted","n":1}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase", deny_unknown_fields)]
pub enum FaultSpec {
    Latency {
        millis: u64,
    },
    LockRowOnNextWrites {
        n: u32,
    },
    ServiceUnavailable {
        n: u32,
    },
    ServiceUnavailableAfter {
        after: u32,
        n: u32,
    },
    RequestLimitExceeded {
        n: u32,
        #[serde(default)]
        concurrent: bool,
    },
    CommitThenStall {
        millis: u64,
        n: u32,
    },
    CommitThenDrop {
        n: u32,
    },
    RevokeSessions,
    PubSubDropStreams,
    PubSubSilence,
    PubSubUnavailable {
        n: u32,
    },
    PubSubReplayCorrupted {
        n: u32,
    },
}

impl From<FaultSpec> for Fault {
    fn from(spec: FaultSpec) -> Self {
        match spec {
            FaultSpec::Latency { millis } => Fault::Latency(Duration::from_millis(millis)),
            FaultSpec::LockRowOnNextWrites { n } => Fault::LockRowOnNextWrites(n),
            FaultSpec::ServiceUnavailable { n } => Fault::ServiceUnavailable(n),
            FaultSpec::ServiceUnavailableAfter { after, n } => {
                Fault::ServiceUnavailableAfter { after, n }
            }
            FaultSpec::RequestLimitExceeded { n, concurrent } => {
                Fault::RequestLimitExceeded { n, concurrent }
            }
            FaultSpec::CommitThenStall { millis, n } => Fault::CommitThenStall {
                delay: Duration::from_millis(millis),
                n,
            },
            FaultSpec::CommitThenDrop { n } => Fault::CommitThenDrop(n),
            FaultSpec::RevokeSessions => Fault::RevokeSessions,
            FaultSpec::PubSubDropStreams => Fault::PubSubDropStreams,
            FaultSpec::PubSubSilence => Fault::PubSubSilence,
            FaultSpec::PubSubUnavailable { n } => Fault::PubSubUnavailable(n),
            FaultSpec::PubSubReplayCorrupted { n } => Fault::PubSubReplayCorrupted(n),
        }
    }
}

/// What a REST request must do instead of its work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// 503 with an HTML page.
    Unavailable,
    /// 403 `REQUEST_LIMIT_EXCEEDED`; `true` for the concurrent-request variant.
    LimitExceeded { concurrent: bool },
}

/// What happens to the answer of a request that committed a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterCommit {
    /// The answer is sent this much later.
    Stall(Duration),
    /// The connection is closed without an answer.
    Drop,
}

#[derive(Debug, Default)]
struct Active {
    latency: Option<Duration>,
    lock_rows: u32,
    unavailable: u32,
    /// Requests still to serve before `delayed_outage` starts, and its length.
    delayed_outage: Option<(u32, u32)>,
    limit_exceeded: u32,
    limit_concurrent: bool,
    /// Committed writes still to answer late, and how late.
    stalls: u32,
    stall_delay: Duration,
    /// Committed writes still to answer with a dropped connection.
    drops: u32,
}

/// The faults currently armed in one org.
#[derive(Debug, Default)]
pub struct Faults {
    active: Mutex<Active>,
    /// The Pub/Sub face's faults (signalled to open streams).
    pub pubsub: PubSubFaults,
}

impl Faults {
    fn lock(&self) -> MutexGuard<'_, Active> {
        self.active.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Arms a fault; counts add up with what is already armed.
    /// [`Fault::RevokeSessions`] is carried out by the org (it owns the sessions):
    /// here it arms nothing.
    pub fn inject(&self, fault: Fault) {
        let mut active = self.lock();
        match fault {
            Fault::Latency(d) => active.latency = Some(d),
            Fault::LockRowOnNextWrites(n) => active.lock_rows = active.lock_rows.saturating_add(n),
            Fault::ServiceUnavailable(n) => {
                active.unavailable = active.unavailable.saturating_add(n)
            }
            Fault::ServiceUnavailableAfter { after, n } => active.delayed_outage = Some((after, n)),
            Fault::RequestLimitExceeded { n, concurrent } => {
                active.limit_exceeded = active.limit_exceeded.saturating_add(n);
                active.limit_concurrent = concurrent;
            }
            Fault::CommitThenStall { delay, n } => {
                active.stalls = active.stalls.saturating_add(n);
                active.stall_delay = delay;
            }
            Fault::CommitThenDrop(n) => active.drops = active.drops.saturating_add(n),
            Fault::RevokeSessions => {}
            Fault::PubSubDropStreams => self.pubsub.drop_streams(),
            Fault::PubSubSilence => self.pubsub.set_silent(true),
            Fault::PubSubUnavailable(n) => self.pubsub.refuse_subscriptions(n),
            Fault::PubSubReplayCorrupted(n) => self.pubsub.refuse_as_corrupted(n),
        }
    }

    /// Disarms every fault.
    pub fn clear(&self) {
        *self.lock() = Active::default();
        self.pubsub.clear();
    }

    /// The latency every request must wait, if any.
    pub fn latency(&self) -> Option<Duration> {
        self.lock().latency
    }

    /// Takes one pending REST refusal, if any (outages first).
    pub fn take_refusal(&self) -> Option<Refusal> {
        let mut active = self.lock();
        if active.unavailable > 0 {
            active.unavailable -= 1;
            return Some(Refusal::Unavailable);
        }
        if let Some((after, n)) = active.delayed_outage {
            active.delayed_outage = match (after, n) {
                (_, 0) => None,
                (0, n) => Some((0, n - 1)),
                (after, n) => Some((after - 1, n)),
            };
            if after == 0 && n > 0 {
                return Some(Refusal::Unavailable);
            }
        }
        if active.limit_exceeded > 0 {
            active.limit_exceeded -= 1;
            return Some(Refusal::LimitExceeded {
                concurrent: active.limit_concurrent,
            });
        }
        None
    }

    /// What to do with the answer of a request that has just committed a write, if a
    /// fault says so (and consumes it): drops first, then stalls.
    pub fn take_after_commit(&self) -> Option<AfterCommit> {
        let mut active = self.lock();
        if active.drops > 0 {
            active.drops -= 1;
            return Some(AfterCommit::Drop);
        }
        if active.stalls > 0 {
            active.stalls -= 1;
            return Some(AfterCommit::Stall(active.stall_delay));
        }
        None
    }

    /// True when this write must fail with `UNABLE_TO_LOCK_ROW` (and consumes it).
    pub fn take_lock_row(&self) -> bool {
        let mut active = self.lock();
        if active.lock_rows > 0 {
            active.lock_rows -= 1;
            true
        } else {
            false
        }
    }
}

/// Waits until `latency` after `since`, to within microseconds. tokio's timer
/// rounds a deadline up to the next millisecond and wakes on a millisecond
/// tick, so a plain `sleep(latency)` lasts about 1 ms longer than asked, and
/// every emulated call with it: a latency bench would count that as the
/// caller's own time. So: sleep to 1 ms short of the deadline, then yield
/// until it is due.
pub async fn wait_out(since: std::time::Instant, latency: Duration) {
    let due = since + latency;
    if let Some(coarse) = latency.checked_sub(Duration::from_millis(1)) {
        tokio::time::sleep_until((since + coarse).into()).await;
    }
    while std::time::Instant::now() < due {
        tokio::task::yield_now().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delayed_outage_serves_the_first_requests_then_refuses_the_next_ones() {
        let faults = Faults::default();
        faults.inject(Fault::ServiceUnavailableAfter { after: 2, n: 2 });
        let seen: Vec<_> = (0..6).map(|_| faults.take_refusal()).collect();
        assert_eq!(
            seen,
            [
                None,
                None,
                Some(Refusal::Unavailable),
                Some(Refusal::Unavailable),
                None,
                None
            ]
        );
    }

    #[test]
    fn counted_faults_are_consumed_then_gone() {
        let faults = Faults::default();
        faults.inject(Fault::ServiceUnavailable(1));
        faults.inject(Fault::RequestLimitExceeded {
            n: 1,
            concurrent: true,
        });
        assert_eq!(faults.take_refusal(), Some(Refusal::Unavailable));
        assert_eq!(
            faults.take_refusal(),
            Some(Refusal::LimitExceeded { concurrent: true })
        );
        assert_eq!(faults.take_refusal(), None);
        faults.inject(Fault::LockRowOnNextWrites(2));
        assert!(faults.take_lock_row());
        faults.clear();
        assert!(!faults.take_lock_row());
    }

    #[test]
    fn fault_specs_parse_from_json() {
        let spec: FaultSpec =
            serde_json::from_str(r#"{"type":"requestLimitExceeded","n":2}"#).unwrap();
        assert!(matches!(
            Fault::from(spec),
            Fault::RequestLimitExceeded {
                n: 2,
                concurrent: false
            }
        ));
        let spec: FaultSpec = serde_json::from_str(r#"{"type":"latency","millis":5}"#).unwrap();
        assert!(matches!(Fault::from(spec), Fault::Latency(d) if d == Duration::from_millis(5)));
        let spec: FaultSpec =
            serde_json::from_str(r#"{"type":"commitThenStall","millis":7,"n":2}"#).unwrap();
        assert!(matches!(
            Fault::from(spec),
            Fault::CommitThenStall { delay, n: 2 } if delay == Duration::from_millis(7)
        ));
        let spec: FaultSpec = serde_json::from_str(r#"{"type":"commitThenDrop","n":3}"#).unwrap();
        assert!(matches!(Fault::from(spec), Fault::CommitThenDrop(3)));
        let spec: FaultSpec = serde_json::from_str(r#"{"type":"revokeSessions"}"#).unwrap();
        assert!(matches!(Fault::from(spec), Fault::RevokeSessions));
        assert!(serde_json::from_str::<FaultSpec>(r#"{"type":"commitThenDrop"}"#).is_err());
    }

    #[test]
    fn answers_of_committed_writes_are_dropped_then_stalled_n_times() {
        let faults = Faults::default();
        assert_eq!(faults.take_after_commit(), None);
        faults.inject(Fault::CommitThenStall {
            delay: Duration::from_millis(9),
            n: 1,
        });
        faults.inject(Fault::CommitThenDrop(1));
        assert_eq!(faults.take_after_commit(), Some(AfterCommit::Drop));
        assert_eq!(
            faults.take_after_commit(),
            Some(AfterCommit::Stall(Duration::from_millis(9)))
        );
        assert_eq!(faults.take_after_commit(), None);
    }
}
