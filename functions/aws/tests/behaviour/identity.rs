//! `LoginLinks`, `LoginLimits` and the account-status behaviours: the API's
//! own items about who a login is.

use std::sync::Arc;
use std::time::Duration;

use chrono::TimeDelta;
use portal_aws::{DynamoAccountStatuses, DynamoLoginLimits, DynamoLoginLinks};
use portal_core::domain::{AccountId, ContactId, Login};
use portal_core::ports::memory::{
    InMemoryAccountStatuses, InMemoryLoginLimits, InMemoryLoginLinks,
};
use portal_core::ports::{
    AccountStatusSync, InactiveAccounts, LimitDecision, LimitWindow, LinkCreation, LinkMethod,
    LoginLimits, LoginLink, LoginLinks,
};

use crate::{behaviours, start};

async fn dynamo_links() -> DynamoLoginLinks {
    let (client, table) = crate::table().await;
    DynamoLoginLinks::new(client, table)
}

fn memory_links() -> InMemoryLoginLinks {
    InMemoryLoginLinks::new()
}

async fn dynamo_limits() -> DynamoLoginLimits {
    let (client, table) = crate::table().await;
    DynamoLoginLimits::new(client, table)
}

fn memory_limits() -> InMemoryLoginLimits {
    InMemoryLoginLimits::new()
}

async fn dynamo_statuses() -> DynamoAccountStatuses {
    let (client, table) = crate::table().await;
    DynamoAccountStatuses::new(client, table)
}

fn memory_statuses() -> InMemoryAccountStatuses {
    InMemoryAccountStatuses::new()
}

fn login(subject: &str) -> Login {
    Login::new("https://id.example.jp/", subject).unwrap()
}

fn account(n: u32) -> AccountId {
    AccountId::parse(&format!("001000000000{n:03}")).unwrap()
}

fn link(subject: &str, n: u32) -> LoginLink {
    LoginLink {
        login: login(subject),
        account_id: account(n),
        contact_id: ContactId::parse("003000000000001").unwrap(),
        linked_at: start(),
        method: LinkMethod::VerifiedEmail,
    }
}

async fn a_link_round_trips_and_is_never_overwritten(links: impl LoginLinks) {
    assert_eq!(links.link_of(&login("auth0|1")).await.unwrap(), None);
    let first = link("auth0|1", 1);
    assert_eq!(links.create(&first).await.unwrap(), LinkCreation::Created);
    assert_eq!(
        links.link_of(&login("auth0|1")).await.unwrap(),
        Some(first.clone())
    );
    let second = LoginLink {
        linked_at: start() + TimeDelta::minutes(1),
        method: LinkMethod::NewAccount,
        ..link("auth0|1", 2)
    };
    assert_eq!(
        links.create(&second).await.unwrap(),
        LinkCreation::Exists(first.clone()),
        "the second link gets the first back and writes nothing"
    );
    assert_eq!(links.link_of(&login("auth0|1")).await.unwrap(), Some(first));
    // Subjects are exact: another login, even one that only differs in case
    // or extends the first as a prefix, has no link.
    for other in ["AUTH0|1", "auth0|10", "auth0|1#x"] {
        assert_eq!(links.link_of(&login(other)).await.unwrap(), None, "{other}");
    }
}

async fn concurrent_first_links_of_one_login_make_exactly_one(links: impl LoginLinks + 'static) {
    let links = Arc::new(links);
    let tasks: Vec<_> = (1..=8)
        .map(|n| {
            let links = Arc::clone(&links);
            tokio::spawn(async move { links.create(&link("auth0|race", n)).await.unwrap() })
        })
        .collect();
    let mut created = 0;
    let mut seen = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            LinkCreation::Created => created += 1,
            LinkCreation::Exists(existing) => seen.push(existing.account_id),
        }
    }
    assert_eq!(created, 1, "one write wins");
    let winner = links
        .link_of(&login("auth0|race"))
        .await
        .unwrap()
        .unwrap()
        .account_id;
    assert!(
        seen.iter().all(|a| *a == winner),
        "every loser sees the winner"
    );
}

fn window(max: u32) -> LimitWindow {
    LimitWindow {
        name: "post-minute",
        length: Duration::from_secs(60),
        max,
    }
}

