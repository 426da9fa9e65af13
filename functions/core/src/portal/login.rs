//! Who a login is: the caller's Account comes from the login's link item
//! ([`LoginLinks`]), never from the request and never from the token alone.
//!
//! [`Logins::resolve`] turns a verified token into the [`Caller`]:
//!
//! 1. the login's link (issuer + `sub` → Account), from the per-container
//!    cache or one strongly consistent read; no link → the caller is
//!    unlinked (only registration accepts that);
//! 2. a token that also carries the configured account claim must name the
//!    same Account ([`PortalError::AccountMismatch`] otherwise), so portals
//!    whose identity provider already puts the Account in the token keep
//!    working, and can never point a login at another Account;
//! 3. an Account staff deactivated ([`InactiveAccounts`], synced from
//!    Salesforce by the reconciler) is [`PortalError::AccountInactive`].
//!
//! The cache keeps a resolved link for `ttl` (default 60 s): a link never
//! changes once written, so the TTL only bounds how late a container sees a
//! deactivation or an operator's removal of a link. A link this container
//! writes ([`Logins::link`]) is cached at once; "not linked" is never cached,
//! so a login registered through another container is linked everywhere on
//! its next request.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use crate::domain::{AccountId, Email, Login};
use crate::ports::{InactiveAccounts, LinkCreation, LoginLink, LoginLinks};

use super::caller::Caller;
use super::error::PortalError;

/// How long a resolved link is trusted by default.
pub const DEFAULT_LINK_CACHE_TTL: Duration = Duration::from_secs(60);

/// The most logins kept in one container's cache (older entries are dropped
/// beyond it).
pub const MAX_CACHED_LOGINS: usize = 10_000;

/// What the token says about an Account, if anything (the configured claim).
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum AccountClaim {
    /// The token has no such claim (or it is `null`).
    Absent,
    /// The claim names this Account.
    Names(AccountId),
    /// The claim is there but is not an Account id.
    Malformed,
}

/// A bearer token the HTTP layer verified (signature, issuer, audience, time).
#[derive(Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    /// `iss` + `sub`.
    pub login: Login,
    /// `email`.
    pub email: Email,
    /// The e-mail-verified claim (`email_verified` unless configured otherwise).
    pub email_verified: bool,
    /// The configured account claim.
    pub account_claim: AccountClaim,
}

impl std::fmt::Debug for VerifiedToken {
    /// Leaves the e-mail out, so it can be logged.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifiedToken")
            .field("login", &self.login)
            .field("email_verified", &self.email_verified)
            .field("account_claim", &self.account_claim)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Debug)]
struct Resolved {
    link: LoginLink,
    inactive: bool,
    until: DateTime<Utc>,
}

/// The login links and deactivations, with the container's cache.
#[derive(Debug)]
pub struct Logins<L, A> {
    links: L,
    inactive: A,
    ttl: TimeDelta,
    cache: Mutex<HashMap<Login, Resolved>>,
}

