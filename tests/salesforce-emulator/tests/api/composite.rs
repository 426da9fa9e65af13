//! composite and composite/sobjects: references, all-or-none, limits.

use serde_json::{Value, json};

use crate::helpers::{V, spawn};

fn sub(method: &str, url: &str, reference_id: &str, body: Option<Value>) -> Value {
    let mut s = json!({"method": method, "url": format!("/services/data/{V}/{url}"), "referenceId": reference_id});
    if let Some(body) = body {
        s["body"] = body;
    }
    s
}

#[tokio::test]
async fn a_composite_chains_references_and_counts_once() {
    let org = spawn().await;
    let calls = org.emu.api_calls();
    let answer = org
        .post(
            "composite",
            json!({"allOrNone": true, "compositeRequest": [
                sub("POST", "sobjects/Account", "newAccount", Some(json!({"Name": "Chain Co"}))),
                sub("POST", "sobjects/Contact", "newContact", Some(json!({"LastName": "Doe", "AccountId": "@{newAccount.id}"}))),
                sub("GET", "query?q=SELECT+Id,AccountId+FROM+Contact", "found", None),
                sub("PATCH", "sobjects/Contact/@{found.records[0].Id}", "touch", Some(json!({"FirstName": "Jane"}))),
                sub("GET", "sobjects/Account/@{newAccount.id}?fields=Name", "readBack", None),
            ]}),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let results = answer.body["compositeResponse"].as_array().unwrap();
    let statuses: Vec<u64> = results
        .iter()
        .map(|r| r["httpStatusCode"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [201, 201, 200, 204, 200], "{}", answer.text);
    let account = results[0]["body"]["id"].as_str().unwrap();
    assert_eq!(results[0]["referenceId"], "newAccount");
    assert_eq!(
        results[0]["httpHeaders"]["Location"],
        format!("/services/data/v62.0/sobjects/Account/{account}").as_str()
    );
    assert_eq!(results[3]["body"], Value::Null);
    assert_eq!(results[4]["body"]["Name"], "Chain Co");
    let contact = org.emu.records("Contact").pop().unwrap();
    assert_eq!(
        (contact["AccountId"].as_str(), contact["FirstName"].as_str()),
        (Some(account), Some("Jane"))
    );
    assert_eq!(org.emu.api_calls() - calls, 1);
}

#[tokio::test]
async fn references_are_substituted_in_every_string_of_a_body() {
    let org = spawn().await;
    let answer = org
        .post(
            "composite",
            json!({"allOrNone": true, "compositeRequest": [
                sub("POST", "sobjects/Account", "acct", Some(json!({"Name": "Body Refs", "Phone": "0123"}))),
                sub("GET", "sobjects/Account/@{acct.id}?fields=Name,Phone", "read", None),
                sub("POST", "sobjects/Case", "case", Some(json!({
                    "AccountId": "@{acct.id}",
                    "Subject": "About @{read.Name} (@{read.Phone})",
                    "Description": "a@b {c} @ {d}",
                }))),
            ]}),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let results = answer.body["compositeResponse"].as_array().unwrap();
    assert_eq!(results[2]["httpStatusCode"], 201, "{}", answer.text);
    let account = results[0]["body"]["id"].as_str().unwrap();
    let case = org
        .emu
        .record(results[2]["body"]["id"].as_str().unwrap())
        .unwrap();
    assert_eq!(case["AccountId"], account);
    assert_eq!(case["Subject"], "About Body Refs (0123)");
    assert_eq!(case["Description"], "a@b {c} @ {d}");
}

#[tokio::test]
async fn a_body_reference_that_does_not_resolve_rolls_the_whole_composite_back() {
    let org = spawn().await;
    let accounts = org.emu.count("Account");
    for text in [
        "see @{Account.Id}",
        "see @{acct.Id}",
        "see @{acct.id",
        "@{}",
    ] {
        let answer = org
            .post(
                "composite",
                json!({"allOrNone": true, "compositeRequest": [
                    sub("POST", "sobjects/Account", "acct", Some(json!({"Name": "Rolled Back"}))),
                    sub("POST", "sobjects/Case", "case", Some(json!({
                        "AccountId": "@{acct.id}",
                        "Subject": "Help",
                        "Description": text,
                    }))),
                ]}),
            )
            .await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        let results = answer.body["compositeResponse"].as_array().unwrap();
        assert_eq!(results[1]["httpStatusCode"], 400, "{text}: {}", answer.text);
        assert_eq!(results[1]["body"][0]["errorCode"], "PROCESSING_HALTED");
        let message = results[1]["body"][0]["message"].as_str().unwrap();
        assert!(
            message.starts_with("Invalid reference specified."),
            "{message}"
        );
        assert_eq!(results[0]["body"][0]["errorCode"], "PROCESSING_HALTED");
        assert_eq!(org.emu.count("Account"), accounts, "{text}");
        assert_eq!(org.emu.count("Case"), 0, "{text}");
    }
}

#[tokio::test]
async fn when_the_third_write_fails_all_or_none_leaves_nothing_behind() {
    let org = spawn().await;
    let (accounts, contacts) = (org.emu.count("Account"), org.emu.count("Contact"));
    let answer = org
        .post(
            "composite",
            json!({"allOrNone": true, "compositeRequest": [
                sub("POST", "sobjects/Account", "a", Some(json!({"Name": "Ghost"}))),
                sub("POST", "sobjects/Contact", "c", Some(json!({"LastName": "Ghost", "AccountId": "@{a.id}"}))),
                sub("POST", "sobjects/Opportunity", "o", Some(json!({"Name": "No stage", "CloseDate": "2024-06-30", "AccountId": "@{a.id}"}))),
                sub("POST", "sobjects/Case", "k", Some(json!({"Subject": "never"}))),
            ]}),
        )
        .await;
    assert_eq!(answer.status, 200);
    let results = answer.body["compositeResponse"].as_array().unwrap();
    let halted = json!([{"errorCode": "PROCESSING_HALTED", "message": "The transaction was rolled back since another operation in the same transaction failed."}]);
    for i in [0, 1, 3] {
        assert_eq!(results[i]["httpStatusCode"], 400);
        assert_eq!(results[i]["body"], halted, "{i}");
    }
    assert_eq!(results[2]["httpStatusCode"], 400);
    assert_eq!(results[2]["body"][0]["errorCode"], "REQUIRED_FIELD_MISSING");
    assert_eq!(
        (org.emu.count("Account"), org.emu.count("Contact")),
        (accounts, contacts)
    );
    assert_eq!(org.emu.count("Opportunity") + org.emu.count("Case"), 0);
}

#[tokio::test]
async fn without_all_or_none_successes_stay_and_dependents_of_a_failure_halt() {
    let org = spawn().await;
    let answer = org
        .post(
            "composite",
            json!({"allOrNone": false, "compositeRequest": [
                sub("POST", "sobjects/Account", "good", Some(json!({"Name": "Stays"}))),
                sub("POST", "sobjects/Account", "bad", Some(json!({"Phone": "1"}))),
                sub("POST", "sobjects/Contact", "dependent", Some(json!({"LastName": "X", "AccountId": "@{bad.id}"}))),
                sub("POST", "sobjects/Contact", "unknownRef", Some(json!({"LastName": "X", "AccountId": "@{later.id}"}))),
            ]}),
        )
        .await;
    let results = answer.body["compositeResponse"].as_array().unwrap();
    assert_eq!(results[0]["httpStatusCode"], 201);
    assert_eq!(results[1]["body"][0]["errorCode"], "REQUIRED_FIELD_MISSING");
    assert_eq!(results[2]["body"][0]["errorCode"], "PROCESSING_HALTED");
    assert_eq!(results[3]["httpStatusCode"], 400);
    assert_eq!(org.emu.count("Account"), 1);
    assert_eq!(org.emu.count("Contact"), 0);
}

#[tokio::test]
async fn composite_limits_and_reference_ids_are_enforced() {
    let org = spawn().await;
    let many: Vec<Value> = (0..26)
        .map(|i| sub("GET", "limits", &format!("r{i}"), None))
        .collect();
    let a = org
        .post("composite", json!({"compositeRequest": many}))
        .await;
    assert_eq!(a.status, 400, "{}", a.text);
    assert!(a.body[0]["errorCode"].is_string());

    let queries: Vec<Value> = (0..6)
        .map(|i| {
            sub(
                "GET",
                "query?q=SELECT+Id+FROM+Account",
                &format!("q{i}"),
                None,
            )
        })
        .collect();
    let a = org
        .post("composite", json!({"compositeRequest": queries}))
        .await;
    assert_eq!(a.status, 400, "{}", a.text);

    let five: Vec<Value> = (0..5)
        .map(|i| {
            sub(
                "GET",
                "query?q=SELECT+Id+FROM+Account",
                &format!("q{i}"),
                None,
            )
        })
        .collect();
    assert_eq!(
        org.post("composite", json!({"compositeRequest": five}))
            .await
            .status,
        200
    );

    for bad in [
        json!([sub("GET", "limits", "bad-id", None)]),
        json!([
            sub("GET", "limits", "same", None),
            sub("GET", "limits", "same", None)
        ]),
        json!([{"method": "GET", "url": "/services/data/v62.0/limits"}]),
        json!([{"method": "GET", "url": "/sobjects/Account", "referenceId": "x"}]),
    ] {
        let a = org
            .post("composite", json!({"compositeRequest": bad}))
            .await;
        assert_eq!(a.status, 400, "{bad}: {}", a.text);
        assert_eq!(a.error_code(), "INVALID_INPUT");
    }
    assert_eq!(org.emu.count("Account"), 0);
}

#[tokio::test]
async fn composite_sobjects_all_or_none_writes_everything_or_nothing() {
    let org = spawn().await;
    let calls = org.emu.api_calls();
    let a = org
        .post(
            "composite/sobjects",
            json!({"allOrNone": true, "records": [
                {"attributes": {"type": "Account"}, "Name": "One"},
                {"attributes": {"type": "Account"}, "Phone": "no name"},
                {"attributes": {"type": "Account"}, "Name": "Three"},
            ]}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    let rolled_back = json!({"success": false, "errors": [{"statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK", "message": "Record rolled back because not all records were valid and the request was using AllOrNone header", "fields": []}]});
    assert_eq!(a.body[0], rolled_back);
    assert_eq!(a.body[1]["success"], false);
    assert_eq!(
        a.body[1]["errors"][0]["statusCode"],
        "REQUIRED_FIELD_MISSING"
    );
    assert_eq!(a.body[1]["errors"][0]["fields"], json!(["Name"]));
    assert_eq!(a.body[2], rolled_back);
    assert_eq!(org.emu.count("Account"), 0);
    assert_eq!(org.emu.api_calls() - calls, 1);

    let partial = org
        .post(
            "composite/sobjects",
            json!({"allOrNone": false, "records": [
                {"attributes": {"type": "Account"}, "Name": "Kept"},
                {"attributes": {"type": "Account"}, "Phone": "no name"},
            ]}),
        )
        .await;
    assert_eq!(partial.body[0]["success"], true);
    assert_eq!(partial.body[1]["success"], false);
    assert_eq!(org.emu.count("Account"), 1);
    let kept = partial.body[0]["id"].as_str().unwrap();

    let update = org
        .patch(
            "composite/sobjects",
            json!({"allOrNone": true, "records": [
                {"attributes": {"type": "Account"}, "Id": kept, "Name": "Renamed"},
                {"attributes": {"type": "Account"}, "Name": "No id"},
            ]}),
        )
        .await;
    assert_eq!(
        update.body[0]["errors"][0]["statusCode"],
        "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    );
    assert_eq!(
        update.body[1]["errors"][0]["statusCode"],
        "MISSING_ARGUMENT"
    );
    assert_eq!(org.emu.record(kept).unwrap()["Name"], "Kept");
    let update = org
        .patch(
            "composite/sobjects",
            json!({"records": [{"attributes": {"type": "Account"}, "Id": kept, "Name": "Renamed"}]}),
        )
        .await;
    assert_eq!(
        update.body,
        json!([{"id": kept, "success": true, "errors": []}])
    );
    assert_eq!(org.emu.record(kept).unwrap()["Name"], "Renamed");
}

#[tokio::test]
async fn raw_references_in_a_query_url_resolve_before_the_query_string_is_decoded() {
    let org = spawn().await;
    let calls = org.emu.api_calls();
    let answer = org
        .post(
            "composite",
            json!({"allOrNone": true, "compositeRequest": [
                sub("POST", "sobjects/Account", "newAccount", Some(json!({"Name": "Ref Co"}))),
                sub("POST", "sobjects/Contact", "newContact", Some(json!({"LastName": "Ref", "AccountId": "@{newAccount.id}"}))),
                sub("GET", "query?q=SELECT%20Id%2CAccountId%20FROM%20Contact%20WHERE%20Id%20%3D%20%27@{newContact.id}%27", "byId", None),
                sub("GET", "query?q=SELECT+Id,Name+FROM+Account+WHERE+Id+=+'@{byId.records[0].AccountId}'", "byField", None),
            ]}),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let results = answer.body["compositeResponse"].as_array().unwrap();
    let account = results[0]["body"]["id"].as_str().unwrap();
    let contact = results[1]["body"]["id"].as_str().unwrap();
    assert_eq!(results[2]["httpStatusCode"], 200, "{}", answer.text);
    assert_eq!(results[2]["body"]["totalSize"], 1);
    assert_eq!(results[2]["body"]["records"][0]["Id"], contact);
    assert_eq!(results[2]["body"]["records"][0]["AccountId"], account);
    assert_eq!(results[3]["httpStatusCode"], 200, "{}", answer.text);
    assert_eq!(results[3]["body"]["totalSize"], 1);
    assert_eq!(results[3]["body"]["records"][0]["Id"], account);
    assert_eq!(results[3]["body"]["records"][0]["Name"], "Ref Co");
    assert_eq!(org.emu.api_calls() - calls, 1);
}

#[tokio::test]
async fn an_encoded_reference_in_a_query_is_literal_text_never_substituted() {
    let org = spawn().await;
    // What a customer typed, stored as is.
    let literal = org
        .emu
        .insert("Account", json!({"Name": "@{newAccount.id}"}))
        .unwrap();
    let answer = org
        .post(
            "composite",
            json!({"allOrNone": true, "compositeRequest": [
                sub("POST", "sobjects/Account", "newAccount", Some(json!({"Name": "Real"}))),
                sub("GET", "query?q=SELECT%20Id%20FROM%20Account%20WHERE%20Name%20%3D%20%27%40%7BnewAccount.id%7D%27", "encoded", None),
                sub("GET", "query?q=SELECT%20Id%20FROM%20Account%20WHERE%20Name%20%3D%20%27%40%7Bnobody.id%7D%27", "unknown", None),
            ]}),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let results = answer.body["compositeResponse"].as_array().unwrap();
    assert_ne!(results[0]["body"]["id"], literal.as_str());
    assert_eq!(results[1]["httpStatusCode"], 200, "{}", answer.text);
    assert_eq!(results[1]["body"]["totalSize"], 1);
    assert_eq!(results[1]["body"]["records"][0]["Id"], literal.as_str());
    // An encoded reference to no subrequest is not an invalid reference either.
    assert_eq!(results[2]["httpStatusCode"], 200, "{}", answer.text);
    assert_eq!(results[2]["body"]["totalSize"], 0);
}
