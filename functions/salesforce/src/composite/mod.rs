//! A typed builder for `/composite`, so a flow's whole write is one call.
//!
//! ```
//! use salesforce::composite::{AllOrNone, Body, Composite};
//! use salesforce::schema::{account, contact};
//!
//! let mut c = Composite::new(AllOrNone::Yes);
//! let acc = c.create(account::OBJECT, Body::new().set(account::NAME, "Acme")).unwrap();
//! c.create(
//!     contact::OBJECT,
//!     Body::new().set(contact::LAST_NAME, "Doe").set_ref(contact::ACCOUNT_ID, &acc),
//! )
//! .unwrap();
//! assert_eq!(acc.reference_id(), "ref0");
//! ```
//!
//! Limits are enforced while building: at most 25 subrequests, at most 5 of
//! them queries; reference ids are generated (`ref0`, `ref1`…) or named
//! (letters, digits, underscore; unique).
//!
//! # References and free text in bodies
//!
//! Salesforce resolves `@{referenceId.path}` in subrequest bodies as well as
//! in URLs ("You can reference the referenceId in either the body or URL of a
//! subrequest", REST API guide, *Composite Subrequest*). It documents no
//! escape, and nothing about a `@{…}` that names no earlier subrequest or has
//! no closing `}`; a reference that does not resolve fails its subrequest with
//! `PROCESSING_HALTED` "Invalid reference specified. No value for … found in
//! …", which rolls an all-or-none composite back. So a customer's words that
//! contain `@{` (a case description, a name) would either pick up a record id
//! or make the whole write fail — and unguessable reference ids would not
//! help, since an unknown reference is an error, not left literal.
//!
//! Hence a [`Body`] keeps the two apart: [`Body::set`] values are data,
//! whatever they contain; [`Body::set_ref`] is the only way to put a
//! reference in a body (checked like any reference: an earlier subrequest of
//! this composite). A data value containing `@{` never goes into the
//! composite as such: the subrequest carries a same-length stand-in (each `@{`
//! becomes `@(`, so length and required-field checks still pass) and the exact
//! value is written right after the composite by a plain
//! `PATCH sobjects/{object}/{id}`, which has no reference syntax.
//! [`SalesforceClient::composite`](crate::SalesforceClient::composite) does both, so no caller can forget it; it costs one more API call per record holding such text, and
//! none otherwise. That PATCH is a separate call: when it fails (after the
//! retries of any PATCH), the records stand with the stand-in text, an error
//! is logged naming the record, and the write still answers `Ok` — it
//! happened, and an error would invite the caller to write it twice. Refusing such text at validation would have kept one call
//! but lost the customer's words; the extra call only happens for text that
//! needs it.
//!
//! A query may use an earlier subrequest's result through a
//! [`soql::Reference`] made by [`Ref::soql_id`], [`Ref::soql_first_id`] or
//! [`Ref::soql_path`]. The query text is percent-encoded except at those
//! references, which go into the URL raw: Salesforce substitutes `@{…}` in the
//! URL before it decodes the query string, so an encoded `%40%7B…%7D` (text a
//! customer typed) is never substituted. A reference to anything but an
//! earlier subrequest of the same composite is a build error.
//!
//! ```
//! use salesforce::composite::{AllOrNone, Composite};
//! use salesforce::schema::{contact, order};
//! use salesforce::soql::{self, Cond};
//!
//! let mut c = Composite::new(AllOrNone::No);
//! let found = c
//!     .query_named("order", &soql::select(["AccountId"]).from(order::OBJECT).build().unwrap())
//!     .unwrap();
//! let account = found.soql_path("records[0].AccountId").unwrap();
//! let contacts = soql::select(["Id"])
//!     .from(contact::OBJECT)
//!     .where_(Cond::eq(contact::ACCOUNT_ID, account))
//!     .build()
//!     .unwrap();
//! assert_eq!(
//!     contacts.as_str(),
//!     "SELECT Id FROM Contact WHERE AccountId = '@{order.records[0].AccountId}'"
//! );
//! c.query_named("contacts", &contacts).unwrap();
//! ```
//!
//! The files: [`builder`] ([`Composite`], [`Ref`] and [`Target`], the limits,
//! the URL encoding), [`body`] ([`Body`] and the stand-ins for `@{`, with the
//! [`TextUpdate`]s that write the exact text afterwards), [`results`]
//! ([`CompositeResults`] and the errors of a failed composite).

pub mod body;
pub mod builder;
pub mod results;
#[cfg(test)]
mod tests;

pub use body::{Body, TextUpdate};
pub(crate) use builder::percent_encode;
pub use builder::{
    AllOrNone, Composite, CompositeBuildError, MAX_QUERIES, MAX_SUBREQUESTS, Ref, Target,
};
pub use results::{CompositeResults, SubResponse};
