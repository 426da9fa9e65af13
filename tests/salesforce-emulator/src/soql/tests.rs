//! Tests of the SOQL engine against a small in-memory org: Accounts with
//! Contacts and Orders, Products with PricebookEntries, OrderItems between them.

use chrono::{DateTime, TimeZone, Utc};
use proptest::prelude::*;
use salesforce::schema::{self, ObjectDef};
use serde_json::{Value, json};

use super::resolve::{Cond, Literal, id_checksum};
use super::*;

/// A tiny org: every record with the name of its object.
#[derive(Debug, Default)]
struct Org {
    records: Vec<(&'static str, Record)>,
}

impl RecordSource for Org {
    fn records(&self, object: &'static ObjectDef) -> Vec<&Record> {
        self.records
            .iter()
            .filter(|(o, _)| *o == object.name)
            .map(|(_, r)| r)
            .collect()
    }

    fn get(&self, id: &str) -> Option<&Record> {
        self.records
            .iter()
            .map(|(_, r)| r)
            .find(|r| r.get("Id").and_then(Value::as_str) == Some(id))
    }
}

impl Org {
    /// Adds a record of `object` with system fields and `fields`; returns its 18-character id.
    fn add(&mut self, object: &'static str, n: u32, fields: Value) -> String {
        let def = schema::object(object).expect("known object");
        let id = id18(def.key_prefix, n);
        let mut record = Record::new();
        record.insert("Id".into(), json!(id));
        record.insert("CreatedDate".into(), json!("2024-05-01T10:00:00.000+0000"));
        record.insert(
            "LastModifiedDate".into(),
            json!("2024-05-01T10:00:00.000+0000"),
        );
        record.insert("CreatedById".into(), json!(id18("005", 1)));
        record.insert("LastModifiedById".into(), json!(id18("005", 1)));
        if let Value::Object(fields) = fields {
            record.extend(fields);
        }
        self.records.push((def.name, record));
        id
    }
}

/// An 18-character id: prefix, `Em` (upper and lower case, to test case sensitivity), counter.
fn id18(prefix: &str, n: u32) -> String {
    let id15 = format!("{prefix}Em{n:010}");
    format!("{id15}{}", id_checksum(&id15))
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 6, 15, 12, 0, 0).unwrap()
}

/// The fixture org and the ids of its records.
struct World {
    org: Org,
    acme: String,
    beta: String,
    gamma: String,
    gamma_x: String,
    smith: String,
    jones: String,
    brown: String,
    order_acme: String,
    fiber: String,
    item: String,
}

fn world() -> World {
    let mut org = Org::default();
    org.add(
        "User",
        1,
        json!({"Name": "Integration User", "Username": "int@example.com", "IsActive": true}),
    );
    let acme = org.add(
        "Account",
        1,
        json!({"Name": "Acme Corp", "SF_Account_No__c": "C-001", "WH_Account__c": 10.0,
               "Portal_Status__c": "Active",
               "Internet_Eligibility_Request_Date_Time__c": "2024-06-15T08:30:00.000+0000"}),
    );
    let beta = org.add(
        "Account",
        2,
        json!({"Name": "beta ltd", "SF_Account_No__c": "C-002", "WH_Account__c": 20.0,
               "Portal_Status__c": "Inactive",
               "Internet_Eligibility_Request_Date_Time__c": "2024-06-14T23:59:59.999+0000"}),
    );
    let gamma = org.add(
        "Account",
        3,
        json!({"Name": "Gamma_50%", "Portal_Status__c": null,
               "Internet_Eligibility_Request_Date_Time__c": "2024-06-10T00:00:00.000+0000"}),
    );
    let gamma_x = org.add(
        "Account",
        4,
        json!({"Name": "GammaX50abc", "WH_Account__c": 5.5}),
    );
    let smith = org.add(
        "Contact",
        1,
        json!({"LastName": "Smith", "FirstName": "Ann", "Email": "ann@acme.example", "AccountId": acme}),
    );
    let jones = org.add(
        "Contact",
        2,
        json!({"LastName": "Jones", "AccountId": null}),
    );
    let brown = org.add(
        "Contact",
        3,
        json!({"LastName": "Brown", "AccountId": beta}),
    );
    org.add(
        "Opportunity",
        1,
        json!({"Name": "Acme fiber", "AccountId": acme, "StageName": "Introduction", "CloseDate": "2024-06-15"}),
    );
    org.add(
        "Opportunity",
        2,
        json!({"Name": "Beta SIM", "AccountId": beta, "StageName": "Active", "CloseDate": "2024-06-14",
               "WHMCS_Service_ID__c": 31.0}),
    );
    org.add(
        "Opportunity",
        3,
        json!({"Name": "Later", "AccountId": beta, "StageName": "Ready", "CloseDate": "2024-06-17"}),
    );
    let pricebook = org.add(
        "Pricebook2",
        1,
        json!({"Name": "Standard", "IsActive": true, "IsStandard": true}),
    );
    let fiber = org.add(
        "Product2",
        1,
        json!({"Name": "Fiber 1G", "ProductCode": "FIB-1G", "IsActive": true, "Family": "Internet",
               "WHMCS_Product_Id__c": "12", "Billing_Cycle__c": "Monthly"}),
    );
    let sim = org.add(
        "Product2",
        2,
        json!({"Name": "SIM plan", "IsActive": false, "Family": "SIM"}),
    );
    let fiber_entry = org.add(
        "PricebookEntry",
        1,
        json!({"Pricebook2Id": pricebook, "Product2Id": fiber, "UnitPrice": 50.0, "IsActive": true}),
    );
    org.add(
        "PricebookEntry",
        2,
        json!({"Pricebook2Id": pricebook, "Product2Id": sim, "UnitPrice": 30.0, "IsActive": true}),
    );
    let order_acme = org.add(
        "Order",
        1,
        json!({"AccountId": acme, "Status": "Activated", "EffectiveDate": "2024-06-01",
               "Activation_Status__c": "Activating", "OrderNumber": "00000100"}),
    );
    org.add(
        "Order",
        2,
        json!({"AccountId": beta, "Status": "Draft", "EffectiveDate": "2024-06-02",
               "Activation_Status__c": "Failed", "OrderNumber": "00000101"}),
    );
    let item = org.add(
        "OrderItem",
        1,
        json!({"OrderId": order_acme, "Product2Id": fiber, "PricebookEntryId": fiber_entry,
               "Quantity": 1.0, "UnitPrice": 50.0}),
    );
    org.add(
        "Case",
        1,
        json!({"Subject": "Help", "Description": "long text", "AccountId": acme, "Status": "New"}),
    );
    World {
        org,
        acme,
        beta,
        gamma,
        gamma_x,
        smith,
        jones,
        brown,
        order_acme,
        fiber,
        item,
    }
}

