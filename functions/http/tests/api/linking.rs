//! Who a login is: the link item is the only source of the caller's Account.
//! Takeover attempts get one answer that links nothing; the matching
//! verified e-mail links; deactivated Accounts are refused; the account claim
//! must agree with the link; per-login limits answer 429.

use std::time::Duration;

use salesforce::schema::{account, case, contact};
use serde_json::{Value, json};

use crate::helpers::{
    Response, TestApp, claims, roomy_identity, spawn_app, spawn_app_with_identity,
};

/// An existing customer of before the portal: an Account with a customer
/// number and a Contact with their e-mail. Returns the Account id.
fn legacy_customer(app: &TestApp, number: &str, email: &str, status: Option<&str>) -> String {
    let mut fields = json!({account::NAME: "Legacy Customer", account::CUSTOMER_NUMBER: number});
    if let Some(status) = status {
        fields[account::PORTAL_STATUS] = json!(status);
    }
    let account_id = app
        .emulator
        .insert(account::OBJECT, fields)
        .expect("seeding an Account");
    app.emulator
        .insert(
            contact::OBJECT,
            json!({
                contact::LAST_NAME: "Victim",
                contact::EMAIL: email,
                contact::ACCOUNT_ID: account_id,
            }),
        )
        .expect("seeding a Contact");
    account_id
}

fn register_body(number: &str) -> Value {
    json!({"firstName": "Mallory", "lastName": "Attacker", "customerNumber": number})
}

/// What a client can observe of an answer: status, body without the
/// correlation id, and every header but the date.
fn observable(response: &Response) -> (u16, Value, Vec<(String, String)>) {
    let mut body = response.json();
    if let Some(object) = body.as_object_mut() {
        object.remove("correlationId");
    }
    let mut headers: Vec<(String, String)> = response
        .headers
        .iter()
        .filter(|(name, _)| name.as_str() != "date")
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                value.to_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    headers.sort();
    (response.status, body, headers)
}

/// Accounts and Contacts as staff see them, and the Cases apart.
fn org_snapshot(app: &TestApp) -> (Vec<Value>, Vec<Value>) {
    (
        app.emulator.records(account::OBJECT),
        app.emulator.records(contact::OBJECT),
    )
}

#[tokio::test]
async fn takeover_attempts_get_one_answer_link_nothing_and_only_leave_a_staff_case() {
    let app = spawn_app().await;
    let victim = legacy_customer(&app, "C-0002", "victim@example.jp", None);
    let taken = legacy_customer(&app, "C-0003", "owner@example.jp", Some("Active"));
    let before = org_snapshot(&app);
    let attacker = app.token("sub-mallory", "mallory@example.jp", None);

    let mut answers = Vec::new();
    for (what, number) in [
        ("a known number with a foreign e-mail", "C-0002"),
        ("a number already linked", "C-0003"),
        ("an unknown number", "C-9999"),
    ] {
        let response = app
            .post("/registrations")
            .token(&attacker)
            .key(&format!("takeover-{number}"))
            .json(&register_body(number))
            .send()
            .await;
        assert_eq!(response.status, 202, "{what}: {:?}", response.json());
        answers.push((what, observable(&response)));
    }
    let (_, first) = &answers[0];
    assert_eq!(first.1, json!({"status": "pending-verification"}));
    for (what, answer) in &answers {
        assert_eq!(answer, first, "{what} must be indistinguishable");
    }

    // The victim's e-mail in an unverified token: refused before any lookup,
    // the same whatever the number.
    let mut unverified_claims = claims("sub-mallory-2", "victim@example.jp", None);
    unverified_claims["email_verified"] = json!(false);
    let unverified = app.key.sign(&unverified_claims, None);
    let mut refusals = Vec::new();
    for number in ["C-0002", "C-0003", "C-9999"] {
        let response = app
            .post("/registrations")
            .token(&unverified)
            .key(&format!("unverified-{number}"))
            .json(&register_body(number))
            .send()
            .await;
        assert_eq!(response.status, 403);
        assert_eq!(response.problem(), "email-not-verified");
        refusals.push(observable(&response));
    }
    assert!(refusals.iter().all(|r| r == &refusals[0]));

    assert_eq!(org_snapshot(&app), before, "no Account or Contact changed");
    let cases = app.emulator.records(case::OBJECT);
    let mut on: Vec<&str> = cases
        .iter()
        .map(|c| {
            assert_eq!(c[case::TYPE], "ID Verification");
            let description = c[case::DESCRIPTION].as_str().unwrap();
            assert!(description.contains("mallory@example.jp"), "{description}");
            assert!(description.contains("Mallory Attacker"), "{description}");
            assert!(description.contains("sub-mallory"), "{description}");
            c[case::ACCOUNT_ID].as_str().unwrap()
        })
        .collect();
    on.sort_unstable();
    let mut expected = vec![victim.as_str(), taken.as_str()];
    expected.sort_unstable();
    assert_eq!(
        on, expected,
        "one staff Case per existing number, none else"
    );

    assert_eq!(app.links(), 0, "nothing linked");
    assert!(app.link_of("sub-mallory").await.is_none());
    // And the attacker's token, even claiming the victim's Account, reads nothing.
    for token in [
        attacker,
        app.token("sub-mallory", "mallory@example.jp", Some(&victim)),
    ] {
        let response = app.get("/account", "/account").token(&token).send().await;
        assert_eq!(response.status, 403);
        assert_eq!(response.problem(), "not-linked");
    }
}

