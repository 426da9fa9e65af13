//! sObject create, read, update, upsert, describe and write validation.

use salesforce_emulator::ids;
use serde_json::{Value, json};

use crate::helpers::{Answer, spawn};

#[tokio::test]
async fn create_then_get_should_return_every_field_in_wire_form() {
    let org = spawn().await;
    let created = org
        .post(
            "sobjects/Account",
            json!({"Name": "Acme", "WH_Account__c": 12, "Internet_Eligibility_Request_Date_Time__c": "2024-05-01T09:30:00+09:00"}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        created.body,
        json!({"id": id, "success": true, "errors": []})
    );
    assert_eq!(id.len(), 18);
    assert!(id.starts_with("001"));
    assert_eq!(ids::normalize(&id).as_deref(), Some(id.as_str()));

    let got = org.get(&format!("sobjects/Account/{id}")).await;
    assert_eq!(got.status, 200);
    let r = &got.body;
    assert_eq!(
        r["attributes"],
        json!({"type": "Account", "url": format!("/services/data/v62.0/sobjects/Account/{id}")})
    );
    assert_eq!(r["Id"], id.as_str());
    assert_eq!(r["Name"], "Acme");
    assert_eq!(r["WH_Account__c"], json!(12.0));
    assert!(got.text.contains("\"WH_Account__c\":12.0"));
    assert_eq!(
        r["Internet_Eligibility_Request_Date_Time__c"],
        "2024-05-01T00:30:00.000+0000"
    );
    assert_eq!(r["Phone"], Value::Null);
    assert_eq!(r["CreatedById"], org.emu.integration_user_id().as_str());
    assert!(r["CreatedDate"].as_str().unwrap().ends_with("+0000"));

    let only = org
        .get(&format!(
            "sobjects/Account/{id}?fields=name,Portal_Status__c"
        ))
        .await;
    let keys: Vec<&String> = only.body.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 3, "{keys:?}");
    assert_eq!(only.body["Name"], "Acme");
    assert_eq!(only.body["Portal_Status__c"], Value::Null);

    let bad_field = org
        .get(&format!("sobjects/Account/{id}?fields=Nope__c"))
        .await;
    assert_eq!(
        (bad_field.status, bad_field.error_code()),
        (400, "INVALID_FIELD")
    );

    let fifteen = &id[..15];
    assert_eq!(
        org.get(&format!("sobjects/Account/{fifteen}")).await.status,
        200
    );
}

#[tokio::test]
async fn update_should_answer_204_and_change_only_the_given_fields() {
    let org = spawn().await;
    let id = org.account("Before").await;
    let updated = org
        .patch(
            &format!("sobjects/Account/{id}"),
            json!({"Name": "After", "Portal_Status__c": "Active"}),
        )
        .await;
    assert_eq!(updated.status, 204, "{}", updated.text);
    assert!(updated.text.is_empty());
    let r = org.emu.record(&id).unwrap();
    assert_eq!(
        (r["Name"].as_str(), r["Portal_Status__c"].as_str()),
        (Some("After"), Some("Active"))
    );
}

#[tokio::test]
async fn unknown_objects_and_ids_are_not_found() {
    let org = spawn().await;
    let id = org.account("Acme").await;
    let not_found = |a: &Answer| {
        assert_eq!(a.status, 404, "{}", a.text);
        assert_eq!(a.error_code(), "NOT_FOUND");
    };
    not_found(&org.get("sobjects/Nope__c").await);
    not_found(&org.post("sobjects/Nope__c", json!({"Name": "x"})).await);
    let unknown = ids::normalize("001Em000000zzzz").unwrap();
    not_found(&org.get(&format!("sobjects/Account/{unknown}")).await);
    not_found(&org.get(&format!("sobjects/Contact/{id}")).await);
    let malformed = org.get("sobjects/Account/not-an-id").await;
    not_found(&malformed);
    assert!(
        malformed
            .message()
            .starts_with("Provided external ID field does not exist")
    );
    let mut bad_suffix = id.clone();
    bad_suffix.replace_range(15.., "ZZZ");
    not_found(&org.get(&format!("sobjects/Account/{bad_suffix}")).await);
    not_found(
        &org.patch(&format!("sobjects/Account/{unknown}"), json!({"Name": "x"}))
            .await,
    );
    let version = org.send("GET", "/services/data/v20.0/sobjects", None).await;
    assert_eq!(version.status, 404);
    assert_eq!(
        version.body,
        json!([{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}])
    );
}

