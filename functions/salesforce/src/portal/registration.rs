//! [`RegistrationDirectory`] over Salesforce: Contacts by e-mail (with their
//! Account's portal fields) and the Account by customer number in one call;
//! the Account and Contact written in one all-or-none composite.

use portal_core::domain::{
    AccountId, ContactId, CustomerNumber, Email, PortalStatus, RegistrationSource,
};
use portal_core::portal::PortError;
use portal_core::portal::registration::{
    AccountMatch, ContactMatch, ContactPlan, NewContact, Registered, RegistrationDirectory,
    RegistrationLookup, RegistrationPlan,
};
use portal_core::schema::{account, contact};

use crate::client::SalesforceClient;
use crate::composite::{AllOrNone, Body, Composite, Ref, Target};
use crate::soql::{self, Cond, Order, Soql};

use super::error::{MappingError, port_error};
use super::record::{CREATED_DATE, ID, Record, Row, created_id, found, path};

/// The most Contacts of one e-mail address read (oldest first).
const MAX_CONTACTS: u32 = 50;

/// The registration records (Account, Contact) in Salesforce.
#[derive(Debug, Clone)]
pub struct SalesforceRegistrationDirectory {
    client: SalesforceClient,
}

impl SalesforceRegistrationDirectory {
    /// An adapter over `client`.
    pub fn new(client: SalesforceClient) -> Self {
        Self { client }
    }
}

/// `Contact` by e-mail, with the Account's portal fields, oldest first.
fn contacts_query(email: &Email) -> Result<Soql, PortError> {
    let on_account = |field| path(contact::OBJECT, contact::ACCOUNT_ID, field);
    Ok(soql::select([
        ID.to_owned(),
        contact::ACCOUNT_ID.to_owned(),
        on_account(account::PORTAL_STATUS)?,
        on_account(account::CUSTOMER_NUMBER)?,
        on_account(account::REGISTRATION_SOURCE)?,
    ])
    .from(contact::OBJECT)
    .where_(Cond::eq(contact::EMAIL, email.as_str()))
    .where_(Cond::ne(contact::ACCOUNT_ID, None::<&str>))
    .order_by(CREATED_DATE, Order::Asc)
    .order_by(ID, Order::Asc)
    .limit(MAX_CONTACTS)
    .build()?)
}

/// `Account` by customer number (an external id: at most one).
fn account_by_number_query(number: &CustomerNumber) -> Result<Soql, PortError> {
    Ok(
        soql::select([ID, account::CUSTOMER_NUMBER, account::PORTAL_STATUS])
            .from(account::OBJECT)
            .where_(Cond::eq(account::CUSTOMER_NUMBER, number.as_str()))
            .limit(1)
            .build()?,
    )
}

fn contact_match(record: &Record) -> Result<ContactMatch, MappingError> {
    let row = Row::new(contact::OBJECT, record);
    let account_row = row.parent(contact::ACCOUNT_ID, account::OBJECT)?;
    let (portal_status, customer_number, registration_source) = match account_row {
        Some(a) => (
            a.opt_parsed(account::PORTAL_STATUS, str::parse::<PortalStatus>)?,
            a.opt_parsed(account::CUSTOMER_NUMBER, CustomerNumber::parse)?,
            a.opt_parsed(
                account::REGISTRATION_SOURCE,
                str::parse::<RegistrationSource>,
            )?,
        ),
        None => (None, None, None),
    };
    Ok(ContactMatch {
        contact_id: row.id(ID)?,
        account_id: row.id(contact::ACCOUNT_ID)?,
        portal_status,
        customer_number,
        registration_source,
    })
}

fn account_match(record: &Record) -> Result<AccountMatch, MappingError> {
    let row = Row::new(account::OBJECT, record);
    Ok(AccountMatch {
        account_id: row.id(ID)?,
        customer_number: row.parsed(account::CUSTOMER_NUMBER, CustomerNumber::parse)?,
        portal_status: row.opt_parsed(account::PORTAL_STATUS, str::parse::<PortalStatus>)?,
    })
}

/// What a registration's composite writes, to read the ids back.
enum Written {
    /// A new Account and its Contact.
    Created { account: Ref, contact: Ref },
    /// An existing Account, updated, and its Contact.
    Linked {
        account: AccountId,
        contact: WrittenContact,
    },
}

/// The Contact of a linked Account.
enum WrittenContact {
    /// An existing Contact, untouched.
    Kept(ContactId),
    /// Created by the composite.
    Created(Ref),
}