fn run(org: &Org, soql: &str) -> QueryOutput {
    let query = parse(soql).unwrap_or_else(|e| panic!("{soql}: {e}"));
    execute(&query, org, now(), "62.0").unwrap()
}

/// The `Id`s of the rows, in order.
fn ids(org: &Org, soql: &str) -> Vec<String> {
    run(org, soql)
        .records
        .iter()
        .map(|r| r["Id"].as_str().expect("Id selected").to_owned())
        .collect()
}

fn refused(soql: &str) -> SoqlError {
    match parse(soql) {
        Ok(q) => panic!("{soql} should be refused, parsed as {q:?}"),
        Err(e) => e,
    }
}

fn assert_refused(soql: &str, code: &str, message: &str) {
    let err = refused(soql);
    assert_eq!(err.error_code, code, "{soql}: {err}");
    assert!(
        err.message.contains(message),
        "{soql}: expected message containing {message:?}, got {:?}",
        err.message
    );
}

// ---- SELECT, FROM, output shape ------------------------------------------------

#[test]
fn when_names_differ_in_case_the_output_should_use_canonical_names_and_attributes() {
    let w = world();
    let out = run(
        &w.org,
        "select id, NAME, sf_account_no__c FROM account WHERE name = 'ACME CORP'",
    );
    assert_eq!(out.total_size, 1);
    assert_eq!(
        out.records,
        vec![json!({
            "attributes": {"type": "Account", "url": format!("/services/data/v62.0/sobjects/Account/{}", w.acme)},
            "Id": w.acme,
            "Name": "Acme Corp",
            "SF_Account_No__c": "C-001",
        })]
    );
}

#[test]
fn when_a_selected_field_is_missing_it_should_be_null() {
    let w = world();
    let out = run(
        &w.org,
        &format!(
            "SELECT SF_Account_No__c FROM Account WHERE Id = '{}'",
            w.gamma
        ),
    );
    assert_eq!(out.records[0]["SF_Account_No__c"], Value::Null);
}

#[test]
fn when_the_object_or_field_is_unknown_the_query_should_be_refused() {
    assert_refused(
        "SELECT Id FROM Foo",
        "INVALID_TYPE",
        "sObject type 'Foo' is not supported.",
    );
    assert_refused(
        "SELECT Id, Foo FROM Account",
        "INVALID_FIELD",
        "No such column 'Foo' on entity 'Account'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name.",
    );
    assert_refused(
        "SELECT Id FROM Account WHERE Foo__c = 'x'",
        "INVALID_FIELD",
        "No such column 'Foo__c' on entity 'Account'",
    );
    assert_refused(
        "SELECT Id FROM Account ORDER BY Foo",
        "INVALID_FIELD",
        "No such column 'Foo'",
    );
}

#[test]
fn when_a_field_is_selected_twice_the_query_should_be_refused() {
    assert_refused(
        "SELECT Name, Id, name FROM Account",
        "MALFORMED_QUERY",
        "duplicate field selected: Name",
    );
    assert_refused(
        "SELECT Account.Name, account.NAME FROM Contact",
        "MALFORMED_QUERY",
        "duplicate field selected: Account.Name",
    );
}

// ---- comparison operators ---------------------------------------------------------

#[test]
fn number_comparisons_should_follow_every_operator() {
    let w = world();
    let q = |cond: &str| ids(&w.org, &format!("SELECT Id FROM Account WHERE {cond}"));
    assert_eq!(q("WH_Account__c = 10"), [w.acme.as_str()]);
    assert_eq!(q("WH_Account__c = 10.0"), [w.acme.as_str()]);
    assert_eq!(q("WH_Account__c < 10"), [w.gamma_x.as_str()]);
    assert_eq!(
        q("WH_Account__c <= 10"),
        [w.acme.as_str(), w.gamma_x.as_str()]
    );
    assert_eq!(q("WH_Account__c > 10"), [w.beta.as_str()]);
    assert_eq!(q("WH_Account__c >= 10"), [w.acme.as_str(), w.beta.as_str()]);
    assert_eq!(
        q("WH_Account__c > -1.5"),
        [w.acme.as_str(), w.beta.as_str(), w.gamma_x.as_str()]
    );
    // As in SOQL, != also returns records whose field is empty.
    assert_eq!(
        q("WH_Account__c != 10"),
        [w.beta.as_str(), w.gamma.as_str(), w.gamma_x.as_str()]
    );
    assert_eq!(q("WH_Account__c <> 10"), q("WH_Account__c != 10"));
    assert_eq!(
        q("WH_Account__c IN (10, 20)"),
        [w.acme.as_str(), w.beta.as_str()]
    );
    assert_eq!(
        q("WH_Account__c NOT IN (10, 20)"),
        [w.gamma.as_str(), w.gamma_x.as_str()]
    );
}

#[test]
fn text_comparisons_should_ignore_case() {
    let w = world();
    let q = |cond: &str| ids(&w.org, &format!("SELECT Id FROM Account WHERE {cond}"));
    assert_eq!(q("Name = 'BETA LTD'"), [w.beta.as_str()]);
    assert_eq!(
        q("Name != 'acme corp'"),
        [w.beta.as_str(), w.gamma.as_str(), w.gamma_x.as_str()]
    );
    assert_eq!(
        q("Name IN ('acme CORP', 'Beta Ltd')"),
        [w.acme.as_str(), w.beta.as_str()]
    );
    assert_eq!(
        q("Name NOT IN ('acme CORP', 'Beta Ltd')"),
        [w.gamma.as_str(), w.gamma_x.as_str()]
    );
    assert_eq!(q("Name < 'B'"), [w.acme.as_str()]);
    assert_eq!(
        q("Name >= 'b'"),
        [w.beta.as_str(), w.gamma.as_str(), w.gamma_x.as_str()]
    );
    assert_eq!(
        q("Name > 'beta ltd' AND Name <= 'GAMMA_50%'"),
        [w.gamma.as_str()]
    );
    assert_eq!(q("Portal_Status__c = 'active'"), [w.acme.as_str()]);
}