async fn a_counter_allows_up_to_its_maximum_per_window_and_login(limits: impl LoginLimits) {
    let w = window(3);
    let hanako = login("hanako");
    for _ in 0..3 {
        assert_eq!(
            limits.take(&hanako, &[w], start()).await.unwrap(),
            LimitDecision::Allowed
        );
    }
    // start() is 1_900_000_000 s: 40 s into its minute.
    assert_eq!(
        limits.take(&hanako, &[w], start()).await.unwrap(),
        LimitDecision::Limited {
            window: "post-minute",
            retry_after: Duration::from_secs(20)
        }
    );
    assert_eq!(
        limits.take(&login("taro"), &[w], start()).await.unwrap(),
        LimitDecision::Allowed,
        "counters are per login"
    );
    assert_eq!(
        limits.take(&hanako, &[day(10)], start()).await.unwrap(),
        LimitDecision::Allowed,
        "counters are per window"
    );
    let next_minute = start() + TimeDelta::seconds(20);
    assert_eq!(
        limits.take(&hanako, &[w], next_minute).await.unwrap(),
        LimitDecision::Allowed,
        "a new window starts at zero"
    );
    assert!(matches!(
        limits.take(&hanako, &[window(0)], start()).await.unwrap(),
        LimitDecision::Limited { .. }
    ));
}

fn day(max: u32) -> LimitWindow {
    LimitWindow {
        name: "post-day",
        length: Duration::from_secs(86_400),
        max,
    }
}

async fn several_windows_count_all_or_none(limits: impl LoginLimits) {
    let hanako = login("hanako");
    let both = [window(2), day(3)];
    for _ in 0..2 {
        assert_eq!(
            limits.take(&hanako, &both, start()).await.unwrap(),
            LimitDecision::Allowed
        );
    }
    // The minute is full: refused, and counted in the day neither.
    assert!(matches!(
        limits.take(&hanako, &both, start()).await.unwrap(),
        LimitDecision::Limited {
            window: "post-minute",
            ..
        }
    ));
    let next_minute = start() + TimeDelta::seconds(20);
    assert_eq!(
        limits.take(&hanako, &both, next_minute).await.unwrap(),
        LimitDecision::Allowed,
        "the day had one left: the refused request was not counted"
    );
    let refused = limits.take(&hanako, &both, next_minute).await.unwrap();
    let LimitDecision::Limited {
        window,
        retry_after,
    } = refused
    else {
        panic!("the day is full: {refused:?}");
    };
    assert_eq!(window, "post-day");
    assert!(retry_after > Duration::from_secs(60));
    // And the minute was not counted by the refusal: after the day rolls,
    // the login starts afresh.
    let tomorrow = start() + TimeDelta::days(1);
    for _ in 0..2 {
        assert_eq!(
            limits.take(&hanako, &both, tomorrow).await.unwrap(),
            LimitDecision::Allowed
        );
    }
}

async fn concurrent_takes_never_exceed_the_maximum(limits: impl LoginLimits + 'static) {
    let limits = Arc::new(limits);
    let tasks: Vec<_> = (0..12)
        .map(|_| {
            let limits = Arc::clone(&limits);
            tokio::spawn(async move {
                limits
                    .take(&login("burst"), &[window(5), day(100)], start())
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut allowed = 0;
    for task in tasks {
        if task.await.unwrap() == LimitDecision::Allowed {
            allowed += 1;
        }
    }
    assert_eq!(allowed, 5);
}

async fn a_deactivation_is_recorded_and_lifted<S: InactiveAccounts + AccountStatusSync>(store: S) {
    assert!(!store.is_inactive(&account(1)).await.unwrap());
    assert_eq!(store.cursor().await.unwrap(), None);
    store.record(&account(1), true, start()).await.unwrap();
    store.record(&account(2), false, start()).await.unwrap();
    assert!(store.is_inactive(&account(1)).await.unwrap());
    assert!(!store.is_inactive(&account(2)).await.unwrap());
    store
        .record(&account(1), false, start() + TimeDelta::minutes(1))
        .await
        .unwrap();
    assert!(
        !store.is_inactive(&account(1)).await.unwrap(),
        "reactivated"
    );
    store.save_cursor(start()).await.unwrap();
    assert_eq!(store.cursor().await.unwrap(), Some(start()));
}

behaviours! {
    a_link_round_trips_and_is_never_overwritten => dynamo_links, memory_links;
    concurrent_first_links_of_one_login_make_exactly_one => dynamo_links, memory_links;
    a_counter_allows_up_to_its_maximum_per_window_and_login => dynamo_limits, memory_limits;
    several_windows_count_all_or_none => dynamo_limits, memory_limits;
    concurrent_takes_never_exceed_the_maximum => dynamo_limits, memory_limits;
    a_deactivation_is_recorded_and_lifted => dynamo_statuses, memory_statuses;
}
