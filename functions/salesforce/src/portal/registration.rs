//! [`RegistrationDirectory`] over Salesforce: Contacts by e-mail (with their
//! Account's portal fields) and the Account by customer number in one call;
//! a new Account and its Contact, or a proved Account's portal status, written
//! in one all-or-none composite; the staff Case of a link request likewise.

use portal_core::domain::{CaseId, CustomerNumber, Email, PortalStatus, RegistrationSource};
use portal_core::portal::ports::RegistrationDirectory;
use portal_core::portal::registration::{
    AccountMatch, ContactMatch, NewContact, Registered, RegistrationLookup, RegistrationPlan,
};
use portal_core::portal::{NewCase, PortError};
use portal_core::schema::{account, contact};

use crate::client::SalesforceClient;
use crate::composite::{AllOrNone, Body, Composite, Target};
use crate::soql::{self, Cond, Order, Soql};

use super::error::{MappingError, port_error};
use super::plan::add_case;
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
        contact::EMAIL.to_owned(),
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
        email: row.opt_text(contact::EMAIL)?.unwrap_or_default().to_owned(),
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
        let registered = match plan {
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
                let results = self.client.composite(&c).await.map_err(port_error)?;
                Registered {
                    account_id: created_id(&results, &account_ref, "the new Account")?,
                    contact_id: created_id(&results, &contact_ref, "the new Contact")?,
                }
            }
            RegistrationPlan::LinkAccount {
                account_id,
                contact_id,
                portal_status,
                registration_source,
            } => {
                let body = Body::new()
                    .set(account::PORTAL_STATUS, portal_status.as_salesforce())
                    .set(
                        account::REGISTRATION_SOURCE,
                        registration_source.as_salesforce(),
                    );
                c.update_named("account", account::OBJECT, account_id.as_id(), body)?;
                self.client.composite(&c).await.map_err(port_error)?;
                Registered {
                    account_id: account_id.clone(),
                    contact_id: contact_id.clone(),
                }
            }
        };
        tracing::info!(account_id = %registered.account_id, contact_id = %registered.contact_id, "registration written");
        Ok(registered)
    }

    #[tracing::instrument(name = "salesforce.registration.open_link_case", skip_all, fields(account_id = %case.account_id))]
    async fn open_link_case(&self, case: &NewCase) -> Result<CaseId, PortError> {
        let mut c = Composite::new(AllOrNone::Yes);
        let case_ref = add_case(&mut c, case, None)?;
        let results = self.client.composite(&c).await.map_err(port_error)?;
        let case_id: CaseId = created_id(&results, &case_ref, "the link request Case")?;
        tracing::info!(case_id = %case_id, "link request Case written");
        Ok(case_id)
    }
}
