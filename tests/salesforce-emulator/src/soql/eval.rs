//! Runs a bound query against a [`RecordSource`]: filter, order, offset and
//! limit, then shapes each row as Salesforce's REST query resource does.

use std::cmp::Ordering;

use chrono::{DateTime, Days, NaiveDate, Utc};
use salesforce::schema::ObjectDef;
use serde_json::{Map, Value};

use super::index::literal_key;
use super::lexer::CmpOp;
use super::parser::DateLiteral;
use super::resolve::{Bound, Cond, FieldPath, Kind, LikeElem, Literal, OrderKey, Selection};
use super::{QueryOutput, Record, RecordSource};

/// A field value, typed by its field.
#[derive(Debug, Clone, PartialEq)]
enum Scalar {
    Text(String),
    /// The first 15 (case-sensitive) characters of an id.
    Id(String),
    Date(NaiveDate),
    DateTime(DateTime<Utc>),
    Number(f64),
    Bool(bool),
}

struct Context<'a> {
    source: &'a dyn RecordSource,
    today: NaiveDate,
}

/// Runs `query`; date literals are relative to `now` (UTC).
pub(crate) fn run(
    query: &Bound,
    source: &dyn RecordSource,
    now: DateTime<Utc>,
    api_version: &str,
) -> QueryOutput {
    let ctx = Context {
        source,
        today: now.date_naive(),
    };
    let mut rows: Vec<&Record> = candidates(query, source)
        .unwrap_or_else(|| source.records(query.object))
        .into_iter()
        .filter(|record| query.filter.as_ref().is_none_or(|c| ctx.matches(c, record)))
        .collect();
    if !query.order_by.is_empty() {
        let mut keyed: Vec<(Vec<Option<Scalar>>, &Record)> = rows
            .into_iter()
            .map(|record| {
                let key = query
                    .order_by
                    .iter()
                    .map(|k| ctx.scalar(record, &k.path))
                    .collect();
                (key, record)
            })
            .collect();
        keyed.sort_by(|(a, _), (b, _)| compare_keys(a, b, &query.order_by));
        rows = keyed.into_iter().map(|(_, record)| record).collect();
    }
    let offset = usize::try_from(query.offset.unwrap_or(0)).unwrap_or(usize::MAX);
    let limit = query
        .limit
        .map_or(usize::MAX, |l| usize::try_from(l).unwrap_or(usize::MAX));
    let page = rows.into_iter().skip(offset).take(limit);
    match &query.selection {
        Selection::Count => QueryOutput {
            total_size: page.count(),
            records: Vec::new(),
        },
        Selection::Fields(paths) => {
            let records: Vec<Value> = page
                .map(|record| ctx.row(query.object, record, paths, api_version))
                .collect();
            QueryOutput {
                total_size: records.len(),
                records,
            }
        }
    }
}

/// The records an index says may match: the first conjunct of the filter that is
/// `field = literal` or `field IN (literals)` on an indexed field of the object
/// itself. `None` when no conjunct can use an index (every record is read).
fn candidates<'a>(query: &Bound, source: &'a dyn RecordSource) -> Option<Vec<&'a Record>> {
    let conjuncts: Vec<&Cond> = match query.filter.as_ref()? {
        Cond::And(items) => items.iter().collect(),
        other => vec![other],
    };
    conjuncts.into_iter().find_map(|cond| {
        let (path, keys) = match cond {
            Cond::Cmp {
                path,
                op: CmpOp::Eq,
                value,
            } => (path, vec![literal_key(value)?]),
            Cond::In {
                path,
                negated: false,
                values,
            } => (
                path,
                values.iter().map(literal_key).collect::<Option<Vec<_>>>()?,
            ),
            _ => return None,
        };
        if !path.steps.is_empty() {
            return None;
        }
        source.lookup(query.object, path.field, &keys)
    })
}

