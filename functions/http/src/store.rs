//! [`ApiStore`]: everything the API keeps in its own table — idempotency
//! records and registration locks, login links, per-login counters — and
//! the deactivated Accounts it reads. [`ApiStores`] puts one adapter per port
//! together (DynamoDB in Lambda, in memory locally and in tests).

use chrono::{DateTime, Utc};
use portal_core::domain::{AccountId, Login};
use portal_core::ports::memory::{
    InMemoryAccountStatuses, InMemoryIdempotencyStore, InMemoryLoginLimits, InMemoryLoginLinks,
};
use portal_core::ports::{
    IdempotencyClaim, IdempotencyId, IdempotencyOutcome, IdempotencyStore, InactiveAccounts,
    LeaseError, LeaseOwner, LimitDecision, LimitWindow, LinkCreation, LoginLimits, LoginLink,
    LoginLinks, StoreError, StoredResponse,
};

/// The API's state: one adapter per port, all in the API's key prefixes
/// (`IDEMP#`, `LOGIN#`, `LIMIT#`; `ACCOUNT#` read only).
pub trait ApiStore:
    IdempotencyStore + LoginLinks + InactiveAccounts + LoginLimits + 'static
{
}

impl<T> ApiStore for T where
    T: IdempotencyStore + LoginLinks + InactiveAccounts + LoginLimits + 'static
{
}

/// One adapter per port of [`ApiStore`].
#[derive(Debug, Default)]
pub struct ApiStores<I, L, A, R> {
    /// Idempotency records and locks.
    pub idempotency: I,
    /// Login links.
    pub links: L,
    /// Deactivated Accounts.
    pub inactive: A,
    /// Per-login counters.
    pub limits: R,
}

/// Every port in memory (portal-local, tests).
pub type InMemoryApiStores = ApiStores<
    InMemoryIdempotencyStore,
    InMemoryLoginLinks,
    InMemoryAccountStatuses,
    InMemoryLoginLimits,
>;

impl<I, L, A, R> IdempotencyStore for ApiStores<I, L, A, R>
where
    I: IdempotencyStore,
    L: Send + Sync,
    A: Send + Sync,
    R: Send + Sync,
{
    async fn claim(&self, claim: &IdempotencyClaim) -> Result<IdempotencyOutcome, StoreError> {
        self.idempotency.claim(claim).await
    }

    async fn complete(
        &self,
        id: &IdempotencyId,
        owner: &LeaseOwner,
        response: &StoredResponse,
        expires_at: DateTime<Utc>,
    ) -> Result<(), LeaseError> {
        self.idempotency
            .complete(id, owner, response, expires_at)
            .await
    }

    async fn release(&self, id: &IdempotencyId, owner: &LeaseOwner) -> Result<(), LeaseError> {
        self.idempotency.release(id, owner).await
    }
}

impl<I, L, A, R> LoginLinks for ApiStores<I, L, A, R>
where
    I: Send + Sync,
    L: LoginLinks,
    A: Send + Sync,
    R: Send + Sync,
{
    async fn link_of(&self, login: &Login) -> Result<Option<LoginLink>, StoreError> {
        self.links.link_of(login).await
    }

    async fn create(&self, link: &LoginLink) -> Result<LinkCreation, StoreError> {
        self.links.create(link).await
    }
}

impl<I, L, A, R> InactiveAccounts for ApiStores<I, L, A, R>
where
    I: Send + Sync,
    L: Send + Sync,
    A: InactiveAccounts,
    R: Send + Sync,
{
    async fn is_inactive(&self, account: &AccountId) -> Result<bool, StoreError> {
        self.inactive.is_inactive(account).await
    }
}

impl<I, L, A, R> LoginLimits for ApiStores<I, L, A, R>
where
    I: Send + Sync,
    L: Send + Sync,
    A: Send + Sync,
    R: LoginLimits,
{
    async fn take(
        &self,
        login: &Login,
        windows: &[LimitWindow],
        now: DateTime<Utc>,
    ) -> Result<LimitDecision, StoreError> {
        self.limits.take(login, windows, now).await
    }
}
