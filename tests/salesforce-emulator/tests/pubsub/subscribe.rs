//! Subscribe: presets, the owed count and its cap, keepalives, the idle close,
//! the corrupted replay id and the fault switches.

use std::time::Duration;

use apache_avro::Schema;
use salesforce::pubsub::REPLAY_ID_CORRUPTED_CODE;
use salesforce::pubsub::proto::ReplayPreset;
use salesforce_emulator::events::schema_json;
use salesforce_emulator::pubsub::UNDECODABLE_PAYLOAD;
use salesforce_emulator::{EmulatorConfig, EventPayload, Fault};
use tonic::Code;

use crate::helpers::{error_code, events, fast, first, more, org, org_with};

#[tokio::test]
async fn earliest_replays_in_order_with_avro_payloads_and_custom_resumes_after_the_id() {
    let org = org().await;
    let published: Vec<_> = (0..3).map(|_| org.publish()).collect();
    let (_tx, mut stream) = org
        .subscribe(first(ReplayPreset::Earliest, Vec::new(), 10))
        .await
        .unwrap();
    let received: Vec<_> = events(&mut stream, 3)
        .await
        .into_iter()
        .flat_map(|r| r.events)
        .collect();
    let ids: Vec<_> = received.iter().map(|e| e.replay_id.clone()).collect();
    let expected: Vec<_> = published.iter().map(|e| e.replay_id.to_vec()).collect();
    assert_eq!(ids, expected);
    let schema = Schema::parse_str(schema_json()).unwrap();
    let event = received[1].event.as_ref().unwrap();
    assert_eq!(event.id, published[1].event_id);
    assert!(event.headers.is_empty());
    let value = apache_avro::from_avro_datum(&schema, &mut event.payload.as_slice(), None).unwrap();
    let apache_avro::types::Value::Record(fields) = value else {
        panic!("a record");
    };
    assert_eq!(
        fields[2].1,
        apache_avro::types::Value::Union(
            1,
            Box::new(apache_avro::types::Value::String(
                published[1].order_id.clone()
            ))
        )
    );

    let (_tx, mut stream) = org
        .subscribe(first(
            ReplayPreset::Custom,
            published[0].replay_id.to_vec(),
            10,
        ))
        .await
        .unwrap();
    let resumed: Vec<_> = events(&mut stream, 2)
        .await
        .into_iter()
        .flat_map(|r| r.events)
        .map(|e| e.replay_id)
        .collect();
    assert_eq!(resumed, expected[1..].to_vec());
}

#[tokio::test]
async fn the_owed_count_is_capped_at_100_and_never_exceeded() {
    let org = org().await;
    for _ in 0..130 {
        org.publish();
    }
    let (tx, mut stream) = org
        .subscribe(first(ReplayPreset::Earliest, Vec::new(), 150))
        .await
        .unwrap();
    let mut delivered = 0;
    loop {
        let response = stream.message().await.unwrap().unwrap();
        if response.events.is_empty() {
            break; // a keepalive or nothing more: everything owed was sent
        }
        delivered += response.events.len();
        if response.pending_num_requested == 0 {
            break;
        }
    }
    assert_eq!(delivered, 100);
    assert_eq!(org.emu.pubsub_stats().max_owed, 100);
    tx.send(more(40)).unwrap();
    let rest: usize = events(&mut stream, 30)
        .await
        .iter()
        .map(|r| r.events.len())
        .sum();
    assert_eq!(rest, 30);
}

#[tokio::test]
async fn pending_requests_get_keepalives_with_the_latest_replay_id() {
    let org = org_with(fast()).await;
    let old = org.publish();
    let (_tx, mut stream) = org
        .subscribe(first(ReplayPreset::Latest, Vec::new(), 5))
        .await
        .unwrap();
    let keepalive = stream.message().await.unwrap().unwrap();
    assert!(keepalive.events.is_empty());
    assert_eq!(keepalive.latest_replay_id, old.replay_id.to_vec());
    assert_eq!(keepalive.pending_num_requested, 5);
    assert!(org.emu.pubsub_stats().keepalives >= 1);
}

#[tokio::test]
async fn a_stream_owed_nothing_is_closed_after_the_idle_time() {
    let org = org_with(fast()).await;
    let (_tx, mut stream) = org
        .subscribe(first(ReplayPreset::Latest, Vec::new(), 1))
        .await
        .unwrap();
    org.publish();
    org.publish();
    let delivered = events(&mut stream, 1).await;
    assert_eq!(delivered[0].events.len(), 1);
    assert_eq!(delivered[0].pending_num_requested, 0);
    // Nothing more is owed: the second event is held back and the stream closes.
    let status = stream.message().await.unwrap_err();
    assert_eq!(status.code(), Code::Unavailable);
    let stats = org.emu.pubsub_stats();
    assert_eq!(stats.idle_closes, 1);
}

