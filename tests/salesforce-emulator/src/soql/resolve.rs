//! Binds a syntax tree to the org schema: object and field names (through
//! parent relationships), and the type of every literal against its field,
//! refusing what Salesforce refuses with the same error codes.

use chrono::{DateTime, NaiveDate, Utc};
use salesforce::schema::{FieldDef, FieldType, ObjectDef};

use super::SoqlError;
use super::lexer::{CmpOp, StrChar};
use super::parser::{DateLiteral, RawCond, RawLit, RawOrder, RawQuery, RawSelect};

/// At most this many parent relationships in one path (`A.B.C.D.E.Field`).
const MAX_RELATIONSHIP_DEPTH: usize = 5;
/// The largest OFFSET Salesforce accepts.
const MAX_OFFSET: u64 = 2000;

/// How values of a field compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Text-like: compared case-insensitively, usable with LIKE.
    Text,
    /// Record ids and references: compared on their 15 case-sensitive characters.
    Id,
    Date,
    DateTime,
    Number,
    Boolean,
}

/// One parent hop of a field path.
#[derive(Debug, Clone)]
pub(crate) struct Step {
    /// The reference field followed (`AccountId`).
    pub(crate) reference: &'static FieldDef,
    /// Its canonical relationship name (`Account`), the key in the output.
    pub(crate) relationship: &'static str,
    /// The object reached.
    pub(crate) target: &'static ObjectDef,
}

/// A field of the queried object, or of a parent reached through relationships.
#[derive(Debug, Clone)]
pub(crate) struct FieldPath {
    pub(crate) steps: Vec<Step>,
    pub(crate) field: &'static FieldDef,
    pub(crate) kind: Kind,
}

impl FieldPath {
    /// The canonical dotted spelling, e.g. `Account.Name`.
    pub(crate) fn display(&self) -> String {
        self.steps
            .iter()
            .map(|s| s.relationship)
            .chain(std::iter::once(self.field.name))
            .collect::<Vec<_>>()
            .join(".")
    }
}

/// A literal checked against the type of the field it is compared with.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Literal {
    Null,
    Text(String),
    /// The canonical 15-character id.
    Id(String),
    Number(f64),
    Bool(bool),
    Date(NaiveDate),
    DateTime(DateTime<Utc>),
    Relative(DateLiteral),
}

/// One element of a LIKE pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LikeElem {
    /// `%`: any run of characters, possibly empty.
    AnyRun,
    /// `_`: exactly one character.
    AnyOne,
    /// A character matched case-insensitively.
    Char(char),
}

#[derive(Debug, Clone)]
pub(crate) enum Cond {
    And(Vec<Cond>),
    Or(Vec<Cond>),
    Not(Box<Cond>),
    Cmp {
        path: FieldPath,
        op: CmpOp,
        value: Literal,
    },
    In {
        path: FieldPath,
        negated: bool,
        values: Vec<Literal>,
    },
    Like {
        path: FieldPath,
        pattern: Vec<LikeElem>,
    },
}

#[derive(Debug, Clone)]
pub(crate) struct OrderKey {
    pub(crate) path: FieldPath,
    pub(crate) descending: bool,
    pub(crate) nulls_first: bool,
}

#[derive(Debug, Clone)]
pub(crate) enum Selection {
    Count,
    Fields(Vec<FieldPath>),
}

/// A query bound to the schema.
#[derive(Debug, Clone)]
pub(crate) struct Bound {
    pub(crate) object: &'static ObjectDef,
    pub(crate) selection: Selection,
    pub(crate) filter: Option<Cond>,
    pub(crate) order_by: Vec<OrderKey>,
    pub(crate) limit: Option<u64>,
    pub(crate) offset: Option<u64>,
}

/// Binds `raw` to the schema.
pub(crate) fn resolve(raw: RawQuery) -> Result<Bound, SoqlError> {
    let object = crate::platform::object(&raw.object).ok_or_else(|| {
        SoqlError::invalid_type(format!(
            "sObject type '{}' is not supported. If you are attempting to use a custom object, \
             be sure to append the '__c' after the entity name. Please reference your WSDL or \
             the describe call for the appropriate names.",
            raw.object
        ))
    })?;
    let selection = match raw.select {
        RawSelect::Count => Selection::Count,
        RawSelect::Fields(written) => {
            let mut fields: Vec<FieldPath> = Vec::with_capacity(written.len());
            for name in &written {
                let path = resolve_path(object, name)?;
                let display = path.display();
                if fields
                    .iter()
                    .any(|f| f.display().eq_ignore_ascii_case(&display))
                {
                    return Err(SoqlError::malformed(format!(
                        "duplicate field selected: {display}"
                    )));
                }
                fields.push(path);
            }
            Selection::Fields(fields)
        }
    };
    let filter = raw.filter.map(|c| resolve_cond(object, c)).transpose()?;
    let order_by = raw
        .order_by
        .into_iter()
        .map(|o| resolve_order(object, o))
        .collect::<Result<_, _>>()?;
    if let Some(offset) = raw.offset
        && offset > MAX_OFFSET
    {
        return Err(SoqlError::number_outside_valid_range(format!(
            "Maximum SOQL offset allowed is {MAX_OFFSET}"
        )));
    }
    Ok(Bound {
        object,
        selection,
        filter,
        order_by,
        limit: raw.limit,
        offset: raw.offset,
    })
}

