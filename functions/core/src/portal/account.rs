//! `GET /account`: the caller's Account with its portal, eligibility and ID
//! verification status. One read.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::{
    AccountId, CustomerNumber, EligibilityStatus, IdVerificationStatus, PortalStatus,
};

use super::caller::Caller;
use super::error::PortalError;
use super::ports::AccountProfile;

/// The Account as the portal shows it (also the response body).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountOverview {
    /// `Id`.
    pub account_id: AccountId,
    /// `Name`.
    pub name: String,
    /// `SF_Account_No__c`.
    pub customer_number: Option<CustomerNumber>,
    /// `Portal_Status__c`.
    pub portal_status: Option<PortalStatus>,
    /// Internet eligibility.
    pub eligibility: EligibilityView,
    /// ID verification.
    pub id_verification: IdVerificationView,
}

/// The Account's Internet eligibility fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EligibilityView {
    /// `Internet_Eligibility_Status__c`.
    pub status: Option<EligibilityStatus>,
    /// `Internet_Eligibility__c`: the result CS wrote.
    pub value: Option<String>,
    /// `Internet_Eligibility_Request_Date_Time__c`.
    pub requested_at: Option<DateTime<Utc>>,
    /// `Internet_Eligibility_Checked_Date_Time__c`.
    pub checked_at: Option<DateTime<Utc>>,
}

/// The Account's ID verification fields (never the agent's notes).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IdVerificationView {
    /// `Id_Verification_Status__c`.
    pub status: Option<IdVerificationStatus>,
    /// `Id_Verification_Submitted_Date_Time__c`.
    pub submitted_at: Option<DateTime<Utc>>,
    /// `Id_Verification_Verified_Date_Time__c`.
    pub verified_at: Option<DateTime<Utc>>,
    /// `Id_Verification_Rejection_Message__c`.
    pub rejection_message: Option<String>,
}

/// The caller's Account.
#[tracing::instrument(name = "get_account", skip_all, fields(account_id = ?caller.account_id))]
pub async fn get_account<P: AccountProfile>(
    profile: &P,
    caller: &Caller,
) -> Result<AccountOverview, PortalError> {
    let account = caller.account()?;
    profile
        .account_overview(account)
        .await?
        .filter(|overview| &overview.account_id == account)
        .ok_or(PortalError::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::portal::fake::*;
    use chrono::TimeZone;

    fn overview(account_id: AccountId) -> AccountOverview {
        AccountOverview {
            account_id,
            name: "Hanako Yamada".into(),
            customer_number: None,
            portal_status: Some(PortalStatus::Active),
            eligibility: EligibilityView {
                status: Some(EligibilityStatus::Pending),
                value: None,
                requested_at: Some(Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap()),
                checked_at: None,
            },
            id_verification: IdVerificationView::default(),
        }
    }

    #[tokio::test]
    async fn when_linked_should_return_the_account_with_the_documented_fields() {
        let org = FakeOrg {
            account: Some(overview(account())),
            ..FakeOrg::default()
        };
        let got = get_account(&org, &caller()).await.unwrap();
        assert_eq!(org.calls(), vec![Call::AccountOverview(account())]);
        assert_eq!(
            serde_json::to_value(&got).unwrap(),
            serde_json::json!({
                "accountId": account().as_str(),
                "name": "Hanako Yamada",
                "customerNumber": null,
                "portalStatus": "Active",
                "eligibility": {
                    "status": "Pending",
                    "value": null,
                    "requestedAt": "2026-03-01T00:00:00Z",
                    "checkedAt": null,
                },
                "idVerification": {
                    "status": null,
                    "submittedAt": null,
                    "verifiedAt": null,
                    "rejectionMessage": null,
                },
            })
        );
    }

    #[tokio::test]
    async fn when_the_token_has_no_account_should_be_not_linked_without_reading() {
        let org = FakeOrg::default();
        let err = get_account(&org, &unlinked_caller()).await.unwrap_err();
        assert!(matches!(err, PortalError::NotLinked));
        assert!(org.calls().is_empty());
    }

    #[tokio::test]
    async fn when_the_account_is_missing_or_another_should_be_not_found() {
        let missing = FakeOrg::default();
        assert!(matches!(
            get_account(&missing, &caller()).await,
            Err(PortalError::NotFound)
        ));
        let other = FakeOrg {
            account: Some(overview(other_account())),
            ..FakeOrg::default()
        };
        assert!(matches!(
            get_account(&other, &caller()).await,
            Err(PortalError::NotFound)
        ));
    }
}
