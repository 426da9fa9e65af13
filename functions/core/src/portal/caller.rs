//! Who is calling: the login the HTTP layer verified in the bearer token, and
//! the Account its link item names ([`super::login`]).

use std::fmt;

use crate::domain::{AccountId, Email, Login};

use super::error::PortalError;

/// The verified caller. The account a use case acts on is ALWAYS
/// `account_id`, which comes from the login's link item (never from a
/// request body, never from the token alone).
#[derive(Clone, PartialEq, Eq)]
pub struct Caller {
    /// The login (`iss` + `sub`).
    pub login: Login,
    /// The token's e-mail address.
    pub email: Email,
    /// Whether the identity provider verified that e-mail (its `email_verified` claim).
    pub email_verified: bool,
    /// The Salesforce Account the login is linked to, once registered.
    pub account_id: Option<AccountId>,
}

impl Caller {
    /// The caller's Account, or [`PortalError::NotLinked`].
    pub fn account(&self) -> Result<&AccountId, PortalError> {
        self.account_id.as_ref().ok_or(PortalError::NotLinked)
    }
}

impl fmt::Debug for Caller {
    /// Leaves the e-mail out, so the caller can be logged.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Caller")
            .field("login", &self.login)
            .field("email_verified", &self.email_verified)
            .field("account_id", &self.account_id)
            .finish_non_exhaustive()
    }
}
