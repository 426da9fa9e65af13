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

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::Id;
use crate::error::{ApiError, SalesforceError};
use crate::soql::{self, Soql, is_identifier};

/// The most subrequests one composite may hold.
pub const MAX_SUBREQUESTS: usize = 25;
/// The most query subrequests one composite may hold.
pub const MAX_QUERIES: usize = 5;

/// Why a composite could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompositeBuildError {
    /// A 26th subrequest.
    #[error("a composite request holds at most {MAX_SUBREQUESTS} subrequests")]
    TooManySubrequests,
    /// A 6th query.
    #[error("a composite request holds at most {MAX_QUERIES} queries")]
    TooManyQueries,
    /// A reference id with characters other than letters, digits and underscore.
    #[error("invalid composite reference id {0:?}")]
    InvalidReferenceId(String),
    /// A reference id used twice.
    #[error("duplicate composite reference id {0:?}")]
    DuplicateReferenceId(String),
    /// An object name that is not an API name.
    #[error("invalid object name {0:?}")]
    InvalidObject(String),
    /// A reference to something other than an earlier subrequest of this
    /// composite (another composite's, or one not added yet).
    #[error("reference {0:?} is not an earlier subrequest of this composite")]
    UnknownReference(String),
    /// A reference path that is not `name(.name|[index])*`.
    #[error("invalid composite reference path {0:?}")]
    InvalidReferencePath(String),
}

/// Whether a failure rolls back every subrequest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllOrNone {
    /// All subrequests commit, or none (the product's default).
    Yes,
    /// Successful subrequests commit even when another fails.
    No,
}

/// What a reference points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RefKind {
    Record,
    Query,
}

/// A subrequest's reference, usable by later subrequests and to read results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ref {
    /// The composite that made it.
    composite: u64,
    name: String,
    kind: RefKind,
}

impl Ref {
    /// The `referenceId`.
    pub fn reference_id(&self) -> &str {
        &self.name
    }

    /// `@{<ref>.id}`: the id of the record a create made. Only the builder
    /// writes it (through [`Body::set_ref`] or a [`Target`]).
    pub(crate) fn id(&self) -> String {
        format!("@{{{}.id}}", self.name)
    }

    /// `@{<ref>.records[0].Id}`: the id of a query's first record.
    pub(crate) fn first_id(&self) -> String {
        format!("@{{{}.records[0].Id}}", self.name)
    }

    /// `'@{<ref>.id}'` in a later query of this composite: the id of the
    /// record a create made.
    pub fn soql_id(&self) -> soql::Reference {
        self.soql_path("id")
            .expect("`id` is a valid reference path")
    }

    /// `'@{<ref>.records[0].Id}'` in a later query of this composite: the id
    /// of a query's first record.
    pub fn soql_first_id(&self) -> soql::Reference {
        self.soql_path("records[0].Id")
            .expect("`records[0].Id` is a valid reference path")
    }

    /// `'@{<ref>.<path>}'` in a later query of this composite, e.g.
    /// `records[0].AccountId`; `path` must match
    /// `[A-Za-z0-9_]+(\.[A-Za-z0-9_]+|\[[0-9]+\])*`.
    pub fn soql_path(&self, path: &str) -> Result<soql::Reference, CompositeBuildError> {
        soql::Reference::new(self.composite, &self.name, path)
            .ok_or_else(|| CompositeBuildError::InvalidReferencePath(path.to_owned()))
    }
}

/// The record a subrequest acts on: a known id or an earlier subrequest's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A known record.
    Id(Id),
    /// The record an earlier create made, or the first record an earlier query found.
    Ref(Ref),
}

impl From<Id> for Target {
    fn from(id: Id) -> Self {
        Self::Id(id)
    }
}
impl From<&Id> for Target {
    fn from(id: &Id) -> Self {
        Self::Id(id.clone())
    }
}
impl From<&Ref> for Target {
    fn from(r: &Ref) -> Self {
        Self::Ref(r.clone())
    }
}

impl Target {
    fn render(&self) -> String {
        match self {
            Self::Id(id) => id.as_str().to_owned(),
            Self::Ref(r) => match r.kind {
                RefKind::Record => r.id(),
                RefKind::Query => r.first_id(),
            },
        }
    }
}

/// What sets off a reference in a composite subrequest.
const REFERENCE_MARKER: &str = "@{";

/// One field of a [`Body`].
#[derive(Debug, Clone, PartialEq)]
enum FieldValue {
    /// Data, stored as given.
    Data(Value),
    /// A lookup to a known record or an earlier subrequest's result.
    Lookup(Target),
}

/// The fields of a record to create or update. Values given to [`Body::set`]
/// are data and reach Salesforce byte for byte, whatever they contain
/// (`@{…}` included: see the module doc); [`Body::set_ref`] is the only way
/// to put a reference in a body.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Body {
    fields: BTreeMap<String, FieldValue>,
}

