//! SOQL over REST: results, errors and paging with nextRecordsUrl.

use salesforce_emulator::EmulatorConfig;
use serde_json::json;

use crate::helpers::{spawn, spawn_with};

#[tokio::test]
async fn a_query_returns_salesforce_shaped_records() {
    let org = spawn().await;
    let id = org.account("Acme").await;
    let q = org
        .get("query?q=SELECT+Id,+Name+FROM+Account+WHERE+Name+=+'Acme'")
        .await;
    assert_eq!(q.status, 200, "{}", q.text);
    assert_eq!(q.body["totalSize"], 1);
    assert_eq!(q.body["done"], true);
    assert!(q.body.get("nextRecordsUrl").is_none());
    assert_eq!(
        q.body["records"][0],
        json!({"attributes": {"type": "Account", "url": format!("/services/data/v62.0/sobjects/Account/{id}")}, "Id": id, "Name": "Acme"})
    );
    let count = org.get("query?q=SELECT+COUNT()+FROM+Product2").await;
    assert_eq!(
        count.body["totalSize"],
        salesforce_emulator::seed::CATALOG.len()
    );
}

#[tokio::test]
async fn soql_errors_are_400_with_their_code() {
    let org = spawn().await;
    let bad = org.get("query?q=SELECT+Id+FROM+Nope__c").await;
    assert_eq!(
        (bad.status, bad.error_code()),
        (400, "INVALID_TYPE"),
        "{}",
        bad.text
    );
    let bad = org.get("query?q=SELECT+Nope__c+FROM+Account").await;
    assert_eq!((bad.status, bad.error_code()), (400, "INVALID_FIELD"));
    let missing = org.get("query").await;
    assert_eq!(
        (missing.status, missing.error_code()),
        (400, "MALFORMED_QUERY")
    );
}

#[tokio::test]
async fn large_results_are_paged_through_next_records_url() {
    let org = spawn_with(EmulatorConfig {
        query_batch_size: 3,
        ..EmulatorConfig::default()
    })
    .await;
    for i in 0..8 {
        org.emu
            .insert("Account", json!({"Name": format!("Acct {i}")}))
            .unwrap();
    }
    let calls_before = org.emu.api_calls();
    let mut page = org
        .get("query?q=SELECT+Name+FROM+Account+ORDER+BY+Name")
        .await;
    let mut names = Vec::new();
    let mut pages = 1;
    loop {
        assert_eq!(page.status, 200, "{}", page.text);
        assert_eq!(page.body["totalSize"], 8);
        names.extend(
            page.body["records"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["Name"].as_str().unwrap().to_owned()),
        );
        if page.body["done"] == true {
            assert!(page.body.get("nextRecordsUrl").is_none());
            break;
        }
        assert_eq!(page.body["records"].as_array().unwrap().len(), 3);
        let next = page.body["nextRecordsUrl"].as_str().unwrap().to_owned();
        assert!(next.starts_with("/services/data/v62.0/query/01g"), "{next}");
        page = org.get(&next).await;
        pages += 1;
    }
    assert_eq!(pages, 3);
    assert_eq!(
        names,
        (0..8).map(|i| format!("Acct {i}")).collect::<Vec<_>>()
    );
    assert_eq!(
        org.emu.api_calls() - calls_before,
        3,
        "each page is one call"
    );

    let unknown = org.get("query/01gEm0000000000AAA-3").await;
    assert_eq!(
        (unknown.status, unknown.error_code()),
        (400, "INVALID_QUERY_LOCATOR")
    );
}