#[test]
fn null_comparisons_should_test_for_emptiness_and_other_operators_should_be_false() {
    let w = world();
    let q = |cond: &str| ids(&w.org, &format!("SELECT Id FROM Account WHERE {cond}"));
    assert_eq!(
        q("SF_Account_No__c = null"),
        [w.gamma.as_str(), w.gamma_x.as_str()]
    );
    assert_eq!(
        q("SF_Account_No__c != NULL"),
        [w.acme.as_str(), w.beta.as_str()]
    );
    assert_eq!(
        q("WH_Account__c < 100"),
        [w.acme.as_str(), w.beta.as_str(), w.gamma_x.as_str()]
    );
    assert_eq!(
        q("SF_Account_No__c LIKE '%'"),
        [w.acme.as_str(), w.beta.as_str()]
    );
    assert_eq!(
        q("Portal_Status__c IN ('Inactive', null)"),
        [w.beta.as_str(), w.gamma.as_str(), w.gamma_x.as_str()]
    );
    assert!(q("WH_Account__c > null").is_empty());
    // Blank text is null in Salesforce.
    assert_eq!(q("SF_Account_No__c = ''"), q("SF_Account_No__c = null"));
    assert_eq!(
        q("SF_Account_No__c != ''"),
        [w.acme.as_str(), w.beta.as_str()]
    );
}

#[test]
fn boolean_fields_should_compare_with_true_false_and_null_as_false() {
    let w = world();
    let q = |cond: &str| ids(&w.org, &format!("SELECT Id FROM Product2 WHERE {cond}"));
    assert_eq!(q("IsActive = true"), [w.fiber.as_str()]);
    assert_eq!(q("IsActive = TRUE"), [w.fiber.as_str()]);
    assert_eq!(q("IsActive = false"), q("IsActive = null"));
    assert_eq!(q("IsActive != null"), [w.fiber.as_str()]);
    assert_eq!(q("IsActive = false").len(), 1);
}

#[test]
fn like_should_honour_wildcards_escapes_and_ignore_case() {
    let w = world();
    let q = |pattern: &str| {
        ids(
            &w.org,
            &format!("SELECT Id FROM Account WHERE Name LIKE '{pattern}'"),
        )
    };
    assert_eq!(q("acme%"), [w.acme.as_str()]);
    assert_eq!(q("%CORP"), [w.acme.as_str()]);
    assert_eq!(q("%e%"), [w.acme.as_str(), w.beta.as_str()]);
    assert_eq!(q("_cme corp"), [w.acme.as_str()]);
    assert_eq!(q("_cme"), Vec::<String>::new());
    assert_eq!(q("Gamma_50%"), [w.gamma.as_str(), w.gamma_x.as_str()]);
    assert_eq!(q(r"Gamma\_50%"), [w.gamma.as_str()]);
    assert_eq!(q(r"Gamma\_50\%"), [w.gamma.as_str()]);
    assert_eq!(q(r"Gamma\_5\%"), Vec::<String>::new());
    assert_eq!(q(r"%\%"), [w.gamma.as_str()]);
    assert_eq!(q("%%"), ids(&w.org, "SELECT Id FROM Account"));
    assert_eq!(q(""), Vec::<String>::new());
    let emails = ids(
        &w.org,
        "SELECT Id FROM Contact WHERE Email LIKE '%@ACME.example'",
    );
    assert_eq!(emails, [w.smith.as_str()]);
}

// ---- AND / OR / NOT ---------------------------------------------------------------

#[test]
fn logical_operators_should_combine_with_parentheses() {
    let w = world();
    let q = |cond: &str| ids(&w.org, &format!("SELECT Id FROM Account WHERE {cond}"));
    assert_eq!(
        q("(Name = 'Acme Corp' OR Name = 'beta ltd') AND WH_Account__c > 15"),
        [w.beta.as_str()]
    );
    assert_eq!(
        q("Name = 'Acme Corp' OR (Name = 'beta ltd' AND WH_Account__c > 15)"),
        [w.acme.as_str(), w.beta.as_str()]
    );
    assert_eq!(
        q("Name = 'Acme Corp' OR (Name = 'beta ltd' AND WH_Account__c > 25)"),
        [w.acme.as_str()]
    );
    assert_eq!(
        q("Name LIKE 'g%' AND WH_Account__c = null AND Portal_Status__c = null"),
        [w.gamma.as_str()]
    );
    assert_eq!(q("NOT Name LIKE 'g%'"), [w.acme.as_str(), w.beta.as_str()]);
    assert_eq!(
        q("NOT (Name = 'Acme Corp' OR Name = 'beta ltd')"),
        [w.gamma.as_str(), w.gamma_x.as_str()]
    );
    assert_eq!(
        q("(NOT Name LIKE 'g%') AND WH_Account__c > 15"),
        [w.beta.as_str()]
    );
    assert_eq!(q("((Name = 'beta ltd'))"), [w.beta.as_str()]);
}

#[test]
fn when_and_or_or_a_bare_not_are_mixed_without_parentheses_the_query_should_be_refused() {
    let base = "SELECT Id FROM Account WHERE ";
    assert_refused(
        &format!("{base}Name = 'a' AND Name = 'b' OR Name = 'c'"),
        "MALFORMED_QUERY",
        "unexpected token: 'OR'",
    );
    assert_refused(
        &format!("{base}Name = 'a' OR Name = 'b' AND Name = 'c'"),
        "MALFORMED_QUERY",
        "unexpected token: 'AND'",
    );
    assert_refused(
        &format!("{base}(Name = 'a' OR Name = 'b' and Name = 'c')"),
        "MALFORMED_QUERY",
        "unexpected token: 'and'",
    );
    assert_refused(
        &format!("{base}NOT Name = 'a' AND Name = 'b'"),
        "MALFORMED_QUERY",
        "unexpected token: 'AND'",
    );
    assert_refused(
        &format!("{base}Name = 'a' AND NOT Name = 'b'"),
        "MALFORMED_QUERY",
        "unexpected token: 'NOT'",
    );
    assert_refused(
        &format!("{base}NOT NOT Name = 'a'"),
        "MALFORMED_QUERY",
        "unexpected token: 'NOT'",
    );
    assert_refused(
        &format!("{base}Name NOT LIKE 'a'"),
        "MALFORMED_QUERY",
        "unexpected token: 'LIKE'",
    );
}

// ---- relationships ----------------------------------------------------------------

