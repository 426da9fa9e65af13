//! Typed Salesforce ids, one per object the portal touches.
//!
//! Each wrapper accepts a 15- or 18-character id with a valid case-safe
//! checksum and the object's key prefix, and holds the 18-character form, so an
//! Order id can never be passed where an Account id is expected.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::salesforce_id::{SalesforceId, SalesforceIdError};

/// Why a string is not an id of the expected object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TypedIdError {
    /// Not a Salesforce id at all.
    #[error(transparent)]
    Id(#[from] SalesforceIdError),
    /// A Salesforce id of another object.
    #[error("must be an id of a {object} (starting with {expected})")]
    WrongObject {
        /// The object expected, e.g. `Account`.
        object: &'static str,
        /// Its key prefix, e.g. `001`.
        expected: &'static str,
    },
}

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident, $object:literal, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(SalesforceId);

        impl $name {
            /// The Salesforce object these ids belong to.
            pub const OBJECT: &'static str = $object;
            /// The key prefix of the object.
            pub const KEY_PREFIX: &'static str = $prefix;

            /// Parses a 15- or 18-character id of this object.
            pub fn parse(s: &str) -> Result<Self, TypedIdError> {
                Self::try_from(SalesforceId::parse(s)?)
            }

            /// The 18-character form.
            pub fn as_str(&self) -> &str {
                self.0.as_str()
            }

            /// The untyped id.
            pub fn as_id(&self) -> &SalesforceId {
                &self.0
            }
        }

        impl TryFrom<SalesforceId> for $name {
            type Error = TypedIdError;

            fn try_from(id: SalesforceId) -> Result<Self, Self::Error> {
                if id.key_prefix() == $prefix {
                    Ok(Self(id))
                } else {
                    Err(TypedIdError::WrongObject {
                        object: $object,
                        expected: $prefix,
                    })
                }
            }
        }

        impl From<$name> for SalesforceId {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl FromStr for $name {
            type Err = TypedIdError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                self.0.serialize(serializer)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let id = SalesforceId::deserialize(deserializer)?;
                Self::try_from(id).map_err(serde::de::Error::custom)
            }
        }
    };
}

typed_id!(
    /// An `Account` id (`001…`).
    AccountId, "Account", "001"
);
typed_id!(
    /// A `Contact` id (`003…`).
    ContactId, "Contact", "003"
);
typed_id!(
    /// An `Opportunity` id (`006…`).
    OpportunityId, "Opportunity", "006"
);
typed_id!(
    /// A `Case` id (`500…`).
    CaseId, "Case", "500"
);
typed_id!(
    /// An `Order` id (`801…`).
    OrderId, "Order", "801"
);
typed_id!(
    /// A `Product2` id (`01t…`).
    ProductId, "Product2", "01t"
);
typed_id!(
    /// A `Pricebook2` id (`01s…`).
    PricebookId, "Pricebook2", "01s"
);
typed_id!(
    /// A `PricebookEntry` id (`01u…`).
    PricebookEntryId, "PricebookEntry", "01u"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_the_prefix_matches_should_accept_and_hold_the_18_char_form() {
        let id = AccountId::parse("0015000000VALDt").unwrap();
        assert_eq!(id.as_str(), "0015000000VALDtAAP");
        assert_eq!(
            OrderId::parse("801000000000001").unwrap().as_str(),
            "801000000000001AAA"
        );
        assert_eq!(
            ProductId::parse("01t000000000001")
                .unwrap()
                .as_id()
                .key_prefix(),
            "01t"
        );
    }

    #[test]
    fn when_the_prefix_is_another_objects_should_refuse() {
        assert_eq!(
            AccountId::parse("801000000000001"),
            Err(TypedIdError::WrongObject {
                object: "Account",
                expected: "001"
            })
        );
        // Key prefixes are case-sensitive: `01T` is not `01t`.
        assert!(ProductId::parse("01T000000000001").is_err());
        assert!(CaseId::parse("5000000000000001").is_err());
    }

    #[test]
    fn when_the_checksum_is_wrong_should_refuse() {
        assert_eq!(
            AccountId::parse("0015000000VALDtAAA"),
            Err(TypedIdError::Id(SalesforceIdError::Checksum))
        );
    }

    #[test]
    fn when_deserialised_should_check_the_prefix() {
        let id: ContactId = serde_json::from_str("\"003000000000001\"").unwrap();
        assert_eq!(
            serde_json::to_string(&id).unwrap(),
            "\"003000000000001AAA\""
        );
        assert!(serde_json::from_str::<ContactId>("\"001000000000001\"").is_err());
    }
}