/// The body of a new Contact on `account` (an id or the subrequest creating it).
fn new_contact(new: &NewContact, account: Target) -> Body {
    Body::new()
        .set(contact::FIRST_NAME, new.first_name.as_str())
        .set(contact::LAST_NAME, new.last_name.as_str())
        .set(contact::EMAIL, new.email.as_str())
        .set_opt(contact::PHONE, new.phone.as_ref().map(|p| p.as_str()))
        .set_ref(contact::ACCOUNT_ID, account)
}

impl RegistrationDirectory for SalesforceRegistrationDirectory {
    #[tracing::instrument(
        name = "salesforce.registration.lookup",
        skip_all,
        fields(by_number = customer_number.is_some())
    )]
    async fn lookup(
        &self,
        email: &Email,
        customer_number: Option<&CustomerNumber>,
    ) -> Result<RegistrationLookup, PortError> {
        let contacts = contacts_query(email)?;
        let (contact_records, account_records) = match customer_number {
            None => {
                let page = self
                    .client
                    .query::<Record>(&contacts)
                    .await
                    .map_err(port_error)?;
                (page.records, Vec::new())
            }
            Some(number) => {
                let mut c = Composite::new(AllOrNone::No);
                let by_email = c.query_named("contacts", &contacts)?;
                let by_number = c.query_named("account", &account_by_number_query(number)?)?;
                let results = self.client.composite(&c).await.map_err(port_error)?;
                (
                    found(&results, &by_email, "the Contacts query")?,
                    found(&results, &by_number, "the Account query")?,
                )
            }
        };
        let contacts = contact_records
            .iter()
            .map(contact_match)
            .collect::<Result<Vec<_>, _>>()?;
        let account_by_number = account_records.first().map(account_match).transpose()?;
        Ok(RegistrationLookup {
            contacts,
            account_by_number,
        })
    }

    #[tracing::instrument(name = "salesforce.registration.register", skip_all)]
    async fn register(&self, plan: &RegistrationPlan) -> Result<Registered, PortError> {
        let mut c = Composite::new(AllOrNone::Yes);
        let written = match plan {
            RegistrationPlan::CreateAccount {
                account: new,
                contact: person,
            } => {
                let body = Body::new()
                    .set(account::NAME, new.name.as_str())
                    .set_opt(account::PHONE, new.phone.as_ref().map(|p| p.as_str()))
                    .set(account::PORTAL_STATUS, new.portal_status.as_salesforce())
                    .set(
                        account::REGISTRATION_SOURCE,
                        new.registration_source.as_salesforce(),
                    );
                let account_ref = c.create_named("account", account::OBJECT, body)?;
                let contact_ref = c.create_named(
                    "contact",
                    contact::OBJECT,
                    new_contact(person, (&account_ref).into()),
                )?;
                Written::Created {
                    account: account_ref,
                    contact: contact_ref,
                }
            }
            RegistrationPlan::LinkAccount {
                account_id,
                portal_status,
                registration_source,
                contact: person,
            } => {
                let body = Body::new()
                    .set(account::PORTAL_STATUS, portal_status.as_salesforce())
                    .set(
                        account::REGISTRATION_SOURCE,
                        registration_source.as_salesforce(),
                    );
                c.update_named("account", account::OBJECT, account_id.as_id(), body)?;
                let contact = match person {
                    ContactPlan::Keep(id) => WrittenContact::Kept(id.clone()),
                    ContactPlan::Create(new) => WrittenContact::Created(c.create_named(
                        "contact",
                        contact::OBJECT,
                        new_contact(new, account_id.as_id().into()),
                    )?),
                };
                Written::Linked {
                    account: account_id.clone(),
                    contact,
                }
            }
        };
        let results = self.client.composite(&c).await.map_err(port_error)?;
        let registered = match written {
            Written::Created { account, contact } => Registered {
                account_id: created_id(&results, &account, "the new Account")?,
                contact_id: created_id(&results, &contact, "the new Contact")?,
            },
            Written::Linked { account, contact } => Registered {
                account_id: account,
                contact_id: match contact {
                    WrittenContact::Kept(id) => id,
                    WrittenContact::Created(r) => created_id(&results, &r, "the new Contact")?,
                },
            },
        };
        tracing::info!(account_id = %registered.account_id, contact_id = %registered.contact_id, "registration written");
        Ok(registered)
    }
}
