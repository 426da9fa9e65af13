//! A recording in-memory fake of every port, for the use cases' tests.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};

use crate::domain::{
    AccountId, CaseId, CommodityType, ContactId, CustomerNumber, Email, Login, OpportunityId,
    OrderId, ProductId, WhmcsServiceId,
};

use super::account::AccountOverview;
use super::caller::Caller;
use super::cancellation::{CancellationPlan, ServiceRecord};
use super::catalog::PriceListEntry;
use super::eligibility::{EligibilityContext, EligibilityPlan, EligibilityRequested};
use super::error::PortError;
use super::id_verification::{IdVerificationContext, IdVerificationPlan};
use super::orders::{OrderContext, OrderDetail, OrderPlacement, OrderSummary, PlacedOrder};
use super::plans::NewCase;
use super::ports::{
    AccountProfile, CancellationDesk, Catalog, EligibilityDesk, IdVerificationDesk, OrderBook,
    RegistrationDirectory, SupportDesk,
};
use super::registration::{Registered, RegistrationLookup, RegistrationPlan};
use super::support::CaseSummary;

/// The caller's Account.
pub fn account() -> AccountId {
    AccountId::parse("001000000000001").expect("valid id")
}

/// Somebody else's Account.
pub fn other_account() -> AccountId {
    AccountId::parse("001000000000002").expect("valid id")
}

/// An existing Contact.
pub fn contact() -> ContactId {
    ContactId::parse("003000000000001").expect("valid id")
}

/// An existing Opportunity.
pub fn opportunity() -> OpportunityId {
    OpportunityId::parse("006000000000001").expect("valid id")
}

/// An existing Case.
pub fn case() -> CaseId {
    CaseId::parse("500000000000001").expect("valid id")
}

/// An existing Order.
pub fn order() -> OrderId {
    OrderId::parse("801000000000001").expect("valid id")
}

/// The ids the fake's writes hand out.
pub fn written_account() -> AccountId {
    AccountId::parse("001000000000009").expect("valid id")
}
/// See [`written_account`].
pub fn written_contact() -> ContactId {
    ContactId::parse("003000000000009").expect("valid id")
}
/// See [`written_account`].
pub fn written_opportunity() -> OpportunityId {
    OpportunityId::parse("006000000000009").expect("valid id")
}
/// See [`written_account`].
pub fn written_case() -> CaseId {
    CaseId::parse("500000000000009").expect("valid id")
}
/// See [`written_account`].
pub fn written_order() -> OrderId {
    OrderId::parse("801000000000009").expect("valid id")
}

/// 2026-03-31 15:30 UTC: already 2026-04-01 in Tokyo.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 31, 15, 30, 0)
        .single()
        .expect("valid instant")
}

/// A caller linked to [`account`].
pub fn caller() -> Caller {
    Caller {
        login: Login::new("https://id.example.jp/", "auth0|hanako").expect("valid login"),
        email: Email::parse("hanako@example.jp").expect("valid e-mail"),
        email_verified: true,
        account_id: Some(account()),
    }
}

/// A caller whose token has no account.
pub fn unlinked_caller() -> Caller {
    Caller {
        account_id: None,
        ..caller()
    }
}

/// One port call, as recorded.
#[derive(Debug, Clone, PartialEq)]
pub enum Call {
    Lookup(Option<CustomerNumber>),
    Register(RegistrationPlan),
    OpenLinkCase(NewCase),
    AccountOverview(AccountId),
    EligibilityContext(AccountId, CommodityType),
    RequestEligibility(EligibilityPlan),
    VerificationContext(AccountId),
    SubmitVerification(IdVerificationPlan),
    PriceList,
    OrderContext(AccountId, CommodityType, Vec<ProductId>),
    PlaceOrder(OrderPlacement),
    Orders(AccountId),
    Order(AccountId, OrderId),
    Service(AccountId, WhmcsServiceId),
    RequestCancellation(CancellationPlan),
    OpenCase(NewCase),
    Cases(AccountId),
}