impl Body {
    /// An empty body.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `field` to `value`, as data (never a reference).
    pub fn set(mut self, field: &str, value: impl Into<Value>) -> Self {
        self.fields
            .insert(field.to_owned(), FieldValue::Data(value.into()));
        self
    }

    /// Sets `field` when `value` is present; leaves it out otherwise.
    pub fn set_opt(self, field: &str, value: Option<impl Into<Value>>) -> Self {
        match value {
            Some(v) => self.set(field, v),
            None => self,
        }
    }

    /// Sets lookup `field` to a known record or to the record an earlier
    /// subrequest of the same composite created (or its query found first).
    pub fn set_ref(mut self, field: &str, target: impl Into<Target>) -> Self {
        self.fields
            .insert(field.to_owned(), FieldValue::Lookup(target.into()));
        self
    }

    /// Whether the body has no fields.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }
}

/// Whether `value` holds `@{` in a string (at any depth).
fn holds_marker(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains(REFERENCE_MARKER),
        Value::Array(items) => items.iter().any(holds_marker),
        Value::Object(map) => map.values().any(holds_marker),
        _ => false,
    }
}

/// `value` with every `@{` made `@(`: same length, no reference.
fn stand_in(value: &Value) -> Value {
    match value {
        Value::String(s) => Value::String(s.replace(REFERENCE_MARKER, "@(")),
        Value::Array(items) => Value::Array(items.iter().map(stand_in).collect()),
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), stand_in(v))).collect())
        }
        other => other.clone(),
    }
}

/// Free text a subrequest could not carry: written after the composite.
#[derive(Debug, Clone, PartialEq)]
struct HeldText {
    object: String,
    /// The record: the one the subrequest created, or the one it updated.
    record: Target,
    fields: Map<String, Value>,
}

/// A record whose exact free text is still to be written, once the composite
/// has run: `PATCH sobjects/{object}/{id}` with `fields`.
#[derive(Debug, Clone, PartialEq)]
pub struct TextUpdate {
    /// The object's API name.
    pub object: String,
    /// The record.
    pub id: Id,
    /// The fields, with their exact values.
    pub fields: Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Get,
    Post,
    Patch,
}

#[derive(Debug, Clone)]
struct Subrequest {
    method: Method,
    /// Relative to `/services/data/vXX.X/`.
    path: String,
    reference_id: String,
    body: Option<Value>,
    /// Data the body could not carry (it holds `@{`).
    held: Option<HeldText>,
}

/// Tells composites apart, so a reference cannot cross from one to another.
static NEXT_COMPOSITE: AtomicU64 = AtomicU64::new(0);

/// A composite request under construction.
#[derive(Debug, Clone)]
pub struct Composite {
    /// Stamped on every [`Ref`] this composite makes.
    id: u64,
    all_or_none: AllOrNone,
    subrequests: Vec<Subrequest>,
    queries: usize,
    names: HashSet<String>,
    next_generated: usize,
}

impl Composite {
    /// True when every subrequest only reads (queries), so sending the
    /// composite again after an outage or a timeout cannot write twice.
    pub fn is_read_only(&self) -> bool {
        self.subrequests.iter().all(|s| s.method == Method::Get)
    }

    /// An empty composite.
    pub fn new(all_or_none: AllOrNone) -> Self {
        Self {
            id: NEXT_COMPOSITE.fetch_add(1, Ordering::Relaxed),
            all_or_none,
            subrequests: Vec::new(),
            queries: 0,
            names: HashSet::new(),
            next_generated: 0,
        }
    }

    /// Whether the composite is all-or-none.
    pub fn all_or_none(&self) -> AllOrNone {
        self.all_or_none
    }

    /// The number of subrequests so far.
    pub fn len(&self) -> usize {
        self.subrequests.len()
    }

    /// Whether there are no subrequests.
    pub fn is_empty(&self) -> bool {
        self.subrequests.is_empty()
    }

    /// `POST sobjects/{object}` with `body`, under a generated reference id.
    pub fn create(&mut self, object: &str, body: Body) -> Result<Ref, CompositeBuildError> {
        let name = self.generated_name();
        self.create_named(&name, object, body)
    }

    /// `POST sobjects/{object}` with `body`, under reference id `name`.
    pub fn create_named(
        &mut self,
        name: &str,
        object: &str,
        body: Body,
    ) -> Result<Ref, CompositeBuildError> {
        check_object(object)?;
        let (sent, held) = self.render(&body)?;
        let created = Target::Ref(Ref {
            composite: self.id,
            name: name.to_owned(),
            kind: RefKind::Record,
        });
        self.push(
            name,
            RefKind::Record,
            Method::Post,
            format!("sobjects/{object}"),
            Some(sent),
            held.map(|fields| HeldText {
                object: object.to_owned(),
                record: created,
                fields,
            }),
        )
    }

