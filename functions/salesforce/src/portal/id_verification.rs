//! [`IdVerificationDesk`] over Salesforce.
//!
//! Read: one `/composite` of two queries — the Account's ID verification
//! status and its newest open `ID Verification` case.
//! Write: one all-or-none `/composite` — the Case, one `ContentVersion` per
//! document (`VersionData` in base64, `FirstPublishLocationId` =
//! `@{case.id}`, so Salesforce files it on the Case through a
//! `ContentDocumentLink`) and the Account `Pending` with the submitted time.
//! Nothing is left behind when any part fails: the files roll back with the
//! Case. Salesforce takes at most 50 MB of JSON (37.5 MB of base64) per
//! request; two documents of at most 4 MiB are about 11 MB.

use base64::Engine as _;
use portal_core::domain::{AccountId, CaseId, CaseType, IdDocument, IdVerificationStatus};
use portal_core::portal::id_verification::{
    IdVerificationContext, IdVerificationPlan, SubmittedVerification,
};
use portal_core::portal::ports::IdVerificationDesk;
use portal_core::portal::{PortError, RequestKey};
use portal_core::schema::{account, case, content_version};

use crate::client::SalesforceClient;
use crate::composite::{AllOrNone, Body, Composite, Ref};
use crate::soql::{self, Cond, Order};

use super::error::{port_error, write_error};
use super::plan::{account_query, add_case, case_by_key, open_case_query};
use super::record::{ID, Record, Row, created_id, format_datetime, found};

/// ID verifications (Account, Case) in Salesforce.
#[derive(Debug, Clone)]
pub struct SalesforceIdVerificationDesk {
    client: SalesforceClient,
}

impl SalesforceIdVerificationDesk {
    /// An adapter over `client`.
    pub fn new(client: SalesforceClient) -> Self {
        Self { client }
    }
}

impl IdVerificationDesk for SalesforceIdVerificationDesk {
    #[tracing::instrument(name = "salesforce.id_verification.context", skip_all, fields(account_id = %account_id))]
    async fn verification_context(
        &self,
        account_id: &AccountId,
    ) -> Result<Option<IdVerificationContext>, PortError> {
        let mut c = Composite::new(AllOrNone::No);
        let account_ref = c.query_named(
            "account",
            &account_query(account_id, account::ID_VERIFICATION_STATUS)?,
        )?;
        let case_ref = c.query_named(
            "openCase",
            &open_case_query(account_id, CaseType::IdVerification, &[ID])?,
        )?;
        let results = self.client.composite(&c).await.map_err(port_error)?;
        let accounts = found(&results, &account_ref, "the Account query")?;
        let Some(account_record) = accounts.first() else {
            return Ok(None);
        };
        let status = Row::new(account::OBJECT, account_record).opt_parsed(
            account::ID_VERIFICATION_STATUS,
            str::parse::<IdVerificationStatus>,
        )?;
        let open_case = found(&results, &case_ref, "the Case query")?
            .first()
            .map(|r| Row::new(case::OBJECT, r).id(ID))
            .transpose()?;
        Ok(Some(IdVerificationContext { status, open_case }))
    }

    #[tracing::instrument(name = "salesforce.id_verification.submit", skip_all, fields(account_id = %plan.account_id, files = plan.documents.len()))]
    async fn submit_verification(
        &self,
        plan: &IdVerificationPlan,
    ) -> Result<SubmittedVerification, PortError> {
        let mut c = Composite::new(AllOrNone::Yes);
        let case_ref = add_case(&mut c, &plan.case, None)?;
        let mut file_refs = Vec::with_capacity(plan.documents.len());
        for (i, document) in plan.documents.iter().enumerate() {
            file_refs.push(c.create_named(
                &format!("file{i}"),
                content_version::OBJECT,
                file_body(document, &case_ref),
            )?);
        }
        let account_body = Body::new()
            .set(account::ID_VERIFICATION_STATUS, plan.status.as_salesforce())
            .set(
                account::ID_VERIFICATION_SUBMITTED_AT,
                format_datetime(plan.submitted_at),
            );
        c.update_named(
            "account",
            account::OBJECT,
            plan.account_id.as_id(),
            account_body,
        )?;
        let results = self.client.composite(&c).await.map_err(write_error)?;
        let case_id: CaseId = created_id(&results, &case_ref, "the new Case")?;
        let content_versions = file_refs
            .iter()
            .map(|r| created_id(&results, r, "a new ContentVersion"))
            .collect::<Result<Vec<_>, _>>()?;
        tracing::info!(case_id = %case_id, "ID verification written");
        Ok(SubmittedVerification {
            case_id,
            content_versions,
        })
    }

    #[tracing::instrument(name = "salesforce.id_verification.by_key", skip_all, fields(account_id = %account))]
    async fn verification_by_key(
        &self,
        account: &AccountId,
        key: &RequestKey,
    ) -> Result<Option<SubmittedVerification>, PortError> {
        let Some((case_id, _)) = case_by_key(&self.client, Some(account), key).await? else {
            return Ok(None);
        };
        // The files the same write published to the case, in the order
        // written (ids grow within one transaction).
        let query = soql::select([ID])
            .from(content_version::OBJECT)
            .where_(Cond::eq(
                content_version::FIRST_PUBLISH_LOCATION_ID,
                case_id.as_id(),
            ))
            .order_by(ID, Order::Asc)
            .build()?;
        let page = self
            .client
            .query::<Record>(&query)
            .await
            .map_err(port_error)?;
        let content_versions = page
            .records
            .iter()
            .map(|record| Row::new(content_version::OBJECT, record).id(ID))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(SubmittedVerification {
            case_id,
            content_versions,
        }))
    }
}

/// A `ContentVersion` of `document`, published to the case `case_ref` creates.
fn file_body(document: &IdDocument, case_ref: &Ref) -> Body {
    Body::new()
        .set(content_version::TITLE, document.file_name())
        .set(content_version::PATH_ON_CLIENT, document.path_on_client())
        .set(
            content_version::VERSION_DATA,
            base64::engine::general_purpose::STANDARD.encode(document.content()),
        )
        .set_ref(content_version::FIRST_PUBLISH_LOCATION_ID, case_ref)
}
