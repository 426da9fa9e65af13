//! The builder, the bodies and the results, each over its own seam.

use serde_json::{Value, json};

use super::builder::RefKind;
use super::*;
use crate::Id;
use crate::error::SalesforceError;
use crate::soql::{self, Cond, select};

#[test]
fn references_render_as_documented() {
    let mut c = Composite::new(AllOrNone::Yes);
    let acc = c.create("Account", Body::new().set("Name", "A")).unwrap();
    let named = c.create_named(
        "contact_1",
        "Contact",
        Body::new().set_ref("AccountId", &acc),
    );
    let q = c
        .query(
            &select(["Id"])
                .from("Order")
                .where_(Cond::eq("Name", "x y"))
                .build()
                .unwrap(),
        )
        .unwrap();
    c.update("Order", &q, Body::new().set("Status", "Activated"))
        .unwrap();
    c.update(
        "Account",
        Id::parse("001000000000001").unwrap(),
        Body::new(),
    )
    .unwrap();
    assert_eq!(acc.id(), "@{ref0.id}");
    assert_eq!(named.unwrap().reference_id(), "contact_1");
    assert_eq!(q.first_id(), "@{ref1.records[0].Id}");
    let body = c.to_body("62.0");
    assert_eq!(body["allOrNone"], true);
    assert_eq!(body["collateSubrequests"], false);
    let reqs = body["compositeRequest"].as_array().unwrap();
    assert_eq!(reqs[0]["method"], "POST");
    assert_eq!(reqs[0]["url"], "/services/data/v62.0/sobjects/Account");
    assert_eq!(reqs[1]["body"]["AccountId"], "@{ref0.id}");
    assert_eq!(
        reqs[2]["url"],
        "/services/data/v62.0/query?q=SELECT%20Id%20FROM%20Order%20WHERE%20Name%20%3D%20%27x%20y%27"
    );
    assert!(reqs[2].get("body").is_none());
    assert_eq!(
        reqs[3]["url"],
        "/services/data/v62.0/sobjects/Order/@{ref1.records[0].Id}"
    );
    assert_eq!(reqs[3]["referenceId"], "ref2");
    assert_eq!(
        reqs[4]["url"],
        "/services/data/v62.0/sobjects/Account/001000000000001AAA"
    );
}

#[test]
fn limits_and_names_are_enforced_while_building() {
    let mut c = Composite::new(AllOrNone::Yes);
    for _ in 0..MAX_SUBREQUESTS {
        c.create("Account", Body::new()).unwrap();
    }
    assert_eq!(
        c.create("Account", Body::new()),
        Err(CompositeBuildError::TooManySubrequests)
    );

    let q = select(["Id"]).from("Account").build().unwrap();
    let mut c = Composite::new(AllOrNone::Yes);
    for _ in 0..MAX_QUERIES {
        c.query(&q).unwrap();
    }
    assert_eq!(c.query(&q), Err(CompositeBuildError::TooManyQueries));

    let mut c = Composite::new(AllOrNone::No);
    assert!(matches!(
        c.create_named("bad-name", "Account", Body::new()),
        Err(CompositeBuildError::InvalidReferenceId(_))
    ));
    assert!(matches!(
        c.create_named("", "Account", Body::new()),
        Err(CompositeBuildError::InvalidReferenceId(_))
    ));
    c.create_named("ref0", "Account", Body::new()).unwrap();
    assert!(matches!(
        c.create_named("ref0", "Account", Body::new()),
        Err(CompositeBuildError::DuplicateReferenceId(_))
    ));
    // Generated names skip the taken ones.
    assert_eq!(
        c.create("Account", Body::new()).unwrap().reference_id(),
        "ref1"
    );
    assert!(matches!(
        c.create("Account/../x", Body::new()),
        Err(CompositeBuildError::InvalidObject(_))
    ));
    let foreign = Composite::new(AllOrNone::Yes)
        .create("Account", Body::new())
        .unwrap();
    let mut other = Composite::new(AllOrNone::Yes);
    assert!(matches!(
        other.update("Account", &foreign, Body::new()),
        Err(CompositeBuildError::UnknownReference(_))
    ));
}

