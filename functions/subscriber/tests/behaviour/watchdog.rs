//! A stream gone silent (half-open connection): the watchdog trips, the
//! subscriber resubscribes from the saved replay id, and later events arrive.

use std::time::Duration;

use salesforce_emulator::{EmulatorConfig, Fault};

use crate::helpers::{eventually, memory_ports, org_with, settings, spawn};

#[tokio::test]
async fn a_silent_stream_is_restarted_and_later_events_still_arrive() {
    let org = org_with(
        EmulatorConfig {
            pubsub_keepalive_interval: Duration::from_millis(20),
            ..EmulatorConfig::default()
        },
        Duration::from_millis(300),
    )
    .await;
    let ports = memory_ports(&org);
    let first = org.publish();
    let running = spawn(ports.clone(), settings("watchdog-test"));
    eventually("the first event is forwarded", || async {
        ports.queue.len() == 1
    })
    .await;

    org.emulator.inject(Fault::PubSubSilence);
    let during = org.publish();
    eventually("the watchdog restarts the stream", || async {
        running.metrics.snapshot().reconnects >= 1
    })
    .await;
    org.emulator.clear_faults();
    let after = org.publish();
    eventually("the later events are forwarded", || async {
        ports.queue.len() == 3
    })
    .await;
    let metrics = running.metrics.clone();
    running.stop().await.unwrap();

    let ids: Vec<String> = ports
        .queue
        .receive(10)
        .into_iter()
        .map(|d| d.message.as_ref().unwrap().dedup_id().to_owned())
        .collect();
    assert_eq!(ids, [first.event_id, during.event_id, after.event_id]);
    assert!(metrics.snapshot().reconnects >= 1);
    assert_eq!(metrics.snapshot().gap_records, 0);
}