#[tokio::test]
async fn deletes_and_catalog_writes_are_refused_to_the_integration_user() {
    let org = spawn().await;
    let id = org.account("Keep me").await;
    let delete = org
        .send("DELETE", &format!("sobjects/Account/{id}"), None)
        .await;
    assert_eq!(
        (delete.status, delete.error_code()),
        (400, "INSUFFICIENT_ACCESS_OR_READONLY")
    );
    assert!(org.emu.record(&id).is_some());
    let product = org
        .post("sobjects/Product2", json!({"Name": "Free stuff"}))
        .await;
    assert_eq!(
        (product.status, product.error_code()),
        (400, "INSUFFICIENT_ACCESS_OR_READONLY")
    );
    let by_staff = org
        .admin(
            "POST",
            "sobjects/Product2",
            Some(json!({"Name": "Staff product"})),
        )
        .await;
    assert_eq!(by_staff.status, 201);
}

async fn refused(org: &crate::helpers::TestOrg, object: &str, body: Value) -> Answer {
    let answer = org.post(&format!("sobjects/{object}"), body).await;
    assert_eq!(answer.status, 400, "{}", answer.text);
    let content_type = answer.headers["content-type"].to_str().ok();
    assert!(content_type.is_some_and(|c| c.starts_with("application/json")));
    answer
}