#[test]
fn parent_fields_should_be_nested_and_an_empty_lookup_should_be_null() {
    let w = world();
    let out = run(
        &w.org,
        "SELECT Id, LastName, Account.Name, Account.SF_Account_No__c FROM Contact ORDER BY LastName",
    );
    let url = |object: &str, id: &str| format!("/services/data/v62.0/sobjects/{object}/{id}");
    assert_eq!(
        out.records,
        vec![
            json!({
                "attributes": {"type": "Contact", "url": url("Contact", &w.brown)},
                "Id": w.brown, "LastName": "Brown",
                "Account": {
                    "attributes": {"type": "Account", "url": url("Account", &w.beta)},
                    "Name": "beta ltd", "SF_Account_No__c": "C-002",
                },
            }),
            json!({
                "attributes": {"type": "Contact", "url": url("Contact", &w.jones)},
                "Id": w.jones, "LastName": "Jones", "Account": null,
            }),
            json!({
                "attributes": {"type": "Contact", "url": url("Contact", &w.smith)},
                "Id": w.smith, "LastName": "Smith",
                "Account": {
                    "attributes": {"type": "Account", "url": url("Account", &w.acme)},
                    "Name": "Acme Corp", "SF_Account_No__c": "C-001",
                },
            }),
        ]
    );
}

#[test]
fn multi_level_paths_should_resolve_in_select_where_and_order() {
    let w = world();
    let out = run(
        &w.org,
        "SELECT Id, Quantity, PricebookEntry.Product2.Name, pricebookentry.product2.whmcs_product_id__c, \
         Order.Account.SF_Account_No__c FROM OrderItem \
         WHERE Order.Account.Name = 'acme corp' AND PricebookEntry.Product2.IsActive = true \
         ORDER BY Order.Account.Name DESC",
    );
    assert_eq!(out.total_size, 1);
    let row = &out.records[0];
    assert_eq!(row["Id"], json!(w.item));
    assert_eq!(row["Quantity"], json!(1.0));
    assert_eq!(
        row["PricebookEntry"]["attributes"]["type"],
        json!("PricebookEntry")
    );
    assert_eq!(row["PricebookEntry"]["Product2"]["Name"], json!("Fiber 1G"));
    assert_eq!(
        row["PricebookEntry"]["Product2"]["WHMCS_Product_Id__c"],
        json!("12")
    );
    assert_eq!(
        row["PricebookEntry"]["Product2"]["attributes"]["url"],
        json!(format!(
            "/services/data/v62.0/sobjects/Product2/{}",
            w.fiber
        ))
    );
    assert_eq!(row["Order"]["Account"]["SF_Account_No__c"], json!("C-001"));
    assert_eq!(
        row["Order"]["attributes"]["url"],
        json!(format!(
            "/services/data/v62.0/sobjects/Order/{}",
            w.order_acme
        ))
    );
}

#[test]
fn a_filter_on_a_parent_field_should_see_an_empty_lookup_as_null() {
    let w = world();
    assert_eq!(
        ids(&w.org, "SELECT Id FROM Contact WHERE Account.Name = null"),
        [w.jones.as_str()]
    );
    assert_eq!(
        ids(
            &w.org,
            "SELECT Id FROM Contact WHERE Account.Name = 'Acme Corp' OR LastName = 'Jones'"
        ),
        [w.smith.as_str(), w.jones.as_str()]
    );
    assert_eq!(
        ids(
            &w.org,
            "SELECT Id FROM Contact ORDER BY Account.Name DESC NULLS LAST"
        ),
        [w.brown.as_str(), w.smith.as_str(), w.jones.as_str()]
    );
    assert_eq!(
        ids(&w.org, "SELECT Id FROM Contact ORDER BY Account.Name"),
        [w.jones.as_str(), w.smith.as_str(), w.brown.as_str()]
    );
}

#[test]
fn when_a_relationship_is_unknown_or_too_deep_the_query_should_be_refused() {
    assert_refused(
        "SELECT Foo.Name FROM Contact",
        "INVALID_FIELD",
        "Didn't understand relationship 'Foo' in field path.",
    );
    assert_refused(
        "SELECT Id FROM Contact WHERE AccountId.Name = 'x'",
        "INVALID_FIELD",
        "Didn't understand relationship 'AccountId' in field path.",
    );
    assert_refused(
        "SELECT Account.Nope FROM Contact",
        "INVALID_FIELD",
        "No such column 'Nope' on entity 'Account'",
    );
    assert_refused(
        "SELECT Account FROM Contact",
        "INVALID_FIELD",
        "No such column 'Account'",
    );
    // Five levels are fine, six are not.
    parse("SELECT CreatedBy.CreatedBy.CreatedBy.CreatedBy.CreatedBy.Name FROM Account").unwrap();
    assert_refused(
        "SELECT CreatedBy.CreatedBy.CreatedBy.CreatedBy.CreatedBy.CreatedBy.Name FROM Account",
        "MALFORMED_QUERY",
        "at most 5 levels",
    );
    assert_refused(
        "SELECT Account. FROM Contact",
        "MALFORMED_QUERY",
        "unexpected token: '.'",
    );
}

// ---- ids --------------------------------------------------------------------------

#[test]
fn ids_should_match_in_15_and_18_character_forms_case_sensitively() {
    let w = world();
    let q = |cond: &str| ids(&w.org, &format!("SELECT Id FROM Contact WHERE {cond}"));
    let acme15 = &w.acme[..15];
    assert_eq!(q(&format!("AccountId = '{}'", w.acme)), [w.smith.as_str()]);
    assert_eq!(q(&format!("AccountId = '{acme15}'")), [w.smith.as_str()]);
    assert_eq!(q(&format!("Account.Id = '{acme15}'")), [w.smith.as_str()]);
    assert!(q(&format!("AccountId = '{}'", acme15.to_lowercase())).is_empty());
    assert_eq!(
        q(&format!("AccountId IN ('{}', '{}')", w.acme, &w.beta[..15])),
        [w.smith.as_str(), w.brown.as_str()]
    );
    assert_eq!(
        q(&format!("AccountId != '{}'", w.acme)),
        [w.jones.as_str(), w.brown.as_str()]
    );
    assert_eq!(q(&format!("Id = '{}'", w.jones)), [w.jones.as_str()]);
}

