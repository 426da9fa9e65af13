//! [`CompositeResults`]: the answers of a composite whose subrequests all
//! succeeded, read by [`Ref`]; and the error of one that failed (which
//! subrequest, and whether the rest was rolled back).

use std::collections::HashMap;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::builder::Ref;
use crate::Id;
use crate::error::{ApiError, SalesforceError};

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
