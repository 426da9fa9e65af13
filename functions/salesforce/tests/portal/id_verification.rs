//! `IdVerificationDesk`: the context in one composite of queries; Case +
//! files (ContentVersion) + Account in one all-or-none composite.

use bytes::Bytes;
use chrono::{TimeZone, Utc};
use portal_core::domain::{AccountId, CaseType, IdDocument, IdVerificationStatus};
use portal_core::portal::PortError;
use portal_core::portal::id_verification::IdVerificationPlan;
use portal_core::portal::plans::{CaseOpportunity, NewCase};
use portal_core::portal::ports::IdVerificationDesk;
use salesforce::schema::{account, case, content_document, content_document_link, content_version};
use serde_json::json;

use crate::helpers::org;

#[tokio::test]
async fn the_context_holds_the_status_and_the_open_case_of_the_account_only() {
    let org = org().await;
    let mine = org.account(
        "Hanako Yamada",
        json!({ account::ID_VERIFICATION_STATUS: "Pending" }),
    );
    let other = org.account("Somebody Else", json!({}));
    org.case(&mine, "ID Verification", json!({ case::STATUS: "Closed" }));
    let open = org.case(
        &mine,
        "ID Verification",
        json!({ case::STATUS: "Escalated" }),
    );
    org.case(&mine, "Eligibility Check", json!({}));
    org.case(&other, "ID Verification", json!({}));
    let desk = org.portal.id_verification();

    let calls = org.calls();
    let context = desk.verification_context(&mine).await.unwrap().unwrap();
    assert_eq!(org.calls() - calls, 1);
    assert_eq!(context.status, Some(IdVerificationStatus::Pending));
    assert_eq!(context.open_case, Some(open));

    let missing = AccountId::parse("001000000000999").unwrap();
    assert_eq!(desk.verification_context(&missing).await.unwrap(), None);
}

#[tokio::test]
async fn a_submission_writes_the_case_and_the_pending_status_with_its_time_in_one_call() {
    let org = org().await;
    let mine = org.account(
        "Hanako Yamada",
        json!({ account::ID_VERIFICATION_STATUS: "Rejected" }),
    );
    let cases = org.count(case::OBJECT);
    let front = jpeg(3 * 1024 * 1024);
    let plan = plan(
        &mine,
        &mine,
        vec![
            IdDocument::parse(Some("front.jpg"), front.clone(), 0).unwrap(),
            IdDocument::parse(Some("back"), Bytes::from_static(b"%PDF-1.7\n%%EOF"), 1).unwrap(),
        ],
    );

    let calls = org.calls();
    let written = org
        .portal
        .id_verification()
        .submit_verification(&plan)
        .await
        .unwrap();
    assert_eq!(org.calls() - calls, 1);
    let case_id = written.case_id;
    assert_eq!(written.content_versions.len(), 2);
    let version = org.record(written.content_versions[0].as_str());
    assert_eq!(version[content_version::TITLE], "front.jpg");
    assert_eq!(version[content_version::PATH_ON_CLIENT], "front.jpg");
    assert_eq!(
        version[content_version::FIRST_PUBLISH_LOCATION_ID],
        case_id.as_str()
    );
    assert_eq!(version[content_version::CONTENT_SIZE], 3 * 1024 * 1024);
    assert_eq!(version[content_version::FILE_TYPE], "JPG");
    let second = org.record(written.content_versions[1].as_str());
    assert_eq!(
        second[content_version::PATH_ON_CLIENT],
        "back.pdf",
        "named by its format"
    );
    assert_eq!(second[content_version::FILE_TYPE], "PDF");
    // The file is on the Case, as Salesforce Files: a document linked to it.
    let document = version[content_version::CONTENT_DOCUMENT_ID]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        org.record(&document)[content_document::LATEST_PUBLISHED_VERSION_ID],
        written.content_versions[0].as_str()
    );
    let links = org.records_where(
        content_document_link::OBJECT,
        content_document_link::CONTENT_DOCUMENT_ID,
        &document,
    );
    assert_eq!(links.len(), 1);
    assert_eq!(
        links[0][content_document_link::LINKED_ENTITY_ID],
        case_id.as_str()
    );
    // And its bytes come back whole.
    let served = org.version_data(written.content_versions[0].as_str()).await;
    assert_eq!(served, front.to_vec());
    assert_eq!(org.count(case::OBJECT), cases + 1);
    let c = org.record(case_id.as_str());
    assert_eq!(c[case::ACCOUNT_ID], mine.as_str());
    assert_eq!(c[case::TYPE], "ID Verification");
    assert_eq!(c[case::STATUS], "New");
    assert_eq!(c[case::ORIGIN], "Portal");
    assert_eq!(c[case::SUBJECT], "ID verification - Residence card");
    assert!(c.get(case::OPPORTUNITY_ID).is_none_or(|v| v.is_null()));
    let a = org.record(mine.as_str());
    assert_eq!(a[account::ID_VERIFICATION_STATUS], "Pending");
    assert_eq!(
        a[account::ID_VERIFICATION_SUBMITTED_AT],
        "2026-04-01T00:30:00.000+0000"
    );
}