#[test]
fn when_an_id_literal_is_malformed_the_query_should_be_refused() {
    let w = world();
    assert_refused(
        "SELECT Id FROM Contact WHERE AccountId = 'xyz'",
        "INVALID_QUERY_FILTER_OPERATOR",
        "invalid ID field: xyz",
    );
    let wrong_suffix = format!("{}AAA", &w.acme[..15]);
    assert_ne!(wrong_suffix, w.acme);
    assert_refused(
        &format!("SELECT Id FROM Account WHERE Id = '{wrong_suffix}'"),
        "INVALID_QUERY_FILTER_OPERATOR",
        &format!("invalid ID field: {wrong_suffix}"),
    );
    assert_refused(
        "SELECT Id FROM Account WHERE Id IN ('001Em0000000001', '001-m0000000001')",
        "INVALID_QUERY_FILTER_OPERATOR",
        "invalid ID field: 001-m0000000001",
    );
    assert_refused(
        "SELECT Id FROM Account WHERE Id = 5",
        "INVALID_QUERY_FILTER_OPERATOR",
        "value of filter criterion for field 'Id' must be of type id and should be enclosed in quotes",
    );
}

// ---- dates ------------------------------------------------------------------------

#[test]
fn date_and_datetime_literals_should_compare_as_dates_and_instants() {
    let w = world();
    let opp = |cond: &str| {
        run(
            &w.org,
            &format!("SELECT Name FROM Opportunity WHERE {cond} ORDER BY CloseDate"),
        )
        .records
        .iter()
        .map(|r| r["Name"].as_str().unwrap().to_owned())
        .collect::<Vec<_>>()
    };
    assert_eq!(opp("CloseDate = 2024-06-15"), ["Acme fiber"]);
    assert_eq!(opp("CloseDate > 2024-06-14"), ["Acme fiber", "Later"]);
    assert_eq!(opp("CloseDate <= 2024-06-15"), ["Beta SIM", "Acme fiber"]);
    let acc = |cond: &str| ids(&w.org, &format!("SELECT Id FROM Account WHERE {cond}"));
    let field = "Internet_Eligibility_Request_Date_Time__c";
    assert_eq!(
        acc(&format!("{field} = 2024-06-15T08:30:00Z")),
        [w.acme.as_str()]
    );
    assert_eq!(
        acc(&format!("{field} = 2024-06-15T08:30:00.000Z")),
        [w.acme.as_str()]
    );
    assert_eq!(
        acc(&format!("{field} = 2024-06-15T10:30:00+02:00")),
        [w.acme.as_str()]
    );
    assert_eq!(
        acc(&format!("{field} = 2024-06-15T03:30:00-05:00")),
        [w.acme.as_str()]
    );
    assert_eq!(
        acc(&format!("{field} > 2024-06-14T23:59:59.998Z")),
        [w.acme.as_str(), w.beta.as_str()]
    );
    assert_eq!(
        acc(&format!("{field} < 2024-06-14T23:59:59.999Z")),
        [w.gamma.as_str()]
    );
    assert_eq!(acc("CreatedDate >= 2024-05-01T10:00:00Z").len(), 4);
}

#[test]
fn relative_date_literals_should_cover_whole_utc_days_around_now() {
    let w = world();
    let opp = |cond: &str| {
        run(
            &w.org,
            &format!("SELECT Name FROM Opportunity WHERE {cond} ORDER BY CloseDate"),
        )
        .records
        .iter()
        .map(|r| r["Name"].as_str().unwrap().to_owned())
        .collect::<Vec<_>>()
    };
    assert_eq!(opp("CloseDate = TODAY"), ["Acme fiber"]);
    assert_eq!(opp("CloseDate = yesterday"), ["Beta SIM"]);
    assert_eq!(opp("CloseDate = TOMORROW"), Vec::<String>::new());
    assert_eq!(opp("CloseDate < TODAY"), ["Beta SIM"]);
    assert_eq!(opp("CloseDate <= TODAY"), ["Beta SIM", "Acme fiber"]);
    assert_eq!(opp("CloseDate > TODAY"), ["Later"]);
    assert_eq!(opp("CloseDate >= TODAY"), ["Acme fiber", "Later"]);
    assert_eq!(opp("CloseDate != TODAY"), ["Beta SIM", "Later"]);
    assert_eq!(opp("CloseDate = NEXT_N_DAYS:2"), ["Later"]);
    assert_eq!(opp("CloseDate = NEXT_N_DAYS:1"), Vec::<String>::new());
    assert_eq!(opp("CloseDate = LAST_N_DAYS:1"), ["Beta SIM", "Acme fiber"]);
    assert_eq!(opp("CloseDate IN (YESTERDAY, TOMORROW)"), ["Beta SIM"]);

    let acc = |cond: &str| ids(&w.org, &format!("SELECT Id FROM Account WHERE {cond}"));
    let field = "Internet_Eligibility_Request_Date_Time__c";
    assert_eq!(acc(&format!("{field} = TODAY")), [w.acme.as_str()]);
    assert_eq!(acc(&format!("{field} = YESTERDAY")), [w.beta.as_str()]);
    assert_eq!(
        acc(&format!("{field} = LAST_N_DAYS:1")),
        [w.acme.as_str(), w.beta.as_str()]
    );
    assert_eq!(
        acc(&format!("{field} = LAST_N_DAYS:5")),
        [w.acme.as_str(), w.beta.as_str(), w.gamma.as_str()]
    );
    assert_eq!(acc(&format!("{field} < LAST_N_DAYS:4")), [w.gamma.as_str()]);
    assert_eq!(acc(&format!("{field} > YESTERDAY")), [w.acme.as_str()]);
}

// ---- typing -----------------------------------------------------------------------

