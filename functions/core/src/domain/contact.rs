//! Contact details: the e-mail from the verified token and a phone number.

use std::fmt;

use serde::Serialize;

/// Why an e-mail address is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    /// Not `local@domain.tld`, or with spaces or control characters.
    #[error("must be an e-mail address like name@example.com")]
    Format,
    /// Longer than `Contact.Email` holds.
    #[error("must be at most {max} characters")]
    TooLong {
        /// The limit.
        max: usize,
    },
}

/// An e-mail address, from the identity provider's verified token.
///
/// Checked loosely (one `@`, a non-empty local part of at most 64 characters,
/// a dotted domain, no whitespace or control characters) and at most 80
/// characters, the length of Salesforce's `Email` fields. The domain is
/// lower-cased; the local part is kept as given.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    /// The most characters accepted.
    pub const MAX_CHARS: usize = 80;

    /// Trims and checks `raw`.
    pub fn parse(raw: &str) -> Result<Self, EmailError> {
        let raw = raw.trim();
        if super::text::utf16_len(raw) > Self::MAX_CHARS {
            return Err(EmailError::TooLong {
                max: Self::MAX_CHARS,
            });
        }
        if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(EmailError::Format);
        }
        let Some((local, domain)) = raw.split_once('@') else {
            return Err(EmailError::Format);
        };
        let labels_ok = domain
            .split('.')
            .all(|label| !label.is_empty() && !label.starts_with('-') && !label.ends_with('-'));
        if local.is_empty()
            || local.chars().count() > 64
            || domain.contains('@')
            || !domain.contains('.')
            || !labels_ok
        {
            return Err(EmailError::Format);
        }
        Ok(Self(format!("{local}@{}", domain.to_lowercase())))
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a phone number is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneNumberError {
    /// A character other than digits, spaces, `+`, `-`, `(`, `)`, or a `+` not at the start.
    #[error("may contain only digits, spaces, a leading +, - and parentheses")]
    Character,
    /// Fewer than 7 or more than 20 digits.
    #[error("must have between 7 and 20 digits")]
    DigitCount,
}

/// A phone number as the customer wrote it (trimmed): digits, spaces, a
/// leading `+`, `-` and parentheses, with 7 to 20 digits (so at most 40
/// characters, the length of Salesforce's `Phone` fields).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Trims and checks `raw`.
    pub fn parse(raw: &str) -> Result<Self, PhoneNumberError> {
        let raw = raw.trim();
        let mut digits = 0usize;
        for (i, c) in raw.chars().enumerate() {
            match c {
                '0'..='9' => digits += 1,
                ' ' | '-' | '(' | ')' => {}
                '+' if i == 0 => {}
                _ => return Err(PhoneNumberError::Character),
            }
        }
        if !(7..=20).contains(&digits) || raw.chars().count() > 40 {
            return Err(PhoneNumberError::DigitCount);
        }
        Ok(Self(raw.to_owned()))
    }

    /// The number as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn when_the_email_is_well_formed_should_accept_it_and_lowercase_the_domain() {
        assert_eq!(
            Email::parse(" Hanako.Yamada@Example.CO.JP ")
                .unwrap()
                .as_str(),
            "Hanako.Yamada@example.co.jp"
        );
    }

    #[test]
    fn when_the_email_is_malformed_should_refuse() {
        for bad in [
            "",
            "hanako",
            "@example.com",
            "hanako@",
            "hanako@example",
            "a@b@example.com",
            "hana ko@example.com",
            "hanako@example..com",
            "hanako@-example.com",
        ] {
            assert_eq!(Email::parse(bad), Err(EmailError::Format), "{bad}");
        }
        let long = format!("{}@example.com", "a".repeat(70));
        assert_eq!(Email::parse(&long), Err(EmailError::TooLong { max: 80 }));
    }

    #[test]
    fn when_the_phone_has_7_to_20_digits_and_allowed_signs_should_accept_it() {
        for good in [
            "+81 3-1234-5678",
            "(03) 1234 5678",
            "0312345",
            "12345678901234567890",
        ] {
            assert_eq!(PhoneNumber::parse(good).unwrap().as_str(), good);
        }
    }

    #[test]
    fn when_the_phone_is_malformed_should_refuse() {
        assert_eq!(
            PhoneNumber::parse("123456"),
            Err(PhoneNumberError::DigitCount)
        );
        assert_eq!(
            PhoneNumber::parse("123456789012345678901"),
            Err(PhoneNumberError::DigitCount)
        );
        assert_eq!(
            PhoneNumber::parse("03-1234-567x"),
            Err(PhoneNumberError::Character)
        );
        assert_eq!(
            PhoneNumber::parse("03+12345678"),
            Err(PhoneNumberError::Character)
        );
        assert_eq!(
            PhoneNumber::parse("０３１２３４５６７８"),
            Err(PhoneNumberError::Character)
        );
    }

    proptest! {
        #[test]
        fn when_a_phone_is_accepted_it_should_fit_the_salesforce_field(s in "[0-9 ()+-]{0,45}") {
            if let Ok(phone) = PhoneNumber::parse(&s) {
                let digits = phone.as_str().chars().filter(char::is_ascii_digit).count();
                prop_assert!((7..=20).contains(&digits));
                prop_assert!(phone.as_str().chars().count() <= 40);
            }
        }

        #[test]
        fn when_an_email_is_accepted_it_should_have_one_at_and_fit(s in "\\PC{0,90}") {
            if let Ok(email) = Email::parse(&s) {
                prop_assert_eq!(email.as_str().matches('@').count(), 1);
                prop_assert!(crate::domain::text::utf16_len(email.as_str()) <= 80);
            }
        }
    }
}
