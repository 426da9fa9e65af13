//! Free-text newtypes: names, company, case subject and description, notes.
//!
//! Every one is trimmed, non-empty and bounded by the length of the Salesforce
//! field it ends up in, counted as Salesforce counts it: in UTF-16 code units
//! ([`utf16_len`]), so a character outside the Basic Multilingual Plane (`𠮷`,
//! most emoji) counts two.
//! Single-line texts refuse every control character; multi-line texts allow
//! line breaks and tabs only.

use std::fmt;

use serde::Serialize;

/// Why a text is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    /// Empty once trimmed.
    #[error("must not be empty")]
    Empty,
    /// Longer than the field allows.
    #[error(
        "must be at most {max} characters (some characters, such as 𠮷 or emoji, count as two)"
    )]
    TooLong {
        /// The limit.
        max: usize,
    },
    /// A control character (any, or any but line breaks and tabs in multi-line text).
    #[error("must not contain control characters")]
    ControlCharacter,
}

/// The length of `text` as Salesforce counts it: UTF-16 code units (a
/// character outside the Basic Multilingual Plane is a surrogate pair, two).
pub fn utf16_len(text: &str) -> usize {
    text.chars().map(char::len_utf16).sum()
}

/// Trims `raw` and checks its length and characters.
fn parse_text(raw: &str, max: usize, multi_line: bool) -> Result<String, TextError> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(TextError::Empty);
    }
    if utf16_len(text) > max {
        return Err(TextError::TooLong { max });
    }
    let allowed = |c: char| multi_line && matches!(c, '\n' | '\r' | '\t');
    if text.chars().any(|c| c.is_control() && !allowed(c)) {
        return Err(TextError::ControlCharacter);
    }
    Ok(text.to_owned())
}

macro_rules! text_type {
    ($(#[$doc:meta])* $name:ident, max = $max:expr, multi_line = $multi:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The most UTF-16 code units accepted (Salesforce's length).
            pub const MAX_CHARS: usize = $max;

            /// Trims and checks `raw`.
            pub fn parse(raw: &str) -> Result<Self, TextError> {
                parse_text(raw, $max, $multi).map(Self)
            }

            /// The text, trimmed.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

text_type!(
    /// A person's given name (`Contact.FirstName`, Text(40)).
    FirstName, max = 40, multi_line = false
);
text_type!(
    /// A person's family name (`Contact.LastName`, Text(80)).
    LastName, max = 80, multi_line = false
);
text_type!(
    /// A company's name (`Account.Name`, Text(255)).
    CompanyName, max = 255, multi_line = false
);
text_type!(
    /// A case subject (`Case.Subject`, Text(255)).
    Subject, max = 255, multi_line = false
);
text_type!(
    /// A case description written by the customer (`Case.Description`, Long Text(32000)).
    Description, max = 32_000, multi_line = true
);
text_type!(
    /// Notes a customer adds to a request. They go into a Case description
    /// together with a header the portal writes (address, document type…), so
    /// they are capped at 30 000 characters to leave that header room in the
    /// 32 000 of `Case.Description`.
    Notes, max = 30_000, multi_line = true
);

/// A person's name, as given at registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PersonName {
    /// Given name.
    pub first: FirstName,
    /// Family name.
    pub last: LastName,
}

impl PersonName {
    /// `"{first} {last}"`, at most 121 characters: used as the Account name of
    /// a person without a company.
    pub fn full_name(&self) -> String {
        format!("{} {}", self.first, self.last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn when_the_text_has_surrounding_spaces_should_trim_them() {
        assert_eq!(FirstName::parse("  Hanako ").unwrap().as_str(), "Hanako");
        assert_eq!(LastName::parse("山田").unwrap().as_str(), "山田");
    }

    #[test]
    fn when_the_text_is_blank_should_refuse() {
        assert_eq!(FirstName::parse(""), Err(TextError::Empty));
        assert_eq!(Subject::parse(" \t "), Err(TextError::Empty));
    }

    #[test]
    fn when_the_text_is_one_character_too_long_should_refuse() {
        assert!(FirstName::parse(&"a".repeat(40)).is_ok());
        assert_eq!(
            FirstName::parse(&"a".repeat(41)),
            Err(TextError::TooLong { max: 40 })
        );
        assert!(LastName::parse(&"a".repeat(80)).is_ok());
        assert!(LastName::parse(&"a".repeat(81)).is_err());
        assert!(CompanyName::parse(&"a".repeat(256)).is_err());
        assert!(Subject::parse(&"a".repeat(255)).is_ok());
        assert!(Description::parse(&"a".repeat(32_000)).is_ok());
        assert!(Description::parse(&"a".repeat(32_001)).is_err());
        assert!(Notes::parse(&"a".repeat(30_001)).is_err());
    }

    #[test]
    fn when_counting_length_should_count_characters_not_bytes() {
        // 40 three-byte characters are 40 characters.
        assert!(FirstName::parse(&"花".repeat(40)).is_ok());
    }

    #[test]
    fn when_a_single_line_text_has_a_control_character_should_refuse() {
        assert_eq!(
            FirstName::parse("Ha\nnako"),
            Err(TextError::ControlCharacter)
        );
        assert_eq!(Subject::parse("a\u{0}b"), Err(TextError::ControlCharacter));
    }

    #[test]
    fn when_a_multi_line_text_has_line_breaks_should_keep_them() {
        assert_eq!(
            Description::parse("line 1\r\nline 2\tend")
                .unwrap()
                .as_str(),
            "line 1\r\nline 2\tend"
        );
        assert_eq!(Notes::parse("bell\u{7}"), Err(TextError::ControlCharacter));
    }

    #[test]
    fn when_text_has_characters_outside_the_bmp_should_count_them_as_salesforce_does() {
        assert_eq!(utf16_len("𠮷"), 2);
        assert_eq!(utf16_len("𠮷野家 😀"), 7);
        // 20 × 𠮷 is 40 code units: the most a first name holds.
        assert!(FirstName::parse(&"𠮷".repeat(20)).is_ok());
        assert_eq!(
            FirstName::parse(&"𠮷".repeat(21)),
            Err(TextError::TooLong { max: 40 })
        );
        assert_eq!(
            FirstName::parse(&"𠮷".repeat(40)),
            Err(TextError::TooLong { max: 40 })
        );
        assert!(
            FirstName::parse(&"吉".repeat(40)).is_ok(),
            "BMP: one unit each"
        );
        assert!(Subject::parse(&"😀".repeat(128)).is_err());
        assert!(Subject::parse(&"😀".repeat(127)).is_ok());
    }

    proptest! {
        #[test]
        fn when_a_name_is_accepted_it_should_be_trimmed_bounded_and_clean(s in "\\PC{0,60}") {
            if let Ok(name) = FirstName::parse(&s) {
                prop_assert_eq!(name.as_str(), name.as_str().trim());
                prop_assert!(!name.as_str().is_empty());
                prop_assert!(utf16_len(name.as_str()) <= 40);
                prop_assert!(!name.as_str().chars().any(char::is_control));
            }
        }
    }
}