impl Context<'_> {
    /// The raw value at the end of `path`, `None` when it or a parent lookup is empty.
    fn value<'r>(&'r self, record: &'r Record, path: &FieldPath) -> Option<&'r Value> {
        let mut current = record;
        for step in &path.steps {
            let id = current.get(step.reference.name)?.as_str()?;
            current = self.source.get(id)?;
        }
        current.get(path.field.name).filter(|v| !v.is_null())
    }

    fn scalar(&self, record: &Record, path: &FieldPath) -> Option<Scalar> {
        let value = self.value(record, path);
        match path.kind {
            // Salesforce booleans are never null.
            Kind::Boolean => Some(Scalar::Bool(
                value.and_then(Value::as_bool).unwrap_or(false),
            )),
            Kind::Text => value
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(|s| Scalar::Text(s.to_owned())),
            Kind::Id => value
                .and_then(Value::as_str)
                .and_then(|s| s.get(..15))
                .map(|s| Scalar::Id(s.to_owned())),
            Kind::Number => value.and_then(Value::as_f64).map(Scalar::Number),
            Kind::Date => value
                .and_then(Value::as_str)
                .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
                .map(Scalar::Date),
            Kind::DateTime => value
                .and_then(Value::as_str)
                .and_then(parse_datetime)
                .map(Scalar::DateTime),
        }
    }

    fn matches(&self, cond: &Cond, record: &Record) -> bool {
        match cond {
            Cond::And(items) => items.iter().all(|c| self.matches(c, record)),
            Cond::Or(items) => items.iter().any(|c| self.matches(c, record)),
            Cond::Not(inner) => !self.matches(inner, record),
            Cond::Cmp { path, op, value } => {
                self.compare(self.scalar(record, path).as_ref(), *op, value)
            }
            Cond::In {
                path,
                negated,
                values,
            } => {
                let scalar = self.scalar(record, path);
                let found = values
                    .iter()
                    .any(|v| self.compare(scalar.as_ref(), CmpOp::Eq, v));
                found != *negated
            }
            Cond::Like { path, pattern } => match self.scalar(record, path) {
                Some(Scalar::Text(text)) => like_matches(pattern, &text),
                _ => false,
            },
        }
    }

    /// `value <op> literal`. As in SOQL, `!=` is true for an empty field compared with a value,
    /// and every other comparison of an empty field with a value is false.
    fn compare(&self, value: Option<&Scalar>, op: CmpOp, literal: &Literal) -> bool {
        let value = match (value, literal) {
            (None, Literal::Null) => return op == CmpOp::Eq,
            (Some(_), Literal::Null) => return op == CmpOp::Ne,
            (None, _) => return op == CmpOp::Ne,
            (Some(value), _) => value,
        };
        if let Literal::Relative(relative) = literal {
            return self.compare_relative(value, op, *relative);
        }
        let ordering = match (value, literal) {
            (Scalar::Text(a), Literal::Text(b)) => {
                if matches!(op, CmpOp::Eq | CmpOp::Ne) {
                    return text_eq(a, b) == (op == CmpOp::Eq);
                }
                Some(a.to_lowercase().cmp(&b.to_lowercase()))
            }
            (Scalar::Id(a), Literal::Id(b)) => Some(a.cmp(b)),
            (Scalar::Number(a), Literal::Number(b)) => a.partial_cmp(b),
            (Scalar::Bool(a), Literal::Bool(b)) => Some(a.cmp(b)),
            (Scalar::Date(a), Literal::Date(b)) => Some(a.cmp(b)),
            (Scalar::DateTime(a), Literal::DateTime(b)) => Some(a.cmp(b)),
            _ => None,
        };
        ordering.is_some_and(|o| op_holds(op, o))
    }

    /// Compares a date or datetime with the day range of a relative date literal.
    fn compare_relative(&self, value: &Scalar, op: CmpOp, literal: DateLiteral) -> bool {
        let (start, end) = day_range(self.today, literal);
        // Where the value falls relative to [start, end).
        let position = match value {
            Scalar::Date(d) => position(d, &start, &end),
            Scalar::DateTime(t) => position(
                t,
                &start.and_time(chrono::NaiveTime::MIN).and_utc(),
                &end.and_time(chrono::NaiveTime::MIN).and_utc(),
            ),
            _ => return false,
        };
        match op {
            CmpOp::Eq => position == Ordering::Equal,
            CmpOp::Ne => position != Ordering::Equal,
            CmpOp::Lt => position == Ordering::Less,
            CmpOp::Le => position != Ordering::Greater,
            CmpOp::Gt => position == Ordering::Greater,
            CmpOp::Ge => position != Ordering::Less,
        }
    }

    /// One output row: `attributes` then the selected fields, parents nested.
    fn row(
        &self,
        object: &ObjectDef,
        record: &Record,
        paths: &[FieldPath],
        api_version: &str,
    ) -> Value {
        let mut out = Map::new();
        out.insert(
            "attributes".to_owned(),
            attributes(object.name, record, api_version),
        );
        for path in paths {
            self.insert_path(&mut out, record, path, 0, api_version);
        }
        Value::Object(out)
    }

    fn insert_path(
        &self,
        out: &mut Map<String, Value>,
        record: &Record,
        path: &FieldPath,
        depth: usize,
        api_version: &str,
    ) {
        let Some(step) = path.steps.get(depth) else {
            let value = record.get(path.field.name).cloned().unwrap_or(Value::Null);
            out.insert(path.field.name.to_owned(), value);
            return;
        };
        let parent = record
            .get(step.reference.name)
            .and_then(Value::as_str)
            .and_then(|id| self.source.get(id));
        match parent {
            None => {
                out.insert(step.relationship.to_owned(), Value::Null);
            }
            Some(parent) => {
                let entry = out.entry(step.relationship.to_owned()).or_insert_with(|| {
                    let mut nested = Map::new();
                    nested.insert(
                        "attributes".to_owned(),
                        attributes(step.target.name, parent, api_version),
                    );
                    Value::Object(nested)
                });
                if let Value::Object(nested) = entry {
                    self.insert_path(nested, parent, path, depth + 1, api_version);
                }
            }
        }
    }
}

