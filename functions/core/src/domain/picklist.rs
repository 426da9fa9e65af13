//! The macro behind the domain's picklist enums: each variant maps to exactly
//! one Salesforce picklist value, and serde uses that value.

/// The value a picklist enum was given is not one of its values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be one of: {allowed}")]
pub struct UnknownValue {
    /// The allowed values, comma-separated.
    pub allowed: String,
}

/// Declares a picklist enum with `as_salesforce`, `from_salesforce`, `ALL`,
/// `Display`, `FromStr` and serde as the Salesforce value.
macro_rules! picklist {
    (
        $(#[$doc:meta])*
        $name:ident { $( $(#[$vdoc:meta])* $variant:ident => $value:literal ),+ $(,)? }
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vdoc])* $variant, )+
        }

        impl $name {
            /// Every value, in the picklist's order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The Salesforce picklist value.
            pub const fn as_salesforce(self) -> &'static str {
                match self {
                    $( $name::$variant => $value, )+
                }
            }

            /// The variant for a Salesforce picklist value (exact match).
            pub fn from_salesforce(value: &str) -> Option<Self> {
                match value {
                    $( $value => Some($name::$variant), )+
                    _ => None,
                }
            }

            fn unknown() -> $crate::domain::picklist::UnknownValue {
                $crate::domain::picklist::UnknownValue {
                    allowed: Self::ALL
                        .iter()
                        .map(|v| v.as_salesforce())
                        .collect::<Vec<_>>()
                        .join(", "),
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_salesforce())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::domain::picklist::UnknownValue;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::from_salesforce(s).ok_or_else(Self::unknown)
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_salesforce())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let s = <::std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                s.parse().map_err(::serde::de::Error::custom)
            }
        }
    };
}

pub(crate) use picklist;

#[cfg(test)]
mod schema_agreement {
    use crate::domain::*;
    use crate::schema;

    fn values<T: Copy>(all: &[T], f: fn(T) -> &'static str) -> Vec<&'static str> {
        all.iter().map(|v| f(*v)).collect()
    }

    /// The domain enums and the org schema are one vocabulary: a value added
    /// to one and not the other fails here.
    #[test]
    fn every_domain_picklist_has_exactly_the_schema_values() {
        let pairs: &[(&str, Vec<&str>, &[&str])] = &[
            (
                "Account.Portal_Registration_Source__c",
                values(RegistrationSource::ALL, RegistrationSource::as_salesforce),
                schema::account::REGISTRATION_SOURCE_VALUES,
            ),
            (
                "Account.Portal_Status__c",
                values(PortalStatus::ALL, PortalStatus::as_salesforce),
                schema::account::PORTAL_STATUS_VALUES,
            ),
            (
                "Account.Internet_Eligibility_Status__c",
                values(EligibilityStatus::ALL, EligibilityStatus::as_salesforce),
                schema::account::ELIGIBILITY_STATUS_VALUES,
            ),
            (
                "Account.Id_Verification_Status__c",
                values(
                    IdVerificationStatus::ALL,
                    IdVerificationStatus::as_salesforce,
                ),
                schema::account::ID_VERIFICATION_STATUS_VALUES,
            ),
            (
                "Opportunity.CommodityType",
                values(CommodityType::ALL, CommodityType::as_salesforce),
                schema::opportunity::COMMODITY_TYPE_VALUES,
            ),
            (
                "Opportunity.StageName",
                values(OpportunityStage::ALL, OpportunityStage::as_salesforce),
                schema::opportunity::STAGE_VALUES,
            ),
            (
                "Opportunity.Portal_Source__c",
                values(PortalSource::ALL, PortalSource::as_salesforce),
                schema::opportunity::PORTAL_SOURCE_VALUES,
            ),
            (
                "Product2.Family",
                values(ProductFamily::ALL, ProductFamily::as_salesforce),
                schema::product::FAMILY_VALUES,
            ),
            (
                "Product2.Billing_Cycle__c",
                values(BillingCycle::ALL, BillingCycle::as_salesforce),
                schema::product::BILLING_CYCLE_VALUES,
            ),
            (
                "Product2.Item_Class__c",
                values(ItemClass::ALL, ItemClass::as_salesforce),
                schema::product::ITEM_CLASS_VALUES,
            ),
            (
                "Case.Type",
                values(CaseType::ALL, CaseType::as_salesforce),
                schema::case::TYPE_VALUES,
            ),
            (
                "Case.Status",
                values(CaseStatus::ALL, CaseStatus::as_salesforce),
                schema::case::STATUS_VALUES,
            ),
            (
                "Case.Origin",
                values(CaseOrigin::ALL, CaseOrigin::as_salesforce),
                schema::case::ORIGIN_VALUES,
            ),
            (
                "Order.Status",
                values(OrderStatus::ALL, OrderStatus::as_salesforce),
                schema::order::STATUS_VALUES,
            ),
            (
                "Order.Activation_Status__c",
                values(ActivationStatus::ALL, ActivationStatus::as_salesforce),
                schema::order::ACTIVATION_STATUS_VALUES,
            ),
        ];
        for (field, domain, schema_values) in pairs {
            assert_eq!(domain.as_slice(), *schema_values, "{field}");
        }
    }
}