#[test]
fn references_go_into_query_urls_raw_and_everything_else_encoded() {
    let mut c = Composite::new(AllOrNone::Yes);
    let order = c.create_named("order", "Order", Body::new()).unwrap();
    let found = c
        .query_named(
            "orderQuery",
            &select(["AccountId"])
                .from("Order")
                .where_(Cond::eq("Id", order.soql_id()))
                .build()
                .unwrap(),
        )
        .unwrap();
    c.query_named(
        "contacts",
        &select(["Id"])
            .from("Contact")
            .where_(Cond::eq(
                "AccountId",
                found.soql_path("records[0].AccountId").unwrap(),
            ))
            .where_(Cond::ne("LastName", "@{order.id}"))
            .where_(Cond::ne("FirstName", order.soql_first_id()))
            .build()
            .unwrap(),
    )
    .unwrap();
    let body = c.to_body("62.0");
    let reqs = body["compositeRequest"].as_array().unwrap();
    assert_eq!(
        reqs[1]["url"],
        "/services/data/v62.0/query?q=SELECT%20AccountId%20FROM%20Order%20WHERE%20Id%20%3D%20%27@{order.id}%27"
    );
    assert_eq!(
        reqs[2]["url"],
        "/services/data/v62.0/query?q=SELECT%20Id%20FROM%20Contact%20WHERE%20%28AccountId%20%3D%20%27@{orderQuery.records[0].AccountId}%27%20AND%20LastName%20%21%3D%20%27%40%7Border.id%7D%27%20AND%20FirstName%20%21%3D%20%27@{order.records[0].Id}%27%29"
    );
}

#[test]
fn a_reference_to_anything_but_an_earlier_subrequest_is_a_build_error() {
    let query_with = |r: soql::Reference| {
        select(["Id"])
            .from("Contact")
            .where_(Cond::eq("AccountId", r))
            .build()
            .unwrap()
    };
    // Another composite's subrequest, even under the same name.
    let mut other = Composite::new(AllOrNone::Yes);
    let foreign = other.create("Account", Body::new()).unwrap();
    let mut c = Composite::new(AllOrNone::Yes);
    c.create("Account", Body::new()).unwrap();
    assert_eq!(foreign.reference_id(), "ref0");
    assert_eq!(
        c.query(&query_with(foreign.soql_id())),
        Err(CompositeBuildError::UnknownReference("ref0".into()))
    );
    assert_eq!(
        c.update("Account", &foreign, Body::new()),
        Err(CompositeBuildError::UnknownReference("ref0".into()))
    );
    // A subrequest added later (here: to a clone, which shares the stamp).
    let mut later = c.clone();
    let added_later = later.create_named("later", "Account", Body::new()).unwrap();
    assert_eq!(
        c.query(&query_with(added_later.soql_id())),
        Err(CompositeBuildError::UnknownReference("later".into()))
    );
    assert!(later.query(&query_with(added_later.soql_id())).is_ok());
    // A path that is not a reference path.
    for bad in ["", "id}", "records[0]..Id", "id' OR Id != '"] {
        assert_eq!(
            added_later.soql_path(bad),
            Err(CompositeBuildError::InvalidReferencePath(bad.into()))
        );
    }
    // Nothing was added by the refused calls.
    assert_eq!(c.len(), 1);
}

