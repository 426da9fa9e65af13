//! [`Composite`]: the builder of one `/composite` request — subrequests,
//! generated or named reference ids, [`Ref`]s to earlier subrequests, the
//! limits (25 subrequests, 5 queries), and the request's JSON body.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Map, Value, json};

use super::body::{Body, FieldValue, HeldText, TextUpdate, holds_marker, stand_in};
use super::results::CompositeResults;
use crate::Id;
use crate::error::SalesforceError;
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
pub(super) enum RefKind {
    Record,
    Query,
}

/// A subrequest's reference, usable by later subrequests and to read results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ref {
    /// The composite that made it.
    pub(super) composite: u64,
    pub(super) name: String,
    pub(super) kind: RefKind,
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