#[tokio::test]
async fn the_matching_verified_email_links_the_existing_customer_at_once() {
    let app = spawn_app().await;
    let legacy = legacy_customer(&app, "C-0004", "Kenji@Example.JP", None);
    let token = app.token("sub-kenji", "kenji@example.jp", None);
    let response = app
        .post("/registrations")
        .token(&token)
        .key("link-kenji")
        .json(&json!({"firstName": "Kenji", "lastName": "Sato", "customerNumber": "C-0004"}))
        .send()
        .await;
    assert_eq!(response.status, 201, "{:?}", response.json());
    let body = response.json();
    assert_eq!(body["accountId"], legacy.as_str());
    assert_eq!(body["customerNumber"], "C-0004");
    assert_eq!(body["registrationSource"], "Legacy");
    let record = app.emulator.record(&legacy).unwrap();
    assert_eq!(record[account::PORTAL_STATUS], "Active");
    assert_eq!(
        app.emulator.count(contact::OBJECT),
        1,
        "the Contact is kept"
    );
    assert_eq!(app.emulator.count(case::OBJECT), 0);
    let link = app.link_of("sub-kenji").await.expect("linked");
    assert_eq!(link.account_id.as_str(), legacy);

    // The same token, at once: no second token needed.
    let account = app.get("/account", "/account").token(&token).send().await;
    assert_eq!(account.status, 200);
    assert_eq!(account.json()["accountId"], legacy.as_str());
}

#[tokio::test]
async fn a_new_customer_uses_the_token_that_registered() {
    let app = spawn_app().await;
    let (token, account_id) = app.customer("aiko").await;
    let account = app.get("/account", "/account").token(&token).send().await;
    assert_eq!(account.status, 200);
    assert_eq!(account.json()["accountId"], account_id.as_str());
    assert_eq!(app.links(), 1);
}

#[tokio::test]
async fn the_account_claim_must_agree_with_the_link() {
    let app = spawn_app().await;
    let (_, account_id) = app.customer("hanako").await;
    let (_, other) = app.customer("taro").await;
    let agreeing = app.token("sub-hanako", "hanako@example.jp", Some(&account_id));
    assert_eq!(
        app.get("/account", "/account")
            .token(&agreeing)
            .send()
            .await
            .status,
        200
    );
    for claim in [other.as_str(), "not-an-account-id"] {
        let token = app.token("sub-hanako", "hanako@example.jp", Some(claim));
        for response in [
            app.get("/account", "/account").token(&token).send().await,
            app.post("/support-cases")
                .token(&token)
                .key(&format!("mismatch-{claim}"))
                .json(&json!({"subject": "Hi", "description": "Hello"}))
                .send()
                .await,
        ] {
            assert_eq!(response.status, 403, "{claim}");
            assert_eq!(response.problem(), "account-mismatch");
        }
    }
    assert_eq!(app.emulator.count(case::OBJECT), 0);
}