/// A JPEG-signed file of `size` bytes.
fn jpeg(size: usize) -> Bytes {
    let mut content = vec![0x5Au8; size];
    content[..3].copy_from_slice(&[0xFF, 0xD8, 0xFF]);
    Bytes::from(content)
}

fn plan(
    case_account: &AccountId,
    account_id: &AccountId,
    documents: Vec<IdDocument>,
) -> IdVerificationPlan {
    IdVerificationPlan {
        account_id: account_id.clone(),
        status: IdVerificationStatus::Pending,
        submitted_at: Utc.with_ymd_and_hms(2026, 4, 1, 0, 30, 0).unwrap(),
        case: NewCase::portal(
            case_account.clone(),
            CaseOpportunity::None,
            CaseType::IdVerification,
            "ID verification - Residence card".into(),
            "Document type: Residence card\n".into(),
            crate::helpers::request_key(),
        ),
        documents,
    }
}

#[tokio::test]
async fn when_a_later_part_of_the_write_fails_no_file_is_left_behind() {
    let org = org().await;
    let mine = org.account("Hanako Yamada", json!({}));
    let missing = AccountId::parse("001000000000999").unwrap();
    let before = [
        org.count(case::OBJECT),
        org.count(content_version::OBJECT),
        org.count(content_document::OBJECT),
        org.count(content_document_link::OBJECT),
    ];
    // The Case and its files are written first; the Account update fails.
    let plan = plan(
        &mine,
        &missing,
        vec![IdDocument::parse(Some("a.jpg"), jpeg(1024), 0).unwrap()],
    );
    let err = org
        .portal
        .id_verification()
        .submit_verification(&plan)
        .await
        .unwrap_err();
    assert!(!matches!(err, PortError::Unavailable { .. }), "{err:?}");
    let after = [
        org.count(case::OBJECT),
        org.count(content_version::OBJECT),
        org.count(content_document::OBJECT),
        org.count(content_document_link::OBJECT),
    ];
    assert_eq!(
        after, before,
        "Case, ContentVersion, ContentDocument and link all rolled back"
    );
}

#[tokio::test]
async fn a_submission_is_found_by_its_request_key_with_its_files_in_the_order_written() {
    let org = org().await;
    let mine = org.account("Hanako Yamada", json!({}));
    let other = org.account("Somebody Else", json!({}));
    let plan = plan(
        &mine,
        &mine,
        vec![
            IdDocument::parse(Some("front.jpg"), jpeg(1024), 0).unwrap(),
            IdDocument::parse(Some("back"), Bytes::from_static(b"%PDF-1.7\n%%EOF"), 1).unwrap(),
        ],
    );
    let desk = org.portal.id_verification();
    let key = plan.case.request_key.clone();
    assert_eq!(desk.verification_by_key(&mine, &key).await.unwrap(), None);
    let written = desk.submit_verification(&plan).await.unwrap();

    let found = desk.verification_by_key(&mine, &key).await.unwrap();
    assert_eq!(found, Some(written.clone()));
    // Another Account's key lookup does not see it.
    assert_eq!(desk.verification_by_key(&other, &key).await.unwrap(), None);
    // A second write under the same key is refused whole: no second case or file.
    let (cases, versions) = (org.count(case::OBJECT), org.count(content_version::OBJECT));
    let again = desk.submit_verification(&plan).await.unwrap_err();
    assert!(matches!(again, PortError::KeyTaken { .. }), "{again:?}");
    assert_eq!(org.count(case::OBJECT), cases);
    assert_eq!(org.count(content_version::OBJECT), versions);
}