#[test]
fn data_holding_a_reference_marker_is_held_back_and_only_set_ref_writes_references() {
    let text = "see @{ref0.id} and @{Account.Id}, or @{ unclosed";
    let mut c = Composite::new(AllOrNone::Yes);
    let acc = c
        .create("Account", Body::new().set("Name", "@{ref0.id}"))
        .unwrap();
    let case = c
        .create(
            "Case",
            Body::new()
                .set("Subject", "plain")
                .set("Description", text)
                .set("Tags__c", json!(["a", "@{x}"]))
                .set_ref("AccountId", &acc),
        )
        .unwrap();
    let known = Id::parse("001000000000001").unwrap();
    c.update("Account", &known, Body::new().set("Phone", "@{1}"))
        .unwrap();
    c.update("Account", &known, Body::new().set("Phone", "0123"))
        .unwrap();
    assert!(c.holds_text());

    let body = c.to_body("62.0");
    let reqs = body["compositeRequest"].as_array().unwrap();
    // The only `@{` on the wire is the builder's own reference.
    assert_eq!(reqs[0]["body"], json!({"Name": "@(ref0.id}"}));
    assert_eq!(
        reqs[1]["body"],
        json!({
            "Subject": "plain",
            "Description": "see @(ref0.id} and @(Account.Id}, or @( unclosed",
            "Tags__c": ["a", "@(x}"],
            "AccountId": "@{ref0.id}",
        })
    );
    assert_eq!(reqs[2]["body"], json!({"Phone": "@(1}"}));
    assert_eq!(
        reqs[1]["body"]["Description"].as_str().unwrap().len(),
        text.len(),
        "the stand-in keeps the length"
    );
    let wire = body.to_string();
    assert_eq!(wire.matches("@{").count(), 1);

    // After the composite, the exact text goes to each record by id.
    let results: CompositeResults = serde_json::from_value(json!({"compositeResponse": [
        {"body": {"id": "001000000000002AAA", "success": true, "errors": []}, "httpStatusCode": 201, "referenceId": acc.reference_id()},
        {"body": {"id": "500000000000003AAA", "success": true, "errors": []}, "httpStatusCode": 201, "referenceId": case.reference_id()},
        {"body": null, "httpStatusCode": 204, "referenceId": "ref2"},
        {"body": null, "httpStatusCode": 204, "referenceId": "ref3"}
    ]}))
    .unwrap();
    let updates = c.text_updates(&results).unwrap();
    assert_eq!(updates.len(), 3);
    assert_eq!(updates[0].object, "Account");
    assert_eq!(updates[0].id.as_str(), "001000000000002AAA");
    assert_eq!(updates[0].fields, json!({"Name": "@{ref0.id}"}));
    assert_eq!(updates[1].id.as_str(), "500000000000003AAA");
    assert_eq!(
        updates[1].fields,
        json!({"Description": text, "Tags__c": ["a", "@{x}"]})
    );
    assert_eq!(updates[2].id, known);
    assert_eq!(updates[2].fields, json!({"Phone": "@{1}"}));

    // Nothing held: nothing to write after.
    let mut plain = Composite::new(AllOrNone::Yes);
    plain
        .create("Case", Body::new().set("Description", "a@b {c}"))
        .unwrap();
    assert!(!plain.holds_text());
}

#[test]
fn held_text_of_an_update_by_query_goes_to_the_record_the_query_found() {
    let mut c = Composite::new(AllOrNone::No);
    let q = c
        .query(&select(["Id"]).from("Order").build().unwrap())
        .unwrap();
    c.update_named(
        "fail",
        "Order",
        &q,
        Body::new().set("Activation_Error__c", "x @{y}"),
    )
    .unwrap();
    let found: CompositeResults = serde_json::from_value(json!({"compositeResponse": [
        {"body": {"totalSize": 1, "done": true, "records": [{"Id": "801000000000004AAA"}]}, "httpStatusCode": 200, "referenceId": "ref0"},
        {"body": null, "httpStatusCode": 204, "referenceId": "fail"}
    ]}))
    .unwrap();
    let updates = c.text_updates(&found).unwrap();
    assert_eq!(updates[0].id.as_str(), "801000000000004AAA");
    assert_eq!(updates[0].fields, json!({"Activation_Error__c": "x @{y}"}));
    // A subrequest that failed wrote nothing, so it gets no text either.
    let failed: CompositeResults = serde_json::from_value(json!({"compositeResponse": [
        {"body": {"totalSize": 0, "done": true, "records": []}, "httpStatusCode": 200, "referenceId": "ref0"},
        {"body": [{"errorCode": "PROCESSING_HALTED", "message": "Invalid reference specified."}], "httpStatusCode": 400, "referenceId": "fail"}
    ]}))
    .unwrap();
    assert!(c.text_updates(&failed).unwrap().is_empty());
}

