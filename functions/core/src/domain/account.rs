//! The Account's own values: the customer number and the portal's picklists.
//!
//! The picklist strings mirror `salesforce::schema::account`:
//! `REGISTRATION_SOURCE_VALUES`, `PORTAL_STATUS_VALUES`,
//! `ELIGIBILITY_STATUS_VALUES` and `ID_VERIFICATION_STATUS_VALUES`.

use std::fmt;

use serde::Serialize;

use super::picklist::{UnknownValue, picklist};

/// Why a customer number is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CustomerNumberError {
    /// Empty once trimmed.
    #[error("must not be empty")]
    Empty,
    /// More than 20 characters.
    #[error("must be at most 20 characters")]
    TooLong,
    /// A character other than an ASCII letter, digit or `-`.
    #[error("may contain only letters, digits and -")]
    Character,
}

/// A customer number as stored in `Account.SF_Account_No__c` (Text(20),
/// unique external id): 1 to 20 ASCII letters, digits and `-`, trimmed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CustomerNumber(String);

impl CustomerNumber {
    /// Checks `raw`.
    pub fn parse(raw: &str) -> Result<Self, CustomerNumberError> {
        if raw.is_empty() {
            return Err(CustomerNumberError::Empty);
        }
        if !raw.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(CustomerNumberError::Character);
        }
        if raw.len() > 20 {
            return Err(CustomerNumberError::TooLong);
        }
        Ok(Self(raw.to_owned()))
    }

    /// The number.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for CustomerNumber {
    type Error = CustomerNumberError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<CustomerNumber> for String {
    fn from(n: CustomerNumber) -> Self {
        n.0
    }
}

impl fmt::Display for CustomerNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

picklist!(
    /// `Account.Portal_Registration_Source__c`: how the customer came to the portal.
    RegistrationSource {
        /// A customer from before the portal, linked by customer number.
        Legacy => "Legacy",
        /// Registered from the portal's sign-up page (`"source": "signup"` or none).
        PortalSignup => "Portal Signup",
        /// Registered during checkout (`"source": "checkout"`).
        PortalCheckout => "Portal Checkout",
    }
);

impl RegistrationSource {
    /// The source a registration body names: `signup` or `checkout`
    /// (`Legacy` is never given by the body; it is decided by linking).
    pub fn from_body(raw: &str) -> Result<Self, UnknownValue> {
        match raw {
            "signup" => Ok(Self::PortalSignup),
            "checkout" => Ok(Self::PortalCheckout),
            _ => Err(UnknownValue {
                allowed: "signup, checkout".to_owned(),
            }),
        }
    }
}

picklist!(
    /// `Account.Portal_Status__c`.
    PortalStatus {
        /// Registered and allowed in the portal.
        Active => "Active",
        /// Not (or no longer) a portal user.
        Inactive => "Inactive",
    }
);

picklist!(
    /// `Account.Internet_Eligibility_Status__c`.
    EligibilityStatus {
        /// Requested, waiting for CS.
        Pending => "Pending",
        /// Checked by CS; the result is in `Internet_Eligibility__c`.
        Checked => "Checked",
    }
);

picklist!(
    /// `Account.Id_Verification_Status__c`.
    IdVerificationStatus {
        /// Documents submitted, waiting for CS.
        Pending => "Pending",
        /// Verified by CS.
        Verified => "Verified",
        /// Refused by CS; the reason is in `Id_Verification_Rejection_Message__c`.
        Rejected => "Rejected",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_the_customer_number_is_letters_digits_and_dashes_should_accept_it() {
        assert_eq!(
            CustomerNumber::parse("C-000123").unwrap().as_str(),
            "C-000123"
        );
        assert!(CustomerNumber::parse(&"9".repeat(20)).is_ok());
    }

    #[test]
    fn when_the_customer_number_is_malformed_should_refuse() {
        assert_eq!(CustomerNumber::parse(""), Err(CustomerNumberError::Empty));
        assert_eq!(
            CustomerNumber::parse(" C-0001"),
            Err(CustomerNumberError::Character),
            "exactly as the OpenAPI pattern says: no surrounding spaces"
        );
        assert_eq!(
            CustomerNumber::parse(&"9".repeat(21)),
            Err(CustomerNumberError::TooLong)
        );
        for bad in ["C 0001", "C_0001", "C'0001", "Ｃ0001"] {
            assert_eq!(
                CustomerNumber::parse(bad),
                Err(CustomerNumberError::Character),
                "{bad}"
            );
        }
    }

    #[test]
    fn when_the_body_names_a_source_should_map_it_to_the_salesforce_value() {
        assert_eq!(
            RegistrationSource::from_body("signup")
                .unwrap()
                .as_salesforce(),
            "Portal Signup"
        );
        assert_eq!(
            RegistrationSource::from_body("checkout")
                .unwrap()
                .as_salesforce(),
            "Portal Checkout"
        );
        assert!(RegistrationSource::from_body("Legacy").is_err());
        assert!(RegistrationSource::from_body("Portal Signup").is_err());
    }

    #[test]
    fn when_listing_picklists_should_mirror_the_org_schema() {
        let values = |all: &[&str]| all.join("|");
        assert_eq!(
            values(
                &RegistrationSource::ALL
                    .iter()
                    .map(|v| v.as_salesforce())
                    .collect::<Vec<_>>()
            ),
            "Legacy|Portal Signup|Portal Checkout"
        );
        assert_eq!(
            values(
                &PortalStatus::ALL
                    .iter()
                    .map(|v| v.as_salesforce())
                    .collect::<Vec<_>>()
            ),
            "Active|Inactive"
        );
        assert_eq!(
            values(
                &EligibilityStatus::ALL
                    .iter()
                    .map(|v| v.as_salesforce())
                    .collect::<Vec<_>>()
            ),
            "Pending|Checked"
        );
        assert_eq!(
            values(
                &IdVerificationStatus::ALL
                    .iter()
                    .map(|v| v.as_salesforce())
                    .collect::<Vec<_>>()
            ),
            "Pending|Verified|Rejected"
        );
    }

    #[test]
    fn when_a_picklist_round_trips_through_serde_should_use_the_salesforce_value() {
        let json = serde_json::to_string(&RegistrationSource::PortalCheckout).unwrap();
        assert_eq!(json, "\"Portal Checkout\"");
        let back: RegistrationSource = serde_json::from_str(&json).unwrap();
        assert_eq!(back, RegistrationSource::PortalCheckout);
        assert!(serde_json::from_str::<PortalStatus>("\"active\"").is_err());
    }
}