    /// `PATCH sobjects/{object}/{target}` with `body`.
    pub fn update(
        &mut self,
        object: &str,
        target: impl Into<Target>,
        body: Body,
    ) -> Result<Ref, CompositeBuildError> {
        let name = self.generated_name();
        self.update_named(&name, object, target, body)
    }

    /// `PATCH sobjects/{object}/{target}` with `body`, under reference id `name`.
    pub fn update_named(
        &mut self,
        name: &str,
        object: &str,
        target: impl Into<Target>,
        body: Body,
    ) -> Result<Ref, CompositeBuildError> {
        check_object(object)?;
        let target = target.into();
        self.check_target(&target)?;
        let (sent, held) = self.render(&body)?;
        let path = format!("sobjects/{object}/{}", target.render());
        self.push(
            name,
            RefKind::Record,
            Method::Patch,
            path,
            Some(sent),
            held.map(|fields| HeldText {
                object: object.to_owned(),
                record: target,
                fields,
            }),
        )
    }

    /// The wire body of `body`, and the data it cannot carry (values holding
    /// `@{`, sent as a stand-in). Lookups must be to earlier subrequests.
    fn render(
        &self,
        body: &Body,
    ) -> Result<(Value, Option<Map<String, Value>>), CompositeBuildError> {
        let mut sent = Map::new();
        let mut held = Map::new();
        for (field, value) in &body.fields {
            match value {
                FieldValue::Lookup(target) => {
                    self.check_target(target)?;
                    sent.insert(field.clone(), Value::String(target.render()));
                }
                FieldValue::Data(data) if holds_marker(data) => {
                    sent.insert(field.clone(), stand_in(data));
                    held.insert(field.clone(), data.clone());
                }
                FieldValue::Data(data) => {
                    sent.insert(field.clone(), data.clone());
                }
            }
        }
        Ok((Value::Object(sent), (!held.is_empty()).then_some(held)))
    }

    /// `GET query?q=…`; later subrequests may use its first record (a
    /// [`Target`] or [`Body::set_ref`] of the returned [`Ref`]). The
    /// query may hold references to earlier subrequests ([`Ref::soql_path`]).
    pub fn query(&mut self, soql: &Soql) -> Result<Ref, CompositeBuildError> {
        let name = self.generated_name();
        self.query_named(&name, soql)
    }

    /// `GET query?q=…` under reference id `name`.
    pub fn query_named(&mut self, name: &str, soql: &Soql) -> Result<Ref, CompositeBuildError> {
        if self.queries >= MAX_QUERIES {
            return Err(CompositeBuildError::TooManyQueries);
        }
        for reference in soql.references() {
            self.check_reference(reference.composite(), reference.reference_id())?;
        }
        let r = self.push(
            name,
            RefKind::Query,
            Method::Get,
            format!("query?q={}", encode_query(soql)),
            None,
            None,
        )?;
        self.queries += 1;
        Ok(r)
    }

    fn generated_name(&mut self) -> String {
        loop {
            let name = format!("ref{}", self.next_generated);
            self.next_generated += 1;
            if !self.names.contains(&name) {
                return name;
            }
        }
    }

    fn check_target(&self, target: &Target) -> Result<(), CompositeBuildError> {
        match target {
            Target::Ref(r) => self.check_reference(r.composite, &r.name),
            Target::Id(_) => Ok(()),
        }
    }

    /// Refuses a reference that is not to an earlier subrequest of this
    /// composite (a clone shares the stamp, so the name must be here too).
    fn check_reference(&self, composite: u64, name: &str) -> Result<(), CompositeBuildError> {
        if composite == self.id && self.names.contains(name) {
            Ok(())
        } else {
            Err(CompositeBuildError::UnknownReference(name.to_owned()))
        }
    }

