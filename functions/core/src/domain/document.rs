//! The identity documents a customer may submit for ID verification.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::picklist::UnknownValue;

/// An identity document accepted in Japan. The API names them in snake_case
/// (`drivers_license`…); cases show the English label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentType {
    /// 運転免許証.
    DriversLicense,
    /// Passport.
    Passport,
    /// 在留カード.
    ResidenceCard,
    /// マイナンバーカード.
    MyNumberCard,
    /// 健康保険証.
    HealthInsuranceCard,
}

impl DocumentType {
    /// Every document type.
    pub const ALL: &'static [DocumentType] = &[
        Self::DriversLicense,
        Self::Passport,
        Self::ResidenceCard,
        Self::MyNumberCard,
        Self::HealthInsuranceCard,
    ];

    /// The API's name, e.g. `drivers_license`.
    pub const fn as_api(self) -> &'static str {
        match self {
            Self::DriversLicense => "drivers_license",
            Self::Passport => "passport",
            Self::ResidenceCard => "residence_card",
            Self::MyNumberCard => "my_number_card",
            Self::HealthInsuranceCard => "health_insurance_card",
        }
    }

    /// The label written in the Case, e.g. `Driver's license`.
    pub const fn label(self) -> &'static str {
        match self {
            Self::DriversLicense => "Driver's license",
            Self::Passport => "Passport",
            Self::ResidenceCard => "Residence card",
            Self::MyNumberCard => "My Number card",
            Self::HealthInsuranceCard => "Health insurance card",
        }
    }
}

impl FromStr for DocumentType {
    type Err = UnknownValue;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .iter()
            .copied()
            .find(|d| d.as_api() == s.trim())
            .ok_or_else(|| UnknownValue {
                allowed: Self::ALL
                    .iter()
                    .map(|d| d.as_api())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}

impl fmt::Display for DocumentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_the_document_type_is_known_should_parse_it() {
        for d in DocumentType::ALL {
            assert_eq!(d.as_api().parse::<DocumentType>(), Ok(*d));
            let json = serde_json::to_string(d).unwrap();
            assert_eq!(json, format!("\"{}\"", d.as_api()));
        }
    }

    #[test]
    fn when_the_document_type_is_unknown_should_list_the_allowed_ones() {
        let err = "Passport".parse::<DocumentType>().unwrap_err();
        assert!(err.to_string().contains("drivers_license, passport"));
    }
}
