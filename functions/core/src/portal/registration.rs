//! `POST /registrations`: link the caller's login to a Salesforce Account.
//!
//! Rules (issue 3):
//! - The e-mail comes from the verified token; the body gives the names,
//!   phone, company and optionally a customer number.
//! - Already registered — a Contact with the caller's e-mail on an Account
//!   whose `Portal_Status__c` is `Active` — returns those records
//!   ([`Outcome::Existing`], → 200) and writes nothing: never a second Account
//!   or Contact.
//! - With a customer number: the Account with that `SF_Account_No__c` is
//!   linked (`Legacy`, `Active`); a Contact of the caller's e-mail already on
//!   it is reused, else one is created. An unknown number is a field error; an
//!   Account already `Active` in the portal (another login) is a conflict.
//! - Otherwise: a new Account (`Portal Signup`, or `Portal Checkout` when the
//!   body says `"source": "checkout"`), `Active`, with its Contact.
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
//! - The token's account claim is ignored here: registration is how it is obtained.

use std::future::Future;

use serde::{Deserialize, Serialize};

use crate::domain::{
    AccountId, CompanyName, ContactId, CustomerNumber, Email, FieldError, FieldErrors, FirstName,
    LastName, PersonName, PhoneNumber, PortalStatus, RegistrationSource,
};

use super::caller::Caller;
use super::error::{ConflictReason, PortError, PortalError};
use super::plans::Outcome;

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
    /// Its Account.
    pub account_id: AccountId,
    /// The Account's `Portal_Status__c`.
    pub portal_status: Option<PortalStatus>,
    /// The Account's `SF_Account_No__c`.
    pub customer_number: Option<CustomerNumber>,
    /// The Account's `Portal_Registration_Source__c`.
    pub registration_source: Option<RegistrationSource>,
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
    /// `Email`: the token's.
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

/// What to do with the caller's Contact on a linked Account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContactPlan {
    /// Keep the existing Contact of the caller's e-mail.
    Keep(ContactId),
    /// Create one on the Account.
    Create(NewContact),
}

/// The one write of a registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistrationPlan {
    /// Create an Account and its Contact (`Contact.AccountId` = the new Account).
    CreateAccount {
        /// The Account.
        account: NewAccount,
        /// Its Contact.
        contact: NewContact,
    },
    /// Update an existing Account and create or keep the Contact.
    LinkAccount {
        /// The Account.
        account_id: AccountId,
        /// `Portal_Status__c`: `Active`.
        portal_status: PortalStatus,
        /// `Portal_Registration_Source__c`: `Legacy`.
        registration_source: RegistrationSource,
        /// The Contact.
        contact: ContactPlan,
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

/// Reads and writes the registration records (Account, Contact).
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
}

/// What a registration decides from the lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistrationDecision {
    /// Already registered: answer with these records, write nothing.
    AlreadyRegistered(RegistrationResponse),
    /// Write this plan.
    Write(RegistrationPlan),
}

/// The pure decision of a registration.
pub fn decide_registration(
    email: &Email,
    command: RegistrationCommand,
    lookup: RegistrationLookup,
) -> Result<RegistrationDecision, PortalError> {
    let active = lookup
        .contacts
        .iter()
        .find(|c| c.portal_status == Some(PortalStatus::Active));
    if let Some(existing) = active {
        return Ok(RegistrationDecision::AlreadyRegistered(
            RegistrationResponse {
                account_id: existing.account_id.clone(),
                contact_id: existing.contact_id.clone(),
                customer_number: existing.customer_number.clone(),
                registration_source: existing.registration_source,
            },
        ));
    }
    let new_contact = NewContact {
        first_name: command.name.first.clone(),
        last_name: command.name.last.clone(),
        email: email.clone(),
        phone: command.phone.clone(),
    };
    if command.customer_number.is_some() {
        let Some(account) = lookup.account_by_number else {
            return Err(PortalError::Validation(vec![FieldError::new(
                "customerNumber",
                "does not match any customer account",
            )]));
        };
        if account.portal_status == Some(PortalStatus::Active) {
            return Err(PortalError::conflict(ConflictReason::CustomerNumberTaken));
        }
        let contact = lookup
            .contacts
            .iter()
            .find(|c| c.account_id == account.account_id)
            .map_or(ContactPlan::Create(new_contact), |c| {
                ContactPlan::Keep(c.contact_id.clone())
            });
        return Ok(RegistrationDecision::Write(RegistrationPlan::LinkAccount {
            account_id: account.account_id,
            portal_status: PortalStatus::Active,
            registration_source: RegistrationSource::Legacy,
            contact,
        }));
    }
    let name = command
        .company_name
        .as_ref()
        .map_or_else(|| command.name.full_name(), |c| c.as_str().to_owned());
    Ok(RegistrationDecision::Write(
        RegistrationPlan::CreateAccount {
            account: NewAccount {
                name,
                phone: command.phone,
                portal_status: PortalStatus::Active,
                registration_source: command.source,
            },
            contact: new_contact,
        },
    ))
}