#[tokio::test]
async fn a_deactivated_account_is_refused_and_registration_never_reactivates_it() {
    let mut identity = roomy_identity();
    identity.link_cache_ttl = Duration::ZERO;
    let app = spawn_app_with_identity(identity).await;
    let (token, account_id) = app.customer("hanako").await;
    // Staff deactivate the Account; the reconciler's sync copies it.
    app.emulator
        .update(
            account::OBJECT,
            &account_id,
            json!({account::PORTAL_STATUS: "Inactive"}),
        )
        .unwrap();
    app.sync_deactivation(&account_id).await;

    let read = app.get("/account", "/account").token(&token).send().await;
    assert_eq!(read.status, 403);
    assert_eq!(read.problem(), "account-inactive");
    let write = app
        .post("/support-cases")
        .token(&token)
        .key("after-deactivation")
        .json(&json!({"subject": "Hi", "description": "Hello"}))
        .send()
        .await;
    assert_eq!(write.status, 403);
    assert_eq!(write.problem(), "account-inactive");
    let again = app
        .post("/registrations")
        .token(&token)
        .key("register-again")
        .json(&json!({"firstName": "Hanako", "lastName": "hanako"}))
        .send()
        .await;
    assert_eq!(again.status, 403);
    assert_eq!(again.problem(), "account-inactive");
    // Another login with the same verified e-mail cannot re-activate it either.
    let second_login = app.token("sub-hanako-2", "hanako@example.jp", None);
    let fresh = app
        .post("/registrations")
        .token(&second_login)
        .key("register-second-login")
        .json(&json!({"firstName": "Hanako", "lastName": "hanako"}))
        .send()
        .await;
    assert_eq!(fresh.status, 403);
    assert_eq!(fresh.problem(), "account-inactive");
    assert_eq!(
        app.emulator.record(&account_id).unwrap()[account::PORTAL_STATUS],
        "Inactive"
    );
    assert_eq!(
        app.emulator.count(account::OBJECT),
        1,
        "no new Account either"
    );
    assert_eq!(app.emulator.count(case::OBJECT), 0);
}

#[tokio::test]
async fn concurrent_first_registrations_of_one_login_make_one_link_and_one_account() {
    let app = spawn_app().await;
    let token = app.token("sub-burst", "burst@example.jp", None);
    let body = json!({"firstName": "Burst", "lastName": "Tabs"});
    let calls = (0..5).map(|n| {
        app.post("/registrations")
            .token(&token)
            .key(&format!("tab-{n}"))
            .json(&body)
            .send()
    });
    let answers = futures::future::join_all(calls).await;
    let statuses: Vec<u16> = answers.iter().map(|r| r.status).collect();
    assert!(
        statuses.iter().all(|s| [201, 200, 409].contains(s)),
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(app.links(), 1);
    assert_eq!(app.emulator.count(account::OBJECT), 1);
    let link = app.link_of("sub-burst").await.unwrap();
    for answer in answers.iter().filter(|a| a.status < 300) {
        assert_eq!(answer.json()["accountId"], link.account_id.as_str());
    }
}

#[tokio::test]
async fn posts_over_the_per_login_limit_are_429_with_retry_after() {
    let mut identity = roomy_identity();
    identity.limits.posts_per_minute = 3;
    let app = spawn_app_with_identity(identity).await;
    // The registration is the first POST of each login.
    let (hanako, _) = app.customer("hanako").await;
    let (taro, _) = app.customer("taro").await;
    let case = |n: u32| json!({"subject": format!("Question {n}"), "description": "Hello"});
    for n in 0..2 {
        let response = app
            .post("/support-cases")
            .token(&hanako)
            .key(&format!("case-{n}"))
            .json(&case(n))
            .send()
            .await;
        assert_eq!(response.status, 201);
    }
    let limited = app
        .post("/support-cases")
        .token(&hanako)
        .key("case-2")
        .json(&case(2))
        .send()
        .await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.problem(), "too-many-requests");
    let wait: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    assert_eq!(
        app.emulator.count(case::OBJECT),
        2,
        "the refused POST did nothing"
    );
    // Its key was released: it is not replayed as 429 later.
    assert_eq!(
        app.post("/support-cases")
            .token(&taro)
            .key("case-0")
            .json(&case(0))
            .send()
            .await
            .status,
        201,
        "another login has its own count"
    );
    // GETs are not counted.
    assert_eq!(
        app.get("/support-cases", "/support-cases")
            .token(&hanako)
            .send()
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn registration_attempts_over_the_hourly_limit_are_429() {
    let mut identity = roomy_identity();
    identity.limits.registrations_per_hour = 2;
    let app = spawn_app_with_identity(identity).await;
    let prober = app.token("sub-prober", "prober@example.jp", None);
    for n in 0..2 {
        let response = app
            .post("/registrations")
            .token(&prober)
            .key(&format!("probe-{n}"))
            .json(&register_body(&format!("C-{n:04}")))
            .send()
            .await;
        assert_eq!(response.status, 202);
    }
    let limited = app
        .post("/registrations")
        .token(&prober)
        .key("probe-2")
        .json(&register_body("C-0002"))
        .send()
        .await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.problem(), "too-many-requests");
    assert!(limited.header("retry-after").is_some());
}
