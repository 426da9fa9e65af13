//! One active subscriber: a second instance waits on the lease and takes
//! over when the first stops renewing; an instance that loses its lease
//! stops consuming at once.

use std::time::Duration;

use portal_core::ports::{LeaseAcquisition, LeaseOwner, SubscriberLease as _};

use crate::helpers::{eventually, memory_ports, org, settings, spawn};

#[tokio::test]
async fn a_second_instance_waits_and_takes_over_when_the_first_stops_renewing() {
    let org = org().await;
    let ports = memory_ports(&org);
    let mut fast = settings("instance-a");
    fast.lease_ttl = Duration::from_millis(600);
    let first = spawn(ports.clone(), fast.clone());
    let e1 = org.publish();
    eventually("the first instance forwards", || async {
        ports.queue.len() == 1
    })
    .await;

    let mut other = fast.clone();
    other.instance = LeaseOwner::new("instance-b").unwrap();
    let second = spawn(ports.clone(), other);
    eventually("the second instance finds the lease held", || async {
        second.metrics.snapshot().lease_waits >= 3
    })
    .await;
    assert_eq!(
        org.emulator.pubsub_stats().subscribe_calls,
        1,
        "only the first subscribed"
    );
    assert_eq!(second.metrics.snapshot().events_received, 0);

    // The first instance dies without releasing: its lease lapses.
    first.handle.abort();
    let _ = first.handle.await;
    let e2 = org.publish();
    eventually("the second instance takes over and forwards", || async {
        ports.queue.len() == 2
    })
    .await;
    assert_eq!(second.metrics.snapshot().events_forwarded, 1);
    second.stop().await.unwrap();
    let ids: Vec<String> = ports
        .queue
        .receive(10)
        .into_iter()
        .map(|d| d.message.as_ref().unwrap().dedup_id().to_owned())
        .collect();
    assert_eq!(
        ids,
        [e1.event_id, e2.event_id],
        "resumed from the saved position"
    );
}

#[tokio::test]
async fn an_instance_that_loses_its_lease_stops_consuming_and_waits() {
    let org = org().await;
    let ports = memory_ports(&org);
    let mut s = settings("instance-a");
    s.lease_ttl = Duration::from_millis(300);
    let name = s.lease_name.clone();
    let running = spawn(ports.clone(), s);
    org.publish();
    eventually("the event is forwarded", || async {
        ports.queue.len() == 1
    })
    .await;

    // Another owner takes the lease (as after a long pause of this one).
    let thief = LeaseOwner::new("thief").unwrap();
    let later = chrono::Utc::now() + chrono::TimeDelta::hours(1);
    let taken = ports
        .lease
        .acquire(&name, &thief, Duration::from_secs(7200), later)
        .await
        .unwrap();
    assert!(matches!(taken, LeaseAcquisition::Acquired { .. }));
    eventually("the instance notices and waits", || async {
        let m = running.metrics.snapshot();
        m.leases_lost == 1 && m.lease_waits >= 1
    })
    .await;
    eventually("its stream is gone", || async {
        org.emulator.pubsub_stats().open_streams == 0
    })
    .await;
    let missed = org.publish();
    assert_eq!(
        ports.queue.len(),
        1,
        "nobody consumes while the thief holds the lease"
    );

    ports.lease.release(&name, &thief).await.unwrap();
    eventually("it takes the lease back and catches up", || async {
        ports.queue.len() == 2
    })
    .await;
    running.stop().await.unwrap();
    let last = ports.queue.receive(10).pop().unwrap();
    assert_eq!(last.message.as_ref().unwrap().dedup_id(), missed.event_id);
}
