//! Salesforce Files over REST: a ContentVersion makes its ContentDocument and
//! the link to its record, its bytes come back at `…/VersionData`, and the
//! limits and refusals are Salesforce's.

use base64::Engine as _;
use serde_json::{Value, json};

use crate::helpers::spawn;

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[tokio::test]
async fn a_version_stores_its_bytes_and_files_them_on_its_record() {
    let org = spawn().await;
    let account = org.account("Hanako Yamada").await;
    let case = org
        .post(
            "sobjects/Case",
            json!({"AccountId": account, "Subject": "ID"}),
        )
        .await;
    assert_eq!(case.status, 201, "{}", case.text);
    let case_id = case.body["id"].as_str().unwrap().to_owned();
    let bytes = b"%PDF-1.7\nthe document\n".to_vec();
    let created = org
        .post(
            "sobjects/ContentVersion",
            json!({"PathOnClient": "scan.PDF", "VersionData": b64(&bytes), "FirstPublishLocationId": case_id}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("068"), "{id}");

    let version = org.get(&format!("sobjects/ContentVersion/{id}")).await.body;
    assert_eq!(version["Title"], "scan");
    assert_eq!(version["FileExtension"], "pdf");
    assert_eq!(version["FileType"], "PDF");
    assert_eq!(version["ContentSize"], bytes.len());
    assert_eq!(version["VersionNumber"], "1");
    assert_eq!(
        version["VersionData"],
        format!("/services/data/v66.0/sobjects/ContentVersion/{id}/VersionData")
    );
    assert_eq!(version["Checksum"].as_str().unwrap().len(), 32, "MD5, hex");
    let document = version["ContentDocumentId"].as_str().unwrap().to_owned();
    assert!(document.starts_with("069"), "{document}");

    let links = org
        .get(&format!("query?q=SELECT+Id,LinkedEntityId,ShareType+FROM+ContentDocumentLink+WHERE+ContentDocumentId+=+'{document}'"))
        .await;
    assert_eq!(links.status, 200, "{}", links.text);
    assert_eq!(links.body["totalSize"], 1);
    assert_eq!(links.body["records"][0]["LinkedEntityId"], case_id.as_str());
    assert_eq!(links.body["records"][0]["ShareType"], "I");

    let calls = org.emu.api_calls();
    let served = org
        .http
        .get(org.url(&format!("sobjects/ContentVersion/{id}/VersionData")))
        .bearer_auth(&org.token)
        .send()
        .await
        .unwrap();
    assert_eq!(served.status(), 200);
    assert!(served.headers().contains_key("sforce-limit-info"));
    assert_eq!(served.bytes().await.unwrap().to_vec(), bytes);
    assert_eq!(org.emu.api_calls() - calls, 1, "one API call");
    let missing = org
        .get("sobjects/ContentVersion/068000000000009AAA/VersionData")
        .await;
    assert_eq!(missing.status, 404);
}

#[tokio::test]
async fn refusals_are_salesforces() {
    let org = spawn().await;
    let without_path = org
        .post("sobjects/ContentVersion", json!({"VersionData": b64(b"x")}))
        .await;
    assert_eq!(
        (without_path.status, without_path.error_code()),
        (400, "REQUIRED_FIELD_MISSING")
    );
    let not_base64 = org
        .post(
            "sobjects/ContentVersion",
            json!({"PathOnClient": "a.jpg", "VersionData": "not base64!"}),
        )
        .await;
    assert_eq!(
        (not_base64.status, not_base64.error_code()),
        (400, "JSON_PARSER_ERROR")
    );
    assert!(
        !not_base64.message().contains("not base64!"),
        "a file is never echoed"
    );

    let unfiltered = org.get("query?q=SELECT+Id+FROM+ContentDocumentLink").await;
    assert_eq!(
        (unfiltered.status, unfiltered.error_code()),
        (400, "MALFORMED_QUERY")
    );
    assert!(
        unfiltered
            .message()
            .starts_with("Implementation restriction: ContentDocumentLink requires a filter")
    );
    let negative = org
        .get("query?q=SELECT+Id+FROM+ContentDocumentLink+WHERE+ContentDocumentId+NOT+IN+('069000000000001AAA')")
        .await;
    assert_eq!(negative.error_code(), "MALFORMED_QUERY");
    let blob_filter = org
        .get("query?q=SELECT+Id+FROM+ContentVersion+WHERE+VersionData+=+'x'")
        .await;
    assert_eq!(blob_filter.error_code(), "INVALID_FIELD");

    // Over Salesforce's 50 MB of JSON per request.
    let huge = "A".repeat(52_428_800);
    let response = org
        .http
        .post(org.url("sobjects/ContentVersion"))
        .bearer_auth(&org.token)
        .header("content-type", "application/json")
        .body(format!(
            "{{\"PathOnClient\":\"big.jpg\",\"VersionData\":\"{huge}\"}}"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body[0]["errorCode"], "JSON_PARSER_ERROR");
    assert_eq!(
        body[0]["message"],
        "Maximum size of request reached. Maximum size of request is 52428800 bytes."
    );
    assert_eq!(org.emu.count("ContentVersion"), 0);
}