#[test]
fn when_a_literal_does_not_fit_its_field_type_the_query_should_be_refused() {
    let cases = [
        (
            "Opportunity",
            "CloseDate = '2024-01-01'",
            "CloseDate",
            "date and should not be enclosed in quotes",
        ),
        (
            "Opportunity",
            "CloseDate > 2024-01-01T00:00:00Z",
            "CloseDate",
            "date and should not be enclosed in quotes",
        ),
        (
            "Opportunity",
            "CloseDate = 5",
            "CloseDate",
            "date and should not be enclosed in quotes",
        ),
        (
            "Account",
            "CreatedDate > 2024-01-01",
            "CreatedDate",
            "dateTime and should not be enclosed in quotes",
        ),
        (
            "Account",
            "CreatedDate > '2024-01-01T00:00:00Z'",
            "CreatedDate",
            "dateTime and should not be enclosed in quotes",
        ),
        (
            "Account",
            "WH_Account__c = '10'",
            "WH_Account__c",
            "double and should not be enclosed in quotes",
        ),
        (
            "Account",
            "WH_Account__c IN (10, '20')",
            "WH_Account__c",
            "double and should not be enclosed in quotes",
        ),
        (
            "Account",
            "WH_Account__c = TODAY",
            "WH_Account__c",
            "double and should not be enclosed in quotes",
        ),
        (
            "Order",
            "TotalAmount > '5'",
            "TotalAmount",
            "currency and should not be enclosed in quotes",
        ),
        (
            "Product2",
            "IsActive = 'true'",
            "IsActive",
            "boolean and should not be enclosed in quotes",
        ),
        (
            "Product2",
            "IsActive = 1",
            "IsActive",
            "boolean and should not be enclosed in quotes",
        ),
        (
            "Account",
            "Name = 5",
            "Name",
            "string and should be enclosed in quotes",
        ),
        (
            "Account",
            "Name = true",
            "Name",
            "string and should be enclosed in quotes",
        ),
        (
            "Account",
            "Name = TODAY",
            "Name",
            "string and should be enclosed in quotes",
        ),
        (
            "Account",
            "Name = 2024-01-01",
            "Name",
            "string and should be enclosed in quotes",
        ),
        (
            "Account",
            "Name LIKE 5",
            "Name",
            "string and should be enclosed in quotes",
        ),
        (
            "Account",
            "Name LIKE null",
            "Name",
            "string and should be enclosed in quotes",
        ),
        (
            "Account",
            "WH_Account__c LIKE '1%'",
            "WH_Account__c",
            "double and should not be enclosed in quotes",
        ),
        (
            "Opportunity",
            "CloseDate LIKE '2024%'",
            "CloseDate",
            "date and should not be enclosed in quotes",
        ),
    ];
    for (object, cond, field, tail) in cases {
        assert_refused(
            &format!("SELECT Id FROM {object} WHERE {cond}"),
            "INVALID_QUERY_FILTER_OPERATOR",
            &format!("value of filter criterion for field '{field}' must be of type {tail}"),
        );
    }
    assert_refused(
        "SELECT Id FROM Contact WHERE AccountId LIKE '001%'",
        "INVALID_QUERY_FILTER_OPERATOR",
        "invalid operator on id field",
    );
    assert_refused(
        "SELECT Id FROM Account WHERE Id LIKE '001%'",
        "INVALID_QUERY_FILTER_OPERATOR",
        "invalid operator on id field",
    );
}

#[test]
fn long_text_areas_should_be_neither_filtered_nor_sorted() {
    assert_refused(
        "SELECT Id FROM Case WHERE Description = 'x'",
        "INVALID_FIELD",
        "field 'Description' can not be filtered in a query call",
    );
    assert_refused(
        "SELECT Id FROM Case ORDER BY Description",
        "INVALID_FIELD",
        "field 'Description' can not be sorted in a query call",
    );
    let w = world();
    assert_eq!(
        run(&w.org, "SELECT Description FROM Case").records[0]["Description"],
        json!("long text")
    );
    parse("SELECT Id FROM Account WHERE Id_Verification_Note__c LIKE '%x%'").unwrap();
}

// ---- ORDER BY, LIMIT, OFFSET, COUNT() ---------------------------------------------

#[test]
fn order_by_should_sort_by_several_keys_with_null_placement() {
    let w = world();
    let q = |order: &str| ids(&w.org, &format!("SELECT Id FROM Account ORDER BY {order}"));
    // Text ordering ignores case: "Acme Corp" < "beta ltd" < "Gamma_50%" < "GammaX50abc".
    assert_eq!(
        q("Name"),
        [
            w.acme.as_str(),
            w.beta.as_str(),
            w.gamma.as_str(),
            w.gamma_x.as_str()
        ]
    );
    assert_eq!(
        q("Name DESC"),
        [
            w.gamma_x.as_str(),
            w.gamma.as_str(),
            w.beta.as_str(),
            w.acme.as_str()
        ]
    );
    // ASC defaults to NULLS FIRST, DESC to NULLS LAST.
    assert_eq!(
        q("WH_Account__c"),
        [
            w.gamma.as_str(),
            w.gamma_x.as_str(),
            w.acme.as_str(),
            w.beta.as_str()
        ]
    );
    assert_eq!(
        q("WH_Account__c ASC NULLS LAST"),
        [
            w.gamma_x.as_str(),
            w.acme.as_str(),
            w.beta.as_str(),
            w.gamma.as_str()
        ]
    );
    assert_eq!(
        q("WH_Account__c DESC"),
        [
            w.beta.as_str(),
            w.acme.as_str(),
            w.gamma_x.as_str(),
            w.gamma.as_str()
        ]
    );
    assert_eq!(
        q("WH_Account__c DESC NULLS FIRST"),
        [
            w.gamma.as_str(),
            w.beta.as_str(),
            w.acme.as_str(),
            w.gamma_x.as_str()
        ]
    );
    assert_eq!(
        q("Portal_Status__c DESC NULLS FIRST, Name DESC"),
        [
            w.gamma_x.as_str(),
            w.gamma.as_str(),
            w.beta.as_str(),
            w.acme.as_str()
        ]
    );
    assert_eq!(
        q("Portal_Status__c, Name"),
        [
            w.gamma.as_str(),
            w.gamma_x.as_str(),
            w.acme.as_str(),
            w.beta.as_str()
        ]
    );
}

#[test]
fn limit_and_offset_should_page_the_ordered_rows() {
    let w = world();
    let q = |tail: &str| {
        ids(
            &w.org,
            &format!("SELECT Id FROM Account ORDER BY Name {tail}"),
        )
    };
    assert_eq!(q("LIMIT 2"), [w.acme.as_str(), w.beta.as_str()]);
    assert_eq!(q("LIMIT 2 OFFSET 1"), [w.beta.as_str(), w.gamma.as_str()]);
    assert_eq!(q("OFFSET 3"), [w.gamma_x.as_str()]);
    assert_eq!(q("limit 0"), Vec::<String>::new());
    assert_eq!(q("OFFSET 2000"), Vec::<String>::new());
    let out = run(&w.org, "SELECT Id FROM Account LIMIT 3 OFFSET 2");
    assert_eq!(out.total_size, 2);
    assert_refused(
        "SELECT Id FROM Account OFFSET 2001",
        "NUMBER_OUTSIDE_VALID_RANGE",
        "Maximum SOQL offset allowed is 2000",
    );
    assert_refused(
        "SELECT Id FROM Account LIMIT -1",
        "MALFORMED_QUERY",
        "unexpected token: '-1'",
    );
    assert_refused(
        "SELECT Id FROM Account LIMIT 1.5",
        "MALFORMED_QUERY",
        "unexpected token: '1.5'",
    );
    assert_refused(
        "SELECT Id FROM Account LIMIT",
        "MALFORMED_QUERY",
        "unexpected token: '<EOF>'",
    );
    assert_refused(
        "SELECT Id FROM Account OFFSET 1 LIMIT 1",
        "MALFORMED_QUERY",
        "unexpected token: 'LIMIT'",
    );
    assert_refused(
        "SELECT Id FROM Account LIMIT 1 ORDER BY Name",
        "MALFORMED_QUERY",
        "unexpected token: 'ORDER'",
    );
}

