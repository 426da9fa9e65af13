//! The portal's ports: one trait per route family, each the Salesforce side
//! of its use case (at most one read, at most one atomic write), in the
//! vocabulary of that use case's module (its context, plan and answer types).
//! The adapters are `salesforce::portal::Salesforce*`; the unit tests use
//! the fake org (`fake.rs`). Listed with every other port in [`crate::ports`].

use std::future::Future;

use super::account::AccountOverview;
use super::cancellation::{CancellationPlan, ServiceRecord};
use super::catalog::PriceListEntry;
use super::eligibility::{EligibilityContext, EligibilityPlan, EligibilityRequested};
use super::error::PortError;
use super::id_verification::{IdVerificationContext, IdVerificationPlan};
use super::orders::{OrderContext, OrderDetail, OrderPlacement, OrderSummary, PlacedOrder};
use super::plans::NewCase;
use super::registration::{Registered, RegistrationLookup, RegistrationPlan};
use super::support::CaseSummary;
use crate::domain::{
    AccountId, CaseId, CommodityType, CustomerNumber, Email, OrderId, ProductId, WhmcsServiceId,
};

/// Reads the caller's Account.
pub trait AccountProfile: Send + Sync {
    /// One read of the Account by id; `None` when it does not exist.
    fn account_overview(
        &self,
        account: &AccountId,
    ) -> impl Future<Output = Result<Option<AccountOverview>, PortError>> + Send;
}

/// Reads and writes the registration records (Account, Contact, the staff Case).
pub trait RegistrationDirectory: Send + Sync {
    /// One read: Contacts by e-mail and, when given, the Account by customer number.
    fn lookup(
        &self,
        email: &Email,
        customer_number: Option<&CustomerNumber>,
    ) -> impl Future<Output = Result<RegistrationLookup, PortError>> + Send;

    /// One atomic write (allOrNone composite).
    fn register(
        &self,
        plan: &RegistrationPlan,
    ) -> impl Future<Output = Result<Registered, PortError>> + Send;

    /// One write: the `ID Verification` Case asking staff to check a link request.
    fn open_link_case(
        &self,
        case: &NewCase,
    ) -> impl Future<Output = Result<CaseId, PortError>> + Send;
}

/// Reads and writes eligibility requests (Account, Opportunity, Case).
pub trait EligibilityDesk: Send + Sync {
    /// One read; `None` when the Account does not exist.
    fn eligibility_context(
        &self,
        account: &AccountId,
        commodity: CommodityType,
    ) -> impl Future<Output = Result<Option<EligibilityContext>, PortError>> + Send;

    /// One atomic write (allOrNone composite).
    fn request_eligibility(
        &self,
        plan: &EligibilityPlan,
    ) -> impl Future<Output = Result<EligibilityRequested, PortError>> + Send;
}

/// Reads and writes ID verifications (Account, Case).
pub trait IdVerificationDesk: Send + Sync {
    /// One read; `None` when the Account does not exist.
    fn verification_context(
        &self,
        account: &AccountId,
    ) -> impl Future<Output = Result<Option<IdVerificationContext>, PortError>> + Send;

    /// One atomic write (allOrNone composite); returns the new case.
    fn submit_verification(
        &self,
        plan: &IdVerificationPlan,
    ) -> impl Future<Output = Result<CaseId, PortError>> + Send;
}

/// Reads the portal's price list.
pub trait Catalog: Send + Sync {
    /// One read: the entries of the portal's price book with their products
    /// (the adapter may already leave out inactive ones).
    fn price_list(&self) -> impl Future<Output = Result<Vec<PriceListEntry>, PortError>> + Send;
}

/// Reads and writes Orders (Account, Opportunity, PricebookEntry, Order, OrderItem).
pub trait OrderBook: Send + Sync {
    /// One read; `None` when the Account does not exist.
    fn order_context(
        &self,
        account: &AccountId,
        commodity: CommodityType,
        products: &[ProductId],
    ) -> impl Future<Output = Result<Option<OrderContext>, PortError>> + Send;

    /// One atomic write (allOrNone composite).
    fn place_order(
        &self,
        plan: &OrderPlacement,
    ) -> impl Future<Output = Result<PlacedOrder, PortError>> + Send;

    /// One read: the Account's orders, newest first.
    fn orders(
        &self,
        account: &AccountId,
    ) -> impl Future<Output = Result<Vec<OrderSummary>, PortError>> + Send;

    /// One read: the order with its items, when it is the Account's.
    fn order(
        &self,
        account: &AccountId,
        order: &OrderId,
    ) -> impl Future<Output = Result<Option<OrderDetail>, PortError>> + Send;
}

/// Reads and writes cancellations (Opportunity, Case).
pub trait CancellationDesk: Send + Sync {
    /// One read: `account`'s Opportunity whose `WHMCS_Service_ID__c` is
    /// `service`, with its newest cancellation case; `None` when `account`
    /// has no such service (another Account's service is not even read).
    fn service(
        &self,
        account: &AccountId,
        service: WhmcsServiceId,
    ) -> impl Future<Output = Result<Option<ServiceRecord>, PortError>> + Send;

    /// One atomic write (allOrNone composite); returns the new case.
    fn request_cancellation(
        &self,
        plan: &CancellationPlan,
    ) -> impl Future<Output = Result<CaseId, PortError>> + Send;
}

/// Opens and lists the Account's cases.
pub trait SupportDesk: Send + Sync {
    /// One write: the case.
    fn open_case(&self, case: &NewCase) -> impl Future<Output = Result<CaseId, PortError>> + Send;

    /// One read: the Account's cases, newest first.
    fn cases(
        &self,
        account: &AccountId,
    ) -> impl Future<Output = Result<Vec<CaseSummary>, PortError>> + Send;
}