    fn push(
        &mut self,
        name: &str,
        kind: RefKind,
        method: Method,
        path: String,
        body: Option<Value>,
        held: Option<HeldText>,
    ) -> Result<Ref, CompositeBuildError> {
        if self.subrequests.len() >= MAX_SUBREQUESTS {
            return Err(CompositeBuildError::TooManySubrequests);
        }
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(CompositeBuildError::InvalidReferenceId(name.to_owned()));
        }
        if !self.names.insert(name.to_owned()) {
            return Err(CompositeBuildError::DuplicateReferenceId(name.to_owned()));
        }
        self.subrequests.push(Subrequest {
            method,
            path,
            reference_id: name.to_owned(),
            body,
            held,
        });
        Ok(Ref {
            composite: self.id,
            name: name.to_owned(),
            kind,
        })
    }

    /// Whether some body holds free text written after the composite (see
    /// the module doc): [`SalesforceClient::composite`](crate::SalesforceClient::composite) then makes one more call per record.
    pub fn holds_text(&self) -> bool {
        self.subrequests.iter().any(|s| s.held.is_some())
    }

    /// The exact free text still to write once the composite ran with
    /// `results`, one update per record (none when no body held `@{`). A
    /// subrequest that failed (only possible without all-or-none) has none.
    pub fn text_updates(
        &self,
        results: &CompositeResults,
    ) -> Result<Vec<TextUpdate>, SalesforceError> {
        self.subrequests
            .iter()
            .filter_map(|s| s.held.as_ref().map(|held| (s, held)))
            .filter(|(s, _)| {
                results
                    .responses
                    .iter()
                    .any(|r| r.reference_id == s.reference_id && r.http_status_code < 400)
            })
            .map(|(s, held)| {
                let id = match &held.record {
                    Target::Id(id) => Some(id.clone()),
                    Target::Ref(r) => match r.kind {
                        RefKind::Record => results.id(r),
                        RefKind::Query => results
                            .body(r)
                            .and_then(|b| b.pointer("/records/0/Id"))
                            .and_then(Value::as_str)
                            .and_then(|id| Id::parse(id).ok()),
                    },
                };
                let id = id.ok_or_else(|| SalesforceError::UndecodableBody {
                    status: 200,
                    snippet: format!("no record id for the text of {}", s.reference_id),
                    source: None,
                })?;
                Ok(TextUpdate {
                    object: held.object.clone(),
                    id,
                    fields: Value::Object(held.fields.clone()),
                })
            })
            .collect()
    }

    /// The request body for API version `api_version` (e.g. `62.0`).
    pub(crate) fn to_body(&self, api_version: &str) -> Value {
        let requests: Vec<Value> = self
            .subrequests
            .iter()
            .map(|s| {
                let mut r = json!({
                    "method": match s.method {
                        Method::Get => "GET",
                        Method::Post => "POST",
                        Method::Patch => "PATCH",
                    },
                    "url": format!("/services/data/v{api_version}/{}", s.path),
                    "referenceId": s.reference_id,
                });
                if let (Some(body), Some(map)) = (&s.body, r.as_object_mut()) {
                    map.insert("body".to_owned(), body.clone());
                }
                r
            })
            .collect();
        json!({
            "allOrNone": self.all_or_none == AllOrNone::Yes,
            "collateSubrequests": false,
            "compositeRequest": requests,
        })
    }
}

fn check_object(object: &str) -> Result<(), CompositeBuildError> {
    if is_identifier(object) && !object.contains('.') {
        Ok(())
    } else {
        Err(CompositeBuildError::InvalidObject(object.to_owned()))
    }
}

/// The query's text for `query?q=`: percent-encoded, except the references
/// the builder placed (and only those), which Salesforce must see raw.
fn encode_query(soql: &Soql) -> String {
    let text = soql.as_str();
    let mut out = String::with_capacity(text.len() * 3);
    let mut from = 0;
    for placed in soql.placed() {
        encode_into(&text[from..placed.range.start], &mut out);
        out.push_str(&text[placed.range.clone()]);
        from = placed.range.end;
    }
    encode_into(&text[from..], &mut out);
    out
}

/// Percent-encodes everything but the unreserved characters of RFC 3986.
pub(crate) fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    encode_into(s, &mut out);
    out
}

fn encode_into(s: &str, out: &mut String) {
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

/// One subrequest's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubResponse {
    /// The answer's body (a record id, query result, error array or null).
    #[serde(default)]
    pub body: Value,
    /// The answer's headers (e.g. `Location`).
    #[serde(rename = "httpHeaders", default)]
    pub http_headers: HashMap<String, String>,
    /// The answer's HTTP status.
    #[serde(rename = "httpStatusCode")]
    pub http_status_code: u16,
    /// The subrequest's reference id.
    #[serde(rename = "referenceId")]
    pub reference_id: String,
}

/// The answer of a composite request whose subrequests all succeeded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompositeResults {
    /// The answers, in request order.
    #[serde(rename = "compositeResponse")]
    pub responses: Vec<SubResponse>,
}

impl CompositeResults {
    /// The answer of subrequest `r`.
    pub fn response(&self, r: &Ref) -> Option<&SubResponse> {
        self.responses.iter().find(|s| s.reference_id == r.name)
    }

    /// The body of subrequest `r`.
    pub fn body(&self, r: &Ref) -> Option<&Value> {
        self.response(r).map(|s| &s.body)
    }

    /// The id of the record subrequest `r` created.
    pub fn id(&self, r: &Ref) -> Option<Id> {
        self.body(r)?
            .get("id")?
            .as_str()
            .and_then(|s| Id::parse(s).ok())
    }