#[test]
fn count_should_return_the_number_of_matching_rows_and_no_records() {
    let w = world();
    let query = parse("select count() from Account where Name like 'g%'").unwrap();
    assert!(query.is_count());
    assert_eq!(query.object().name, "Account");
    let out = execute(&query, &w.org, now(), "62.0").unwrap();
    assert_eq!(
        out,
        QueryOutput {
            total_size: 2,
            records: vec![]
        }
    );
    assert_eq!(run(&w.org, "SELECT COUNT() FROM Contact").total_size, 3);
    assert_eq!(
        run(&w.org, "SELECT COUNT() FROM Contact LIMIT 2").total_size,
        2
    );
    assert_eq!(
        run(
            &w.org,
            "SELECT COUNT() FROM Contact WHERE LastName = 'Nobody'"
        )
        .total_size,
        0
    );
    assert!(!parse("SELECT Id FROM Contact").unwrap().is_count());
    assert_eq!(
        ids(
            &w.org,
            "SELECT Id FROM Order ORDER BY OrderNumber DESC LIMIT 1"
        ),
        ids(
            &w.org,
            "SELECT Id FROM Order WHERE Activation_Status__c = 'Failed'"
        )
    );
    assert_eq!(
        parse("SELECT Id FROM contact").unwrap().object().name,
        "Contact"
    );
}

// ---- refused constructs -----------------------------------------------------------

#[test]
fn constructs_outside_the_subset_should_be_refused_naming_the_token() {
    let cases = [
        ("SELECT Name FROM Account GROUP BY Name", "GROUP"),
        (
            "SELECT Name FROM Account WHERE Name = 'a' HAVING Name = 'a'",
            "HAVING",
        ),
        ("SELECT COUNT(Id) FROM Account", "Id"),
        ("SELECT COUNT(), Name FROM Account", ","),
        ("SELECT Name, COUNT() FROM Account", "COUNT"),
        ("SELECT SUM(WH_Account__c) FROM Account", "SUM"),
        ("SELECT MAX(Name) FROM Account", "MAX"),
        (
            "SELECT TYPEOF Owner WHEN User THEN Name END FROM Account",
            "TYPEOF",
        ),
        ("SELECT FIELDS(ALL) FROM Account LIMIT 200", "FIELDS"),
        (
            "SELECT Id FROM Account WHERE Id IN (SELECT AccountId FROM Contact)",
            "SELECT",
        ),
        ("SELECT Id, (SELECT Id FROM Contacts) FROM Account", "("),
        ("SELECT Id FROM Account WITH SECURITY_ENFORCED", "WITH"),
        ("SELECT Id FROM Account FOR UPDATE", "FOR"),
        ("SELECT Id FROM Account FOR VIEW", "FOR"),
        ("SELECT Id FROM Account USING SCOPE mine", "USING"),
        ("SELECT Id FROM Account;", ";"),
        ("SELECT Id FROM Account WHERE Name = 'a';", ";"),
        ("SELECT Id FROM Account garbage", "garbage"),
        ("SELECT Id FROM Account a", "a"),
        ("SELECT Id FROM Account LIMIT 5 5", "5"),
        ("SELECT * FROM Account", "*"),
        ("SELECT FROM Account", "FROM"),
        ("SELECT Id, FROM Account", "FROM"),
        ("SELECT Id Account", "Account"),
        ("SELECT Id FROM", "<EOF>"),
        ("", "<EOF>"),
        ("UPDATE Account", "UPDATE"),
        ("SELECT Id FROM Account WHERE", "<EOF>"),
        ("SELECT Id FROM Account WHERE Name IN ()", ")"),
        ("SELECT Id FROM Account WHERE Name IN 'a'", "'a'"),
        ("SELECT Id FROM Account WHERE Name == 'a'", "="),
        ("SELECT Id FROM Account WHERE Name = \"a\"", "\""),
        ("SELECT Id FROM Account WHERE 'a' = Name", "'a'"),
        ("SELECT Id FROM Account WHERE Name = Phone", "Phone"),
        ("SELECT Id FROM Account WHERE (Name = 'a'", "<EOF>"),
        ("SELECT Id FROM Account WHERE Name = 'a')", ")"),
        (
            "SELECT Id FROM Account WHERE CALENDAR_YEAR(CreatedDate) = 2024",
            "CALENDAR_YEAR",
        ),
        (
            "SELECT Id FROM Account WHERE CreatedDate = THIS_MONTH",
            "THIS_MONTH",
        ),
        (
            "SELECT Id FROM Account WHERE CreatedDate = LAST_N_DAYS",
            "<EOF>",
        ),
        (
            "SELECT Id FROM Account WHERE CreatedDate = LAST_N_DAYS:-1",
            "-1",
        ),
        (
            "SELECT Id FROM Account WHERE CreatedDate = 2024-13-01T00:00:00Z",
            "2024-13-01",
        ),
        (
            "SELECT Id FROM Account WHERE CreatedDate = 2024-01-01T00:00:00",
            "2024-01-01T00:00:00",
        ),
        (
            "SELECT Id FROM Account WHERE Name INCLUDES ('a')",
            "INCLUDES",
        ),
        ("SELECT Id FROM Account ORDER BY Name NULLS", "<EOF>"),
        ("SELECT Id FROM Account ORDER Name", "Name"),
        ("SELECT Id FROM Account.Name", "Account.Name"),
    ];
    for (soql, token) in cases {
        assert_refused(
            soql,
            "MALFORMED_QUERY",
            &format!("unexpected token: '{token}'"),
        );
    }
}

// ---- string literals --------------------------------------------------------------

