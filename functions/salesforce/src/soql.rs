//! A SOQL builder that cannot be injected by construction.
//!
//! Query text is only ever assembled here. Identifiers (objects, fields,
//! relationship paths such as `Account.Name`) are checked against
//! `[A-Za-z][A-Za-z0-9_]*` segments joined by dots; values enter only as typed
//! [`Value`]s and [`Like`] patterns, which this module escapes per Salesforce's
//! quoted-string rules (`\\ \' \" \n \r \t \b \f`, plus `\%` `\_` inside LIKE).
//! Conditions are always parenthesised, so mixing AND and OR is explicit.
//!
//! A query sent inside a `/composite` may compare with an earlier subrequest's
//! result through a [`Reference`] (`'@{order.records[0].AccountId}'`). A
//! `Reference` is made only from a [`crate::composite::Ref`], and the built
//! [`Soql`] records where each one sits while it is rendered, so the composite
//! builder leaves exactly those bytes unencoded: text that merely looks like
//! `@{…}` (a customer's input) stays an escaped, encoded literal.
//!
//! ```
//! use salesforce::soql::{self, Cond, Like, Order};
//! use salesforce::schema::account;
//!
//! let q = soql::select([account::NAME, "Id"])
//!     .from(account::OBJECT)
//!     .where_(Cond::eq(account::NAME, "O'Brien").or(Cond::like(account::NAME, Like::starts_with("50%"))))
//!     .order_by(account::NAME, Order::Asc)
//!     .limit(10)
//!     .build()
//!     .unwrap();
//! assert_eq!(
//!     q.as_str(),
//!     r"SELECT Name, Id FROM Account WHERE (Name = 'O\'Brien' OR Name LIKE '50\%%') ORDER BY Name ASC LIMIT 10"
//! );
//! ```

use std::fmt;
use std::ops::{Deref, DerefMut, Range};

use chrono::{DateTime, NaiveDate, Utc};

use crate::Id;

/// Why a query could not be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SoqlError {
    /// An object or field name that is not a plain API name or relationship path.
    #[error("invalid SOQL identifier {0:?}")]
    InvalidIdentifier(String),
    /// `select` without fields.
    #[error("a SELECT needs at least one field")]
    NoFields,
    /// `build` without `from`.
    #[error("a query needs FROM")]
    NoObject,
    /// `IN ()` / `NOT IN ()` is not valid SOQL.
    #[error("the IN list for {0} is empty")]
    EmptyList(String),
    /// `Cond::all([])` / `Cond::any([])`.
    #[error("an AND/OR group has no conditions")]
    EmptyGroup,
    /// NaN or infinity.
    #[error("the number compared with {0} is not finite")]
    NotFinite(String),
    /// `<`, `>`, `<=`, `>=` against null.
    #[error("{0} cannot be ordered against null")]
    NullOrdering(String),
    /// `COUNT()` with ORDER BY.
    #[error("COUNT() cannot be combined with ORDER BY")]
    CountWithOrderBy,
    /// A query holding composite references sent on its own (e.g. with
    /// `SalesforceClient::query`): `@{…}` means something only inside the
    /// composite whose subrequests it names.
    #[error("a query with composite references can only be sent inside its composite")]
    ReferenceOutsideComposite,
}

/// An earlier composite subrequest's result bound into a query:
/// `@{<referenceId>.<path>}`, rendered quoted.
///
/// Made only by [`crate::composite::Ref`] ([`soql_id`](crate::composite::Ref::soql_id),
/// [`soql_first_id`](crate::composite::Ref::soql_first_id),
/// [`soql_path`](crate::composite::Ref::soql_path)), so the reference id is a
/// subrequest's (letters, digits, underscore) and the path matches
/// `[A-Za-z0-9_]+(\.[A-Za-z0-9_]+|\[[0-9]+\])*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// The composite whose subrequest it names.
    composite: u64,
    reference_id: String,
    path: String,
}

impl Reference {
    /// A reference to `path` in the result of subrequest `reference_id` of
    /// composite `composite`; `None` when `path` is not a reference path.
    pub(crate) fn new(composite: u64, reference_id: &str, path: &str) -> Option<Self> {
        is_reference_path(path).then(|| Self {
            composite,
            reference_id: reference_id.to_owned(),
            path: path.to_owned(),
        })
    }