    /// The records query subrequest `r` found (the first page).
    pub fn records<T: DeserializeOwned>(&self, r: &Ref) -> Result<Vec<T>, SalesforceError> {
        let response = self
            .response(r)
            .ok_or_else(|| SalesforceError::UndecodableBody {
                status: 200,
                snippet: format!("no subresponse for {}", r.name),
                source: None,
            })?;
        let records = response
            .body
            .get("records")
            .cloned()
            .unwrap_or(Value::Array(Vec::new()));
        serde_json::from_value(records).map_err(|e| SalesforceError::UndecodableBody {
            status: response.http_status_code,
            snippet: format!("records of {}", r.name),
            source: Some(e),
        })
    }

    /// Whether subrequest `r` failed (it has no answer, or an error status).
    /// Only an `allOrNone: false` composite sent with
    /// [`SalesforceClient::composite_partial`](crate::SalesforceClient::composite_partial)
    /// can succeed with some subrequests failed.
    pub fn failed(&self, r: &Ref) -> bool {
        self.response(r).is_none_or(|s| s.http_status_code >= 400)
    }

    /// The error of subrequest `r` when it failed, as
    /// [`SalesforceError::Composite`] (not rolled back: see [`Self::failed`]).
    pub fn failure_of(&self, r: &Ref) -> Option<SalesforceError> {
        match self.response(r) {
            Some(s) if s.http_status_code >= 400 => Some(composite_error(s, false)),
            Some(_) => None,
            None => Some(SalesforceError::UndecodableBody {
                status: 200,
                snippet: format!("no subresponse for {}", r.name),
                source: None,
            }),
        }
    }

    /// Finds the subrequest that made the composite fail: the first failed one
    /// whose errors are not only `PROCESSING_HALTED`.
    pub(crate) fn failure(&self, rolled_back: bool) -> Option<SalesforceError> {
        let failed = |s: &&SubResponse| s.http_status_code >= 400;
        let cause = self
            .responses
            .iter()
            .filter(failed)
            .find(|s| {
                let errors = errors_of(s);
                errors.is_empty() || !errors.iter().all(ApiError::is_processing_halted)
            })
            .or_else(|| self.responses.iter().find(failed))?;
        Some(composite_error(cause, rolled_back))
    }
}

/// The error array of a failed subresponse (empty when it has none).
fn errors_of(s: &SubResponse) -> Vec<ApiError> {
    serde_json::from_value(s.body.clone()).unwrap_or_default()
}

