//! The portal's use cases: one module per flow of issue 3, each with its raw
//! request body, its `parse` into a checked command (every bad field at once),
//! its pure decision and its response; its port (the Salesforce side, one trait
//! per capability) is in [`ports`].
//!
//! Every POST use case does at most one read through its port, decides in
//! pure code (`decide_*`), then makes at most one write: a plan the adapter
//! turns into one `/composite` call with `allOrNone: true`. Every GET is one
//! read. The account acted on is always the [`Caller`]'s; another account's
//! records are [`PortalError::NotFound`], like missing ones.
//!
//! Use cases take `now` (from a clock) and the [`PortalSettings`] instead of
//! reading the time themselves.

pub mod account;
pub mod caller;
pub mod cancellation;
pub mod catalog;
pub mod eligibility;
pub mod error;
pub mod id_verification;
pub mod limits;
pub mod login;
pub mod orders;
pub mod plans;
pub mod ports;
pub mod registration;
pub mod settings;
pub mod support;

#[cfg(test)]
mod fake;

pub use account::{AccountOverview, get_account};
pub use caller::Caller;
pub use cancellation::{CancellationRequest, request_cancellation};
pub use catalog::get_catalog;
pub use eligibility::{EligibilityRequest, request_eligibility};
pub use error::{BoxError, ConflictReason, PortError, PortalError};
pub use id_verification::{IdVerificationRequest, submit_id_verification};
pub use limits::{RequestLimits, enforce};
pub use login::{AccountClaim, DEFAULT_LINK_CACHE_TTL, Logins, VerifiedToken};
pub use orders::{OrderRequest, get_order, list_orders, place_order};
pub use plans::{CaseOpportunity, NewCase, NewOpportunity, OpportunityPlan, Outcome};
pub use ports::{
    AccountProfile, CancellationDesk, Catalog, EligibilityDesk, IdVerificationDesk, OrderBook,
    RegistrationDirectory, SupportDesk,
};
pub use registration::{LinkPending, Registration, RegistrationRequest, register};
pub use settings::PortalSettings;
pub use support::{SupportCaseRequest, list_support_cases, open_support_case};
