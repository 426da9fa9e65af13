//! `RegistrationDirectory`: Contacts by e-mail and the Account by customer
//! number in one call; Account + Contact, or a proved Account's portal
//! status, in one all-or-none composite; a link request's staff Case.

use portal_core::domain::{
    CaseType, CustomerNumber, Email, FirstName, LastName, PhoneNumber, PortalStatus,
    RegistrationSource,
};
use portal_core::portal::ports::RegistrationDirectory;
use portal_core::portal::registration::{NewAccount, NewContact, RegistrationPlan};
use portal_core::portal::{CaseOpportunity, NewCase};
use salesforce::schema::{account, case, contact};
use serde_json::json;

use crate::helpers::org;

fn email() -> Email {
    Email::parse("hanako@example.jp").expect("a valid e-mail")
}

pub(crate) fn new_contact() -> NewContact {
    NewContact {
        first_name: FirstName::parse("Hanako").expect("a valid name"),
        last_name: LastName::parse("Yamada").expect("a valid name"),
        email: email(),
        phone: Some(PhoneNumber::parse("+81 3-1234-5678").expect("a valid phone")),
    }
}

#[tokio::test]
async fn lookup_returns_the_contacts_of_the_email_with_their_account_and_the_account_by_number_in_one_call()
 {
    let org = org().await;
    let mine = org.account(
        "Yamada Hanako",
        json!({
            account::PORTAL_STATUS: "Active",
            account::CUSTOMER_NUMBER: "C-0001",
            account::REGISTRATION_SOURCE: "Legacy",
        }),
    );
    let legacy = org.account("Legacy KK", json!({ account::CUSTOMER_NUMBER: "C-0002" }));
    let contact_id = org.contact(Some(&mine), "Hanako@Example.jp");
    let other = org.account("Somebody Else", json!({ account::PORTAL_STATUS: "Active" }));
    org.contact(Some(&other), "someone@example.jp");
    org.contact(None, "hanako@example.jp");
    let directory = org.portal.registration();

    let calls = org.calls();
    let found = directory
        .lookup(&email(), Some(&CustomerNumber::parse("C-0002").unwrap()))
        .await
        .unwrap();
    assert_eq!(org.calls() - calls, 1, "one composite");
    assert_eq!(found.contacts.len(), 1, "{found:?}");
    let c = &found.contacts[0];
    assert_eq!(c.contact_id, contact_id);
    assert_eq!(c.email, "Hanako@Example.jp", "as stored");
    assert!(c.has_email(&email()));
    assert_eq!(c.account_id, mine);
    assert_eq!(c.portal_status, Some(PortalStatus::Active));
    assert_eq!(
        c.customer_number,
        Some(CustomerNumber::parse("C-0001").unwrap())
    );
    assert_eq!(c.registration_source, Some(RegistrationSource::Legacy));
    let by_number = found.account_by_number.unwrap();
    assert_eq!(by_number.account_id, legacy);
    assert_eq!(by_number.portal_status, None);

    let calls = org.calls();
    let without_number = directory.lookup(&email(), None).await.unwrap();
    assert_eq!(org.calls() - calls, 1, "one query");
    assert_eq!(without_number.contacts, found.contacts);
    assert_eq!(without_number.account_by_number, None);

    let nobody = directory
        .lookup(
            &Email::parse("nobody@example.jp").unwrap(),
            Some(&CustomerNumber::parse("C-9999").unwrap()),
        )
        .await
        .unwrap();
    assert!(nobody.contacts.is_empty());
    assert_eq!(nobody.account_by_number, None);
}