fn attributes(object: &str, record: &Record, api_version: &str) -> Value {
    let id = record.get("Id").and_then(Value::as_str).unwrap_or_default();
    serde_json::json!({
        "type": object,
        "url": format!("/services/data/v{api_version}/sobjects/{object}/{id}"),
    })
}

/// Parses a stored datetime (`2024-05-01T10:00:00.000+0000`, or RFC 3339).
fn parse_datetime(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z")
        .or_else(|_| DateTime::parse_from_rfc3339(s))
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn op_holds(op: CmpOp, ordering: Ordering) -> bool {
    match op {
        CmpOp::Eq => ordering == Ordering::Equal,
        CmpOp::Ne => ordering != Ordering::Equal,
        CmpOp::Lt => ordering == Ordering::Less,
        CmpOp::Le => ordering != Ordering::Greater,
        CmpOp::Gt => ordering == Ordering::Greater,
        CmpOp::Ge => ordering != Ordering::Less,
    }
}

/// Less when `value` is before `start`, Greater when at or after `end`, Equal inside.
fn position<T: Ord>(value: &T, start: &T, end: &T) -> Ordering {
    if value < start {
        Ordering::Less
    } else if value >= end {
        Ordering::Greater
    } else {
        Ordering::Equal
    }
}

/// The days `[start, end)` a relative date literal covers.
fn day_range(today: NaiveDate, literal: DateLiteral) -> (NaiveDate, NaiveDate) {
    let minus = |n: u64| {
        today
            .checked_sub_days(Days::new(n))
            .unwrap_or(NaiveDate::MIN)
    };
    let plus = |n: u64| {
        today
            .checked_add_days(Days::new(n))
            .unwrap_or(NaiveDate::MAX)
    };
    match literal {
        DateLiteral::Today => (today, plus(1)),
        DateLiteral::Yesterday => (minus(1), today),
        DateLiteral::Tomorrow => (plus(1), plus(2)),
        DateLiteral::LastNDays(n) => (minus(u64::from(n)), plus(1)),
        DateLiteral::NextNDays(n) => (plus(1), plus(1 + u64::from(n))),
    }
}

fn chars_eq_ignore_case(a: char, b: char) -> bool {
    a == b || a.to_lowercase().eq(b.to_lowercase())
}

/// Case-insensitive text equality, as Salesforce compares text.
fn text_eq(a: &str, b: &str) -> bool {
    a.chars().count() == b.chars().count()
        && a.chars()
            .zip(b.chars())
            .all(|(x, y)| chars_eq_ignore_case(x, y))
}

/// Matches `text` against a LIKE pattern, case-insensitively.
fn like_matches(pattern: &[LikeElem], text: &str) -> bool {
    let text: Vec<char> = text.chars().collect();
    let (mut p, mut t) = (0, 0);
    // The last `%` seen and the text position it was tried at, for backtracking.
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(LikeElem::AnyRun) => {
                backtrack = Some((p, t));
                p += 1;
                continue;
            }
            Some(LikeElem::AnyOne) => {
                p += 1;
                t += 1;
                continue;
            }
            Some(LikeElem::Char(c)) if chars_eq_ignore_case(*c, text[t]) => {
                p += 1;
                t += 1;
                continue;
            }
            _ => {}
        }
        match backtrack {
            Some((star, tried)) => {
                p = star + 1;
                t = tried + 1;
                backtrack = Some((star, tried + 1));
            }
            None => return false,
        }
    }
    pattern[p..].iter().all(|e| *e == LikeElem::AnyRun)
}

fn compare_scalars(a: &Scalar, b: &Scalar) -> Ordering {
    match (a, b) {
        (Scalar::Text(a), Scalar::Text(b)) => a.to_lowercase().cmp(&b.to_lowercase()),
        (Scalar::Id(a), Scalar::Id(b)) => a.cmp(b),
        (Scalar::Date(a), Scalar::Date(b)) => a.cmp(b),
        (Scalar::DateTime(a), Scalar::DateTime(b)) => a.cmp(b),
        (Scalar::Number(a), Scalar::Number(b)) => a.total_cmp(b),
        (Scalar::Bool(a), Scalar::Bool(b)) => a.cmp(b),
        _ => Ordering::Equal,
    }
}

fn compare_keys(a: &[Option<Scalar>], b: &[Option<Scalar>], keys: &[OrderKey]) -> Ordering {
    for ((x, y), key) in a.iter().zip(b).zip(keys) {
        let ordering = match (x, y) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) if key.nulls_first => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some(_), None) if key.nulls_first => Ordering::Greater,
            (Some(_), None) => Ordering::Less,
            (Some(x), Some(y)) if key.descending => compare_scalars(y, x),
            (Some(x), Some(y)) => compare_scalars(x, y),
        };
        if ordering != Ordering::Equal {
            return ordering;
        }
    }
    Ordering::Equal
}
