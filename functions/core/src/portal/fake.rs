//! A recording in-memory fake of every port, for the use cases' tests.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};

use crate::domain::{
    AccountId, CaseId, CommodityType, ContactId, CustomerNumber, Email, Login, OpportunityId,
    OrderId, PortalStatus, ProductId, WhmcsServiceId,
};

use super::account::AccountRecord;
use super::caller::Caller;
use super::cancellation::{CancellationPlan, CancellationRecorded, ServiceRecord};
use super::catalog::PriceListEntry;
use super::eligibility::{EligibilityContext, EligibilityPlan, EligibilityRequested};
use super::error::PortError;
use super::id_verification::{IdVerificationContext, IdVerificationPlan, SubmittedVerification};
use super::orders::{OrderContext, OrderDetail, OrderPlacement, OrderSummary, PlacedOrder};
use super::plans::{CaseOpportunity, NewCase};
use super::ports::{
    AccountProfile, CancellationDesk, Catalog, EligibilityDesk, IdVerificationDesk, OrderBook,
    RegistrationDirectory, ServiceBook, SupportDesk,
};
use super::registration::{
    ContactMatch, KeyedRegistration, Registered, RegistrationLookup, RegistrationPlan,
};
use super::request::{Attempt, RequestKey};
use super::services::ServiceView;
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

