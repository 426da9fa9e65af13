//! Every adapter writes its items under its own key prefix
//! (`portal_aws::dynamo::prefix`), the prefixes the IAM policies name
//! (`tests/deploy` checks the template): one table on moto, one write
//! through each adapter, and the key it landed under.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::TimeDelta;
use portal_aws::dynamo::prefix;
use portal_aws::{
    DynamoAccountStatuses, DynamoIdempotencyStore, DynamoLoginLimits, DynamoLoginLinks,
    DynamoProvisioningRecords, DynamoReconcileAttempts, DynamoReplayStore, DynamoSubscriberLease,
};
use portal_core::domain::{AccountId, ContactId, Login, OrderId, ReplayId};
use portal_core::ports::{
    AccountStatusSync, Fingerprint, IdempotencyClaim, IdempotencyId, IdempotencyKey,
    IdempotencyScope, IdempotencyStore, LimitWindow, LinkMethod, LoginLimits, LoginLink,
    LoginLinks, ProvisioningRecords, ReconcileAttempt, ReconcileAttempts, ReplayStore,
    SubscriberLease,
};

use crate::{owner, start};

async fn keys(client: &aws_sdk_dynamodb::Client, table: &str) -> BTreeSet<String> {
    let out = client.scan().table_name(table).send().await.unwrap();
    out.items()
        .iter()
        .map(|item| item["pk"].as_s().unwrap().clone())
        .collect()
}

#[tokio::test]
async fn each_adapter_writes_under_its_own_key_prefix() {
    let (client, table) = crate::table().await;
    let mut seen = keys(&client, &table).await;
    let mut landed = Vec::new();
    let mut after = async |what: &str, expected: &str| {
        let now = keys(&client, &table).await;
        let new: Vec<String> = now.difference(&seen).cloned().collect();
        assert!(!new.is_empty(), "{what} wrote nothing");
        for pk in &new {
            assert!(
                pk.starts_with(expected),
                "{what} wrote {pk}, not under {expected}"
            );
        }
        landed.push(expected.to_owned());
        seen = now;
    };

    let login = Login::new("https://id.example.jp/", "auth0|1").unwrap();
    let account = AccountId::parse("001000000000001").unwrap();
    let order = OrderId::parse("801000000000001").unwrap();

    DynamoIdempotencyStore::new(client.clone(), &table)
        .claim(&IdempotencyClaim {
            id: IdempotencyId {
                scope: IdempotencyScope::new("auth0|1").unwrap(),
                key: IdempotencyKey::parse("k").unwrap(),
            },
            fingerprint: Fingerprint::new("f").unwrap(),
            owner: owner("api"),
            in_flight_until: start() + TimeDelta::minutes(1),
            expires_at: start() + TimeDelta::days(1),
            now: start(),
        })
        .await
        .unwrap();
    after("the idempotency store", prefix::IDEMPOTENCY).await;

    DynamoLoginLinks::new(client.clone(), &table)
        .create(&LoginLink {
            login: login.clone(),
            account_id: account.clone(),
            contact_id: ContactId::parse("003000000000001").unwrap(),
            linked_at: start(),
            method: LinkMethod::NewAccount,
        })
        .await
        .unwrap();
    after("the login links", prefix::LOGIN_LINK).await;

    let window = LimitWindow {
        name: "post-minute",
        length: Duration::from_secs(60),
        max: 5,
    };
    DynamoLoginLimits::new(client.clone(), &table)
        .take(&login, &[window], start())
        .await
        .unwrap();
    after("the login limits", prefix::LOGIN_LIMIT).await;

    let statuses = DynamoAccountStatuses::new(client.clone(), &table);
    statuses.record(&account, true, start()).await.unwrap();
    statuses.save_cursor(start()).await.unwrap();
    after("the account statuses", prefix::ACCOUNT_STATUS).await;

    DynamoProvisioningRecords::new(client.clone(), &table)
        .claim(
            &order,
            &owner("provisioner"),
            start() + TimeDelta::minutes(1),
            start(),
        )
        .await
        .unwrap();
    after("the provisioning records", prefix::PROVISIONING).await;

    DynamoReconcileAttempts::new(client.clone(), &table)
        .record_attempt(
            &order,
            &ReconcileAttempt {
                attempts: 1,
                next_at: start(),
                last_at: start(),
                order_modified_at: None,
                expires_at: start() + TimeDelta::days(30),
            },
        )
        .await
        .unwrap();
    after("the reconciler's attempts", prefix::RECONCILE).await;

    DynamoReplayStore::new(client.clone(), &table)
        .save("/event/Topic__e", &ReplayId::new(vec![1, 2, 3]).unwrap())
        .await
        .unwrap();
    after("the replay store", prefix::REPLAY).await;

    DynamoSubscriberLease::new(client.clone(), &table)
        .acquire(
            "subscriber",
            &owner("task-1"),
            Duration::from_secs(30),
            start(),
        )
        .await
        .unwrap();
    after("the subscriber lease", prefix::LEASE).await;

    let distinct: BTreeSet<&String> = landed.iter().collect();
    assert_eq!(distinct.len(), landed.len(), "one prefix per kind of item");
}
