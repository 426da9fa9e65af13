//! `POST /registrations`: link the caller's login to a Salesforce Account —
//! an Account it proves it owns, or a new one.
//!
//! Rules (issues 3 and 10):
//! - Every registration needs an e-mail the identity provider verified
//!   ([`PortalError::EmailNotVerified`] otherwise, before anything is read).
//! - A login already linked gets its link back ([`Registration::Linked`] with
//!   [`Outcome::Existing`], → 200); nothing is written, whatever the body says.
//! - With a customer number, the Account with that `SF_Account_No__c` is
//!   linked at once only when the login's verified e-mail is (case-insensitively,
//!   trimmed) the e-mail of a Contact already on it. It becomes `Active` in the
//!   portal (source `Legacy`) unless it already is, its Contact is kept.
//!   Otherwise — the number is unknown, or taken, or nobody on it has that
//!   e-mail — the answer is the same ([`Registration::AwaitingStaff`], → 202),
//!   and, when the number exists, an `ID Verification` Case on that Account
//!   tells staff who asked and what to do (add the person's e-mail as a Contact;
//!   registering again then links). Nothing else is written.
//! - Without a number: a Contact of the verified e-mail on an `Active` Account
//!   links that Account (nothing written in Salesforce); otherwise a new Account
//!   (`Portal Signup`, or `Portal Checkout` with `"source": "checkout"`),
//!   `Active`, with its Contact, is created and linked.
//! - An Account staff deactivated (`Portal_Status__c = Inactive`) is never
//!   re-activated by a registration: a login that proved it owns one gets
//!   [`PortalError::AccountInactive`] (→ 403).
//! - The link item is written after the Salesforce write, with a condition
//!   (one login, one Account, never overwritten). If it cannot be written the
//!   answer is an error and a retry links the records already written (the
//!   login's verified e-mail is on them).
//!
//! Decisions where the issue is silent:
//! - A new Account is named after the company when given, else
//!   `"{firstName} {lastName}"`; its phone is the body's phone; it has no
//!   customer number (CS assigns `SF_Account_No__c`), so `customerNumber` is
//!   `null` until then.
//! - A linked Account keeps its name, phone and number: only
//!   `Portal_Status__c` and `Portal_Registration_Source__c` change.
//! - `registrationSource` in the response is the Salesforce value
//!   (`Legacy`, `Portal Signup`, `Portal Checkout`).
//! - The token's account claim is not how an Account is obtained: only the
//!   link is (it must agree with the link once there is one; see [`super::login`]).

use serde::{Deserialize, Serialize};

use chrono::{DateTime, Utc};

use crate::domain::{
    AccountId, CaseType, CompanyName, ContactId, CustomerNumber, Email, FieldError, FieldErrors,
    FirstName, LastName, PersonName, PhoneNumber, PortalStatus, RegistrationSource,
};
use crate::ports::{InactiveAccounts, LinkMethod, LoginLink, LoginLinks};

use super::caller::Caller;
use super::error::PortalError;
use super::login::Logins;
use super::plans::{CaseOpportunity, NewCase, Outcome};
use super::ports::RegistrationDirectory;

/// The raw body of `POST /registrations`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationRequest {
    /// Given name, 1..=40 characters.
    pub first_name: Option<String>,
    /// Family name, 1..=80 characters.
    pub last_name: Option<String>,
    /// Phone, optional.
    pub phone: Option<String>,
    /// Company, optional, at most 255 characters.
    pub company_name: Option<String>,
    /// An existing customer's number, to link their Account.
    pub customer_number: Option<String>,
    /// `signup` (default) or `checkout`.
    pub source: Option<String>,
}

/// A checked registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationCommand {
    /// The person.
    pub name: PersonName,
    /// Phone.
    pub phone: Option<PhoneNumber>,
    /// Company.
    pub company_name: Option<CompanyName>,
    /// Customer number to link.
    pub customer_number: Option<CustomerNumber>,
    /// `Portal Signup` or `Portal Checkout` for a new Account.
    pub source: RegistrationSource,
}