impl<L: LoginLinks, A: InactiveAccounts> Logins<L, A> {
    /// Over the link items `links` and the deactivations `inactive`, caching
    /// resolved links for `ttl` (zero: no cache).
    pub fn new(links: L, inactive: A, ttl: Duration) -> Self {
        Self {
            links,
            inactive,
            ttl: TimeDelta::from_std(ttl).unwrap_or(TimeDelta::days(1)),
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The link store.
    pub fn links(&self) -> &L {
        &self.links
    }

    /// The caller of `token` at `now` (see the module docs).
    #[tracing::instrument(name = "resolve_caller", skip_all)]
    pub async fn resolve(
        &self,
        token: VerifiedToken,
        now: DateTime<Utc>,
    ) -> Result<Caller, PortalError> {
        let resolved = self.resolved(&token.login, now).await?;
        let account_id = match resolved {
            None => None,
            Some(resolved) => {
                match &token.account_claim {
                    AccountClaim::Absent => {}
                    AccountClaim::Names(claimed) if *claimed == resolved.link.account_id => {}
                    AccountClaim::Names(_) | AccountClaim::Malformed => {
                        tracing::warn!(account_id = %resolved.link.account_id, "the token's account claim disagrees with the login's link");
                        return Err(PortalError::AccountMismatch);
                    }
                }
                if resolved.inactive {
                    tracing::info!(account_id = %resolved.link.account_id, "the login's Account is deactivated");
                    return Err(PortalError::AccountInactive);
                }
                Some(resolved.link.account_id)
            }
        };
        Ok(Caller {
            login: token.login,
            email: token.email,
            email_verified: token.email_verified,
            account_id,
        })
    }

    /// The login's link (cached like [`Self::resolve`]'s).
    pub async fn link_of(
        &self,
        login: &Login,
        now: DateTime<Utc>,
    ) -> Result<Option<LoginLink>, PortalError> {
        Ok(self.resolved(login, now).await?.map(|r| r.link))
    }

    /// Writes `link` unless its login already has one (never overwritten);
    /// returns the login's link now: `link`, or the one found. The result is
    /// cached at once, so this container sees it on the next request.
    pub async fn link(
        &self,
        link: LoginLink,
        now: DateTime<Utc>,
    ) -> Result<LoginLink, PortalError> {
        let current = match self.links.create(&link).await? {
            LinkCreation::Created => {
                tracing::info!(account_id = %link.account_id, method = %link.method, "login linked");
                link
            }
            LinkCreation::Exists(existing) => {
                if existing.account_id != link.account_id {
                    tracing::warn!(
                        linked = %existing.account_id,
                        attempted = %link.account_id,
                        "the login is already linked to another Account; the first link stays"
                    );
                }
                existing
            }
        };
        let inactive = self.inactive.is_inactive(&current.account_id).await?;
        self.remember(&current, inactive, now);
        Ok(current)
    }

    async fn resolved(
        &self,
        login: &Login,
        now: DateTime<Utc>,
    ) -> Result<Option<Resolved>, PortalError> {
        if let Some(hit) = self.cached(login, now) {
            return Ok(Some(hit));
        }
        let Some(link) = self.links.link_of(login).await? else {
            return Ok(None);
        };
        let inactive = self.inactive.is_inactive(&link.account_id).await?;
        Ok(Some(self.remember(&link, inactive, now)))
    }

    fn cached(&self, login: &Login, now: DateTime<Utc>) -> Option<Resolved> {
        let cache = self
            .cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        cache.get(login).filter(|r| r.until > now).cloned()
    }

    fn remember(&self, link: &LoginLink, inactive: bool, now: DateTime<Utc>) -> Resolved {
        let resolved = Resolved {
            link: link.clone(),
            inactive,
            until: now + self.ttl,
        };
        if self.ttl > TimeDelta::zero() {
            let mut cache = self
                .cache
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if cache.len() >= MAX_CACHED_LOGINS {
                cache.retain(|_, r| r.until > now);
                if cache.len() >= MAX_CACHED_LOGINS {
                    cache.clear();
                }
            }
            cache.insert(link.login.clone(), resolved.clone());
        }
        resolved
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::portal::fake::{account, contact, now, other_account};
    use crate::ports::memory::{InMemoryAccountStatuses, InMemoryLoginLinks};
    use crate::ports::{AccountStatusSync, LinkMethod};
    use std::sync::Arc;

    fn login() -> Login {
        Login::new("https://id.example.jp/", "auth0|hanako").unwrap()
    }

    fn token(claim: AccountClaim) -> VerifiedToken {
        VerifiedToken {
            login: login(),
            email: Email::parse("hanako@example.jp").unwrap(),
            email_verified: true,
            account_claim: claim,
        }
    }

    fn link_to(account_id: AccountId) -> LoginLink {
        LoginLink {
            login: login(),
            account_id,
            contact_id: contact(),
            linked_at: now(),
            method: LinkMethod::NewAccount,
        }
    }

    type World = (
        Arc<InMemoryLoginLinks>,
        Arc<InMemoryAccountStatuses>,
        Logins<Arc<InMemoryLoginLinks>, Arc<InMemoryAccountStatuses>>,
    );

    fn world(ttl: Duration) -> World {
        let links = Arc::new(InMemoryLoginLinks::new());
        let statuses = Arc::new(InMemoryAccountStatuses::new());
        let logins = Logins::new(Arc::clone(&links), Arc::clone(&statuses), ttl);
        (links, statuses, logins)
    }

    #[tokio::test]
    async fn when_the_login_has_no_link_should_be_unlinked_whatever_the_token_claims() {
        let (_, _, logins) = world(DEFAULT_LINK_CACHE_TTL);
        let caller = logins
            .resolve(token(AccountClaim::Names(other_account())), now())
            .await
            .unwrap();
        assert_eq!(caller.account_id, None);
    }

    #[tokio::test]
    async fn when_the_login_is_linked_should_act_on_the_linked_account_only() {
        let (links, _, logins) = world(DEFAULT_LINK_CACHE_TTL);
        logins.link(link_to(account()), now()).await.unwrap();
        assert_eq!(links.len(), 1);
        for claim in [AccountClaim::Absent, AccountClaim::Names(account())] {
            let caller = logins.resolve(token(claim), now()).await.unwrap();
            assert_eq!(caller.account_id, Some(account()));
        }
        for claim in [
            AccountClaim::Names(other_account()),
            AccountClaim::Malformed,
        ] {
            let err = logins.resolve(token(claim), now()).await.unwrap_err();
            assert!(matches!(err, PortalError::AccountMismatch), "{err:?}");
        }
    }

    #[tokio::test]
    async fn when_a_second_link_is_written_should_keep_the_first() {
        let (_, _, logins) = world(DEFAULT_LINK_CACHE_TTL);
        logins.link(link_to(account()), now()).await.unwrap();
        let kept = logins.link(link_to(other_account()), now()).await.unwrap();
        assert_eq!(kept.account_id, account());
        let caller = logins
            .resolve(token(AccountClaim::Absent), now())
            .await
            .unwrap();
        assert_eq!(caller.account_id, Some(account()));
    }

    #[tokio::test]
    async fn when_the_account_is_deactivated_should_refuse_once_the_cache_lapses() {
        let (links, statuses, logins) = world(Duration::from_secs(60));
        links.create(&link_to(account())).await.unwrap();
        let caller = logins
            .resolve(token(AccountClaim::Absent), now())
            .await
            .unwrap();
        assert_eq!(caller.account_id, Some(account()));
        statuses.record(&account(), true, now()).await.unwrap();
        // Within the TTL the cached resolution stands…
        let later = now() + TimeDelta::seconds(59);
        assert!(
            logins
                .resolve(token(AccountClaim::Absent), later)
                .await
                .is_ok()
        );
        // …and after it the deactivation is seen.
        let after = now() + TimeDelta::seconds(60);
        let err = logins
            .resolve(token(AccountClaim::Absent), after)
            .await
            .unwrap_err();
        assert!(matches!(err, PortalError::AccountInactive), "{err:?}");
    }

    #[tokio::test]
    async fn when_another_container_links_the_login_should_see_it_at_once() {
        let (links, _, logins) = world(DEFAULT_LINK_CACHE_TTL);
        let before = logins
            .resolve(token(AccountClaim::Absent), now())
            .await
            .unwrap();
        assert_eq!(before.account_id, None);
        links.create(&link_to(account())).await.unwrap();
        let after = logins
            .resolve(token(AccountClaim::Absent), now())
            .await
            .unwrap();
        assert_eq!(after.account_id, Some(account()));
    }
}
