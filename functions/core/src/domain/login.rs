//! [`Login`]: who signed in at the identity provider — the token's issuer and
//! subject. One login is linked to at most one Salesforce Account (the API's
//! link item, [`crate::ports::LoginLinks`]).

use std::fmt;

/// Why an issuer or subject is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoginError {
    /// The issuer is empty, longer than 255 bytes, or has a control character or `#`.
    #[error("an issuer is 1 to 255 bytes without control characters or #")]
    Issuer,
    /// The subject is empty, longer than 255 bytes, or has a control character.
    #[error("a subject is 1 to 255 bytes without control characters")]
    Subject,
}

/// The longest issuer or subject accepted, in bytes.
pub const MAX_LOGIN_PART: usize = 255;

/// A login: the identity provider (`iss`) and the user there (`sub`).
/// OIDC makes the pair unique and stable; the e-mail is neither.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Login {
    issuer: String,
    subject: String,
}

impl Login {
    /// Checks both parts: 1–255 bytes, no control character; the issuer
    /// has no `#` either (an OIDC issuer has no fragment), so
    /// `<issuer>#<subject>` names a login unambiguously.
    pub fn new(issuer: &str, subject: &str) -> Result<Self, LoginError> {
        let fits = |s: &str| {
            !s.is_empty() && s.len() <= MAX_LOGIN_PART && !s.chars().any(char::is_control)
        };
        if !fits(issuer) || issuer.contains('#') {
            return Err(LoginError::Issuer);
        }
        if !fits(subject) {
            return Err(LoginError::Subject);
        }
        Ok(Self {
            issuer: issuer.to_owned(),
            subject: subject.to_owned(),
        })
    }

    /// The identity provider (`iss`).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The user at the identity provider (`sub`).
    pub fn subject(&self) -> &str {
        &self.subject
    }
}

impl fmt::Debug for Login {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Login({}#{})", self.issuer, self.subject)
    }
}

impl fmt::Display for Login {
    /// `<issuer>#<subject>`: an opaque id, not personal data.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}", self.issuer, self.subject)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_a_part_is_empty_long_or_has_control_characters_should_refuse_it() {
        assert!(Login::new("https://id.example.jp/", "auth0|1").is_ok());
        assert_eq!(Login::new("", "s"), Err(LoginError::Issuer));
        assert_eq!(Login::new("https://x/#a", "s"), Err(LoginError::Issuer));
        assert_eq!(Login::new("i", ""), Err(LoginError::Subject));
        assert_eq!(Login::new("i", "a\nb"), Err(LoginError::Subject));
        assert_eq!(Login::new("i", &"s".repeat(256)), Err(LoginError::Subject));
        assert_eq!(
            Login::new("https://id.example.jp/", "a#b")
                .unwrap()
                .to_string(),
            "https://id.example.jp/#a#b"
        );
    }
}