impl RegistrationRequest {
    /// Checks every field; blank optional fields count as absent.
    pub fn parse(self) -> Result<RegistrationCommand, Vec<FieldError>> {
        let mut errors = FieldErrors::new();
        let first = errors.required("firstName", self.first_name.as_deref(), FirstName::parse);
        let last = errors.required("lastName", self.last_name.as_deref(), LastName::parse);
        let phone = errors.optional("phone", self.phone.as_deref(), PhoneNumber::parse);
        let company = errors.optional(
            "companyName",
            self.company_name.as_deref(),
            CompanyName::parse,
        );
        let number = errors.optional(
            "customerNumber",
            self.customer_number.as_deref(),
            CustomerNumber::parse,
        );
        let source = errors
            .optional(
                "source",
                self.source.as_deref(),
                RegistrationSource::from_body,
            )
            .map(|s| s.unwrap_or(RegistrationSource::PortalSignup));
        match (first, last, phone, company, number, source) {
            (
                Some(first),
                Some(last),
                Some(phone),
                Some(company_name),
                Some(customer_number),
                Some(source),
            ) if errors.is_empty() => Ok(RegistrationCommand {
                name: PersonName { first, last },
                phone,
                company_name,
                customer_number,
                source,
            }),
            _ => Err(errors.into_vec()),
        }
    }
}

/// The body of the response (201, or 200 when already registered).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationResponse {
    /// The Account.
    pub account_id: AccountId,
    /// The caller's Contact.
    pub contact_id: ContactId,
    /// `SF_Account_No__c`, `null` until CS assigns one.
    pub customer_number: Option<CustomerNumber>,
    /// `Portal_Registration_Source__c`.
    pub registration_source: Option<RegistrationSource>,
}

/// A Contact having the caller's e-mail, with its Account's portal fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactMatch {
    /// The Contact.
    pub contact_id: ContactId,
    /// Its `Email`, as stored.
    pub email: String,
    /// Its Account.
    pub account_id: AccountId,
    /// The Account's `Portal_Status__c`.
    pub portal_status: Option<PortalStatus>,
    /// The Account's `SF_Account_No__c`.
    pub customer_number: Option<CustomerNumber>,
    /// The Account's `Portal_Registration_Source__c`.
    pub registration_source: Option<RegistrationSource>,
}

impl ContactMatch {
    /// Whether this Contact's e-mail is `email`, trimmed and case-insensitively.
    pub fn has_email(&self, email: &Email) -> bool {
        self.email.trim().to_lowercase() == email.as_str().trim().to_lowercase()
    }
}

/// The Account found by customer number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountMatch {
    /// The Account.
    pub account_id: AccountId,
    /// Its `SF_Account_No__c`.
    pub customer_number: CustomerNumber,
    /// Its `Portal_Status__c`.
    pub portal_status: Option<PortalStatus>,
}

/// What the one read of a registration returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistrationLookup {
    /// Every Contact whose `Email` is the caller's (oldest first).
    pub contacts: Vec<ContactMatch>,
    /// The Account whose `SF_Account_No__c` is the body's customer number,
    /// when one was given and exists.
    pub account_by_number: Option<AccountMatch>,
}

/// A Contact to create on the plan's Account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewContact {
    /// `FirstName`.
    pub first_name: FirstName,
    /// `LastName`.
    pub last_name: LastName,
    /// `Email`: the token's (verified).
    pub email: Email,
    /// `Phone`.
    pub phone: Option<PhoneNumber>,
}

/// A new Account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAccount {
    /// `Name`.
    pub name: String,
    /// `Phone`.
    pub phone: Option<PhoneNumber>,
    /// `Portal_Status__c`: `Active`.
    pub portal_status: PortalStatus,
    /// `Portal_Registration_Source__c`: `Portal Signup` or `Portal Checkout`.
    pub registration_source: RegistrationSource,
}

/// The one Salesforce write of a registration that links an Account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistrationPlan {
    /// Create an Account and its Contact (`Contact.AccountId` = the new Account).
    CreateAccount {
        /// The Account.
        account: NewAccount,
        /// Its Contact.
        contact: NewContact,
    },
    /// Make an existing Account the caller proved they own `Active` in the
    /// portal; its Contact of the caller's e-mail is kept as it is.
    LinkAccount {
        /// The Account.
        account_id: AccountId,
        /// The caller's Contact on it (unchanged).
        contact_id: ContactId,
        /// `Portal_Status__c`: `Active`.
        portal_status: PortalStatus,
        /// `Portal_Registration_Source__c`: `Legacy`.
        registration_source: RegistrationSource,
    },
}