fn resolve_path(object: &'static ObjectDef, written: &str) -> Result<FieldPath, SoqlError> {
    let segments: Vec<&str> = written.split('.').collect();
    let (field_name, relationships) = segments
        .split_last()
        .expect("split always yields at least one segment");
    if relationships.len() > MAX_RELATIONSHIP_DEPTH {
        return Err(SoqlError::malformed(format!(
            "A query can navigate at most {MAX_RELATIONSHIP_DEPTH} levels of parent relationships: '{written}'"
        )));
    }
    let mut current = object;
    let mut steps = Vec::with_capacity(relationships.len());
    for relationship in relationships {
        let not_understood = || {
            SoqlError::invalid_field(format!(
                "Didn't understand relationship '{relationship}' in field path. If you are \
                 attempting to use a custom relationship, be sure to append the '__r' after the \
                 custom relationship name. Please reference your WSDL or the describe call for \
                 the appropriate names."
            ))
        };
        let reference = current
            .relationship(relationship)
            .ok_or_else(not_understood)?;
        let FieldType::Reference {
            to,
            relationship: canonical,
        } = reference.kind
        else {
            return Err(not_understood());
        };
        let target = crate::platform::object(to).ok_or_else(not_understood)?;
        steps.push(Step {
            reference,
            relationship: canonical,
            target,
        });
        current = target;
    }
    let field = current.field(field_name).ok_or_else(|| {
        SoqlError::invalid_field(format!(
            "No such column '{field_name}' on entity '{}'. If you are attempting to use a custom \
             field, be sure to append the '__c' after the custom field name. Please reference \
             your WSDL or the describe call for the appropriate names.",
            current.name
        ))
    })?;
    Ok(FieldPath {
        steps,
        field,
        kind: kind_of(field),
    })
}

pub(crate) fn kind_of(field: &FieldDef) -> Kind {
    match field.kind {
        FieldType::Id | FieldType::Reference { .. } => Kind::Id,
        FieldType::Text { .. }
        | FieldType::TextArea { .. }
        | FieldType::Email
        | FieldType::Phone
        | FieldType::Picklist { .. }
        | FieldType::AutoNumber { .. } => Kind::Text,
        FieldType::Date => Kind::Date,
        FieldType::DateTime => Kind::DateTime,
        FieldType::Number { .. } | FieldType::Currency => Kind::Number,
        FieldType::Boolean => Kind::Boolean,
    }
}

/// The type name Salesforce uses in filter errors.
fn soap_type(field: &FieldDef) -> &'static str {
    match field.kind {
        FieldType::Id | FieldType::Reference { .. } => "id",
        FieldType::Text { .. }
        | FieldType::TextArea { .. }
        | FieldType::Email
        | FieldType::Phone
        | FieldType::Picklist { .. }
        | FieldType::AutoNumber { .. } => "string",
        FieldType::Date => "date",
        FieldType::DateTime => "dateTime",
        FieldType::Number { .. } => "double",
        FieldType::Currency => "currency",
        FieldType::Boolean => "boolean",
    }
}

/// Long text areas can be neither filtered nor sorted in SOQL.
fn is_long_text_area(field: &FieldDef) -> bool {
    matches!(field.kind, FieldType::TextArea { length } if length > 4000 || (field.custom && length > 255))
}

fn resolve_order(object: &'static ObjectDef, raw: RawOrder) -> Result<OrderKey, SoqlError> {
    let path = resolve_path(object, &raw.path)?;
    if is_long_text_area(path.field) {
        return Err(SoqlError::invalid_field(format!(
            "field '{}' can not be sorted in a query call",
            path.field.name
        )));
    }
    Ok(OrderKey {
        path,
        descending: raw.descending,
        nulls_first: raw.nulls_first.unwrap_or(!raw.descending),
    })
}

fn filter_path(object: &'static ObjectDef, written: &str) -> Result<FieldPath, SoqlError> {
    let path = resolve_path(object, written)?;
    if is_long_text_area(path.field) {
        return Err(SoqlError::invalid_field(format!(
            "field '{}' can not be filtered in a query call",
            path.field.name
        )));
    }
    Ok(path)
}