/// A failed subresponse as an error. `PROCESSING_HALTED` entries are left
/// out unless they are all there is (e.g. a reference that did not resolve).
fn composite_error(cause: &SubResponse, rolled_back: bool) -> SalesforceError {
    let errors = errors_of(cause);
    let real: Vec<ApiError> = errors
        .iter()
        .filter(|e| !e.is_processing_halted())
        .cloned()
        .collect();
    SalesforceError::Composite {
        reference_id: cause.reference_id.clone(),
        status: cause.http_status_code,
        errors: if real.is_empty() { errors } else { real },
        rolled_back,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::soql::{Cond, select};

    #[test]
    fn references_render_as_documented() {
        let mut c = Composite::new(AllOrNone::Yes);
        let acc = c.create("Account", Body::new().set("Name", "A")).unwrap();
        let named = c.create_named(
            "contact_1",
            "Contact",
            Body::new().set_ref("AccountId", &acc),
        );
        let q = c
            .query(
                &select(["Id"])
                    .from("Order")
                    .where_(Cond::eq("Name", "x y"))
                    .build()
                    .unwrap(),
            )
            .unwrap();
        c.update("Order", &q, Body::new().set("Status", "Activated"))
            .unwrap();
        c.update(
            "Account",
            Id::parse("001000000000001").unwrap(),
            Body::new(),
        )
        .unwrap();
        assert_eq!(acc.id(), "@{ref0.id}");
        assert_eq!(named.unwrap().reference_id(), "contact_1");
        assert_eq!(q.first_id(), "@{ref1.records[0].Id}");
        let body = c.to_body("62.0");
        assert_eq!(body["allOrNone"], true);
        assert_eq!(body["collateSubrequests"], false);
        let reqs = body["compositeRequest"].as_array().unwrap();
        assert_eq!(reqs[0]["method"], "POST");
        assert_eq!(reqs[0]["url"], "/services/data/v62.0/sobjects/Account");
        assert_eq!(reqs[1]["body"]["AccountId"], "@{ref0.id}");
        assert_eq!(
            reqs[2]["url"],
            "/services/data/v62.0/query?q=SELECT%20Id%20FROM%20Order%20WHERE%20Name%20%3D%20%27x%20y%27"
        );
        assert!(reqs[2].get("body").is_none());
        assert_eq!(
            reqs[3]["url"],
            "/services/data/v62.0/sobjects/Order/@{ref1.records[0].Id}"
        );
        assert_eq!(reqs[3]["referenceId"], "ref2");
        assert_eq!(
            reqs[4]["url"],
            "/services/data/v62.0/sobjects/Account/001000000000001AAA"
        );
    }

    #[test]
    fn limits_and_names_are_enforced_while_building() {
        let mut c = Composite::new(AllOrNone::Yes);
        for _ in 0..MAX_SUBREQUESTS {
            c.create("Account", Body::new()).unwrap();
        }
        assert_eq!(
            c.create("Account", Body::new()),
            Err(CompositeBuildError::TooManySubrequests)
        );

        let q = select(["Id"]).from("Account").build().unwrap();
        let mut c = Composite::new(AllOrNone::Yes);
        for _ in 0..MAX_QUERIES {
            c.query(&q).unwrap();
        }
        assert_eq!(c.query(&q), Err(CompositeBuildError::TooManyQueries));

        let mut c = Composite::new(AllOrNone::No);
        assert!(matches!(
            c.create_named("bad-name", "Account", Body::new()),
            Err(CompositeBuildError::InvalidReferenceId(_))
        ));
        assert!(matches!(
            c.create_named("", "Account", Body::new()),
            Err(CompositeBuildError::InvalidReferenceId(_))
        ));
        c.create_named("ref0", "Account", Body::new()).unwrap();
        assert!(matches!(
            c.create_named("ref0", "Account", Body::new()),
            Err(CompositeBuildError::DuplicateReferenceId(_))
        ));
        // Generated names skip the taken ones.
        assert_eq!(
            c.create("Account", Body::new()).unwrap().reference_id(),
            "ref1"
        );
        assert!(matches!(
            c.create("Account/../x", Body::new()),
            Err(CompositeBuildError::InvalidObject(_))
        ));
        let foreign = Composite::new(AllOrNone::Yes)
            .create("Account", Body::new())
            .unwrap();
        let mut other = Composite::new(AllOrNone::Yes);
        assert!(matches!(
            other.update("Account", &foreign, Body::new()),
            Err(CompositeBuildError::UnknownReference(_))
        ));
    }

    #[test]
    fn references_go_into_query_urls_raw_and_everything_else_encoded() {
        let mut c = Composite::new(AllOrNone::Yes);
        let order = c.create_named("order", "Order", Body::new()).unwrap();
        let found = c
            .query_named(
                "orderQuery",
                &select(["AccountId"])
                    .from("Order")
                    .where_(Cond::eq("Id", order.soql_id()))
                    .build()
                    .unwrap(),
            )
            .unwrap();
        c.query_named(
            "contacts",
            &select(["Id"])
                .from("Contact")
                .where_(Cond::eq(
                    "AccountId",
                    found.soql_path("records[0].AccountId").unwrap(),
                ))
                .where_(Cond::ne("LastName", "@{order.id}"))
                .where_(Cond::ne("FirstName", order.soql_first_id()))
                .build()
                .unwrap(),
        )
        .unwrap();
        let body = c.to_body("62.0");
        let reqs = body["compositeRequest"].as_array().unwrap();
        assert_eq!(
            reqs[1]["url"],
            "/services/data/v62.0/query?q=SELECT%20AccountId%20FROM%20Order%20WHERE%20Id%20%3D%20%27@{order.id}%27"
        );
        assert_eq!(
            reqs[2]["url"],
            "/services/data/v62.0/query?q=SELECT%20Id%20FROM%20Contact%20WHERE%20%28AccountId%20%3D%20%27@{orderQuery.records[0].AccountId}%27%20AND%20LastName%20%21%3D%20%27%40%7Border.id%7D%27%20AND%20FirstName%20%21%3D%20%27@{order.records[0].Id}%27%29"
        );
    }

    #[test]
    fn a_reference_to_anything_but_an_earlier_subrequest_is_a_build_error() {
        let query_with = |r: soql::Reference| {
            select(["Id"])
                .from("Contact")
                .where_(Cond::eq("AccountId", r))
                .build()
                .unwrap()
        };
        // Another composite's subrequest, even under the same name.
        let mut other = Composite::new(AllOrNone::Yes);
        let foreign = other.create("Account", Body::new()).unwrap();
        let mut c = Composite::new(AllOrNone::Yes);
        c.create("Account", Body::new()).unwrap();
        assert_eq!(foreign.reference_id(), "ref0");
        assert_eq!(
            c.query(&query_with(foreign.soql_id())),
            Err(CompositeBuildError::UnknownReference("ref0".into()))
        );
        assert_eq!(
            c.update("Account", &foreign, Body::new()),
            Err(CompositeBuildError::UnknownReference("ref0".into()))
        );
        // A subrequest added later (here: to a clone, which shares the stamp).
        let mut later = c.clone();
        let added_later = later.create_named("later", "Account", Body::new()).unwrap();
        assert_eq!(
            c.query(&query_with(added_later.soql_id())),
            Err(CompositeBuildError::UnknownReference("later".into()))
        );
        assert!(later.query(&query_with(added_later.soql_id())).is_ok());
        // A path that is not a reference path.
        for bad in ["", "id}", "records[0]..Id", "id' OR Id != '"] {
            assert_eq!(
                added_later.soql_path(bad),
                Err(CompositeBuildError::InvalidReferencePath(bad.into()))
            );
        }
        // Nothing was added by the refused calls.
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn data_holding_a_reference_marker_is_held_back_and_only_set_ref_writes_references() {
        let text = "see @{ref0.id} and @{Account.Id}, or @{ unclosed";
        let mut c = Composite::new(AllOrNone::Yes);
        let acc = c
            .create("Account", Body::new().set("Name", "@{ref0.id}"))
            .unwrap();
        let case = c
            .create(
                "Case",
                Body::new()
                    .set("Subject", "plain")
                    .set("Description", text)
                    .set("Tags__c", json!(["a", "@{x}"]))
                    .set_ref("AccountId", &acc),
            )
            .unwrap();
        let known = Id::parse("001000000000001").unwrap();
        c.update("Account", &known, Body::new().set("Phone", "@{1}"))
            .unwrap();
        c.update("Account", &known, Body::new().set("Phone", "0123"))
            .unwrap();
        assert!(c.holds_text());

        let body = c.to_body("62.0");
        let reqs = body["compositeRequest"].as_array().unwrap();
        // The only `@{` on the wire is the builder's own reference.
        assert_eq!(reqs[0]["body"], json!({"Name": "@(ref0.id}"}));
        assert_eq!(
            reqs[1]["body"],
            json!({
                "Subject": "plain",
                "Description": "see @(ref0.id} and @(Account.Id}, or @( unclosed",
                "Tags__c": ["a", "@(x}"],
                "AccountId": "@{ref0.id}",
            })
        );
        assert_eq!(reqs[2]["body"], json!({"Phone": "@(1}"}));
        assert_eq!(
            reqs[1]["body"]["Description"].as_str().unwrap().len(),
            text.len(),
            "the stand-in keeps the length"
        );
        let wire = body.to_string();
        assert_eq!(wire.matches("@{").count(), 1);

        // After the composite, the exact text goes to each record by id.
        let results: CompositeResults = serde_json::from_value(json!({"compositeResponse": [
            {"body": {"id": "001000000000002AAA", "success": true, "errors": []}, "httpStatusCode": 201, "referenceId": acc.reference_id()},
            {"body": {"id": "500000000000003AAA", "success": true, "errors": []}, "httpStatusCode": 201, "referenceId": case.reference_id()},
            {"body": null, "httpStatusCode": 204, "referenceId": "ref2"},
            {"body": null, "httpStatusCode": 204, "referenceId": "ref3"}
        ]}))
        .unwrap();
        let updates = c.text_updates(&results).unwrap();
        assert_eq!(updates.len(), 3);
        assert_eq!(updates[0].object, "Account");
        assert_eq!(updates[0].id.as_str(), "001000000000002AAA");
        assert_eq!(updates[0].fields, json!({"Name": "@{ref0.id}"}));
        assert_eq!(updates[1].id.as_str(), "500000000000003AAA");
        assert_eq!(
            updates[1].fields,
            json!({"Description": text, "Tags__c": ["a", "@{x}"]})
        );
        assert_eq!(updates[2].id, known);
        assert_eq!(updates[2].fields, json!({"Phone": "@{1}"}));

        // Nothing held: nothing to write after.
        let mut plain = Composite::new(AllOrNone::Yes);
        plain
            .create("Case", Body::new().set("Description", "a@b {c}"))
            .unwrap();
        assert!(!plain.holds_text());
    }

    #[test]
    fn held_text_of_an_update_by_query_goes_to_the_record_the_query_found() {
        let mut c = Composite::new(AllOrNone::No);
        let q = c
            .query(&select(["Id"]).from("Order").build().unwrap())
            .unwrap();
        c.update_named(
            "fail",
            "Order",
            &q,
            Body::new().set("Activation_Error__c", "x @{y}"),
        )
        .unwrap();
        let found: CompositeResults = serde_json::from_value(json!({"compositeResponse": [
            {"body": {"totalSize": 1, "done": true, "records": [{"Id": "801000000000004AAA"}]}, "httpStatusCode": 200, "referenceId": "ref0"},
            {"body": null, "httpStatusCode": 204, "referenceId": "fail"}
        ]}))
        .unwrap();
        let updates = c.text_updates(&found).unwrap();
        assert_eq!(updates[0].id.as_str(), "801000000000004AAA");
        assert_eq!(updates[0].fields, json!({"Activation_Error__c": "x @{y}"}));
        // A subrequest that failed wrote nothing, so it gets no text either.
        let failed: CompositeResults = serde_json::from_value(json!({"compositeResponse": [
            {"body": {"totalSize": 0, "done": true, "records": []}, "httpStatusCode": 200, "referenceId": "ref0"},
            {"body": [{"errorCode": "PROCESSING_HALTED", "message": "Invalid reference specified."}], "httpStatusCode": 400, "referenceId": "fail"}
        ]}))
        .unwrap();
        assert!(c.text_updates(&failed).unwrap().is_empty());
    }

    #[test]
    fn a_lookup_in_a_body_must_be_to_an_earlier_subrequest() {
        let foreign = Composite::new(AllOrNone::Yes)
            .create("Account", Body::new())
            .unwrap();
        let mut c = Composite::new(AllOrNone::Yes);
        assert_eq!(
            c.create("Contact", Body::new().set_ref("AccountId", &foreign)),
            Err(CompositeBuildError::UnknownReference("ref0".into()))
        );
        assert!(c.is_empty());
    }

    #[test]
    fn the_failure_reported_is_the_real_one() {
        let results: CompositeResults = serde_json::from_value(json!({"compositeResponse": [
            {"body": [{"errorCode": "PROCESSING_HALTED", "message": "The transaction was rolled back since another operation in the same transaction failed."}], "httpHeaders": {}, "httpStatusCode": 400, "referenceId": "ref0"},
            {"body": [{"errorCode": "PROCESSING_HALTED", "message": "rolled back"}], "httpHeaders": {}, "httpStatusCode": 400, "referenceId": "ref1"},
            {"body": [{"errorCode": "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", "message": "bad value for restricted picklist field: Nope", "fields": ["Portal_Status__c"]}], "httpHeaders": {}, "httpStatusCode": 400, "referenceId": "ref2"}
        ]}))
        .unwrap();
        let Some(SalesforceError::Composite {
            reference_id,
            status,
            errors,
            rolled_back,
        }) = results.failure(true)
        else {
            panic!("expected a composite failure");
        };
        assert_eq!(reference_id, "ref2");
        assert_eq!(status, 400);
        assert_eq!(
            errors[0].error_code,
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
        );
        assert!(rolled_back);

        let ok: CompositeResults = serde_json::from_value(json!({"compositeResponse": [
            {"body": {"id": "001000000000001AAA", "success": true, "errors": []}, "httpHeaders": {"Location": "/x"}, "httpStatusCode": 201, "referenceId": "ref0"},
            {"body": {"totalSize": 1, "done": true, "records": [{"Id": "001000000000001AAA"}]}, "httpHeaders": {}, "httpStatusCode": 200, "referenceId": "ref1"}
        ]}))
        .unwrap();
        assert!(ok.failure(true).is_none());
        let r0 = Ref {
            composite: 0,
            name: "ref0".into(),
            kind: RefKind::Record,
        };
        let r1 = Ref {
            composite: 0,
            name: "ref1".into(),
            kind: RefKind::Query,
        };
        assert_eq!(ok.id(&r0).unwrap().as_str(), "001000000000001AAA");
        let records: Vec<Value> = ok.records(&r1).unwrap();
        assert_eq!(records.len(), 1);
        assert!(!ok.failed(&r0) && ok.failure_of(&r1).is_none());

        // allOrNone false: a reference to a query that found nothing fails
        // its subrequest alone.
        let partial: CompositeResults = serde_json::from_value(json!({"compositeResponse": [
            {"body": {"totalSize": 0, "done": true, "records": []}, "httpHeaders": {}, "httpStatusCode": 200, "referenceId": "ref0"},
            {"body": [{"errorCode": "PROCESSING_HALTED", "message": "Invalid reference specified. No value for ref0.records[0].Id found in ref0."}], "httpHeaders": {}, "httpStatusCode": 400, "referenceId": "ref1"}
        ]}))
        .unwrap();
        assert!(!partial.failed(&r0) && partial.failed(&r1));
        let Some(SalesforceError::Composite {
            reference_id,
            errors,
            rolled_back,
            ..
        }) = partial.failure_of(&r1)
        else {
            panic!("expected the subrequest's failure");
        };
        assert_eq!(reference_id, "ref1");
        assert_eq!(errors[0].error_code, "PROCESSING_HALTED");
        assert!(!rolled_back);
        let missing = Ref {
            composite: 0,
            name: "ref9".into(),
            kind: RefKind::Query,
        };
        assert!(partial.failed(&missing) && partial.failure_of(&missing).is_some());
    }
}