/// The ids a registration write ends with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registered {
    /// The Account.
    pub account_id: AccountId,
    /// The Contact.
    pub contact_id: ContactId,
}

/// The body of a 202: the login is not linked; staff will look at the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LinkPending {
    /// Always [`LinkPending::STATUS`]: the answer never says whether the
    /// customer number exists, is taken or is unknown.
    pub status: &'static str,
}

impl LinkPending {
    /// The one status of the answer.
    pub const STATUS: &'static str = "pending-verification";
}

impl Default for LinkPending {
    fn default() -> Self {
        Self {
            status: Self::STATUS,
        }
    }
}

/// The result of a registration.
#[derive(Debug, Clone, PartialEq)]
pub enum Registration {
    /// The login is linked: newly ([`Outcome::Created`], → 201) or already
    /// ([`Outcome::Existing`], → 200).
    Linked(Outcome<RegistrationResponse>),
    /// Not linked: the request awaits staff (→ 202).
    AwaitingStaff(LinkPending),
}

/// What a registration decides from the lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistrationDecision {
    /// Link these existing records: nothing to write in Salesforce.
    LinkExisting(RegistrationResponse),
    /// Write this plan, then link its records.
    Write {
        /// The write.
        plan: RegistrationPlan,
        /// The customer number of the Account it links (`None` for a new one).
        customer_number: Option<CustomerNumber>,
    },
    /// Link nothing; open this Case for staff (when the number exists).
    AwaitStaff(Option<NewCase>),
}

/// The Case telling staff that `caller` asked to be linked to `account` and
/// could not prove it.
pub fn link_request_case(
    caller: &Caller,
    command: &RegistrationCommand,
    account: &AccountMatch,
) -> NewCase {
    let phone = command
        .phone
        .as_ref()
        .map_or("(none given)", PhoneNumber::as_str);
    let description = format!(
        "A portal login asked to be linked to this Account with its customer number {number}, \
         but its verified e-mail address is not the e-mail of any Contact of this Account, \
         so the portal did not link it.\n\n\
         Name: {first} {last}\nE-mail (verified by the identity provider): {email}\n\
         Phone: {phone}\nPortal login: {login}\n\n\
         To do: check that this person is this customer (call the Account's phone on record). \
         If they are, add their e-mail address to their Contact on this Account (or add them as a \
         new Contact with that e-mail) and ask them to register again with the same customer \
         number: the portal then links their login at once. If they are not, close this Case.",
        number = account.customer_number,
        first = command.name.first,
        last = command.name.last,
        email = caller.email,
        login = caller.login,
    );
    NewCase::portal(
        account.account_id.clone(),
        CaseOpportunity::None,
        CaseType::IdVerification,
        format!(
            "Portal link request for customer number {}",
            account.customer_number
        ),
        description,
    )
}

