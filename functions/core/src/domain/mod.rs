//! The portal's domain: values parsed (never merely validated) from raw input.
//!
//! Every newtype here can only hold a valid value; its `parse`/`new` returns a
//! typed error whose message reads well after the field's name
//! (`firstName` *must not be empty*). Request bodies turn those errors into
//! [`FieldError`]s naming the field, all at once.
//!
//! Picklist enums map one-to-one to the org's picklist values
//! (`as_salesforce`/`from_salesforce`), mirroring `salesforce::schema`.

pub mod account;
pub mod address;
pub mod catalog;
pub mod contact;
pub mod document;
pub mod field_error;
pub mod ids;
pub mod login;
pub mod order;
pub mod picklist;
pub mod records;
pub mod replay;
pub mod salesforce_id;
pub mod text;
pub mod time;

pub use account::{
    CustomerNumber, CustomerNumberError, EligibilityStatus, IdVerificationStatus, PortalStatus,
    RegistrationSource,
};
pub use address::{Address, AddressInput, PostalCode, Prefecture};
pub use catalog::{BillingCycle, CommodityType, ItemClass, ProductFamily};
pub use contact::{Email, EmailError, PhoneNumber, PhoneNumberError};
pub use document::DocumentType;
pub use field_error::{FieldError, FieldErrors};
pub use ids::{
    AccountId, CaseId, ContactId, OpportunityId, OrderId, PricebookEntryId, PricebookId, ProductId,
    TypedIdError,
};
pub use login::{Login, LoginError};
pub use order::{CurrencyCode, Quantity, UnitPrice, WhmcsOrderId, WhmcsServiceId};
pub use picklist::UnknownValue;
pub use records::{
    ActivationStatus, CaseOrigin, CaseStatus, CaseType, OpportunityStage, OrderStatus, PortalSource,
};
pub use replay::ReplayId;
pub use salesforce_id::{SalesforceId, SalesforceIdError};
pub use text::{
    CompanyName, Description, FirstName, LastName, Notes, PersonName, Subject, TextError,
};
pub use time::{CancellationDate, CancellationDateError, Timezone, TimezoneError};