fn resolve_cond(object: &'static ObjectDef, raw: RawCond) -> Result<Cond, SoqlError> {
    Ok(match raw {
        RawCond::And(items) => Cond::And(resolve_all(object, items)?),
        RawCond::Or(items) => Cond::Or(resolve_all(object, items)?),
        RawCond::Not(inner) => Cond::Not(Box::new(resolve_cond(object, *inner)?)),
        RawCond::Cmp { path, op, value } => {
            let path = filter_path(object, &path)?;
            let value = resolve_literal(&path, value)?;
            Cond::Cmp { path, op, value }
        }
        RawCond::In {
            path,
            negated,
            values,
        } => {
            let path = filter_path(object, &path)?;
            let values = values
                .into_iter()
                .map(|v| resolve_literal(&path, v))
                .collect::<Result<_, _>>()?;
            Cond::In {
                path,
                negated,
                values,
            }
        }
        RawCond::Like { path, pattern } => {
            let path = filter_path(object, &path)?;
            let pattern = resolve_like(&path, pattern)?;
            Cond::Like { path, pattern }
        }
    })
}

fn resolve_all(object: &'static ObjectDef, items: Vec<RawCond>) -> Result<Vec<Cond>, SoqlError> {
    items.into_iter().map(|c| resolve_cond(object, c)).collect()
}

fn type_mismatch(field: &FieldDef) -> SoqlError {
    let quoting = match kind_of(field) {
        Kind::Text | Kind::Id => "should be enclosed in quotes",
        _ => "should not be enclosed in quotes",
    };
    SoqlError::filter_operator(format!(
        "value of filter criterion for field '{}' must be of type {} and {quoting}",
        field.name,
        soap_type(field)
    ))
}

/// The characters of a string literal used outside LIKE, where `\%` and `\_` are illegal.
fn plain_string(chars: &[StrChar], written: &str) -> Result<String, SoqlError> {
    chars
        .iter()
        .map(|c| match c {
            StrChar::Plain(c) => Ok(*c),
            StrChar::EscapedWildcard(w) => Err(SoqlError::malformed(format!(
                "Invalid string literal {written}. Illegal character sequence '\\{w}' in string literal."
            ))),
        })
        .collect()
}

fn resolve_literal(path: &FieldPath, raw: RawLit) -> Result<Literal, SoqlError> {
    let field = path.field;
    Ok(match (path.kind, raw) {
        // Salesforce booleans are never null: `= null` means `= false`.
        (Kind::Boolean, RawLit::Null) => Literal::Bool(false),
        (_, RawLit::Null) => Literal::Null,
        (kind, RawLit::Str(chars, written)) => {
            let text = plain_string(&chars, &written)?;
            match kind {
                // Salesforce stores blank text as null, and `= ''` means `= null`.
                Kind::Text if text.is_empty() => Literal::Null,
                Kind::Text => Literal::Text(text),
                Kind::Id => Literal::Id(canonical_id(&text).ok_or_else(|| {
                    SoqlError::filter_operator(format!("invalid ID field: {text}"))
                })?),
                _ => return Err(type_mismatch(field)),
            }
        }
        (Kind::Number, RawLit::Number(n)) => Literal::Number(n),
        (Kind::Boolean, RawLit::Bool(b)) => Literal::Bool(b),
        (Kind::Date, RawLit::Date(d)) => Literal::Date(d),
        (Kind::DateTime, RawLit::DateTime(t)) => Literal::DateTime(t),
        (Kind::Date | Kind::DateTime, RawLit::Relative(r)) => Literal::Relative(r),
        _ => return Err(type_mismatch(field)),
    })
}

fn resolve_like(path: &FieldPath, raw: RawLit) -> Result<Vec<LikeElem>, SoqlError> {
    match (path.kind, raw) {
        (Kind::Text, RawLit::Str(chars, _)) => Ok(chars
            .into_iter()
            .map(|c| match c {
                StrChar::Plain('%') => LikeElem::AnyRun,
                StrChar::Plain('_') => LikeElem::AnyOne,
                StrChar::Plain(c) | StrChar::EscapedWildcard(c) => LikeElem::Char(c),
            })
            .collect()),
        (Kind::Id, _) => Err(SoqlError::filter_operator("invalid operator on id field")),
        _ => Err(type_mismatch(path.field)),
    }
}

const CHECKSUM_ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";

/// The three-character suffix that makes a 15-character id case-insensitively unique.
pub(crate) fn id_checksum(id15: &str) -> String {
    id15.as_bytes()
        .chunks(5)
        .map(|chunk| {
            let bits = chunk
                .iter()
                .enumerate()
                .filter(|(_, b)| b.is_ascii_uppercase())
                .fold(0usize, |acc, (i, _)| acc | (1 << i));
            char::from(CHECKSUM_ALPHABET[bits])
        })
        .collect()
}

/// The canonical 15-character form of a 15- or 18-character id literal, `None` when malformed
/// (wrong length, a character other than a letter or digit, or an 18-character id whose
/// suffix is not the checksum of its first 15 characters).
pub(crate) fn canonical_id(id: &str) -> Option<String> {
    if !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    match id.len() {
        15 => Some(id.to_owned()),
        18 => {
            let (head, suffix) = id.split_at(15);
            (id_checksum(head) == suffix).then(|| head.to_owned())
        }
        _ => None,
    }
}