#[test]
fn a_lookup_in_a_body_must_be_to_an_earlier_subrequest() {
    let foreign = Composite::new(AllOrNone::Yes)
        .create("Account", Body::new())
        .unwrap();
    let mut c = Composite::new(AllOrNone::Yes);
    assert_eq!(
        c.create("Contact", Body::new().set_ref("AccountId", &foreign)),
        Err(CompositeBuildError::UnknownReference("ref0".into()))
    );
    assert!(c.is_empty());
}

#[test]
fn the_failure_reported_is_the_real_one() {
    let results: CompositeResults = serde_json::from_value(json!({"compositeResponse": [
        {"body": [{"errorCode": "PROCESSING_HALTED", "message": "The transaction was rolled back since another operation in the same transaction failed."}], "httpHeaders": {}, "httpStatusCode": 400, "referenceId": "ref0"},
        {"body": [{"errorCode": "PROCESSING_HALTED", "message": "rolled back"}], "httpHeaders": {}, "httpStatusCode": 400, "referenceId": "ref1"},
        {"body": [{"errorCode": "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", "message": "bad value for restricted picklist field: Nope", "fields": ["Portal_Status__c"]}], "httpHeaders": {}, "httpStatusCode": 400, "referenceId": "ref2"}
    ]}))
    .unwrap();
    let Some(SalesforceError::Composite {
        reference_id,
        status,
        errors,
        rolled_back,
    }) = results.failure(true)
    else {
        panic!("expected a composite failure");
    };
    assert_eq!(reference_id, "ref2");
    assert_eq!(status, 400);
    assert_eq!(
        errors[0].error_code,
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    );
    assert!(rolled_back);

    let ok: CompositeResults = serde_json::from_value(json!({"compositeResponse": [
        {"body": {"id": "001000000000001AAA", "success": true, "errors": []}, "httpHeaders": {"Location": "/x"}, "httpStatusCode": 201, "referenceId": "ref0"},
        {"body": {"totalSize": 1, "done": true, "records": [{"Id": "001000000000001AAA"}]}, "httpHeaders": {}, "httpStatusCode": 200, "referenceId": "ref1"}
    ]}))
    .unwrap();
    assert!(ok.failure(true).is_none());
    let r0 = Ref {
        composite: 0,
        name: "ref0".into(),
        kind: RefKind::Record,
    };
    let r1 = Ref {
        composite: 0,
        name: "ref1".into(),
        kind: RefKind::Query,
    };
    assert_eq!(ok.id(&r0).unwrap().as_str(), "001000000000001AAA");
    let records: Vec<Value> = ok.records(&r1).unwrap();
    assert_eq!(records.len(), 1);
    assert!(!ok.failed(&r0) && ok.failure_of(&r1).is_none());

    // allOrNone false: a reference to a query that found nothing fails
    // its subrequest alone.
    let partial: CompositeResults = serde_json::from_value(json!({"compositeResponse": [
        {"body": {"totalSize": 0, "done": true, "records": []}, "httpHeaders": {}, "httpStatusCode": 200, "referenceId": "ref0"},
        {"body": [{"errorCode": "PROCESSING_HALTED", "message": "Invalid reference specified. No value for ref0.records[0].Id found in ref0."}], "httpHeaders": {}, "httpStatusCode": 400, "referenceId": "ref1"}
    ]}))
    .unwrap();
    assert!(!partial.failed(&r0) && partial.failed(&r1));
    let Some(SalesforceError::Composite {
        reference_id,
        errors,
        rolled_back,
        ..
    }) = partial.failure_of(&r1)
    else {
        panic!("expected the subrequest's failure");
    };
    assert_eq!(reference_id, "ref1");
    assert_eq!(errors[0].error_code, "PROCESSING_HALTED");
    assert!(!rolled_back);
    let missing = Ref {
        composite: 0,
        name: "ref9".into(),
        kind: RefKind::Query,
    };
    assert!(partial.failed(&missing) && partial.failure_of(&missing).is_some());
}