    /// The `referenceId` of the subrequest it names.
    pub fn reference_id(&self) -> &str {
        &self.reference_id
    }

    /// The path into that subrequest's result, e.g. `records[0].AccountId`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// `@{<referenceId>.<path>}`, as Salesforce reads it.
    pub fn expression(&self) -> String {
        format!("@{{{}.{}}}", self.reference_id, self.path)
    }

    /// The composite that made it.
    pub(crate) fn composite(&self) -> u64 {
        self.composite
    }
}

/// Whether `s` is a path into a subrequest's result:
/// `[A-Za-z0-9_]+(\.[A-Za-z0-9_]+|\[[0-9]+\])*`.
pub(crate) fn is_reference_path(s: &str) -> bool {
    fn word(b: &u8) -> bool {
        b.is_ascii_alphanumeric() || *b == b'_'
    }
    let bytes = s.as_bytes();
    let first = bytes.iter().take_while(|b| word(b)).count();
    if first == 0 {
        return false;
    }
    let mut rest = &bytes[first..];
    while let Some((&separator, after)) = rest.split_first() {
        let (len, closing) = match separator {
            b'.' => (after.iter().take_while(|b| word(b)).count(), 0),
            b'[' => {
                let digits = after.iter().take_while(|b| b.is_ascii_digit()).count();
                if after.get(digits) != Some(&b']') {
                    return false;
                }
                (digits, 1)
            }
            _ => return false,
        };
        if len == 0 {
            return false;
        }
        rest = &after[len + closing..];
    }
    true
}

/// Where a [`Reference`] sits in a query's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Placed {
    /// The bytes of `@{…}` (the quotes around it excluded).
    pub(crate) range: Range<usize>,
    /// The reference rendered there.
    pub(crate) reference: Reference,
}

/// A built query: text that came only from checked identifiers, escaped values
/// and composite [`Reference`]s, with where each reference sits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Soql {
    text: String,
    references: Vec<Placed>,
}

impl Soql {
    /// The query text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the query holds composite references (and so can only be sent
    /// inside the composite that made them).
    pub fn has_references(&self) -> bool {
        !self.references.is_empty()
    }

    /// The composite references in the query, in text order.
    pub fn references(&self) -> impl Iterator<Item = &Reference> {
        self.references.iter().map(|p| &p.reference)
    }

    /// The references with their byte ranges, in text order.
    pub(crate) fn placed(&self) -> &[Placed] {
        &self.references
    }
}

impl fmt::Display for Soql {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Query text under construction, with the references rendered into it so far.
/// Derefs to the text, so rendering code pushes into it like into a `String`.
#[derive(Debug, Default)]
struct Out {
    text: String,
    references: Vec<Placed>,
}

impl Out {
    fn push_reference(&mut self, reference: &Reference) {
        let start = self.text.len();
        self.text.push_str("@{");
        self.text.push_str(&reference.reference_id);
        self.text.push('.');
        self.text.push_str(&reference.path);
        self.text.push('}');
        self.references.push(Placed {
            range: start..self.text.len(),
            reference: reference.clone(),
        });
    }
}

impl Deref for Out {
    type Target = String;

    fn deref(&self) -> &String {
        &self.text
    }
}

impl DerefMut for Out {
    fn deref_mut(&mut self) -> &mut String {
        &mut self.text
    }
}

/// A value bound into a condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A quoted, escaped string.
    Text(String),
    /// An integer, unquoted.
    Integer(i64),
    /// A decimal number, unquoted; must be finite.
    Decimal(f64),
    /// `true` / `false`.
    Bool(bool),
    /// `null`.
    Null,
    /// `YYYY-MM-DD`, unquoted.
    Date(NaiveDate),
    /// `YYYY-MM-DDThh:mm:ssZ`, unquoted.
    DateTime(DateTime<Utc>),
    /// A record id, quoted.
    Id(Id),
    /// An earlier composite subrequest's result, quoted (`'@{ref.records[0].Id}'`).
    Reference(Reference),
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Self::Text(v.to_owned())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Self::Text(v)
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Self::Text(v.clone())
    }
}
impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Self::Integer(v)
    }
}
impl From<i32> for Value {
    fn from(v: i32) -> Self {
        Self::Integer(v.into())
    }
}
impl From<u32> for Value {
    fn from(v: u32) -> Self {
        Self::Integer(v.into())
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Self::Decimal(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Self::Bool(v)
    }
}
impl From<NaiveDate> for Value {
    fn from(v: NaiveDate) -> Self {
        Self::Date(v)
    }
}
impl From<DateTime<Utc>> for Value {
    fn from(v: DateTime<Utc>) -> Self {
        Self::DateTime(v)
    }
}
impl From<Id> for Value {
    fn from(v: Id) -> Self {
        Self::Id(v)
    }
}
impl From<&Id> for Value {
    fn from(v: &Id) -> Self {
        Self::Id(v.clone())
    }
}
impl From<Reference> for Value {
    fn from(v: Reference) -> Self {
        Self::Reference(v)
    }
}
impl From<&Reference> for Value {
    fn from(v: &Reference) -> Self {
        Self::Reference(v.clone())
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Self::Null, Into::into)
    }
}