#[tokio::test]
async fn every_validation_error_has_salesforces_code_message_and_fields() {
    let org = spawn().await;
    let account = org.account("Acme").await;
    let contact = org
        .post(
            "sobjects/Contact",
            json!({"LastName": "Doe", "AccountId": account}),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let before = org.emu.count("Account");

    let a = refused(&org, "Account", json!({"Name": "x", "Bogus__c": 1})).await;
    assert_eq!(
        a.body,
        json!([{"message": "No such column 'Bogus__c' on sobject of type Account", "errorCode": "INVALID_FIELD"}])
    );

    let a = refused(&org, "Case", json!({"CaseNumber": "1"})).await;
    assert_eq!(a.error_code(), "INVALID_FIELD_FOR_INSERT_UPDATE");
    assert!(a.message().starts_with(
        "Unable to create/update fields: CaseNumber. Please check the security settings"
    ));
    assert_eq!(a.body[0]["fields"], json!(["CaseNumber"]));

    let a = refused(&org, "Opportunity", json!({"CloseDate": "2024-06-30"})).await;
    assert_eq!(
        a.body,
        json!([{"message": "Required fields are missing: [Name, StageName]", "errorCode": "REQUIRED_FIELD_MISSING", "fields": ["Name", "StageName"]}])
    );

    let a = refused(
        &org,
        "Order",
        json!({"AccountId": account, "EffectiveDate": "2024-05-01", "Status": "Foo"}),
    )
    .await;
    assert_eq!(
        a.body,
        json!([{"message": "Status: bad value for restricted picklist field: Foo", "errorCode": "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", "fields": ["Status"]}])
    );

    let a = refused(
        &org,
        "Opportunity",
        json!({"Name": "o", "CloseDate": "2024-06-30", "StageName": null}),
    )
    .await;
    assert_eq!(a.error_code(), "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST");

    for (object, body) in [
        ("Account", json!({"Name": "x", "WH_Account__c": "12"})),
        ("Account", json!({"Name": 12})),
        (
            "Order",
            json!({"AccountId": account, "EffectiveDate": "2024-02-30"}),
        ),
        (
            "Account",
            json!({"Name": "x", "Internet_Eligibility_Checked_Date_Time__c": "yesterday"}),
        ),
        ("Product2", json!({"Name": "x", "IsActive": "yes"})),
    ] {
        let a = org
            .admin("POST", &format!("sobjects/{object}"), Some(body.clone()))
            .await;
        assert_eq!(
            (a.status, a.error_code()),
            (400, "JSON_PARSER_ERROR"),
            "{body}: {}",
            a.text
        );
        assert!(
            a.message().starts_with("Cannot deserialize instance of"),
            "{}",
            a.message()
        );
    }

    let a = refused(&org, "Account", json!({"Name": "x".repeat(256)})).await;
    assert_eq!(a.error_code(), "STRING_TOO_LONG");
    assert!(
        a.message()
            .starts_with("Account Name: data value too large: xxx")
    );
    assert!(a.message().ends_with("(max length=255)"));
    assert_eq!(a.body[0]["fields"], json!(["Name"]));

    let a = refused(
        &org,
        "Contact",
        json!({"LastName": "Doe", "AccountId": "001-bad"}),
    )
    .await;
    assert_eq!(
        (a.error_code(), a.body[0]["fields"].clone()),
        ("MALFORMED_ID", json!(["AccountId"]))
    );

    let a = refused(
        &org,
        "Contact",
        json!({"LastName": "Doe", "AccountId": ids::normalize("001Em000000zzzz").unwrap()}),
    )
    .await;
    assert_eq!(a.error_code(), "INVALID_CROSS_REFERENCE_KEY");
    assert_eq!(a.message(), "invalid cross reference id");
    let a = refused(&org, "Case", json!({"AccountId": contact})).await;
    assert_eq!(
        a.error_code(),
        "INVALID_CROSS_REFERENCE_KEY",
        "an id of the wrong object"
    );

    org.patch(
        &format!("sobjects/Account/{account}"),
        json!({"SF_Account_No__c": "C-100"}),
    )
    .await;
    let a = refused(
        &org,
        "Account",
        json!({"Name": "Dup", "SF_Account_No__c": "c-100"}),
    )
    .await;
    assert_eq!(a.error_code(), "DUPLICATE_VALUE");
    assert_eq!(
        a.message(),
        format!(
            "duplicate value found: SF_Account_No__c duplicates value on record with id: {account}"
        )
    );

    let a = refused(
        &org,
        "Contact",
        json!({"LastName": "Doe", "Email": "not an email"}),
    )
    .await;
    assert_eq!(a.error_code(), "INVALID_EMAIL_ADDRESS");

    let a = refused(&org, "Account", json!({"Id": account, "Name": "x"})).await;
    assert_eq!(a.error_code(), "INVALID_FIELD");

    assert_eq!(
        org.emu.count("Account"),
        before,
        "no refused write left a record"
    );

    let a = org
        .patch(
            &format!("sobjects/Account/{account}"),
            json!({"Name": null}),
        )
        .await;
    assert_eq!((a.status, a.error_code()), (400, "REQUIRED_FIELD_MISSING"));
}

#[tokio::test]
async fn defaults_autonumbers_and_ids_are_set_by_the_system() {
    let org = spawn().await;
    let account = org.account("Acme").await;
    let first = org
        .post(
            "sobjects/Case",
            json!({"AccountId": &account[..15], "Subject": "Hi"}),
        )
        .await;
    let second = org.post("sobjects/Case", json!({"Subject": "Again"})).await;
    let first = org.emu.record(first.body["id"].as_str().unwrap()).unwrap();
    let second = org.emu.record(second.body["id"].as_str().unwrap()).unwrap();
    assert_eq!(first["Status"], "New", "picklist default");
    assert_eq!(
        first["AccountId"],
        account.as_str(),
        "15-character ids are stored as 18"
    );
    assert_eq!(first["CaseNumber"], "00000100");
    assert_eq!(second["CaseNumber"], "00000101");
    let product = org
        .emu
        .insert("Product2", json!({"Name": "Widget"}))
        .unwrap();
    assert_eq!(
        org.emu.record(&product).unwrap()["IsActive"],
        json!(false),
        "boolean default"
    );
}

#[tokio::test]
async fn upsert_by_external_id_creates_updates_or_lists_the_matches() {
    let org = spawn().await;
    let created = org
        .patch(
            "sobjects/Account/SF_Account_No__c/C-1",
            json!({"Name": "New"}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        created.body,
        json!({"id": id, "success": true, "errors": [], "created": true})
    );
    assert_eq!(org.emu.record(&id).unwrap()["SF_Account_No__c"], "C-1");

    let updated = org
        .patch(
            "sobjects/Account/SF_Account_No__c/C-1",
            json!({"Name": "Renamed"}),
        )
        .await;
    assert_eq!(updated.status, 204);
    assert_eq!(org.emu.record(&id).unwrap()["Name"], "Renamed");
    assert_eq!(org.emu.count("Account"), 1);

    let by_number = org
        .patch(
            "sobjects/Opportunity/WHMCS_Service_ID__c/42",
            json!({"Name": "Svc", "StageName": "Active", "CloseDate": "2024-06-30"}),
        )
        .await;
    assert_eq!(by_number.status, 201, "{}", by_number.text);
    let opp = by_number.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        org.emu.record(&opp).unwrap()["WHMCS_Service_ID__c"],
        json!(42.0)
    );

    let other = org
        .emu
        .insert_unchecked(
            "Account",
            json!({"Name": "Legacy twin", "SF_Account_No__c": "C-1"}),
        )
        .unwrap();
    let several = org
        .patch(
            "sobjects/Account/SF_Account_No__c/C-1",
            json!({"Name": "Which?"}),
        )
        .await;
    assert_eq!(several.status, 300);
    assert_eq!(
        several.body,
        json!([
            format!("/services/data/v62.0/sobjects/Account/{id}"),
            format!("/services/data/v62.0/sobjects/Account/{other}")
        ])
    );

    let not_external = org
        .patch("sobjects/Account/Name/Acme", json!({"Phone": "1"}))
        .await;
    assert_eq!(
        (not_external.status, not_external.error_code()),
        (404, "NOT_FOUND")
    );
}

#[tokio::test]
async fn describe_has_salesforces_shape() {
    let org = spawn().await;
    let d = org.get("sobjects/Order/describe").await;
    assert_eq!(d.status, 200);
    assert_eq!(d.body["name"], "Order");
    assert_eq!(d.body["keyPrefix"], "801");
    assert_eq!(d.body["createable"], true);
    assert_eq!(d.body["queryable"], true);
    let fields = d.body["fields"].as_array().unwrap();
    let field = |name: &str| fields.iter().find(|f| f["name"] == name).unwrap().clone();
    assert_eq!(fields[0]["name"], "Id");
    let status = field("Status");
    assert_eq!(status["type"], "picklist");
    assert_eq!(status["restrictedPicklist"], true);
    assert_eq!(status["defaultedOnCreate"], true);
    assert!(status["picklistValues"].as_array().unwrap().contains(
        &json!({"value": "Draft", "label": "Draft", "active": true, "defaultValue": true})
    ));
    let account = field("AccountId");
    assert_eq!(
        (
            account["type"].clone(),
            account["referenceTo"].clone(),
            account["relationshipName"].clone()
        ),
        (json!("reference"), json!(["Account"]), json!("Account"))
    );
    assert_eq!(account["nillable"], false);
    let number = field("OrderNumber");
    assert_eq!(
        (number["autoNumber"].clone(), number["createable"].clone()),
        (json!(true), json!(false))
    );
    let whmcs = field("WHMCS_Order_Id__c");
    assert_eq!(
        (
            whmcs["type"].clone(),
            whmcs["precision"].clone(),
            whmcs["scale"].clone(),
            whmcs["custom"].clone()
        ),
        (json!("double"), json!(18), json!(0), json!(true))
    );
    for key in [
        "label",
        "length",
        "updateable",
        "externalId",
        "unique",
        "calculated",
    ] {
        assert!(whmcs.get(key).is_some(), "{key}");
    }
    let product = org.get("sobjects/Product2/describe").await;
    assert_eq!(
        product.body["createable"], false,
        "the integration user cannot create products"
    );

    let global = org.get("sobjects").await;
    let names: Vec<&str> = global.body["sobjects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"Account") && names.contains(&"PricebookEntry"));
}

#[tokio::test]
async fn order_items_follow_the_price_book_rules_and_totals_are_computed() {
    let org = spawn().await;
    let account = org.account("Buyer").await;
    let (book, entry, product, price) = org.catalog_entry("INT-HOME-1G");
    let no_book = org
        .post(
            "sobjects/Order",
            json!({"AccountId": account, "EffectiveDate": "2024-05-01"}),
        )
        .await;
    let no_book = no_book.body["id"].as_str().unwrap().to_owned();
    assert_eq!(org.emu.record(&no_book).unwrap()["OrderNumber"], "00000100");
    let refused = org
        .post("sobjects/OrderItem", json!({"OrderId": no_book, "PricebookEntryId": entry, "Quantity": 1, "UnitPrice": price}))
        .await;
    assert_eq!(
        (refused.status, refused.error_code()),
        (400, "FIELD_INTEGRITY_EXCEPTION")
    );

    let order = org
        .post(
            "sobjects/Order",
            json!({"AccountId": account, "EffectiveDate": "2024-05-01", "Pricebook2Id": book}),
        )
        .await;
    assert_eq!(order.status, 201);
    let order = order.body["id"].as_str().unwrap().to_owned();
    let o = org.emu.record(&order).unwrap();
    assert_eq!(
        (o["Status"].as_str(), o["OrderNumber"].as_str()),
        (Some("Draft"), Some("00000101"))
    );
    let item = org
        .post(
            "sobjects/OrderItem",
            json!({"OrderId": order, "PricebookEntryId": entry, "Quantity": 2, "UnitPrice": price}),
        )
        .await;
    assert_eq!(item.status, 201, "{}", item.text);
    let item = org.emu.record(item.body["id"].as_str().unwrap()).unwrap();
    assert_eq!(
        item["Product2Id"],
        product.as_str(),
        "taken from the price book entry"
    );
    assert_eq!(item["TotalPrice"], json!(2.0 * price));
    assert_eq!(
        org.emu.record(&order).unwrap()["TotalAmount"],
        json!(2.0 * price)
    );

    let (_, inactive_entry, _, _) = org.catalog_entry("INT-HOME-1G-LEGACY");
    let inactive = org
        .post("sobjects/OrderItem", json!({"OrderId": order, "PricebookEntryId": inactive_entry, "Quantity": 1, "UnitPrice": 1}))
        .await;
    assert_eq!(
        (inactive.status, inactive.error_code()),
        (400, "FIELD_INTEGRITY_EXCEPTION")
    );
}

#[tokio::test]
async fn the_seeded_catalog_and_users_exist() {
    let org = spawn().await;
    let books = org.emu.records("Pricebook2");
    assert_eq!(books.len(), 1);
    assert_eq!(
        (books[0]["IsStandard"].clone(), books[0]["IsActive"].clone()),
        (json!(true), json!(true))
    );
    let products = org.emu.records("Product2");
    assert_eq!(products.len(), salesforce_emulator::seed::CATALOG.len());
    for family in ["Internet", "SIM", "VPN"] {
        assert!(products.iter().any(|p| p["Family"] == family));
    }
    assert_eq!(
        products.iter().filter(|p| p["IsActive"] == false).count(),
        1
    );
    let mut whmcs: Vec<&str> = products
        .iter()
        .map(|p| p["WHMCS_Product_Id__c"].as_str().unwrap())
        .collect();
    whmcs.sort_unstable();
    whmcs.dedup();
    assert_eq!(whmcs.len(), products.len());
    assert_eq!(org.emu.count("PricebookEntry"), products.len());
    let users = org.emu.records("User");
    assert!(
        users
            .iter()
            .any(|u| u["Id"] == org.emu.integration_user_id().as_str()
                && u["Username"] == "integration@portal.local")
    );
    assert!(
        users
            .iter()
            .any(|u| u["Id"] == org.emu.admin_user_id().as_str())
    );
}