#[tokio::test]
async fn replay_ids_not_retained_or_malformed_are_refused_as_corrupted() {
    let org = org_with(EmulatorConfig {
        event_retention: Duration::from_secs(3600),
        ..EmulatorConfig::default()
    })
    .await;
    let expired = org.emu.events().publish(EventPayload::for_order(
        &salesforce_emulator::ids::random_id("801"),
        &org.emu.admin_user_id(),
        chrono::Utc::now() - chrono::Duration::hours(2),
    ));
    let never_issued = 9_999u64.to_be_bytes().to_vec();
    for replay_id in [expired.replay_id.to_vec(), never_issued, vec![1, 2, 3]] {
        let status = org
            .subscribe(first(ReplayPreset::Custom, replay_id.clone(), 1))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{replay_id:?}");
        assert_eq!(
            error_code(&status).as_deref(),
            Some(REPLAY_ID_CORRUPTED_CODE)
        );
    }
}

#[tokio::test]
async fn faults_refuse_drop_and_silence_streams() {
    let org = org().await;
    org.emu.inject(Fault::PubSubUnavailable(1));
    let status = org
        .subscribe(first(ReplayPreset::Latest, Vec::new(), 5))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unavailable);

    let (_tx, mut stream) = org
        .subscribe(first(ReplayPreset::Latest, Vec::new(), 5))
        .await
        .unwrap();
    assert_eq!(org.emu.pubsub_stats().open_streams, 1);
    org.emu.inject(Fault::PubSubSilence);
    let held = org.publish();
    org.emu.clear_faults();
    let delivered = events(&mut stream, 1).await;
    assert_eq!(
        delivered[0].events[0].replay_id,
        held.replay_id.to_vec(),
        "a silenced stream holds events back, it does not lose them"
    );

    org.emu.inject(Fault::PubSubDropStreams);
    let status = stream.message().await.unwrap_err();
    assert_eq!(status.code(), Code::Unavailable);
    let stats = org.emu.pubsub_stats();
    assert_eq!(stats.subscribe_calls, 2);
}

#[tokio::test]
async fn the_corrupted_replay_fault_refuses_any_preset_then_is_spent() {
    let org = org().await;
    org.emu.inject(Fault::PubSubReplayCorrupted(2));
    for preset in [ReplayPreset::Latest, ReplayPreset::Earliest] {
        let status = org
            .subscribe(first(preset, Vec::new(), 5))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{preset:?}");
        assert_eq!(
            error_code(&status).as_deref(),
            Some(REPLAY_ID_CORRUPTED_CODE),
            "{preset:?}"
        );
    }
    let (_tx, _stream) = org
        .subscribe(first(ReplayPreset::Latest, Vec::new(), 5))
        .await
        .expect("the two armed refusals are spent");
    assert_eq!(org.emu.pubsub_stats().subscribe_calls, 3);
}

#[tokio::test]
async fn the_http_controls_arm_pubsub_faults_publish_undecodable_events_and_report_stats() {
    let org = org().await;
    let http = reqwest::Client::new();
    let base = org.emu.base_url();
    let armed = http
        .post(format!("{base}/_emulator/faults"))
        .body(r#"{"type":"pubSubUnavailable","n":1}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(armed.status(), 204);
    let status = org
        .subscribe(first(ReplayPreset::Latest, Vec::new(), 1))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unavailable);

    let order_id = salesforce_emulator::ids::random_id("801");
    let published = http
        .post(format!("{base}/_emulator/pubsub/undecodable-event"))
        .body(format!(r#"{{"orderId":"{order_id}"}}"#))
        .send()
        .await
        .unwrap();
    assert_eq!(published.status(), 201);
    let (_tx, mut stream) = org
        .subscribe(first(ReplayPreset::Earliest, Vec::new(), 1))
        .await
        .unwrap();
    let delivered = events(&mut stream, 1).await;
    let event = delivered[0].events[0].event.as_ref().unwrap();
    assert_eq!(event.payload, UNDECODABLE_PAYLOAD);
    assert_eq!(org.emu.events().all()[0].order_id, order_id);

    let stats: serde_json::Value = http
        .get(format!("{base}/_emulator/pubsub/stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["subscribeCalls"], 2);
    assert_eq!(stats["openStreams"], 1);
}