impl Value {
    fn render(&self, field: &str, out: &mut Out) -> Result<(), SoqlError> {
        match self {
            Self::Text(s) => {
                out.push('\'');
                escape_into(s, false, out);
                out.push('\'');
            }
            Self::Integer(n) => out.push_str(&n.to_string()),
            Self::Decimal(n) => {
                if !n.is_finite() {
                    return Err(SoqlError::NotFinite(field.to_owned()));
                }
                // `Display` for f64 never uses an exponent.
                out.push_str(&n.to_string());
            }
            Self::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Self::Null => out.push_str("null"),
            Self::Date(d) => out.push_str(&d.format("%Y-%m-%d").to_string()),
            Self::DateTime(t) => out.push_str(&t.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
            Self::Id(id) => {
                out.push('\'');
                out.push_str(id.as_str());
                out.push('\'');
            }
            Self::Reference(reference) => {
                out.push('\'');
                out.push_reference(reference);
                out.push('\'');
            }
        }
        Ok(())
    }
}

/// Escapes `s` for a single-quoted SOQL literal; `like` also escapes `%` and `_`.
fn escape_into(s: &str, like: bool, out: &mut String) {
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '%' if like => out.push_str("\\%"),
            '_' if like => out.push_str("\\_"),
            c => out.push(c),
        }
    }
}

/// A LIKE pattern: literal text (escaped, `%` and `_` included) and explicit wildcards.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Like(String);

impl Like {
    /// Matches exactly `s` (case-insensitively, as LIKE does).
    pub fn exact(s: &str) -> Self {
        Self::default().literal(s)
    }

    /// Values starting with `s`.
    pub fn starts_with(s: &str) -> Self {
        Self::exact(s).any()
    }

    /// Values ending with `s`.
    pub fn ends_with(s: &str) -> Self {
        Self::default().any().literal(s)
    }

    /// Values containing `s`.
    pub fn contains(s: &str) -> Self {
        Self::default().any().literal(s).any()
    }

    /// Appends literal text.
    pub fn literal(mut self, s: &str) -> Self {
        escape_into(s, true, &mut self.0);
        self
    }

    /// Appends `%`: any run of characters.
    pub fn any(mut self) -> Self {
        self.0.push('%');
        self
    }

    /// Appends `_`: exactly one character.
    pub fn one(mut self) -> Self {
        self.0.push('_');
        self
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
}

impl Op {
    fn as_str(self) -> &'static str {
        match self {
            Self::Eq => "=",
            Self::Ne => "!=",
            Self::Lt => "<",
            Self::Gt => ">",
            Self::Le => "<=",
            Self::Ge => ">=",
        }
    }
}

/// A WHERE condition.
#[derive(Debug, Clone, PartialEq)]
pub struct Cond(CondKind);

#[derive(Debug, Clone, PartialEq)]
enum CondKind {
    Compare {
        field: String,
        op: Op,
        value: Value,
    },
    In {
        field: String,
        values: Vec<Value>,
        negated: bool,
    },
    Like {
        field: String,
        pattern: Like,
    },
    And(Vec<Cond>),
    Or(Vec<Cond>),
    Not(Box<Cond>),
}

impl Cond {
    fn compare(field: &str, op: Op, value: impl Into<Value>) -> Self {
        Self(CondKind::Compare {
            field: field.to_owned(),
            op,
            value: value.into(),
        })
    }

