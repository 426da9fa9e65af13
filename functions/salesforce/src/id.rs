//! Salesforce record ids.
//!
//! Salesforce hands out ids in two forms: the case-sensitive 15-character form
//! and the 18-character form whose last three characters encode the case of the
//! first fifteen. [`Id`] parses either, checks the suffix of the long form and
//! always holds the 18-character form, so two ids of the same record compare
//! equal whichever form they came in.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The alphabet of the 18-character suffix: one character per 5-character chunk.
const SUFFIX_ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";

/// Why a string is not a Salesforce id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// Neither 15 nor 18 characters long.
    #[error("a Salesforce id has 15 or 18 characters, this one has {0}")]
    Length(usize),
    /// A character other than an ASCII letter or digit.
    #[error("a Salesforce id has only ASCII letters and digits")]
    Character,
    /// The 18-character suffix does not match the case of the first 15 characters.
    #[error("the checksum suffix of the 18-character id does not match (expected {expected})")]
    Checksum {
        /// The suffix the first 15 characters call for.
        expected: String,
    },
}

/// A Salesforce record id, always in its 18-character form.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id(String);

impl Id {
    /// Parses a 15- or 18-character id, checking the suffix of the long form.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let len = s.len();
        if !s.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(IdError::Character);
        }
        if len != 15 && len != 18 {
            return Err(IdError::Length(s.chars().count()));
        }
        let suffix = checksum_suffix(&s[..15]);
        if len == 18 && s[15..] != suffix {
            return Err(IdError::Checksum { expected: suffix });
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

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Id({})", self.0)
    }
}

impl FromStr for Id {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<&str> for Id {
    type Error = IdError;

    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::parse(s)
    }
}

impl TryFrom<String> for Id {
    type Error = IdError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl AsRef<str> for Id {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl From<Id> for String {
    fn from(id: Id) -> Self {
        id.0
    }
}

impl Serialize for Id {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_given_15_chars_should_append_the_documented_suffix() {
        assert_eq!(
            Id::parse("001000000000001").unwrap().as_str(),
            "001000000000001AAA"
        );
        assert_eq!(
            Id::parse("0015000000VALDt").unwrap().as_str(),
            "0015000000VALDtAAP"
        );
    }

    #[test]
    fn when_given_a_correct_18_char_id_should_keep_it() {
        let id = Id::parse("0015000000VALDtAAP").unwrap();
        assert_eq!(id.as_str(), "0015000000VALDtAAP");
        assert_eq!(id.as_15(), "0015000000VALDt");
        assert_eq!(id.key_prefix(), "001");
        assert_eq!(id, Id::parse("0015000000VALDt").unwrap());
    }

    #[test]
    fn when_the_suffix_is_wrong_should_refuse() {
        assert_eq!(
            Id::parse("0015000000VALDtAAA"),
            Err(IdError::Checksum {
                expected: "AAP".into()
            })
        );
        // Same characters, other case: a different record.
        assert!(Id::parse("0015000000valdtAAP").is_err());
    }

    #[test]
    fn when_length_or_characters_are_wrong_should_refuse() {
        assert_eq!(Id::parse(""), Err(IdError::Length(0)));
        assert_eq!(Id::parse("00150000"), Err(IdError::Length(8)));
        assert_eq!(Id::parse("0015000000VALD'"), Err(IdError::Character));
        assert_eq!(Id::parse("0015000000VALDé"), Err(IdError::Character));
    }

    #[test]
    fn serde_uses_the_18_char_string() {
        let id: Id = serde_json::from_str("\"0015000000VALDt\"").unwrap();
        assert_eq!(
            serde_json::to_string(&id).unwrap(),
            "\"0015000000VALDtAAP\""
        );
        assert!(serde_json::from_str::<Id>("\"nope\"").is_err());
    }
}