impl Call {
    fn is_write(&self) -> bool {
        matches!(
            self,
            Self::Register(_)
                | Self::OpenLinkCase(_)
                | Self::RequestEligibility(_)
                | Self::SubmitVerification(_)
                | Self::PlaceOrder(_)
                | Self::RequestCancellation(_)
                | Self::OpenCase(_)
        )
    }
}

/// The org's data the reads return, and the log of calls.
#[derive(Debug, Default)]
pub struct FakeOrg {
    pub registration: RegistrationLookup,
    pub account: Option<AccountOverview>,
    pub eligibility: Option<EligibilityContext>,
    pub id_verification: Option<IdVerificationContext>,
    pub price_list: Vec<PriceListEntry>,
    pub order_context: Option<OrderContext>,
    pub orders: Vec<OrderSummary>,
    pub order_detail: Option<OrderDetail>,
    pub service: Option<ServiceRecord>,
    pub cases: Vec<CaseSummary>,
    /// Every write fails as a retryable outage.
    pub writes_unavailable: bool,
    /// The Account a registration creates (default [`written_account`]).
    pub new_account: Option<AccountId>,
    pub log: Mutex<Vec<Call>>,
}

impl FakeOrg {
    fn record(&self, call: Call) {
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(call);
    }

    fn write(&self, call: Call) -> Result<(), PortError> {
        self.record(call);
        if self.writes_unavailable {
            Err(PortError::Unavailable {
                retry_after: Some(Duration::from_secs(2)),
                source: "fake outage".into(),
            })
        } else {
            Ok(())
        }
    }

    /// Every call, in order.
    pub fn calls(&self) -> Vec<Call> {
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The write calls, in order.
    pub fn writes(&self) -> Vec<Call> {
        self.calls().into_iter().filter(Call::is_write).collect()
    }

    /// The one write made (panics unless exactly one).
    pub fn only_write(&self) -> Call {
        let writes = self.writes();
        match <[Call; 1]>::try_from(writes) {
            Ok([write]) => write,
            Err(writes) => panic!("expected exactly one write, got {writes:?}"),
        }
    }

    /// The number of read calls.
    pub fn reads(&self) -> usize {
        self.calls().iter().filter(|c| !c.is_write()).count()
    }
}

impl RegistrationDirectory for FakeOrg {
    async fn lookup(
        &self,
        _email: &Email,
        customer_number: Option<&CustomerNumber>,
    ) -> Result<RegistrationLookup, PortError> {
        self.record(Call::Lookup(customer_number.cloned()));
        Ok(self.registration.clone())
    }

    async fn register(&self, plan: &RegistrationPlan) -> Result<Registered, PortError> {
        self.write(Call::Register(plan.clone()))?;
        Ok(match plan {
            RegistrationPlan::CreateAccount { .. } => Registered {
                account_id: self.new_account.clone().unwrap_or_else(written_account),
                contact_id: written_contact(),
            },
            RegistrationPlan::LinkAccount {
                account_id,
                contact_id,
                ..
            } => Registered {
                account_id: account_id.clone(),
                contact_id: contact_id.clone(),
            },
        })
    }

    async fn open_link_case(&self, case: &NewCase) -> Result<CaseId, PortError> {
        self.write(Call::OpenLinkCase(case.clone()))?;
        Ok(written_case())
    }
}

impl AccountProfile for FakeOrg {
    async fn account_overview(
        &self,
        account: &AccountId,
    ) -> Result<Option<AccountOverview>, PortError> {
        self.record(Call::AccountOverview(account.clone()));
        Ok(self.account.clone())
    }
}

impl EligibilityDesk for FakeOrg {
    async fn eligibility_context(
        &self,
        account: &AccountId,
        commodity: CommodityType,
    ) -> Result<Option<EligibilityContext>, PortError> {
        self.record(Call::EligibilityContext(account.clone(), commodity));
        Ok(self.eligibility.clone())
    }