/// Registers the caller: one read, a pure decision, at most one write.
#[tracing::instrument(name = "register", skip_all, fields(subject = %caller.subject))]
pub async fn register<D: RegistrationDirectory>(
    directory: &D,
    caller: &Caller,
    body: RegistrationRequest,
) -> Result<Outcome<RegistrationResponse>, PortalError> {
    let command = body.parse()?;
    let lookup = directory
        .lookup(&caller.email, command.customer_number.as_ref())
        .await?;
    let linked_number = lookup
        .account_by_number
        .as_ref()
        .map(|a| a.customer_number.clone());
    match decide_registration(&caller.email, command, lookup)? {
        RegistrationDecision::AlreadyRegistered(response) => {
            tracing::info!(account_id = %response.account_id, "already registered");
            Ok(Outcome::Existing(response))
        }
        RegistrationDecision::Write(plan) => {
            let (customer_number, registration_source) = match &plan {
                RegistrationPlan::CreateAccount { account, .. } => {
                    (None, account.registration_source)
                }
                RegistrationPlan::LinkAccount {
                    registration_source,
                    ..
                } => (linked_number, *registration_source),
            };
            let registered = directory.register(&plan).await?;
            tracing::info!(account_id = %registered.account_id, source = %registration_source, "registered");
            Ok(Outcome::Created(RegistrationResponse {
                account_id: registered.account_id,
                contact_id: registered.contact_id,
                customer_number,
                registration_source: Some(registration_source),
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::portal::fake::*;

    fn body() -> RegistrationRequest {
        RegistrationRequest {
            first_name: Some(" Hanako ".into()),
            last_name: Some("Yamada".into()),
            phone: Some("+81 3-1234-5678".into()),
            ..RegistrationRequest::default()
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

    #[tokio::test]
    async fn when_every_field_is_bad_should_list_them_all_and_call_nothing() {
        let org = FakeOrg::default();
        let bad = RegistrationRequest {
            first_name: None,
            last_name: Some("x".repeat(81)),
            phone: Some("12".into()),
            company_name: Some("Acme\u{0}".into()),
            customer_number: Some("C 1".into()),
            source: Some("web".into()),
        };
        let fields = invalid_fields(register(&org, &caller(), bad).await);
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
    }

    #[tokio::test]
    async fn when_a_new_customer_signs_up_should_create_an_active_portal_signup_account_and_contact()
     {
        let org = FakeOrg::default();
        let outcome = register(&org, &unlinked_caller(), body()).await.unwrap();
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
    }

    #[tokio::test]
    async fn when_registering_at_checkout_with_a_company_should_use_portal_checkout_and_the_company_name()
     {
        let org = FakeOrg::default();
        let request = RegistrationRequest {
            company_name: Some("Acme KK".into()),
            source: Some("checkout".into()),
            ..body()
        };
        register(&org, &unlinked_caller(), request).await.unwrap();
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
    async fn when_already_registered_should_return_the_existing_records_and_write_nothing() {
        let org = FakeOrg {
            registration: RegistrationLookup {
                contacts: vec![ContactMatch {
                    contact_id: contact(),
                    account_id: account(),
                    portal_status: Some(PortalStatus::Active),
                    customer_number: Some(number()),
                    registration_source: Some(RegistrationSource::PortalSignup),
                }],
                account_by_number: None,
            },
            ..FakeOrg::default()
        };
        let outcome = register(&org, &caller(), body()).await.unwrap();
        assert_eq!(
            outcome,
            Outcome::Existing(RegistrationResponse {
                account_id: account(),
                contact_id: contact(),
                customer_number: Some(number()),
                registration_source: Some(RegistrationSource::PortalSignup),
            })
        );
        assert!(org.writes().is_empty());
    }

    #[tokio::test]
    async fn when_the_customer_number_matches_should_link_the_account_as_legacy_with_a_new_contact()
    {
        let org = FakeOrg {
            registration: RegistrationLookup {
                contacts: vec![],
                account_by_number: Some(legacy_account(None)),
            },
            ..FakeOrg::default()
        };
        let request = RegistrationRequest {
            customer_number: Some("C-0001".into()),
            source: Some("checkout".into()),
            ..body()
        };
        let outcome = register(&org, &unlinked_caller(), request).await.unwrap();
        assert_eq!(org.calls()[0], Call::Lookup(Some(number())));
        assert_eq!(
            org.writes(),
            vec![Call::Register(RegistrationPlan::LinkAccount {
                account_id: other_account(),
                portal_status: PortalStatus::Active,
                registration_source: RegistrationSource::Legacy,
                contact: ContactPlan::Create(new_contact()),
            })]
        );
        let body = outcome.into_body();
        assert_eq!(body.registration_source, Some(RegistrationSource::Legacy));
        assert_eq!(body.customer_number, Some(number()));
    }

    #[tokio::test]
    async fn when_linking_an_account_that_has_the_callers_contact_should_keep_that_contact() {
        let org = FakeOrg {
            registration: RegistrationLookup {
                contacts: vec![ContactMatch {
                    contact_id: contact(),
                    account_id: other_account(),
                    portal_status: Some(PortalStatus::Inactive),
                    customer_number: Some(number()),
                    registration_source: None,
                }],
                account_by_number: Some(legacy_account(Some(PortalStatus::Inactive))),
            },
            ..FakeOrg::default()
        };
        let request = RegistrationRequest {
            customer_number: Some("C-0001".into()),
            ..body()
        };
        let outcome = register(&org, &unlinked_caller(), request).await.unwrap();
        let Call::Register(RegistrationPlan::LinkAccount { contact: plan, .. }) = org.only_write()
        else {
            panic!("expected one link: {:?}", org.writes());
        };
        assert_eq!(plan, ContactPlan::Keep(contact()));
        assert_eq!(outcome.body().contact_id, contact());
    }

    #[tokio::test]
    async fn when_the_customer_number_is_unknown_should_name_the_field_and_write_nothing() {
        let org = FakeOrg::default();
        let request = RegistrationRequest {
            customer_number: Some("C-9999".into()),
            ..body()
        };
        let fields = invalid_fields(register(&org, &unlinked_caller(), request).await);
        assert_eq!(fields, ["customerNumber"]);
        assert!(org.writes().is_empty());
    }

    #[tokio::test]
    async fn when_the_customer_number_is_already_in_the_portal_should_conflict_and_write_nothing() {
        let org = FakeOrg {
            registration: RegistrationLookup {
                contacts: vec![],
                account_by_number: Some(legacy_account(Some(PortalStatus::Active))),
            },
            ..FakeOrg::default()
        };
        let request = RegistrationRequest {
            customer_number: Some("C-0001".into()),
            ..body()
        };
        let err = register(&org, &unlinked_caller(), request)
            .await
            .unwrap_err();
        assert!(matches!(
            err,
            PortalError::Conflict {
                reason: ConflictReason::CustomerNumberTaken
            }
        ));
        assert!(org.writes().is_empty());
    }

    #[tokio::test]
    async fn when_the_write_is_unavailable_should_surface_a_retryable_upstream_error() {
        let org = FakeOrg {
            writes_unavailable: true,
            ..FakeOrg::default()
        };
        let err = register(&org, &unlinked_caller(), body())
            .await
            .unwrap_err();
        let PortalError::Upstream(port) = err else {
            panic!("expected an upstream error, got {err:?}");
        };
        assert!(port.is_retryable());
    }
}