/// The pure decision of a registration by a login that is not linked yet.
pub fn decide_registration(
    caller: &Caller,
    command: RegistrationCommand,
    lookup: RegistrationLookup,
) -> Result<RegistrationDecision, PortalError> {
    let mine = |c: &&ContactMatch| c.has_email(&caller.email);
    if command.customer_number.is_some() {
        let Some(account) = lookup.account_by_number else {
            return Ok(RegistrationDecision::AwaitStaff(None));
        };
        let proof = lookup
            .contacts
            .iter()
            .filter(mine)
            .find(|c| c.account_id == account.account_id);
        let Some(contact) = proof else {
            let case = link_request_case(caller, &command, &account);
            return Ok(RegistrationDecision::AwaitStaff(Some(case)));
        };
        return match account.portal_status {
            Some(PortalStatus::Inactive) => Err(PortalError::AccountInactive),
            Some(PortalStatus::Active) => {
                Ok(RegistrationDecision::LinkExisting(RegistrationResponse {
                    account_id: account.account_id,
                    contact_id: contact.contact_id.clone(),
                    customer_number: Some(account.customer_number),
                    registration_source: contact.registration_source,
                }))
            }
            None => Ok(RegistrationDecision::Write {
                plan: RegistrationPlan::LinkAccount {
                    account_id: account.account_id,
                    contact_id: contact.contact_id.clone(),
                    portal_status: PortalStatus::Active,
                    registration_source: RegistrationSource::Legacy,
                },
                customer_number: Some(account.customer_number),
            }),
        };
    }
    let active = lookup
        .contacts
        .iter()
        .filter(mine)
        .find(|c| c.portal_status == Some(PortalStatus::Active));
    if let Some(existing) = active {
        return Ok(RegistrationDecision::LinkExisting(RegistrationResponse {
            account_id: existing.account_id.clone(),
            contact_id: existing.contact_id.clone(),
            customer_number: existing.customer_number.clone(),
            registration_source: existing.registration_source,
        }));
    }
    if lookup
        .contacts
        .iter()
        .filter(mine)
        .any(|c| c.portal_status == Some(PortalStatus::Inactive))
    {
        return Err(PortalError::AccountInactive);
    }
    let name = command
        .company_name
        .as_ref()
        .map_or_else(|| command.name.full_name(), |c| c.as_str().to_owned());
    Ok(RegistrationDecision::Write {
        plan: RegistrationPlan::CreateAccount {
            account: NewAccount {
                name,
                phone: command.phone.clone(),
                portal_status: PortalStatus::Active,
                registration_source: command.source,
            },
            contact: NewContact {
                first_name: command.name.first,
                last_name: command.name.last,
                email: caller.email.clone(),
                phone: command.phone,
            },
        },
        customer_number: None,
    })
}

/// The response of an existing `link`, completed from the lookup when it
/// has the Account's fields.
fn linked_response(link: &LoginLink, lookup: &RegistrationLookup) -> RegistrationResponse {
    let on_account = lookup
        .contacts
        .iter()
        .find(|c| c.account_id == link.account_id);
    RegistrationResponse {
        account_id: link.account_id.clone(),
        contact_id: link.contact_id.clone(),
        customer_number: on_account.and_then(|c| c.customer_number.clone()),
        registration_source: on_account.and_then(|c| c.registration_source),
    }
}

