//! The Salesforce adapters of the portal's ports (`portal_core::portal`).
//!
//! One adapter per port, each holding only what it needs (a
//! [`SalesforceClient`], plus the [`PriceBook`] for the catalog and orders),
//! so a handler's dependencies read like its permissions:
//!
//! | port | adapter | read | write |
//! | --- | --- | --- | --- |
//! | `RegistrationDirectory` | [`SalesforceRegistrationDirectory`] | Contacts by e-mail (+ Account by number): 1 query or 1 composite | Account + Contact |
//! | `AccountProfile` | [`SalesforceAccountProfile`] | 1 composite (2 queries: the Account, its Opportunities) | — |
//! | `EligibilityDesk` | [`SalesforceEligibilityDesk`] | 1 composite (3 queries) | Opportunity + Case + Account |
//! | `IdVerificationDesk` | [`SalesforceIdVerificationDesk`] | 1 composite (2 queries) | Case + ContentVersions (the files) + Account |
//! | `Catalog` | [`SalesforceCatalog`] | 1 query | — |
//! | `OrderBook` | [`SalesforceOrderBook`] | 1 composite (4 queries); list: 1 query; detail: 1 composite (2 queries) | Opportunity + Order + OrderItems (+ read-back) |
//! | `ServiceBook` | [`SalesforceServiceBook`] | 1 query (OrderItems with their Order and Opportunity) | — |
//! | `CancellationDesk` | [`SalesforceCancellationDesk`] | 1 composite (2 queries) | Opportunity + Case |
//! | `SupportDesk` | [`SalesforceSupportDesk`] | 1 query | Case |
//!
//! Every read is ONE Salesforce API call; every write is ONE `/composite`
//! with `allOrNone: true` built from the use case's plan, so a request never
//! leaves half its records behind. The write's primary record (Order, Case,
//! Contact) carries the request's key in `Portal_Request_Key__c`, and each
//! port reads what a request wrote by that key (`*_by_key`, one call, only
//! for a retry or a refused duplicate: issue 12, defect 1). Queries come only from the SOQL builder,
//! field and object names only from `portal_core::schema`, and every query of
//! account-owned data is filtered on the caller's Account. Errors map to
//! `PortError` in [`error`]; wire values map to domain types in [`record`].

pub mod account;
pub mod cancellation;
pub mod catalog;
pub mod eligibility;
pub mod error;
pub mod id_verification;
pub mod orders;
mod plan;
pub mod record;
pub mod registration;
pub mod services;
pub mod support;

use portal_core::domain::{PricebookId, TypedIdError};
use portal_core::schema::{pricebook, pricebook_entry};

use crate::client::SalesforceClient;
use crate::soql::Cond;

pub use account::SalesforceAccountProfile;
pub use cancellation::SalesforceCancellationDesk;
pub use catalog::SalesforceCatalog;
pub use eligibility::SalesforceEligibilityDesk;
pub use error::{MappingError, port_error, write_error};
pub use id_verification::SalesforceIdVerificationDesk;
pub use orders::SalesforceOrderBook;
pub use registration::SalesforceRegistrationDirectory;
pub use services::SalesforceServiceBook;
pub use support::SalesforceSupportDesk;

use error::MappingError as Mapping;
use record::{ID, path};

/// The price book the portal sells from: its entries' prices are the prices
/// of the catalog and of every OrderItem, and it becomes `Order.Pricebook2Id`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum PriceBook {
    /// The org's standard price book (`IsStandard = true`).
    #[default]
    Standard,
    /// A specific, active price book.
    Configured(PricebookId),
}

impl PriceBook {
    /// From a setting (e.g. an environment variable): absent or blank means
    /// the standard price book, anything else must be a `Pricebook2` id.
    pub fn from_setting(raw: Option<&str>) -> Result<Self, TypedIdError> {
        match raw.map(str::trim).filter(|s| !s.is_empty()) {
            None => Ok(Self::Standard),
            Some(id) => PricebookId::parse(id).map(Self::Configured),
        }
    }

    /// The condition on `Pricebook2` selecting this active price book.
    pub(crate) fn pricebook(&self) -> Cond {
        let which = match self {
            Self::Standard => Cond::eq(pricebook::IS_STANDARD, true),
            Self::Configured(id) => Cond::eq(ID, id.as_id()),
        };
        which.and(Cond::eq(pricebook::IS_ACTIVE, true))
    }

    /// The condition on `PricebookEntry` selecting the entries of this active
    /// price book.
    pub(crate) fn entries(&self) -> Result<Cond, Mapping> {
        let on_book = |field| {
            path(
                pricebook_entry::OBJECT,
                pricebook_entry::PRICEBOOK_ID,
                field,
            )
        };
        let which = match self {
            Self::Standard => Cond::eq(&on_book(pricebook::IS_STANDARD)?, true),
            Self::Configured(id) => Cond::eq(pricebook_entry::PRICEBOOK_ID, id.as_id()),
        };
        Ok(which.and(Cond::eq(&on_book(pricebook::IS_ACTIVE)?, true)))
    }
}

/// Every adapter over one shared client (one connection pool, one session):
/// hands each handler the adapter of its port.
#[derive(Debug, Clone)]
pub struct SalesforcePortal {
    client: SalesforceClient,
    price_book: PriceBook,
}

impl SalesforcePortal {
    /// The adapters over `client`, selling from `price_book`.
    pub fn new(client: SalesforceClient, price_book: PriceBook) -> Self {
        Self { client, price_book }
    }

    /// `RegistrationDirectory`.
    pub fn registration(&self) -> SalesforceRegistrationDirectory {
        SalesforceRegistrationDirectory::new(self.client.clone())
    }

    /// `AccountProfile`.
    pub fn account(&self) -> SalesforceAccountProfile {
        SalesforceAccountProfile::new(self.client.clone())
    }

    /// `EligibilityDesk`.
    pub fn eligibility(&self) -> SalesforceEligibilityDesk {
        SalesforceEligibilityDesk::new(self.client.clone())
    }

    /// `IdVerificationDesk`.
    pub fn id_verification(&self) -> SalesforceIdVerificationDesk {
        SalesforceIdVerificationDesk::new(self.client.clone())
    }

    /// `Catalog`.
    pub fn catalog(&self) -> SalesforceCatalog {
        SalesforceCatalog::new(self.client.clone(), self.price_book.clone())
    }

    /// `OrderBook`.
    pub fn orders(&self) -> SalesforceOrderBook {
        SalesforceOrderBook::new(self.client.clone(), self.price_book.clone())
    }

    /// `ServiceBook`.
    pub fn services(&self) -> SalesforceServiceBook {
        SalesforceServiceBook::new(self.client.clone())
    }

    /// `CancellationDesk`.
    pub fn cancellation(&self) -> SalesforceCancellationDesk {
        SalesforceCancellationDesk::new(self.client.clone())
    }

    /// `SupportDesk`.
    pub fn support(&self) -> SalesforceSupportDesk {
        SalesforceSupportDesk::new(self.client.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_no_price_book_is_configured_should_use_the_standard_one() {
        assert_eq!(PriceBook::from_setting(None), Ok(PriceBook::Standard));
        assert_eq!(PriceBook::from_setting(Some("  ")), Ok(PriceBook::Standard));
        assert_eq!(
            PriceBook::from_setting(Some("01s000000000001")),
            Ok(PriceBook::Configured(
                PricebookId::parse("01s000000000001").unwrap()
            ))
        );
        assert!(PriceBook::from_setting(Some("001000000000001")).is_err());
    }
}