    /// `field = value` (`= null` tests for null).
    pub fn eq(field: &str, value: impl Into<Value>) -> Self {
        Self::compare(field, Op::Eq, value)
    }
    /// `field != value`.
    pub fn ne(field: &str, value: impl Into<Value>) -> Self {
        Self::compare(field, Op::Ne, value)
    }
    /// `field < value`.
    pub fn lt(field: &str, value: impl Into<Value>) -> Self {
        Self::compare(field, Op::Lt, value)
    }
    /// `field > value`.
    pub fn gt(field: &str, value: impl Into<Value>) -> Self {
        Self::compare(field, Op::Gt, value)
    }
    /// `field <= value`.
    pub fn le(field: &str, value: impl Into<Value>) -> Self {
        Self::compare(field, Op::Le, value)
    }
    /// `field >= value`.
    pub fn ge(field: &str, value: impl Into<Value>) -> Self {
        Self::compare(field, Op::Ge, value)
    }

    /// `field IN (values…)`; an empty list is a build error.
    pub fn in_<V: Into<Value>>(field: &str, values: impl IntoIterator<Item = V>) -> Self {
        Self(CondKind::In {
            field: field.to_owned(),
            values: values.into_iter().map(Into::into).collect(),
            negated: false,
        })
    }

    /// `field NOT IN (values…)`; an empty list is a build error.
    pub fn not_in<V: Into<Value>>(field: &str, values: impl IntoIterator<Item = V>) -> Self {
        Self(CondKind::In {
            field: field.to_owned(),
            values: values.into_iter().map(Into::into).collect(),
            negated: true,
        })
    }

    /// `field LIKE pattern`.
    pub fn like(field: &str, pattern: Like) -> Self {
        Self(CondKind::Like {
            field: field.to_owned(),
            pattern,
        })
    }

    /// `(self AND other)`.
    pub fn and(self, other: Cond) -> Self {
        match self.0 {
            CondKind::And(mut all) => {
                all.push(other);
                Self(CondKind::And(all))
            }
            kind => Self(CondKind::And(vec![Self(kind), other])),
        }
    }

    /// `(self OR other)`.
    pub fn or(self, other: Cond) -> Self {
        match self.0 {
            CondKind::Or(mut any) => {
                any.push(other);
                Self(CondKind::Or(any))
            }
            kind => Self(CondKind::Or(vec![Self(kind), other])),
        }
    }

    /// `(c1 AND c2 AND …)`; empty is a build error.
    pub fn all(conds: impl IntoIterator<Item = Cond>) -> Self {
        Self(CondKind::And(conds.into_iter().collect()))
    }

    /// `(c1 OR c2 OR …)`; empty is a build error.
    pub fn any(conds: impl IntoIterator<Item = Cond>) -> Self {
        Self(CondKind::Or(conds.into_iter().collect()))
    }

    /// `(NOT c)`.
    #[allow(clippy::should_implement_trait)]
    pub fn not(cond: Cond) -> Self {
        Self(CondKind::Not(Box::new(cond)))
    }

    fn render(&self, out: &mut Out) -> Result<(), SoqlError> {
        match &self.0 {
            CondKind::Compare { field, op, value } => {
                push_identifier(field, out)?;
                if *value == Value::Null && !matches!(op, Op::Eq | Op::Ne) {
                    return Err(SoqlError::NullOrdering(field.clone()));
                }
                out.push(' ');
                out.push_str(op.as_str());
                out.push(' ');
                value.render(field, out)?;
            }
            CondKind::In {
                field,
                values,
                negated,
            } => {
                push_identifier(field, out)?;
                if values.is_empty() {
                    return Err(SoqlError::EmptyList(field.clone()));
                }
                out.push_str(if *negated { " NOT IN (" } else { " IN (" });
                for (i, value) in values.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    value.render(field, out)?;
                }
                out.push(')');
            }
            CondKind::Like { field, pattern } => {
                push_identifier(field, out)?;
                out.push_str(" LIKE '");
                out.push_str(&pattern.0);
                out.push('\'');
            }
            CondKind::And(conds) => render_group(conds, " AND ", out)?,
            CondKind::Or(conds) => render_group(conds, " OR ", out)?,
            CondKind::Not(cond) => {
                out.push_str("(NOT ");
                cond.render(out)?;
                out.push(')');
            }
        }
        Ok(())
    }
}

