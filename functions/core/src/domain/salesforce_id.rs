//! Salesforce record ids: THE id type of the workspace.
//!
//! Salesforce hands out ids in two forms: the case-sensitive 15-character form
//! and the 18-character, case-safe form whose last three characters encode the
//! case of the first fifteen. [`SalesforceId`] parses either, checks the suffix
//! of the long form and always holds the 18-character form, so two ids of the
//! same record compare equal whichever form they came in.
//!
//! This module is self-contained (std, serde, thiserror) so that every crate of
//! the workspace can use it as its id type.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The alphabet of the 18-character suffix: one character per 5-character chunk.
const SUFFIX_ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";

/// Why a string is not a Salesforce id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SalesforceIdError {
    /// Neither 15 nor 18 characters long.
    #[error("must be an id of 15 or 18 characters, not {0}")]
    Length(usize),
    /// A character other than an ASCII letter or digit.
    #[error("must be an id made of ASCII letters and digits")]
    Character,
    /// The 18-character suffix does not match the case of the first 15 characters.
    #[error("is not a valid id (its checksum does not match)")]
    Checksum,
}

/// A Salesforce record id, always held in its 18-character form.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SalesforceId(String);

impl SalesforceId {
    /// Parses a 15- or 18-character id, checking the suffix of the long form.
    pub fn parse(s: &str) -> Result<Self, SalesforceIdError> {
        if !s.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(SalesforceIdError::Character);
        }
        let len = s.len();
        if len != 15 && len != 18 {
            return Err(SalesforceIdError::Length(len));
        }
        let suffix = checksum_suffix(&s[..15]);
        if len == 18 && s[15..] != suffix {
            return Err(SalesforceIdError::Checksum);
        }
        Ok(Self(format!("{}{suffix}", &s[..15])))
    }

    /// The 18-character form.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The case-sensitive 15-character form.
    pub fn as_15(&self) -> &str {
        &self.0[..15]
    }

    /// The three-character prefix naming the object (`001` for Account…).
    pub fn key_prefix(&self) -> &str {
        &self.0[..3]
    }
}

/// The three suffix characters for the first 15 characters of an id.
fn checksum_suffix(first15: &str) -> String {
    first15
        .as_bytes()
        .chunks(5)
        .map(|chunk| {
            let index = chunk
                .iter()
                .enumerate()
                .filter(|(_, b)| b.is_ascii_uppercase())
                .fold(0usize, |acc, (i, _)| acc | (1 << i));
            char::from(SUFFIX_ALPHABET[index])
        })
        .collect()
}

impl fmt::Display for SalesforceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for SalesforceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SalesforceId({})", self.0)
    }
}

impl FromStr for SalesforceId {
    type Err = SalesforceIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<&str> for SalesforceId {
    type Error = SalesforceIdError;

    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::parse(s)
    }
}

impl TryFrom<String> for SalesforceId {
    type Error = SalesforceIdError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl AsRef<str> for SalesforceId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl From<SalesforceId> for String {
    fn from(id: SalesforceId) -> Self {
        id.0
    }
}

impl Serialize for SalesforceId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for SalesforceId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn when_given_15_chars_should_append_the_documented_suffix() {
        assert_eq!(
            SalesforceId::parse("001000000000001").unwrap().as_str(),
            "001000000000001AAA"
        );
        assert_eq!(
            SalesforceId::parse("0015000000VALDt").unwrap().as_str(),
            "0015000000VALDtAAP"
        );
    }

    #[test]
    fn when_given_a_correct_18_char_id_should_keep_it() {
        let id = SalesforceId::parse("0015000000VALDtAAP").unwrap();
        assert_eq!(id.as_str(), "0015000000VALDtAAP");
        assert_eq!(id.as_15(), "0015000000VALDt");
        assert_eq!(id.key_prefix(), "001");
        assert_eq!(id, SalesforceId::parse("0015000000VALDt").unwrap());
        assert_eq!(id.to_string(), "0015000000VALDtAAP");
    }

    #[test]
    fn when_the_suffix_is_wrong_should_refuse() {
        assert_eq!(
            SalesforceId::parse("0015000000VALDtAAA"),
            Err(SalesforceIdError::Checksum)
        );
        // Same characters, other case: a different record, so the suffix no longer fits.
        assert_eq!(
            SalesforceId::parse("0015000000valdtAAP"),
            Err(SalesforceIdError::Checksum)
        );
    }

    #[test]
    fn when_length_or_characters_are_wrong_should_refuse() {
        assert_eq!(SalesforceId::parse(""), Err(SalesforceIdError::Length(0)));
        assert_eq!(
            SalesforceId::parse("00150000"),
            Err(SalesforceIdError::Length(8))
        );
        assert_eq!(
            SalesforceId::parse("0015000000VALD'"),
            Err(SalesforceIdError::Character)
        );
        assert_eq!(
            SalesforceId::parse("0015000000VALDé"),
            Err(SalesforceIdError::Character)
        );
        assert_eq!(
            SalesforceId::parse("0015000000VALDtAAP "),
            Err(SalesforceIdError::Character)
        );
    }

    #[test]
    fn when_serialised_should_use_the_18_char_string() {
        let id: SalesforceId = serde_json::from_str("\"0015000000VALDt\"").unwrap();
        assert_eq!(
            serde_json::to_string(&id).unwrap(),
            "\"0015000000VALDtAAP\""
        );
        assert!(serde_json::from_str::<SalesforceId>("\"nope\"").is_err());
    }

    proptest! {
        #[test]
        fn when_any_15_char_id_is_parsed_its_18_char_form_should_parse_to_the_same_id(
            s in "[0-9A-Za-z]{15}"
        ) {
            let short = SalesforceId::parse(&s).unwrap();
            prop_assert_eq!(short.as_15(), s.as_str());
            let long = SalesforceId::parse(short.as_str()).unwrap();
            prop_assert_eq!(&long, &short);
        }

        #[test]
        fn when_one_letter_changes_case_the_18_char_form_should_be_refused(
            s in "[0-9A-Za-z]{15}", at in 0usize..15
        ) {
            let long = SalesforceId::parse(&s).unwrap().as_str().to_owned();
            let byte = long.as_bytes()[at];
            prop_assume!(byte.is_ascii_alphabetic());
            let mut flipped = long.into_bytes();
            flipped[at] = if byte.is_ascii_uppercase() { byte.to_ascii_lowercase() } else { byte.to_ascii_uppercase() };
            let flipped = String::from_utf8(flipped).unwrap();
            prop_assert_eq!(SalesforceId::parse(&flipped), Err(SalesforceIdError::Checksum));
        }

        #[test]
        fn when_given_arbitrary_text_should_never_panic(s in "\\PC{0,30}") {
            let _ = SalesforceId::parse(&s);
        }
    }
}