    async fn request_eligibility(
        &self,
        plan: &EligibilityPlan,
    ) -> Result<EligibilityRequested, PortError> {
        self.write(Call::RequestEligibility(plan.clone()))?;
        Ok(EligibilityRequested {
            case_id: written_case(),
            opportunity_id: plan
                .opportunity
                .existing_id()
                .cloned()
                .unwrap_or_else(written_opportunity),
        })
    }
}

impl IdVerificationDesk for FakeOrg {
    async fn verification_context(
        &self,
        account: &AccountId,
    ) -> Result<Option<IdVerificationContext>, PortError> {
        self.record(Call::VerificationContext(account.clone()));
        Ok(self.id_verification.clone())
    }

    async fn submit_verification(&self, plan: &IdVerificationPlan) -> Result<CaseId, PortError> {
        self.write(Call::SubmitVerification(plan.clone()))?;
        Ok(written_case())
    }
}

impl Catalog for FakeOrg {
    async fn price_list(&self) -> Result<Vec<PriceListEntry>, PortError> {
        self.record(Call::PriceList);
        Ok(self.price_list.clone())
    }
}

impl OrderBook for FakeOrg {
    async fn order_context(
        &self,
        account: &AccountId,
        commodity: CommodityType,
        products: &[ProductId],
    ) -> Result<Option<OrderContext>, PortError> {
        self.record(Call::OrderContext(
            account.clone(),
            commodity,
            products.to_vec(),
        ));
        Ok(self.order_context.clone())
    }

    async fn place_order(&self, plan: &OrderPlacement) -> Result<PlacedOrder, PortError> {
        self.write(Call::PlaceOrder(plan.clone()))?;
        Ok(PlacedOrder {
            order_id: written_order(),
            order_number: "00000100".to_owned(),
            opportunity_id: plan
                .opportunity
                .existing_id()
                .cloned()
                .unwrap_or_else(written_opportunity),
        })
    }

    async fn orders(&self, account: &AccountId) -> Result<Vec<OrderSummary>, PortError> {
        self.record(Call::Orders(account.clone()));
        Ok(self.orders.clone())
    }

    async fn order(
        &self,
        account: &AccountId,
        order: &OrderId,
    ) -> Result<Option<OrderDetail>, PortError> {
        self.record(Call::Order(account.clone(), order.clone()));
        Ok(self.order_detail.clone())
    }
}

impl CancellationDesk for FakeOrg {
    async fn service(
        &self,
        account: &AccountId,
        service: WhmcsServiceId,
    ) -> Result<Option<ServiceRecord>, PortError> {
        self.record(Call::Service(account.clone(), service));
        Ok(self.service.clone().filter(|s| &s.account_id == account))
    }

    async fn request_cancellation(&self, plan: &CancellationPlan) -> Result<CaseId, PortError> {
        self.write(Call::RequestCancellation(plan.clone()))?;
        Ok(written_case())
    }
}

impl SupportDesk for FakeOrg {
    async fn open_case(&self, case: &NewCase) -> Result<CaseId, PortError> {
        self.write(Call::OpenCase(case.clone()))?;
        Ok(written_case())
    }

    async fn cases(&self, account: &AccountId) -> Result<Vec<CaseSummary>, PortError> {
        self.record(Call::Cases(account.clone()));
        Ok(self.cases.clone())
    }
}

/// The fields of a validation error (panics on any other result).
pub fn invalid_fields<T: std::fmt::Debug>(
    result: Result<T, super::error::PortalError>,
) -> Vec<String> {
    match result {
        Err(super::error::PortalError::Validation(errors)) => {
            errors.into_iter().map(|e| e.field).collect()
        }
        other => panic!("expected a validation error, got {other:?}"),
    }
}