/// Registers the caller: one read, a pure decision, at most one Salesforce
/// write, then the link item.
#[tracing::instrument(name = "register", skip_all)]
pub async fn register<D, L, A>(
    directory: &D,
    logins: &Logins<L, A>,
    caller: &Caller,
    body: RegistrationRequest,
    now: DateTime<Utc>,
) -> Result<Registration, PortalError>
where
    D: RegistrationDirectory,
    L: LoginLinks,
    A: InactiveAccounts,
{
    if !caller.email_verified {
        tracing::info!("registration refused: the e-mail is not verified");
        return Err(PortalError::EmailNotVerified);
    }
    let command = body.parse()?;
    if let Some(link) = logins.link_of(&caller.login, now).await? {
        let lookup = directory.lookup(&caller.email, None).await?;
        tracing::info!(account_id = %link.account_id, "already registered");
        return Ok(Registration::Linked(Outcome::Existing(linked_response(
            &link, &lookup,
        ))));
    }
    let lookup = directory
        .lookup(&caller.email, command.customer_number.as_ref())
        .await?;
    let (response, method) = match decide_registration(caller, command, lookup)? {
        RegistrationDecision::AwaitStaff(case) => {
            if let Some(case) = case {
                let case_id = directory.open_link_case(&case).await?;
                tracing::info!(account_id = %case.account_id, case_id = %case_id, "link request left for staff");
            } else {
                tracing::info!("link request for an unknown customer number");
            }
            return Ok(Registration::AwaitingStaff(LinkPending::default()));
        }
        RegistrationDecision::LinkExisting(response) => (response, LinkMethod::VerifiedEmail),
        RegistrationDecision::Write {
            plan,
            customer_number,
        } => {
            let (registration_source, method) = match &plan {
                RegistrationPlan::CreateAccount { account, .. } => {
                    (account.registration_source, LinkMethod::NewAccount)
                }
                RegistrationPlan::LinkAccount {
                    registration_source,
                    ..
                } => (*registration_source, LinkMethod::VerifiedEmail),
            };
            let registered = directory.register(&plan).await?;
            tracing::info!(account_id = %registered.account_id, source = %registration_source, "registered");
            (
                RegistrationResponse {
                    account_id: registered.account_id,
                    contact_id: registered.contact_id,
                    customer_number,
                    registration_source: Some(registration_source),
                },
                method,
            )
        }
    };
    let intended = LoginLink {
        login: caller.login.clone(),
        account_id: response.account_id.clone(),
        contact_id: response.contact_id.clone(),
        linked_at: now,
        method,
    };
    let link = logins.link(intended, now).await?;
    if link.account_id == response.account_id {
        Ok(Registration::Linked(Outcome::Created(response)))
    } else {
        Ok(Registration::Linked(Outcome::Existing(
            RegistrationResponse {
                account_id: link.account_id,
                contact_id: link.contact_id,
                customer_number: None,
                registration_source: None,
            },
        )))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::domain::Login;
    use crate::portal::fake::*;
    use crate::portal::login::DEFAULT_LINK_CACHE_TTL;
    use crate::ports::memory::{InMemoryAccountStatuses, InMemoryLoginLinks};
    use crate::ports::{LinkCreation, StoreError};

    type TestLogins = Logins<Arc<InMemoryLoginLinks>, Arc<InMemoryAccountStatuses>>;

    fn logins() -> (Arc<InMemoryLoginLinks>, TestLogins) {
        let links = Arc::new(InMemoryLoginLinks::new());
        let statuses = Arc::new(InMemoryAccountStatuses::new());
        let logins = Logins::new(Arc::clone(&links), statuses, DEFAULT_LINK_CACHE_TTL);
        (links, logins)
    }

    fn body() -> RegistrationRequest {
        RegistrationRequest {
            first_name: Some(" Hanako ".into()),
            last_name: Some("Yamada".into()),
            phone: Some("+81 3-1234-5678".into()),
            ..RegistrationRequest::default()
        }
    }

    fn with_number(number: &str) -> RegistrationRequest {
        RegistrationRequest {
            customer_number: Some(number.into()),
            ..body()
        }
    }

    fn new_contact() -> NewContact {
        NewContact {
            first_name: FirstName::parse("Hanako").unwrap(),
            last_name: LastName::parse("Yamada").unwrap(),
            email: Email::parse("hanako@example.jp").unwrap(),
            phone: Some(PhoneNumber::parse("+81 3-1234-5678").unwrap()),
        }
    }

    fn number() -> CustomerNumber {
        CustomerNumber::parse("C-0001").unwrap()
    }

    fn legacy_account(portal_status: Option<PortalStatus>) -> AccountMatch {
        AccountMatch {
            account_id: other_account(),
            customer_number: number(),
            portal_status,
        }
    }

    /// A Contact with `email` on the numbered Account.
    fn contact_on_legacy(email: &str, portal_status: Option<PortalStatus>) -> ContactMatch {
        ContactMatch {
            contact_id: contact(),
            email: email.to_owned(),
            account_id: other_account(),
            portal_status,
            customer_number: Some(number()),
            registration_source: None,
        }
    }

    fn org_with(contacts: Vec<ContactMatch>, account: Option<AccountMatch>) -> FakeOrg {
        FakeOrg {
            registration: RegistrationLookup {
                contacts,
                account_by_number: account,
            },
            ..FakeOrg::default()
        }
    }

    fn linked(outcome: Registration) -> Outcome<RegistrationResponse> {
        match outcome {
            Registration::Linked(outcome) => outcome,
            other => panic!("expected a link, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn when_every_field_is_bad_should_list_them_all_and_call_nothing() {
        let org = FakeOrg::default();
        let (links, logins) = logins();
        let bad = RegistrationRequest {
            first_name: None,
            last_name: Some("x".repeat(81)),
            phone: Some("12".into()),
            company_name: Some("Acme\u{0}".into()),
            customer_number: Some("C 1".into()),
            source: Some("web".into()),
        };
        let fields = invalid_fields(register(&org, &logins, &unlinked_caller(), bad, now()).await);
        assert_eq!(
            fields,
            [
                "firstName",
                "lastName",
                "phone",
                "companyName",
                "customerNumber",
                "source"
            ]
        );
        assert!(org.calls().is_empty());
        assert!(links.is_empty());
    }

    #[tokio::test]
    async fn when_the_email_is_not_verified_should_refuse_before_reading_anything() {
        let org = org_with(
            vec![contact_on_legacy("hanako@example.jp", None)],
            Some(legacy_account(None)),
        );
        let (links, logins) = logins();
        let unverified = Caller {
            email_verified: false,
            ..unlinked_caller()
        };
        for request in [body(), with_number("C-0001")] {
            let err = register(&org, &logins, &unverified, request, now())
                .await
                .unwrap_err();
            assert!(matches!(err, PortalError::EmailNotVerified), "{err:?}");
        }
        assert!(org.calls().is_empty());
        assert!(links.is_empty());
    }

    #[tokio::test]
    async fn when_a_new_customer_signs_up_should_create_an_active_account_and_link_the_login() {
        let org = FakeOrg::default();
        let (links, logins) = logins();
        let outcome = linked(
            register(&org, &logins, &unlinked_caller(), body(), now())
                .await
                .unwrap(),
        );
        assert!(outcome.is_created());
        assert_eq!(
            org.writes(),
            vec![Call::Register(RegistrationPlan::CreateAccount {
                account: NewAccount {
                    name: "Hanako Yamada".into(),
                    phone: Some(PhoneNumber::parse("+81 3-1234-5678").unwrap()),
                    portal_status: PortalStatus::Active,
                    registration_source: RegistrationSource::PortalSignup,
                },
                contact: new_contact(),
            })]
        );
        assert_eq!(org.reads(), 1);
        assert_eq!(
            serde_json::to_value(outcome.body()).unwrap(),
            serde_json::json!({
                "accountId": written_account().as_str(),
                "contactId": written_contact().as_str(),
                "customerNumber": null,
                "registrationSource": "Portal Signup",
            })
        );
        let link = links
            .link_of(&unlinked_caller().login)
            .await
            .unwrap()
            .expect("the login is linked");
        assert_eq!(link.account_id, written_account());
        assert_eq!(link.contact_id, written_contact());
        assert_eq!(link.method, LinkMethod::NewAccount);
        assert_eq!(link.linked_at, now());
    }

    #[tokio::test]
    async fn when_registering_at_checkout_with_a_company_should_use_portal_checkout_and_the_company_name()
     {
        let org = FakeOrg::default();
        let (_, logins) = logins();
        let request = RegistrationRequest {
            company_name: Some("Acme KK".into()),
            source: Some("checkout".into()),
            ..body()
        };
        register(&org, &logins, &unlinked_caller(), request, now())
            .await
            .unwrap();
        let Call::Register(RegistrationPlan::CreateAccount { account, .. }) = org.only_write()
        else {
            panic!("expected one account creation: {:?}", org.writes());
        };
        assert_eq!(account.name, "Acme KK");
        assert_eq!(
            account.registration_source,
            RegistrationSource::PortalCheckout
        );
    }

    #[tokio::test]
    async fn when_the_login_is_already_linked_should_return_its_link_and_write_nothing() {
        let org = org_with(
            vec![ContactMatch {
                contact_id: contact(),
                email: "hanako@example.jp".into(),
                account_id: account(),
                portal_status: Some(PortalStatus::Active),
                customer_number: Some(number()),
                registration_source: Some(RegistrationSource::PortalSignup),
            }],
            None,
        );
        let (links, logins) = logins();
        logins
            .link(
                LoginLink {
                    login: caller().login,
                    account_id: account(),
                    contact_id: contact(),
                    linked_at: now(),
                    method: LinkMethod::NewAccount,
                },
                now(),
            )
            .await
            .unwrap();
        // Even with another customer's number: one login, one Account.
        let outcome = register(&org, &logins, &caller(), with_number("C-0002"), now())
            .await
            .unwrap();
        assert_eq!(
            outcome,
            Registration::Linked(Outcome::Existing(RegistrationResponse {
                account_id: account(),
                contact_id: contact(),
                customer_number: Some(number()),
                registration_source: Some(RegistrationSource::PortalSignup),
            }))
        );
        assert!(org.writes().is_empty());
        assert_eq!(org.calls(), vec![Call::Lookup(None)]);
        assert_eq!(links.len(), 1);
    }

    #[tokio::test]
    async fn when_the_number_matches_and_a_contact_has_the_verified_email_should_link_as_legacy() {
        // The Contact's e-mail differs in case and spaces only.
        let org = org_with(
            vec![contact_on_legacy(" Hanako@Example.JP ", None)],
            Some(legacy_account(None)),
        );
        let (links, logins) = logins();
        let request = RegistrationRequest {
            customer_number: Some(" C-0001 ".into()),
            source: Some("checkout".into()),
            ..body()
        };
        let outcome = linked(
            register(&org, &logins, &unlinked_caller(), request, now())
                .await
                .unwrap(),
        );
        assert_eq!(org.calls()[0], Call::Lookup(Some(number())));
        assert_eq!(
            org.writes(),
            vec![Call::Register(RegistrationPlan::LinkAccount {
                account_id: other_account(),
                contact_id: contact(),
                portal_status: PortalStatus::Active,
                registration_source: RegistrationSource::Legacy,
            })]
        );
        assert!(outcome.is_created());
        let body = outcome.into_body();
        assert_eq!(body.account_id, other_account());
        assert_eq!(body.contact_id, contact());
        assert_eq!(body.registration_source, Some(RegistrationSource::Legacy));
        assert_eq!(body.customer_number, Some(number()));
        let link = links
            .link_of(&unlinked_caller().login)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(link.account_id, other_account());
        assert_eq!(link.method, LinkMethod::VerifiedEmail);
    }

    #[tokio::test]
    async fn when_the_proved_account_is_already_active_should_link_without_writing_to_salesforce() {
        let org = org_with(
            vec![contact_on_legacy(
                "hanako@example.jp",
                Some(PortalStatus::Active),
            )],
            Some(legacy_account(Some(PortalStatus::Active))),
        );
        let (links, logins) = logins();
        let outcome = linked(
            register(
                &org,
                &logins,
                &unlinked_caller(),
                with_number("C-0001"),
                now(),
            )
            .await
            .unwrap(),
        );
        assert!(outcome.is_created());
        assert_eq!(outcome.body().account_id, other_account());
        assert!(org.writes().is_empty());
        assert_eq!(links.len(), 1);
    }

    /// The three ways a number does not prove anything, with their Salesforce data.
    fn takeover_attempts() -> Vec<(&'static str, FakeOrg)> {
        vec![
            (
                "a known number, nobody on it has the caller's e-mail",
                org_with(vec![], Some(legacy_account(None))),
            ),
            (
                "a number already linked to another login",
                org_with(vec![], Some(legacy_account(Some(PortalStatus::Active)))),
            ),
            (
                "a known but deactivated number",
                org_with(vec![], Some(legacy_account(Some(PortalStatus::Inactive)))),
            ),
            (
                "the caller's e-mail on another Account",
                org_with(
                    vec![ContactMatch {
                        account_id: account(),
                        ..contact_on_legacy("hanako@example.jp", Some(PortalStatus::Active))
                    }],
                    Some(legacy_account(None)),
                ),
            ),
            ("an unknown number", FakeOrg::default()),
        ]
    }

    #[tokio::test]
    async fn when_the_number_is_not_proved_should_answer_the_same_and_only_open_a_staff_case() {
        for (what, org) in takeover_attempts() {
            let (links, logins) = logins();
            let outcome = register(
                &org,
                &logins,
                &unlinked_caller(),
                with_number("C-0001"),
                now(),
            )
            .await
            .unwrap();
            assert_eq!(
                outcome,
                Registration::AwaitingStaff(LinkPending::default()),
                "{what}"
            );
            assert!(links.is_empty(), "{what}: nothing linked");
            let writes = org.writes();
            if what == "an unknown number" {
                assert!(writes.is_empty(), "{what}: {writes:?}");
                continue;
            }
            let [Call::OpenLinkCase(case)] = writes.as_slice() else {
                panic!("{what}: expected only the staff Case, got {writes:?}");
            };
            assert_eq!(case.account_id, other_account(), "{what}");
            assert_eq!(case.case_type, CaseType::IdVerification);
            for who in [
                "Hanako Yamada",
                "hanako@example.jp",
                "+81 3-1234-5678",
                "auth0|hanako",
            ] {
                assert!(case.description.contains(who), "{what}: {who} missing");
            }
            assert!(case.description.contains("register again"), "{what}");
        }
    }

    #[tokio::test]
    async fn when_a_proved_account_is_deactivated_should_refuse_and_never_reactivate_it() {
        let cases = [
            org_with(
                vec![contact_on_legacy(
                    "hanako@example.jp",
                    Some(PortalStatus::Inactive),
                )],
                Some(legacy_account(Some(PortalStatus::Inactive))),
            ),
            org_with(
                vec![contact_on_legacy(
                    "hanako@example.jp",
                    Some(PortalStatus::Inactive),
                )],
                None,
            ),
        ];
        for (i, org) in cases.into_iter().enumerate() {
            let (links, logins) = logins();
            let request = if i == 0 {
                with_number("C-0001")
            } else {
                body()
            };
            let err = register(&org, &logins, &unlinked_caller(), request, now())
                .await
                .unwrap_err();
            assert!(matches!(err, PortalError::AccountInactive), "{err:?}");
            assert!(org.writes().is_empty());
            assert!(links.is_empty());
        }
    }

    #[tokio::test]
    async fn when_the_verified_email_is_on_an_active_account_should_link_it_without_a_number() {
        let org = org_with(
            vec![contact_on_legacy(
                "hanako@example.jp",
                Some(PortalStatus::Active),
            )],
            None,
        );
        let (links, logins) = logins();
        let outcome = linked(
            register(&org, &logins, &unlinked_caller(), body(), now())
                .await
                .unwrap(),
        );
        assert!(outcome.is_created());
        assert_eq!(outcome.body().account_id, other_account());
        assert!(org.writes().is_empty());
        assert_eq!(links.len(), 1);
    }

    #[tokio::test]
    async fn when_the_write_is_unavailable_should_surface_a_retryable_upstream_error_and_link_nothing()
     {
        let org = FakeOrg {
            writes_unavailable: true,
            ..FakeOrg::default()
        };
        let (links, logins) = logins();
        let err = register(&org, &logins, &unlinked_caller(), body(), now())
            .await
            .unwrap_err();
        let PortalError::Upstream(port) = err else {
            panic!("expected an upstream error, got {err:?}");
        };
        assert!(port.is_retryable());
        assert!(links.is_empty());
    }

    /// Links that every container reads as "none yet" (a race between two
    /// first registrations): only the conditional write decides.
    #[derive(Default)]
    struct StaleLinks(InMemoryLoginLinks);

    impl LoginLinks for StaleLinks {
        async fn link_of(&self, _login: &Login) -> Result<Option<LoginLink>, StoreError> {
            Ok(None)
        }

        async fn create(&self, link: &LoginLink) -> Result<LinkCreation, StoreError> {
            self.0.create(link).await
        }
    }

    #[tokio::test]
    async fn when_two_first_registrations_of_one_login_race_should_make_one_link() {
        let links = Arc::new(StaleLinks::default());
        let first = Logins::new(
            Arc::clone(&links),
            InMemoryAccountStatuses::new(),
            std::time::Duration::ZERO,
        );
        let second = Logins::new(
            Arc::clone(&links),
            InMemoryAccountStatuses::new(),
            std::time::Duration::ZERO,
        );
        let org = FakeOrg::default();
        let a = linked(
            register(&org, &first, &unlinked_caller(), body(), now())
                .await
                .unwrap(),
        );
        let other = FakeOrg {
            new_account: Some(AccountId::parse("001000000000077").unwrap()),
            ..FakeOrg::default()
        };
        let b = register(&other, &second, &unlinked_caller(), body(), now())
            .await
            .unwrap();
        assert!(a.is_created());
        let b = linked(b);
        assert!(!b.is_created(), "the second finds the first link");
        assert_eq!(b.body().account_id, a.body().account_id);
        assert_eq!(links.0.len(), 1);
    }
}
