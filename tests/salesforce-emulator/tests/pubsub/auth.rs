//! The auth metadata checks, GetTopic and GetSchema.

use salesforce::pubsub::proto::{ReplayPreset, SchemaRequest, TopicRequest};
use salesforce::pubsub::{AUTH_ERROR_CODE, SCHEMA_NOT_FOUND_CODE, TOPIC_NOT_FOUND_CODE};
use salesforce::schema::order_provision_requested::TOPIC;
use salesforce_emulator::config::DEFAULT_ADMIN_TOKEN;
use salesforce_emulator::events::{schema_id, schema_json};
use tonic::Code;

use crate::helpers::{error_code, first, org};

fn topic() -> TopicRequest {
    TopicRequest {
        topic_name: TOPIC.to_owned(),
    }
}

#[tokio::test]
async fn a_live_session_of_this_org_gets_the_topic_and_its_schema() {
    let org = org().await;
    let info = org
        .grpc
        .clone()
        .get_topic(org.request(topic()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(info.topic_name, TOPIC);
    assert_eq!(info.tenant_guid, org.emu.org_id());
    assert!(info.can_subscribe && !info.can_publish);
    assert_eq!(info.schema_id, schema_id());
    assert!(!info.rpc_id.is_empty());
    let schema = org
        .grpc
        .clone()
        .get_schema(org.request(SchemaRequest {
            schema_id: info.schema_id.clone(),
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(schema.schema_json, schema_json());
    assert_eq!(schema.schema_id, info.schema_id);
    assert!(apache_avro::Schema::parse_str(&schema.schema_json).is_ok());
    let stats = org.emu.pubsub_stats();
    assert_eq!((stats.get_topic_calls, stats.get_schema_calls), (1, 1));
}

#[tokio::test]
async fn unknown_topics_and_schemas_are_not_found_with_their_error_codes() {
    let org = org().await;
    let status = org
        .grpc
        .clone()
        .get_topic(org.request(TopicRequest {
            topic_name: "/event/Nope__e".to_owned(),
        }))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    assert_eq!(error_code(&status).as_deref(), Some(TOPIC_NOT_FOUND_CODE));
    let status = org
        .grpc
        .clone()
        .get_schema(org.request(SchemaRequest {
            schema_id: "nope".to_owned(),
        }))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    assert_eq!(error_code(&status).as_deref(), Some(SCHEMA_NOT_FOUND_CODE));
    let mut wrong = first(ReplayPreset::Latest, Vec::new(), 1);
    wrong.topic_name = "/event/Nope__e".to_owned();
    let status = org.subscribe(wrong).await.unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
}

#[tokio::test]
async fn the_static_staff_token_is_accepted_as_the_rest_face_accepts_it() {
    let org = org().await;
    let (base, tenant) = (org.emu.base_url(), org.emu.org_id());
    let info = org
        .grpc
        .clone()
        .get_topic(org.request_as(DEFAULT_ADMIN_TOKEN, &base, &tenant, topic()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(info.tenant_guid, tenant);
    // Revoking every session does not touch the static token.
    org.emu.expire_all_sessions();
    let again = org
        .grpc
        .clone()
        .get_topic(org.request_as(DEFAULT_ADMIN_TOKEN, &base, &tenant, topic()))
        .await;
    assert!(again.is_ok(), "{again:?}");
}

#[tokio::test]
async fn bad_tokens_instance_urls_and_tenants_are_unauthenticated_with_the_auth_trailer() {
    let org = org().await;
    let base = org.emu.base_url();
    let tenant = org.emu.org_id();
    let other_tenant = salesforce_emulator::ids::random_id("00D");
    let cases = [
        ("not-a-session", base.as_str(), tenant.as_str()),
        (
            org.token.as_str(),
            "https://elsewhere.my.salesforce.com",
            tenant.as_str(),
        ),
        (org.token.as_str(), base.as_str(), other_tenant.as_str()),
    ];
    for (token, instance, tenant) in cases {
        let status = org
            .grpc
            .clone()
            .get_topic(org.request_as(token, instance, tenant, topic()))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::Unauthenticated, "{instance} {tenant}");
        assert_eq!(error_code(&status).as_deref(), Some(AUTH_ERROR_CODE));
    }
    org.emu.expire_all_sessions();
    let status = org
        .grpc
        .clone()
        .get_topic(org.request(topic()))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    let status = org
        .subscribe(first(ReplayPreset::Latest, Vec::new(), 1))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
}
