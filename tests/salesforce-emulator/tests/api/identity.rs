//! Identity as third-party clients read it: the token answer's `id` URL, the
//! versioned resource list's `identity`, `/services/oauth2/userinfo` and the
//! `Organization` object.

use salesforce_emulator::config::DEFAULT_ADMIN_TOKEN;
use salesforce_emulator::{EmulatorConfig, fixtures};
use serde_json::{Value, json};

use crate::helpers::{V, claims, request_token, sign, spawn, spawn_with};

async fn get(http: &reqwest::Client, url: &str, token: Option<&str>) -> (u16, String) {
    let mut request = http.get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("the emulator answers");
    (
        response.status().as_u16(),
        response.text().await.expect("a body"),
    )
}

#[tokio::test]
async fn the_token_answers_id_url_names_the_org_and_the_integration_user() {
    let org = spawn().await;
    let assertion = sign(&claims(&org.emu), fixtures::CLIENT_PRIVATE_KEY_PEM);
    let token = request_token(&org.emu, &org.http, &assertion).await;
    let id_url = token.body["id"].as_str().unwrap().to_owned();
    let access = token.body["access_token"].as_str().unwrap();
    assert_eq!(
        id_url,
        format!(
            "{}/id/{}/{}",
            org.emu.base_url(),
            org.emu.org_id(),
            org.emu.integration_user_id()
        )
    );
    let (status, text) = get(&org.http, &id_url, Some(access)).await;
    assert_eq!(status, 200, "{text}");
    let identity: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(identity["id"], id_url);
    assert_eq!(identity["organization_id"], org.emu.org_id());
    assert_eq!(identity["user_id"], org.emu.integration_user_id());
    assert_eq!(identity["username"], org.emu.config().username);
    assert_eq!(identity["asserted_user"], true);
    assert_eq!(
        identity["urls"]["rest"],
        format!("{}/services/data/v{{version}}/", org.emu.base_url())
    );
}

#[tokio::test]
async fn identity_is_found_the_way_jsforce_finds_it() {
    // jsforce's Connection.identity(): GET the versioned resource list, read
    // `identity`, then GET it with `?format=json&oauth_token=<token>`.
    let org = spawn().await;
    let resources = org.get("").await;
    assert_eq!(resources.status, 200);
    let identity_url = resources.body["identity"].as_str().unwrap().to_owned();
    assert!(
        identity_url.starts_with("http://"),
        "absolute: {identity_url}"
    );
    assert_eq!(
        resources.body["sobjects"],
        format!("/services/data/{V}/sobjects")
    );
    let url = format!("{identity_url}?format=json&oauth_token={}", org.token);
    let (status, text) = get(&org.http, &url, None).await;
    assert_eq!(status, 200, "{text}");
    let identity: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(identity["organization_id"], org.emu.org_id());
    assert_eq!(identity["user_id"], org.emu.integration_user_id());
    // The staff token's list names the staff user.
    let staff = org.admin("GET", "", None).await;
    assert_eq!(
        staff.body["identity"],
        format!(
            "{}/id/{}/{}",
            org.emu.base_url(),
            org.emu.org_id(),
            org.emu.admin_user_id()
        )
    );
}

#[tokio::test]
async fn identity_urls_refuse_bad_tokens_other_orgs_and_unknown_users() {
    let org = spawn().await;
    let base = org.emu.base_url();
    let mine = format!(
        "{base}/id/{}/{}",
        org.emu.org_id(),
        org.emu.integration_user_id()
    );
    let cases = [
        (mine.clone(), None, 403, "Bad_OAuth_Token"),
        (mine.clone(), Some("nope"), 403, "Bad_OAuth_Token"),
        (
            format!(
                "{base}/id/{}/{}",
                salesforce_emulator::ids::random_id("00D"),
                org.emu.integration_user_id()
            ),
            Some(org.token.as_str()),
            403,
            "Wrong_Org",
        ),
        (
            format!("{base}/id/{}/005000000000000AAA", org.emu.org_id()),
            Some(org.token.as_str()),
            404,
            "Bad_Id",
        ),
    ];
    for (url, token, status, word) in cases {
        assert_eq!(
            get(&org.http, &url, token).await,
            (status, word.to_owned()),
            "{url}"
        );
    }
    // Another user of the same org: readable, not the asserted user.
    let staff = format!("{base}/id/{}/{}", org.emu.org_id(), org.emu.admin_user_id());
    let (status, text) = get(&org.http, &staff, Some(&org.token)).await;
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap()["asserted_user"],
        false
    );
}

#[tokio::test]
async fn userinfo_answers_the_tokens_own_user_with_org_and_user_ids() {
    let org = spawn_with(EmulatorConfig::default()).await;
    let url = format!("{}/services/oauth2/userinfo", org.emu.base_url());
    let (status, text) = get(&org.http, &url, Some(&org.token)).await;
    assert_eq!(status, 200, "{text}");
    let info: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(info["organization_id"], org.emu.org_id());
    assert_eq!(info["user_id"], org.emu.integration_user_id());
    assert_eq!(info["preferred_username"], org.emu.config().username);
    assert_eq!(
        info["sub"],
        format!(
            "{}/id/{}/{}",
            org.emu.base_url(),
            org.emu.org_id(),
            org.emu.integration_user_id()
        )
    );
    let (status, text) = get(&org.http, &url, Some(DEFAULT_ADMIN_TOKEN)).await;
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap()["user_id"],
        org.emu.admin_user_id()
    );
    org.emu.expire_all_sessions();
    assert_eq!(
        get(&org.http, &url, Some(&org.token)).await,
        (403, "Bad_OAuth_Token".to_owned())
    );
}

#[tokio::test]
async fn the_organization_is_queryable_and_read_only() {
    let org = spawn().await;
    let found = org.get("query?q=SELECT+Id+FROM+Organization").await;
    assert_eq!(found.status, 200, "{}", found.text);
    assert_eq!(found.body["totalSize"], 1);
    assert_eq!(found.body["records"][0]["Id"], org.emu.org_id());
    assert_eq!(
        found.body["records"][0]["attributes"]["type"],
        "Organization"
    );
    let by_id = org
        .get(&format!(
            "query?q=SELECT+Id,Name,IsSandbox+FROM+Organization+WHERE+Id='{}'",
            &org.emu.org_id()[..15]
        ))
        .await;
    assert_eq!(by_id.body["records"][0]["IsSandbox"], false);
    let record = org
        .get(&format!("sobjects/Organization/{}", org.emu.org_id()))
        .await;
    assert_eq!(record.status, 200);
    for token in [None, Some(DEFAULT_ADMIN_TOKEN)] {
        let created = match token {
            None => {
                org.post("sobjects/Organization", json!({"Name": "Second"}))
                    .await
            }
            Some(_) => {
                org.admin(
                    "POST",
                    "sobjects/Organization",
                    Some(json!({"Name": "Second"})),
                )
                .await
            }
        };
        assert_eq!(
            (created.status, created.error_code()),
            (400, "INSUFFICIENT_ACCESS_OR_READONLY")
        );
    }
}
