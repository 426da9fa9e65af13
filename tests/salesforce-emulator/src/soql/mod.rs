//! The SOQL engine of the emulated org: a strict subset of Salesforce's query
//! language, parsed and checked against [`salesforce::schema`] and evaluated
//! over the emulator's records.
//!
//! Supported: `SELECT <fields | COUNT()> FROM <object> [WHERE …] [ORDER BY …]
//! [LIMIT n] [OFFSET n]`, parent relationship paths up to five levels, the
//! comparison operators, `IN`, `NOT IN`, `LIKE`, `AND`/`OR`/`NOT` (never mixed
//! without parentheses), string/number/boolean/null/date/datetime literals and
//! the date literals `TODAY`, `YESTERDAY`, `TOMORROW`, `LAST_N_DAYS:n`,
//! `NEXT_N_DAYS:n`. Everything else is refused with the error code Salesforce
//! uses, because an emulator kinder than the real service hides bugs.

mod eval;
mod index;
mod lexer;
mod parser;
mod resolve;
#[cfg(test)]
mod tests;

use salesforce::schema::{FieldDef, ObjectDef};
use serde_json::{Map, Value};

pub use index::{index_key, is_indexed};

/// A stored record: canonical field API name (as spelled in salesforce::schema) -> value in
/// Salesforce wire form. Text, TextArea, Email, Phone, Picklist, AutoNumber, Id and Reference
/// values are JSON strings (ids always 18 characters); Date is "YYYY-MM-DD"; DateTime is
/// "YYYY-MM-DDThh:mm:ss.sss+0000" (UTC); Number and Currency are JSON numbers (f64);
/// Boolean is a JSON bool; a missing key or JSON null means null. Every record has the
/// system fields Id, CreatedDate, LastModifiedDate, CreatedById, LastModifiedById.
pub type Record = Map<String, Value>;

/// Read access to the org's data, implemented by the emulator's store.
pub trait RecordSource {
    /// Every record of `object`, in insertion order.
    fn records(&self, object: &'static ObjectDef) -> Vec<&Record>;
    /// The record with this 18-character id, whatever its object.
    fn get(&self, id: &str) -> Option<&Record>;
    /// The records of `object` whose `field` has one of these [`index_key`]s (the
    /// `Id` field: one of these 15-character ids), in insertion order; `None` when
    /// the source keeps no index of `field` and the query must read every record.
    fn lookup(
        &self,
        object: &'static ObjectDef,
        field: &'static FieldDef,
        keys: &[String],
    ) -> Option<Vec<&Record>> {
        let _ = (object, field, keys);
        None
    }
}

/// A parsed query, checked against the schema.
#[derive(Debug, Clone)]
pub struct Query {
    bound: resolve::Bound,
}

impl Query {
    /// The object queried (FROM).
    pub fn object(&self) -> &'static ObjectDef {
        self.bound.object
    }

    /// True for `SELECT COUNT() FROM ...`.
    pub fn is_count(&self) -> bool {
        matches!(self.bound.selection, resolve::Selection::Count)
    }

    /// Every `(object, field)` the query touches, in SELECT, WHERE and ORDER BY,
    /// including the reference fields its relationship paths follow.
    pub fn fields(&self) -> Vec<(&'static str, &'static str)> {
        fn path(
            out: &mut Vec<(&'static str, &'static str)>,
            root: &ObjectDef,
            p: &resolve::FieldPath,
        ) {
            let mut object = root.name;
            for step in &p.steps {
                out.push((object, step.reference.name));
                object = step.target.name;
            }
            out.push((object, p.field.name));
        }
        fn cond(out: &mut Vec<(&'static str, &'static str)>, root: &ObjectDef, c: &resolve::Cond) {
            match c {
                resolve::Cond::And(all) | resolve::Cond::Or(all) => {
                    all.iter().for_each(|c| cond(out, root, c));
                }
                resolve::Cond::Not(inner) => cond(out, root, inner),
                resolve::Cond::Cmp { path: p, .. }
                | resolve::Cond::In { path: p, .. }
                | resolve::Cond::Like { path: p, .. } => path(out, root, p),
            }
        }
        let root = self.bound.object;
        let mut out = Vec::new();
        if let resolve::Selection::Fields(selected) = &self.bound.selection {
            selected.iter().for_each(|p| path(&mut out, root, p));
        }
        if let Some(filter) = &self.bound.filter {
            cond(&mut out, root, filter);
        }
        self.bound
            .order_by
            .iter()
            .for_each(|o| path(&mut out, root, &o.path));
        out
    }
}

/// Parses a SOQL string. Errors carry Salesforce's error code.
pub fn parse(soql: &str) -> Result<Query, SoqlError> {
    let tokens = lexer::tokenize(soql)?;
    let raw = parser::parse(soql, &tokens)?;
    Ok(Query {
        bound: resolve::resolve(raw)?,
    })
}

/// Runs a parsed query. `now` anchors date literals (TODAY, LAST_N_DAYS:n);
/// `api_version` (e.g. "62.0") goes into each record's attributes.url.
pub fn execute(
    query: &Query,
    source: &dyn RecordSource,
    now: chrono::DateTime<chrono::Utc>,
    api_version: &str,
) -> Result<QueryOutput, SoqlError> {
    Ok(eval::run(&query.bound, source, now, api_version))
}

/// The result of a query, before the emulator core pages it.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryOutput {
    /// Number of matching rows (after LIMIT/OFFSET); for COUNT() the count.
    pub total_size: usize,
    /// Matching rows, ordered, LIMIT/OFFSET applied; empty for COUNT(). Each row is a JSON object
    /// `{"attributes":{"type":"Account","url":"/services/data/v62.0/sobjects/Account/001..."}, <selected fields>}`
    /// with canonical field names; a relationship path `Account.Name` appears nested as
    /// `"Account": {"attributes":{...}, "Name": "..."}` or `"Account": null` when the lookup is empty.
    pub records: Vec<Value>,
}

/// A query Salesforce would refuse, with its error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error_code}: {message}")]
pub struct SoqlError {
    /// `MALFORMED_QUERY`, `INVALID_FIELD`, `INVALID_TYPE`, `INVALID_QUERY_FILTER_OPERATOR`
    /// or `NUMBER_OUTSIDE_VALID_RANGE` (an OFFSET above 2000).
    pub error_code: &'static str,
    pub message: String,
}

impl SoqlError {
    fn new(error_code: &'static str, message: impl Into<String>) -> Self {
        Self {
            error_code,
            message: message.into(),
        }
    }

    pub(crate) fn malformed(message: impl Into<String>) -> Self {
        Self::new("MALFORMED_QUERY", message)
    }

    pub(crate) fn invalid_field(message: impl Into<String>) -> Self {
        Self::new("INVALID_FIELD", message)
    }

    pub(crate) fn invalid_type(message: impl Into<String>) -> Self {
        Self::new("INVALID_TYPE", message)
    }

    pub(crate) fn filter_operator(message: impl Into<String>) -> Self {
        Self::new("INVALID_QUERY_FILTER_OPERATOR", message)
    }

    pub(crate) fn number_outside_valid_range(message: impl Into<String>) -> Self {
        Self::new("NUMBER_OUTSIDE_VALID_RANGE", message)
    }
}