#[tokio::test]
async fn a_new_registration_writes_exactly_the_account_and_its_contact_in_one_call() {
    let org = org().await;
    let accounts = org.count(account::OBJECT);
    let contacts = org.count(contact::OBJECT);
    let plan = RegistrationPlan::CreateAccount {
        account: NewAccount {
            name: "Hanako Yamada".into(),
            phone: Some(PhoneNumber::parse("+81 3-1234-5678").unwrap()),
            portal_status: PortalStatus::Active,
            registration_source: RegistrationSource::PortalCheckout,
        },
        contact: new_contact(),
    };

    let calls = org.calls();
    let registered = org.portal.registration().register(&plan).await.unwrap();
    assert_eq!(org.calls() - calls, 1);

    assert_eq!(org.count(account::OBJECT), accounts + 1);
    assert_eq!(org.count(contact::OBJECT), contacts + 1);
    let a = org.record(registered.account_id.as_str());
    assert_eq!(a[account::NAME], "Hanako Yamada");
    assert_eq!(a[account::PHONE], "+81 3-1234-5678");
    assert_eq!(a[account::PORTAL_STATUS], "Active");
    assert_eq!(a[account::REGISTRATION_SOURCE], "Portal Checkout");
    let c = org.record(registered.contact_id.as_str());
    assert_eq!(c[contact::ACCOUNT_ID], registered.account_id.as_str());
    assert_eq!(c[contact::FIRST_NAME], "Hanako");
    assert_eq!(c[contact::LAST_NAME], "Yamada");
    assert_eq!(c[contact::EMAIL], "hanako@example.jp");
    assert_eq!(c[contact::PHONE], "+81 3-1234-5678");
}

#[tokio::test]
async fn linking_a_proved_account_updates_only_its_portal_fields_and_keeps_the_contact() {
    let org = org().await;
    let legacy = org.account(
        "Legacy KK",
        json!({ account::CUSTOMER_NUMBER: "C-0002", account::PHONE: "03-0000-0000" }),
    );
    let kept = org.contact(Some(&legacy), "hanako@example.jp");
    let directory = org.portal.registration();
    let contacts = org.count(contact::OBJECT);
    let plan = RegistrationPlan::LinkAccount {
        account_id: legacy.clone(),
        contact_id: kept.clone(),
        portal_status: PortalStatus::Active,
        registration_source: RegistrationSource::Legacy,
    };

    let calls = org.calls();
    let registered = directory.register(&plan).await.unwrap();
    assert_eq!(org.calls() - calls, 1);
    assert_eq!(registered.account_id, legacy);
    assert_eq!(registered.contact_id, kept);
    assert_eq!(org.count(contact::OBJECT), contacts, "no Contact written");
    let a = org.record(legacy.as_str());
    assert_eq!(a[account::NAME], "Legacy KK", "the name is kept");
    assert_eq!(a[account::PHONE], "03-0000-0000", "the phone is kept");
    assert_eq!(a[account::CUSTOMER_NUMBER], "C-0002");
    assert_eq!(a[account::PORTAL_STATUS], "Active");
    assert_eq!(a[account::REGISTRATION_SOURCE], "Legacy");
}

#[tokio::test]
async fn a_link_request_writes_only_its_staff_case_in_one_call() {
    let org = org().await;
    let legacy = org.account("Legacy KK", json!({ account::CUSTOMER_NUMBER: "C-0002" }));
    let before = org.record(legacy.as_str());
    let request = NewCase::portal(
        legacy.clone(),
        CaseOpportunity::None,
        CaseType::IdVerification,
        "Portal link request for customer number C-0002".into(),
        "Name: Mallory\nTo do: check.".into(),
    );
    let calls = org.calls();
    let case_id = org
        .portal
        .registration()
        .open_link_case(&request)
        .await
        .unwrap();
    assert_eq!(org.calls() - calls, 1);
    let c = org.record(case_id.as_str());
    assert_eq!(c[case::ACCOUNT_ID], legacy.as_str());
    assert_eq!(c[case::TYPE], "ID Verification");
    assert_eq!(c[case::DESCRIPTION], "Name: Mallory\nTo do: check.");
    assert_eq!(
        org.record(legacy.as_str()),
        before,
        "the Account is untouched"
    );
}