/// Escapes `s` for a SOQL string literal; with `like`, `%` and `_` become literal characters.
fn escape(s: &str, like: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str(r"\\"),
            '\'' => out.push_str(r"\'"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str(r"\n"),
            '\r' => out.push_str(r"\r"),
            '\t' => out.push_str(r"\t"),
            '\u{8}' => out.push_str(r"\b"),
            '\u{c}' => out.push_str(r"\f"),
            '%' if like => out.push_str(r"\%"),
            '_' if like => out.push_str(r"\_"),
            c => out.push(c),
        }
    }
    out
}

/// The literal of a `WHERE <field> = '<literal>'` query.
fn equality_literal(query: &Query) -> Option<&Literal> {
    match &query.bound.filter {
        Some(Cond::Cmp { value, .. }) => Some(value),
        _ => None,
    }
}

#[test]
fn every_documented_escape_should_decode() {
    let query =
        parse(r#"SELECT Id FROM Account WHERE Name = 'a\\b\'c\"d\ne\rf\tg\bh\fi\Nj\Tk\u00e9l'"#)
            .unwrap();
    assert_eq!(
        equality_literal(&query),
        Some(&Literal::Text(
            "a\\b'c\"d\ne\rf\tg\u{8}h\u{c}i\nj\tk\u{e9}l".to_owned()
        ))
    );
    let query = parse("SELECT Id FROM Account WHERE Name = 'caf\u{e9} \u{1F600}'").unwrap();
    assert_eq!(
        equality_literal(&query),
        Some(&Literal::Text("caf\u{e9} \u{1F600}".to_owned()))
    );
}

#[test]
fn broken_string_literals_should_be_refused() {
    assert_refused(
        r"SELECT Id FROM Account WHERE Name = 'a\%'",
        "MALFORMED_QUERY",
        r"Illegal character sequence '\%' in string literal",
    );
    assert_refused(
        r"SELECT Id FROM Account WHERE Name IN ('a', 'b\_')",
        "MALFORMED_QUERY",
        r"Illegal character sequence '\_' in string literal",
    );
    assert_refused(
        r"SELECT Id FROM Account WHERE Name = 'C:\dir'",
        "MALFORMED_QUERY",
        r"Invalid string literal 'C:\dir'. Illegal character sequence '\d' in string literal.",
    );
    assert_refused(
        r"SELECT Id FROM Account WHERE Name = 'x\u12'",
        "MALFORMED_QUERY",
        r"Illegal character sequence '\u12'",
    );
    assert_refused(
        "SELECT Id FROM Account WHERE Name = 'abc",
        "MALFORMED_QUERY",
        "unterminated string literal",
    );
    assert_refused(
        r"SELECT Id FROM Account WHERE Name = 'abc\'",
        "MALFORMED_QUERY",
        "unterminated string literal",
    );
    assert_refused(
        r"SELECT Id FROM Account WHERE Name = 'abc\",
        "MALFORMED_QUERY",
        "unterminated string literal",
    );
}

/// Non-empty strings (blank text is null in Salesforce) rich in characters that need escaping.
fn interesting_string() -> impl Strategy<Value = String> {
    let chars = prop_oneof![
        4 => any::<char>(),
        1 => Just('\''),
        1 => Just('\\'),
        1 => Just('"'),
        1 => Just('\n'),
        1 => Just('\r'),
        1 => Just('\t'),
        1 => Just('\u{8}'),
        1 => Just('\u{c}'),
        1 => Just('%'),
        1 => Just('_'),
        1 => Just('é'),
        1 => Just('Ä'),
        1 => prop::char::range('a', 'z'),
        1 => prop::char::range('A', 'Z'),
    ];
    prop::collection::vec(chars, 1..24).prop_map(|v| v.into_iter().collect())
}

/// An org holding an Account named `name` and a decoy named `name!`.
fn org_with_account_named(name: &str) -> (Org, String) {
    let mut org = Org::default();
    let id = org.add("Account", 1, json!({"Name": name}));
    org.add("Account", 2, json!({"Name": format!("{name}!")}));
    (org, id)
}

proptest! {
    #[test]
    fn an_escaped_string_should_parse_back_to_itself_and_find_its_account(s in interesting_string()) {
        let soql = format!("SELECT Id FROM Account WHERE Name = '{}'", escape(&s, false));
        let query = parse(&soql).map_err(|e| TestCaseError::fail(format!("{soql}: {e}")))?;
        prop_assert_eq!(equality_literal(&query), Some(&Literal::Text(s.clone())));
        let (org, id) = org_with_account_named(&s);
        let out = execute(&query, &org, now(), "62.0").unwrap();
        prop_assert_eq!(out.records.len(), 1);
        prop_assert_eq!(&out.records[0]["Id"], &json!(id));
    }

    #[test]
    fn an_escaped_like_pattern_should_match_exactly_its_string(s in interesting_string()) {
        let soql = format!("SELECT Id FROM Account WHERE Name LIKE '{}'", escape(&s, true));
        let query = parse(&soql).map_err(|e| TestCaseError::fail(format!("{soql}: {e}")))?;
        let (org, id) = org_with_account_named(&s);
        let out = execute(&query, &org, now(), "62.0").unwrap();
        prop_assert_eq!(out.records.len(), 1);
        prop_assert_eq!(&out.records[0]["Id"], &json!(id));
        // With a trailing unescaped `%`, the decoy matches too.
        let soql = format!("SELECT Id FROM Account WHERE Name LIKE '{}%'", escape(&s, true));
        let out = execute(&parse(&soql).unwrap(), &org, now(), "62.0").unwrap();
        prop_assert_eq!(out.records.len(), 2);
    }

    #[test]
    fn a_backslash_before_any_other_character_should_be_refused(
        prefix in "[a-z ]{0,5}",
        c in any::<char>().prop_filter("not a legal escape", |c| !"\\'\"nNrRtTbBfFu%_".contains(*c)),
    ) {
        let soql = format!("SELECT Id FROM Account WHERE Name = '{prefix}\\{c}x'");
        let err = parse(&soql).expect_err("illegal escape accepted");
        prop_assert_eq!(err.error_code, "MALFORMED_QUERY");
    }

    #[test]
    fn escaping_any_string_should_never_let_it_escape_the_literal(s in interesting_string()) {
        // Whatever the value, the query keeps its shape: the value cannot inject SOQL.
        let soql = format!("SELECT Id FROM Account WHERE Name = '{}' AND Id != null", escape(&s, false));
        let query = parse(&soql).map_err(|e| TestCaseError::fail(format!("{soql}: {e}")))?;
        prop_assert!(matches!(query.bound.filter, Some(Cond::And(ref items)) if items.len() == 2));
    }
}
