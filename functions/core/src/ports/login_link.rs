//! The `LoginLinks` port: which Salesforce Account a login is (the API's link
//! item, DESIGN.md "Identity").
//!
//! A link is written only by a registration that proved the login owns the
//! Account (it created the Account, or the login's verified e-mail is a
//! Contact of it), with one conditional write: a login has at most one
//! Account, and a second link never overwrites the first. Every route takes
//! the caller's Account from here, never from the request or the token.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::StoreError;
use crate::domain::{AccountId, ContactId, Login};

/// How a link was proved.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum LinkMethod {
    /// The registration created the Account (and its Contact) for this login.
    NewAccount,
    /// The login's verified e-mail is the e-mail of a Contact already on the Account.
    VerifiedEmail,
}

impl LinkMethod {
    /// The stored value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::NewAccount => "new-account",
            Self::VerifiedEmail => "verified-email",
        }
    }

    /// The method of a stored value.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "new-account" => Some(Self::NewAccount),
            "verified-email" => Some(Self::VerifiedEmail),
            _ => None,
        }
    }
}

impl fmt::Display for LinkMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One login's Account: what, when and how.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct LoginLink {
    /// The login.
    pub login: Login,
    /// Its Account.
    pub account_id: AccountId,
    /// The login's Contact on the Account when it was linked.
    pub contact_id: ContactId,
    /// When the link was written.
    pub linked_at: DateTime<Utc>,
    /// How ownership was proved.
    pub method: LinkMethod,
}

/// The answer to [`LoginLinks::create`].
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum LinkCreation {
    /// The link was written.
    Created,
    /// The login already had this link (possibly to another Account); nothing was written.
    Exists(LoginLink),
}

/// The login → Account links.
pub trait LoginLinks: Send + Sync {
    /// The login's link, if it has one (a strongly consistent read).
    fn link_of(
        &self,
        login: &Login,
    ) -> impl Future<Output = Result<Option<LoginLink>, StoreError>> + Send;

    /// Writes `link` if its login has none yet (one conditional write).
    fn create(
        &self,
        link: &LoginLink,
    ) -> impl Future<Output = Result<LinkCreation, StoreError>> + Send;
}

impl<T: LoginLinks> LoginLinks for Arc<T> {
    fn link_of(
        &self,
        login: &Login,
    ) -> impl Future<Output = Result<Option<LoginLink>, StoreError>> + Send {
        (**self).link_of(login)
    }

    fn create(
        &self,
        link: &LoginLink,
    ) -> impl Future<Output = Result<LinkCreation, StoreError>> + Send {
        (**self).create(link)
    }
}