fn render_group(conds: &[Cond], joiner: &str, out: &mut Out) -> Result<(), SoqlError> {
    if conds.is_empty() {
        return Err(SoqlError::EmptyGroup);
    }
    out.push('(');
    for (i, cond) in conds.iter().enumerate() {
        if i > 0 {
            out.push_str(joiner);
        }
        cond.render(out)?;
    }
    out.push(')');
    Ok(())
}

/// Whether `s` is a plain API name or a relationship path (`Account.Owner.Name`).
pub fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|segment| {
            let mut bytes = segment.bytes();
            bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
                && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
        })
}

fn push_identifier(s: &str, out: &mut String) -> Result<(), SoqlError> {
    if !is_identifier(s) {
        return Err(SoqlError::InvalidIdentifier(s.to_owned()));
    }
    out.push_str(s);
    Ok(())
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// `ASC`.
    Asc,
    /// `DESC`.
    Desc,
}

/// A query under construction; [`Select::build`] checks and renders it.
#[derive(Debug, Clone, PartialEq)]
#[must_use = "a query does nothing until built and sent"]
pub struct Select {
    fields: Vec<String>,
    count: bool,
    object: Option<String>,
    condition: Option<Cond>,
    order: Vec<(String, Order)>,
    limit: Option<u32>,
    offset: Option<u32>,
}

/// `SELECT fields…`.
pub fn select<S: AsRef<str>>(fields: impl IntoIterator<Item = S>) -> Select {
    Select {
        fields: fields.into_iter().map(|f| f.as_ref().to_owned()).collect(),
        count: false,
        object: None,
        condition: None,
        order: Vec::new(),
        limit: None,
        offset: None,
    }
}

/// `SELECT COUNT()`: the answer's `totalSize` is the count.
pub fn count() -> Select {
    Select {
        count: true,
        ..select(std::iter::empty::<&str>())
    }
}

impl Select {
    /// `FROM object`.
    pub fn from(mut self, object: &str) -> Self {
        self.object = Some(object.to_owned());
        self
    }

    /// `WHERE cond`; a second call ANDs the conditions.
    pub fn where_(mut self, cond: Cond) -> Self {
        self.condition = Some(match self.condition.take() {
            Some(existing) => existing.and(cond),
            None => cond,
        });
        self
    }

    /// `ORDER BY field ASC|DESC`; calls accumulate.
    pub fn order_by(mut self, field: &str, order: Order) -> Self {
        self.order.push((field.to_owned(), order));
        self
    }

    /// `LIMIT n`.
    pub fn limit(mut self, n: u32) -> Self {
        self.limit = Some(n);
        self
    }

    /// `OFFSET n`.
    pub fn offset(mut self, n: u32) -> Self {
        self.offset = Some(n);
        self
    }

    /// Checks every identifier and value and renders the query.
    pub fn build(&self) -> Result<Soql, SoqlError> {
        let mut out = Out::default();
        out.push_str("SELECT ");
        if self.count {
            if !self.order.is_empty() {
                return Err(SoqlError::CountWithOrderBy);
            }
            out.push_str("COUNT()");
        } else {
            if self.fields.is_empty() {
                return Err(SoqlError::NoFields);
            }
            for (i, field) in self.fields.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                push_identifier(field, &mut out)?;
            }
        }
        out.push_str(" FROM ");
        let object = self.object.as_deref().ok_or(SoqlError::NoObject)?;
        if object.contains('.') {
            return Err(SoqlError::InvalidIdentifier(object.to_owned()));
        }
        push_identifier(object, &mut out)?;
        if let Some(cond) = &self.condition {
            out.push_str(" WHERE ");
            cond.render(&mut out)?;
        }
        for (i, (field, order)) in self.order.iter().enumerate() {
            out.push_str(if i == 0 { " ORDER BY " } else { ", " });
            push_identifier(field, &mut out)?;
            out.push_str(match order {
                Order::Asc => " ASC",
                Order::Desc => " DESC",
            });
        }
        if let Some(n) = self.limit {
            out.push_str(&format!(" LIMIT {n}"));
        }
        if let Some(n) = self.offset {
            out.push_str(&format!(" OFFSET {n}"));
        }
        Ok(Soql {
            text: out.text,
            references: out.references,
        })
    }
}

