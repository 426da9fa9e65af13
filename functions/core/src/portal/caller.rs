//! Who is calling: the identity the HTTP layer verified in the bearer token.

use std::fmt;

use crate::domain::{AccountId, Email};

use super::error::PortalError;

/// The verified caller. The account a use case acts on is ALWAYS
/// `account_id`, never one named in a request body.
#[derive(Clone, PartialEq, Eq)]
pub struct Caller {
    /// The identity provider's subject (`sub`).
    pub subject: String,
    /// The verified e-mail address.
    pub email: Email,
    /// The Salesforce Account from the token's account claim, once registered.
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
            .field("subject", &self.subject)
            .field("account_id", &self.account_id)
            .finish_non_exhaustive()
    }
}
