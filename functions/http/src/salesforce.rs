//! [`SalesforcePorts`]: the Salesforce adapter of every port the routes use,
//! all over one shared [`SalesforceClient`] (one connection pool, one
//! session).

use salesforce::SalesforceClient;
use salesforce::portal::{
    PriceBook, SalesforceAccountProfile, SalesforceCancellationDesk, SalesforceCatalog,
    SalesforceEligibilityDesk, SalesforceIdVerificationDesk, SalesforceOrderBook, SalesforcePortal,
    SalesforceRegistrationDirectory, SalesforceServiceBook, SalesforceSupportDesk,
};

use crate::app::PortalPorts;

/// Every Salesforce port adapter of the API.
#[derive(Debug, Clone)]
pub struct SalesforcePorts {
    registration: SalesforceRegistrationDirectory,
    account: SalesforceAccountProfile,
    eligibility: SalesforceEligibilityDesk,
    id_verification: SalesforceIdVerificationDesk,
    catalog: SalesforceCatalog,
    orders: SalesforceOrderBook,
    services: SalesforceServiceBook,
    cancellation: SalesforceCancellationDesk,
    support: SalesforceSupportDesk,
}

impl SalesforcePorts {
    /// The adapters over `client`, selling from `price_book`.
    pub fn new(client: SalesforceClient, price_book: PriceBook) -> Self {
        let portal = SalesforcePortal::new(client, price_book);
        Self {
            registration: portal.registration(),
            account: portal.account(),
            eligibility: portal.eligibility(),
            id_verification: portal.id_verification(),
            catalog: portal.catalog(),
            orders: portal.orders(),
            services: portal.services(),
            cancellation: portal.cancellation(),
            support: portal.support(),
        }
    }
}

impl PortalPorts for SalesforcePorts {
    type Registration = SalesforceRegistrationDirectory;
    type Account = SalesforceAccountProfile;
    type Eligibility = SalesforceEligibilityDesk;
    type IdVerification = SalesforceIdVerificationDesk;
    type Catalog = SalesforceCatalog;
    type Orders = SalesforceOrderBook;
    type Services = SalesforceServiceBook;
    type Cancellation = SalesforceCancellationDesk;
    type Support = SalesforceSupportDesk;

    fn registration(&self) -> &Self::Registration {
        &self.registration
    }
    fn account(&self) -> &Self::Account {
        &self.account
    }
    fn eligibility(&self) -> &Self::Eligibility {
        &self.eligibility
    }
    fn id_verification(&self) -> &Self::IdVerification {
        &self.id_verification
    }
    fn catalog(&self) -> &Self::Catalog {
        &self.catalog
    }
    fn orders(&self) -> &Self::Orders {
        &self.orders
    }
    fn services(&self) -> &Self::Services {
        &self.services
    }
    fn cancellation(&self) -> &Self::Cancellation {
        &self.cancellation
    }
    fn support(&self) -> &Self::Support {
        &self.support
    }
}