impl TryFrom<Select> for Soql {
    type Error = SoqlError;

    fn try_from(select: Select) -> Result<Self, Self::Error> {
        select.build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> String {
        let mut out = Out::default();
        Value::from(s).render("f", &mut out).unwrap();
        out.text
    }

    #[test]
    fn text_is_escaped_per_the_documented_sequences() {
        assert_eq!(text("plain"), "'plain'");
        assert_eq!(text("O'Brien"), r"'O\'Brien'");
        assert_eq!(text(r"a\b"), r"'a\\b'");
        assert_eq!(text(r"\'"), r"'\\\''");
        assert_eq!(text(r"\\'"), r"'\\\\\''");
        assert_eq!(text("say \"hi\""), r#"'say \"hi\"'"#);
        assert_eq!(text("a\nb\rc\td\u{8}e\u{c}f"), r"'a\nb\rc\td\be\ff'");
        // % and _ only mean something in LIKE.
        assert_eq!(text("50%_off"), "'50%_off'");
        assert_eq!(text("日本語 ✓"), "'日本語 ✓'");
        assert_eq!(text(""), "''");
    }

    #[test]
    fn like_patterns_escape_wildcards_and_add_explicit_ones() {
        assert_eq!(Like::exact("50%_off").0, r"50\%\_off");
        assert_eq!(Like::starts_with("a'b").0, r"a\'b%");
        assert_eq!(Like::contains(r"x\y").0, r"%x\\y%");
        assert_eq!(Like::ends_with("z").0, "%z");
        assert_eq!(Like::exact("ab").one().literal("_").0, r"ab_\_");
    }

    #[test]
    fn values_render_in_their_soql_forms() {
        let render = |v: Value| {
            let mut out = Out::default();
            v.render("f", &mut out).map(|()| out.text)
        };
        assert_eq!(render(42i64.into()).unwrap(), "42");
        assert_eq!(render((-1.5f64).into()).unwrap(), "-1.5");
        assert_eq!(render(1e20f64.into()).unwrap(), "100000000000000000000");
        assert!(render(f64::NAN.into()).is_err());
        assert_eq!(render(true.into()).unwrap(), "true");
        assert_eq!(render(Value::from(None::<&str>)).unwrap(), "null");
        assert_eq!(
            render(NaiveDate::from_ymd_opt(2026, 1, 31).unwrap().into()).unwrap(),
            "2026-01-31"
        );
        let t = DateTime::parse_from_rfc3339("2026-01-31T23:59:58.123+09:00")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(render(t.into()).unwrap(), "2026-01-31T14:59:58Z");
        let id = Id::parse("001000000000001").unwrap();
        assert_eq!(render(id.into()).unwrap(), "'001000000000001AAA'");
    }

    #[test]
    fn conditions_are_parenthesised() {
        let q = select(["Id"])
            .from("Account")
            .where_(
                Cond::eq("Name", "a")
                    .and(Cond::ne("Phone", Value::Null))
                    .or(Cond::not(Cond::in_("Id", ["001000000000001AAA"]))),
            )
            .build()
            .unwrap();
        assert_eq!(
            q.as_str(),
            "SELECT Id FROM Account WHERE ((Name = 'a' AND Phone != null) OR (NOT Id IN ('001000000000001AAA')))"
        );
        let q = select(["Id", "Account.Name"])
            .from("Contact")
            .where_(Cond::not_in("Email", vec!["a@b", "c@d"]))
            .where_(Cond::ge(
                "CreatedDate",
                NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            ))
            .order_by("LastName", Order::Desc)
            .order_by("Id", Order::Asc)
            .limit(5)
            .offset(10)
            .build()
            .unwrap();
        assert_eq!(
            q.as_str(),
            "SELECT Id, Account.Name FROM Contact WHERE (Email NOT IN ('a@b', 'c@d') AND CreatedDate >= 2026-01-01) ORDER BY LastName DESC, Id ASC LIMIT 5 OFFSET 10"
        );
        let q = count()
            .from("Order")
            .where_(Cond::any([
                Cond::eq("Status", "Draft"),
                Cond::eq("Status", "Activated"),
            ]))
            .build()
            .unwrap();
        assert_eq!(
            q.as_str(),
            "SELECT COUNT() FROM Order WHERE (Status = 'Draft' OR Status = 'Activated')"
        );
    }

    #[test]
    fn identifiers_are_checked() {
        for bad in [
            "",
            "Name,Id",
            "Name FROM User --",
            "1Name",
            "Account.",
            ".Name",
            "Na me",
            "Name'",
            "_Name",
            "Näme",
        ] {
            assert!(!is_identifier(bad), "{bad:?}");
            assert_eq!(
                select([bad]).from("Account").build(),
                Err(SoqlError::InvalidIdentifier(bad.to_owned()))
            );
            assert!(select(["Id"]).from(bad).build().is_err());
            assert!(
                select(["Id"])
                    .from("Account")
                    .where_(Cond::eq(bad, 1))
                    .build()
                    .is_err()
            );
            assert!(
                select(["Id"])
                    .from("Account")
                    .order_by(bad, Order::Asc)
                    .build()
                    .is_err()
            );
        }
        for good in ["Name", "Account.Owner.Name", "WHMCS_Service_ID__c", "a1"] {
            assert!(is_identifier(good), "{good}");
        }
        assert!(select(["Id"]).from("Account.Name").build().is_err());
    }

    #[test]
    fn references_render_quoted_and_are_recorded_where_they_sit() {
        let account = Reference::new(7, "order", "records[0].AccountId").unwrap();
        let q = select(["Id"])
            .from("Contact")
            .where_(Cond::eq("AccountId", &account))
            .where_(Cond::ne("LastName", "'@{ref0.id}'"))
            .where_(Cond::in_(
                "Id",
                [Value::from(Reference::new(7, "c", "id").unwrap())],
            ))
            .build()
            .unwrap();
        assert_eq!(
            q.as_str(),
            r"SELECT Id FROM Contact WHERE (AccountId = '@{order.records[0].AccountId}' AND LastName != '\'@{ref0.id}\'' AND Id IN ('@{c.id}'))"
        );
        assert!(q.has_references());
        let placed: Vec<&str> = q
            .placed()
            .iter()
            .map(|p| &q.as_str()[p.range.clone()])
            .collect();
        // The look-alike in the text value is not a reference.
        assert_eq!(placed, ["@{order.records[0].AccountId}", "@{c.id}"]);
        assert_eq!(q.references().next(), Some(&account));
        assert_eq!(account.expression(), "@{order.records[0].AccountId}");

        let plain = select(["Id"])
            .from("Contact")
            .where_(Cond::eq("LastName", "@{order.records[0].AccountId}"))
            .build()
            .unwrap();
        assert!(!plain.has_references());
    }

    #[test]
    fn reference_paths_are_names_fields_and_indexes_only() {
        for good in [
            "id",
            "records[0].Id",
            "records[12].Account.Name",
            "a_1",
            "x[0][1]",
        ] {
            assert!(is_reference_path(good), "{good}");
        }
        for bad in [
            "",
            ".id",
            "id.",
            "records[]",
            "records[x]",
            "records[0",
            "[0]",
            "a..b",
            "a b",
            "id}",
            "id}' OR Id != '",
            "records[0].Id'",
            "Näme",
        ] {
            assert!(!is_reference_path(bad), "{bad:?}");
            assert!(Reference::new(1, "r", bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn malformed_queries_are_build_errors() {
        let base = || select(["Id"]).from("Account");
        assert_eq!(
            select(Vec::<String>::new()).from("Account").build(),
            Err(SoqlError::NoFields)
        );
        assert_eq!(select(["Id"]).build(), Err(SoqlError::NoObject));
        assert_eq!(
            base().where_(Cond::in_("Id", Vec::<Id>::new())).build(),
            Err(SoqlError::EmptyList("Id".into()))
        );
        assert_eq!(
            base().where_(Cond::all([])).build(),
            Err(SoqlError::EmptyGroup)
        );
        assert_eq!(
            base().where_(Cond::lt("Amount", Value::Null)).build(),
            Err(SoqlError::NullOrdering("Amount".into()))
        );
        assert_eq!(
            count().from("Account").order_by("Name", Order::Asc).build(),
            Err(SoqlError::CountWithOrderBy)
        );
    }
}