/// The `i`th ContentVersion the fake's writes hand out.
pub fn written_content_version(i: usize) -> crate::domain::SalesforceId {
    crate::domain::SalesforceId::parse(&format!("06800000000000{i}")).expect("valid id")
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

/// The key of the tests' requests.
pub fn request_key() -> RequestKey {
    RequestKey::derive(&caller().login, "k-1", "fingerprint")
}

/// A first attempt under [`request_key`].
pub fn first() -> Attempt {
    Attempt::first(request_key())
}

/// An attempt under [`request_key`] after one whose outcome is unknown.
pub fn after_unknown() -> Attempt {
    Attempt::after_unknown(request_key())
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
    Services(AccountId),
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
    /// A read of what was written under a request key.
    ByKey(RequestKey),
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
    pub account: Option<AccountRecord>,
    pub eligibility: Option<EligibilityContext>,
    pub id_verification: Option<IdVerificationContext>,
    pub price_list: Vec<PriceListEntry>,
    pub order_context: Option<OrderContext>,
    pub orders: Vec<OrderSummary>,
    pub order_detail: Option<OrderDetail>,
    pub service: Option<ServiceRecord>,
    pub services: Vec<ServiceView>,
    pub cases: Vec<CaseSummary>,
    /// Every write fails as a retryable outage.
    pub writes_unavailable: bool,
    /// The Account a registration creates (default [`written_account`]).
    pub new_account: Option<AccountId>,
    /// The next this many writes commit, then answer
    /// [`PortError::OutcomeUnknown`] (their answer is lost).
    pub lose_answers: AtomicU32,
    /// The next this many reads by key find nothing (what they look for is
    /// not committed yet).
    pub hide_keyed: AtomicU32,
    /// What was written under each request key; a second write under a key
    /// is refused with [`PortError::KeyTaken`], as Salesforce's unique field does.
    pub keyed: Mutex<HashMap<RequestKey, Keyed>>,
    pub log: Mutex<Vec<Call>>,
}

/// A record set written under a request key, as the fake holds it.
#[derive(Debug, Clone, PartialEq)]
pub enum Keyed {
    Registration(KeyedRegistration),
    Eligibility(EligibilityRequested),
    Verification(SubmittedVerification),
    Order(PlacedOrder),
    Cancellation(CancellationRecorded),
    Case(CaseId),
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

    /// A write of `written` under `key`: refused when the key is taken,
    /// committed (and its answer lost when [`Self::lose_answers`]) otherwise.
    fn write_keyed<T>(
        &self,
        call: Call,
        key: &RequestKey,
        written: Keyed,
        answer: T,
    ) -> Result<T, PortError> {
        self.write(call)?;
        let mut keyed = self.keyed.lock().unwrap_or_else(PoisonError::into_inner);
        if keyed.contains_key(key) {
            return Err(PortError::KeyTaken {
                // A record hidden from reads is one not committed yet.
                in_flight: self.hide_keyed.load(Ordering::Relaxed) > 0,
                source: "DUPLICATE_VALUE on Portal_Request_Key__c".into(),
            });
        }
        keyed.insert(key.clone(), written);
        if take_one(&self.lose_answers) {
            return Err(PortError::OutcomeUnknown {
                source: "fake: the answer was lost".into(),
            });
        }
        Ok(answer)
    }

    /// What was written under `key`.
    fn by_key(&self, key: &RequestKey) -> Option<Keyed> {
        self.record(Call::ByKey(key.clone()));
        if take_one(&self.hide_keyed) {
            return None;
        }
        self.keyed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(key)
            .cloned()
    }

    /// Records `written` under `key`, as an earlier attempt would have.
    pub fn written_under(&self, key: &RequestKey, written: Keyed) {
        self.keyed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key.clone(), written);
    }

    /// The number of record sets written under request keys.
    pub fn keyed_writes(&self) -> usize {
        self.keyed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
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

/// Takes one from `counter` if it is above zero.
fn take_one(counter: &AtomicU32) -> bool {
    counter
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
        .is_ok()
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
        let (registered, key, source, number) = match plan {
            RegistrationPlan::CreateAccount { account, contact } => (
                Registered {
                    account_id: self.new_account.clone().unwrap_or_else(written_account),
                    contact_id: written_contact(),
                },
                &contact.request_key,
                account.registration_source,
                None,
            ),
            RegistrationPlan::LinkAccount {
                account_id,
                contact_id,
                registration_source,
                request_key,
                ..
            } => (
                Registered {
                    account_id: account_id.clone(),
                    contact_id: contact_id.clone(),
                },
                request_key,
                *registration_source,
                Some(CustomerNumber::parse("C-0001").expect("valid number")),
            ),
        };
        let contact = ContactMatch {
            contact_id: registered.contact_id.clone(),
            email: caller().email.as_str().to_owned(),
            account_id: registered.account_id.clone(),
            portal_status: Some(PortalStatus::Active),
            customer_number: number,
            registration_source: Some(source),
        };
        self.write_keyed(
            Call::Register(plan.clone()),
            key,
            Keyed::Registration(KeyedRegistration::Contact(contact)),
            registered,
        )
    }

    async fn open_link_case(&self, case: &NewCase) -> Result<CaseId, PortError> {
        self.write_keyed(
            Call::OpenLinkCase(case.clone()),
            &case.request_key,
            Keyed::Registration(KeyedRegistration::LinkCase(written_case())),
            written_case(),
        )
    }

    async fn registration_by_key(
        &self,
        key: &RequestKey,
    ) -> Result<Option<KeyedRegistration>, PortError> {
        Ok(match self.by_key(key) {
            Some(Keyed::Registration(written)) => Some(written),
            _ => None,
        })
    }
}

impl AccountProfile for FakeOrg {
    async fn account_overview(
        &self,
        account: &AccountId,
    ) -> Result<Option<AccountRecord>, PortError> {
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
        let requested = EligibilityRequested {
            case_id: written_case(),
            opportunity_id: plan
                .opportunity
                .existing_id()
                .cloned()
                .unwrap_or_else(written_opportunity),
        };
        self.write_keyed(
            Call::RequestEligibility(plan.clone()),
            &plan.case.request_key,
            Keyed::Eligibility(requested.clone()),
            requested,
        )
    }

    async fn request_by_key(
        &self,
        _account: &AccountId,
        key: &RequestKey,
    ) -> Result<Option<EligibilityRequested>, PortError> {
        Ok(match self.by_key(key) {
            Some(Keyed::Eligibility(written)) => Some(written),
            _ => None,
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

    async fn submit_verification(
        &self,
        plan: &IdVerificationPlan,
    ) -> Result<SubmittedVerification, PortError> {
        let written = SubmittedVerification {
            case_id: written_case(),
            content_versions: (0..plan.documents.len())
                .map(written_content_version)
                .collect(),
        };
        self.write_keyed(
            Call::SubmitVerification(plan.clone()),
            &plan.case.request_key,
            Keyed::Verification(written.clone()),
            written,
        )
    }

    async fn verification_by_key(
        &self,
        _account: &AccountId,
        key: &RequestKey,
    ) -> Result<Option<SubmittedVerification>, PortError> {
        Ok(match self.by_key(key) {
            Some(Keyed::Verification(written)) => Some(written),
            _ => None,
        })
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
        let placed = PlacedOrder {
            order_id: written_order(),
            order_number: "00000100".to_owned(),
            opportunity_id: plan
                .opportunity
                .existing_id()
                .cloned()
                .unwrap_or_else(written_opportunity),
        };
        self.write_keyed(
            Call::PlaceOrder(plan.clone()),
            &plan.order.request_key,
            Keyed::Order(placed.clone()),
            placed,
        )
    }

    async fn order_by_key(
        &self,
        _account: &AccountId,
        key: &RequestKey,
    ) -> Result<Option<PlacedOrder>, PortError> {
        Ok(match self.by_key(key) {
            Some(Keyed::Order(placed)) => Some(placed),
            _ => None,
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
        let opportunity_id = match &plan.case.opportunity {
            CaseOpportunity::Existing(id) => id.clone(),
            _ => plan.opportunity_id.clone(),
        };
        self.write_keyed(
            Call::RequestCancellation(plan.clone()),
            &plan.case.request_key,
            Keyed::Cancellation(CancellationRecorded {
                case_id: written_case(),
                opportunity_id,
            }),
            written_case(),
        )
    }

    async fn cancellation_by_key(
        &self,
        _account: &AccountId,
        key: &RequestKey,
    ) -> Result<Option<CancellationRecorded>, PortError> {
        Ok(match self.by_key(key) {
            Some(Keyed::Cancellation(recorded)) => Some(recorded),
            _ => None,
        })
    }
}

impl ServiceBook for FakeOrg {
    async fn services(&self, account: &AccountId) -> Result<Vec<ServiceView>, PortError> {
        self.record(Call::Services(account.clone()));
        Ok(self.services.clone())
    }
}

impl SupportDesk for FakeOrg {
    async fn open_case(&self, case: &NewCase) -> Result<CaseId, PortError> {
        self.write_keyed(
            Call::OpenCase(case.clone()),
            &case.request_key,
            Keyed::Case(written_case()),
            written_case(),
        )
    }

    async fn case_by_key(
        &self,
        _account: &AccountId,
        key: &RequestKey,
    ) -> Result<Option<CaseId>, PortError> {
        Ok(match self.by_key(key) {
            Some(Keyed::Case(case_id)) => Some(case_id),
            _ => None,
        })
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
