//! A typed builder for `/composite`, so a flow's whole write is one call.
//!
//! ```
//! use salesforce::composite::{AllOrNone, Composite};
//! use salesforce::schema::{account, contact};
//! use serde_json::json;
//!
//! let mut c = Composite::new(AllOrNone::Yes);
//! let acc = c.create(account::OBJECT, json!({ "Name": "Acme" })).unwrap();
//! c.create(contact::OBJECT, json!({ "LastName": "Doe", "AccountId": acc.id() })).unwrap();
//! assert_eq!(acc.id(), "@{ref0.id}");
//! ```
//!
//! Limits are enforced while building: at most 25 subrequests, at most 5 of
//! them queries; reference ids are generated (`ref0`, `ref1`…) or named
//! (letters, digits, underscore; unique).

use std::collections::{HashMap, HashSet};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::Id;
use crate::error::{ApiError, SalesforceError};
use crate::soql::{Soql, is_identifier};

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
    /// A reference from another composite.
    #[error("reference {0:?} does not belong to this composite")]
    UnknownReference(String),
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
    name: String,
    kind: RefKind,
}

impl Ref {
    /// The `referenceId`.
    pub fn reference_id(&self) -> &str {
        &self.name
    }

    /// `@{<ref>.id}`: the id of the record a create made.
    pub fn id(&self) -> String {
        format!("@{{{}.id}}", self.name)
    }

    /// `@{<ref>.records[0].Id}`: the id of a query's first record.
    pub fn first_id(&self) -> String {
        format!("@{{{}.records[0].Id}}", self.name)
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
}

/// A composite request under construction.
#[derive(Debug, Clone)]
pub struct Composite {
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
    pub fn create(&mut self, object: &str, body: Value) -> Result<Ref, CompositeBuildError> {
        let name = self.generated_name();
        self.create_named(&name, object, body)
    }

    /// `POST sobjects/{object}` with `body`, under reference id `name`.
    pub fn create_named(
        &mut self,
        name: &str,
        object: &str,
        body: Value,
    ) -> Result<Ref, CompositeBuildError> {
        check_object(object)?;
        self.push(
            name,
            RefKind::Record,
            Method::Post,
            format!("sobjects/{object}"),
            Some(body),
        )
    }

    /// `PATCH sobjects/{object}/{target}` with `body`.
    pub fn update(
        &mut self,
        object: &str,
        target: impl Into<Target>,
        body: Value,
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
        body: Value,
    ) -> Result<Ref, CompositeBuildError> {
        check_object(object)?;
        let target = target.into();
        self.check_target(&target)?;
        self.push(
            name,
            RefKind::Record,
            Method::Patch,
            format!("sobjects/{object}/{}", target.render()),
            Some(body),
        )
    }

    /// `GET query?q=…`; later subrequests may use [`Ref::first_id`].
    pub fn query(&mut self, soql: &Soql) -> Result<Ref, CompositeBuildError> {
        let name = self.generated_name();
        self.query_named(&name, soql)
    }

    /// `GET query?q=…` under reference id `name`.
    pub fn query_named(&mut self, name: &str, soql: &Soql) -> Result<Ref, CompositeBuildError> {
        if self.queries >= MAX_QUERIES {
            return Err(CompositeBuildError::TooManyQueries);
        }
        let r = self.push(
            name,
            RefKind::Query,
            Method::Get,
            format!("query?q={}", percent_encode(soql.as_str())),
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
            Target::Ref(r) if !self.names.contains(&r.name) => {
                Err(CompositeBuildError::UnknownReference(r.name.clone()))
            }
            _ => Ok(()),
        }
    }

    fn push(
        &mut self,
        name: &str,
        kind: RefKind,
        method: Method,
        path: String,
        body: Option<Value>,
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
        });
        Ok(Ref {
            name: name.to_owned(),
            kind,
        })
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

/// Percent-encodes everything but the unreserved characters of RFC 3986.
pub(crate) fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
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

    /// Finds the subrequest that made the composite fail: the first failed one
    /// whose errors are not only `PROCESSING_HALTED`.
    pub(crate) fn failure(&self, rolled_back: bool) -> Option<SalesforceError> {
        let failed = |s: &&SubResponse| s.http_status_code >= 400;
        let errors_of = |s: &SubResponse| -> Vec<ApiError> {
            serde_json::from_value(s.body.clone()).unwrap_or_default()
        };
        let cause = self
            .responses
            .iter()
            .filter(failed)
            .find(|s| {
                let errors = errors_of(s);
                errors.is_empty() || !errors.iter().all(ApiError::is_processing_halted)
            })
            .or_else(|| self.responses.iter().find(failed))?;
        Some(SalesforceError::Composite {
            reference_id: cause.reference_id.clone(),
            status: cause.http_status_code,
            errors: errors_of(cause)
                .into_iter()
                .filter(|e| !e.is_processing_halted())
                .collect(),
            rolled_back,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::soql::{Cond, select};

    #[test]
    fn references_render_as_documented() {
        let mut c = Composite::new(AllOrNone::Yes);
        let acc = c.create("Account", json!({"Name": "A"})).unwrap();
        let named = c.create_named("contact_1", "Contact", json!({"AccountId": acc.id()}));
        let q = c
            .query(
                &select(["Id"])
                    .from("Order")
                    .where_(Cond::eq("Name", "x y"))
                    .build()
                    .unwrap(),
            )
            .unwrap();
        c.update("Order", &q, json!({"Status": "Activated"}))
            .unwrap();
        c.update("Account", Id::parse("001000000000001").unwrap(), json!({}))
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
            c.create("Account", json!({})).unwrap();
        }
        assert_eq!(
            c.create("Account", json!({})),
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
            c.create_named("bad-name", "Account", json!({})),
            Err(CompositeBuildError::InvalidReferenceId(_))
        ));
        assert!(matches!(
            c.create_named("", "Account", json!({})),
            Err(CompositeBuildError::InvalidReferenceId(_))
        ));
        c.create_named("ref0", "Account", json!({})).unwrap();
        assert!(matches!(
            c.create_named("ref0", "Account", json!({})),
            Err(CompositeBuildError::DuplicateReferenceId(_))
        ));
        // Generated names skip the taken ones.
        assert_eq!(
            c.create("Account", json!({})).unwrap().reference_id(),
            "ref1"
        );
        assert!(matches!(
            c.create("Account/../x", json!({})),
            Err(CompositeBuildError::InvalidObject(_))
        ));
        let foreign = Composite::new(AllOrNone::Yes)
            .create("Account", json!({}))
            .unwrap();
        let mut other = Composite::new(AllOrNone::Yes);
        assert!(matches!(
            other.update("Account", &foreign, json!({})),
            Err(CompositeBuildError::UnknownReference(_))
        ));
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
            name: "ref0".into(),
            kind: RefKind::Record,
        };
        let r1 = Ref {
            name: "ref1".into(),
            kind: RefKind::Query,
        };
        assert_eq!(ok.id(&r0).unwrap().as_str(), "001000000000001AAA");
        let records: Vec<Value> = ok.records(&r1).unwrap();
        assert_eq!(records.len(), 1);
    }
}
