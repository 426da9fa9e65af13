//! The grammar of the supported SOQL subset, turning tokens into a syntax tree
//! whose names are not yet checked against the schema (that is `resolve`'s job).
//!
//! ```text
//! query     := SELECT (COUNT '(' ')' | path (',' path)*) FROM name
//!              [WHERE expr] [ORDER BY order (',' order)*] [LIMIT int] [OFFSET int] <EOF>
//! expr      := operand ((AND operand)* | (OR operand)*)     -- no AND/OR mixing, no bare NOT in a chain
//! operand   := '(' expr ')' | NOT ('(' expr ')' | simple) | simple
//! simple    := path (op literal | [NOT] IN '(' literal (',' literal)* ')' | LIKE literal)
//! order     := path [ASC | DESC] [NULLS (FIRST | LAST)]
//! ```
//! Anything outside it is refused with `MALFORMED_QUERY: unexpected token: '<token>'`.

use chrono::{DateTime, NaiveDate, Utc};

use super::SoqlError;
use super::lexer::{CmpOp, StrChar, TokKind, Token};

/// Words that can never be a field or object name: SOQL's reserved words, plus the
/// literals and `TYPEOF`. (`ORDER`, `OFFSET`, `FOR`… are not reserved: `Order` is an object.)
const RESERVED: &[&str] = &[
    "AND", "ASC", "DESC", "EXCLUDES", "FALSE", "FIRST", "FROM", "GROUP", "HAVING", "IN",
    "INCLUDES", "LAST", "LIKE", "LIMIT", "NOT", "NULL", "NULLS", "OR", "SELECT", "TRUE", "TYPEOF",
    "WHERE", "WITH",
];

/// A query as written, names unresolved.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RawQuery {
    pub(crate) select: RawSelect,
    pub(crate) object: String,
    pub(crate) filter: Option<RawCond>,
    pub(crate) order_by: Vec<RawOrder>,
    pub(crate) limit: Option<u64>,
    pub(crate) offset: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RawSelect {
    /// `COUNT()`.
    Count,
    /// Field paths as written (`Name`, `Account.Name`).
    Fields(Vec<String>),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RawOrder {
    pub(crate) path: String,
    pub(crate) descending: bool,
    /// `Some(true)` for `NULLS FIRST`, `Some(false)` for `NULLS LAST`, `None` when not given.
    pub(crate) nulls_first: Option<bool>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RawCond {
    And(Vec<RawCond>),
    Or(Vec<RawCond>),
    Not(Box<RawCond>),
    Cmp {
        path: String,
        op: CmpOp,
        value: RawLit,
    },
    In {
        path: String,
        negated: bool,
        values: Vec<RawLit>,
    },
    Like {
        path: String,
        pattern: RawLit,
    },
}

/// A literal as written.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RawLit {
    /// A quoted string: its characters and the literal as written (quotes included).
    Str(Vec<StrChar>, String),
    Number(f64),
    Bool(bool),
    Null,
    Date(NaiveDate),
    DateTime(DateTime<Utc>),
    Relative(DateLiteral),
}

/// A date literal relative to the current day (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DateLiteral {
    Today,
    Yesterday,
    Tomorrow,
    /// `LAST_N_DAYS:n`: from midnight `n` days ago through the end of today.
    LastNDays(u32),
    /// `NEXT_N_DAYS:n`: from midnight tomorrow for `n` days.
    NextNDays(u32),
}

/// Parses the tokens of `src` into a [`RawQuery`].
pub(crate) fn parse(src: &str, tokens: &[Token]) -> Result<RawQuery, SoqlError> {
    let mut parser = Parser {
        src,
        tokens,
        pos: 0,
    };
    parser.query()
}

struct Parser<'a> {
    src: &'a str,
    tokens: &'a [Token],
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> &Token {
        self.peek_at(0)
    }

    fn peek_at(&self, ahead: usize) -> &Token {
        let last = self.tokens.len().saturating_sub(1);
        &self.tokens[(self.pos + ahead).min(last)]
    }

    fn advance(&mut self) -> Token {
        let token = self.peek().clone();
        if self.pos + 1 < self.tokens.len() {
            self.pos += 1;
        }
        token
    }

    fn unexpected(&self, token: &Token) -> SoqlError {
        SoqlError::malformed(format!("unexpected token: '{}'", token.text(self.src)))
    }

    fn at_keyword(&self, kw: &str) -> bool {
        self.peek().is_keyword(kw)
    }

    fn expect_keyword(&mut self, kw: &str) -> Result<(), SoqlError> {
        if self.at_keyword(kw) {
            self.advance();
            Ok(())
        } else {
            Err(self.unexpected(self.peek()))
        }
    }

    fn expect(&mut self, kind: &TokKind) -> Result<(), SoqlError> {
        if &self.peek().kind == kind {
            self.advance();
            Ok(())
        } else {
            Err(self.unexpected(self.peek()))
        }
    }

    fn query(&mut self) -> Result<RawQuery, SoqlError> {
        self.expect_keyword("SELECT")?;
        let select = self.select_list()?;
        self.expect_keyword("FROM")?;
        let object = self.name(false)?;
        let filter = if self.at_keyword("WHERE") {
            self.advance();
            Some(self.expr()?)
        } else {
            None
        };
        let mut order_by = Vec::new();
        if self.at_keyword("ORDER") {
            self.advance();
            self.expect_keyword("BY")?;
            loop {
                order_by.push(self.order_key()?);
                if self.peek().kind != TokKind::Comma {
                    break;
                }
                self.advance();
            }
        }
        let limit = if self.at_keyword("LIMIT") {
            self.advance();
            Some(self.unsigned()?)
        } else {
            None
        };
        let offset = if self.at_keyword("OFFSET") {
            self.advance();
            Some(self.unsigned()?)
        } else {
            None
        };
        self.expect(&TokKind::Eof)?;
        Ok(RawQuery {
            select,
            object,
            filter,
            order_by,
            limit,
            offset,
        })
    }

    /// A field path (`dotted`) or an object name; never a reserved word, never a function call.
    fn name(&mut self, dotted: bool) -> Result<String, SoqlError> {
        let token = self.peek().clone();
        match &token.kind {
            TokKind::Ident(name)
                if (dotted || !name.contains('.'))
                    && !RESERVED.iter().any(|r| r.eq_ignore_ascii_case(name))
                    && self.peek_at(1).kind != TokKind::LParen =>
            {
                self.advance();
                Ok(name.clone())
            }
            _ => Err(self.unexpected(&token)),
        }
    }

    fn select_list(&mut self) -> Result<RawSelect, SoqlError> {
        if self.at_keyword("COUNT") && self.peek_at(1).kind == TokKind::LParen {
            self.advance();
            self.advance();
            self.expect(&TokKind::RParen)?;
            return Ok(RawSelect::Count);
        }
        let mut fields = vec![self.name(true)?];
        while self.peek().kind == TokKind::Comma {
            self.advance();
            fields.push(self.name(true)?);
        }
        Ok(RawSelect::Fields(fields))
    }

    fn order_key(&mut self) -> Result<RawOrder, SoqlError> {
        let path = self.name(true)?;
        let descending = if self.at_keyword("DESC") {
            self.advance();
            true
        } else {
            if self.at_keyword("ASC") {
                self.advance();
            }
            false
        };
        let nulls_first = if self.at_keyword("NULLS") {
            self.advance();
            if self.at_keyword("FIRST") {
                self.advance();
                Some(true)
            } else {
                self.expect_keyword("LAST")?;
                Some(false)
            }
        } else {
            None
        };
        Ok(RawOrder {
            path,
            descending,
            nulls_first,
        })
    }

    fn unsigned(&mut self) -> Result<u64, SoqlError> {
        let token = self.advance();
        match &token.kind {
            TokKind::Number(digits) if digits.bytes().all(|b| b.is_ascii_digit()) => {
                digits.parse().map_err(|_| self.unexpected(&token))
            }
            _ => Err(self.unexpected(&token)),
        }
    }

    /// A chain of operands joined by one kind of connective.
    fn expr(&mut self) -> Result<RawCond, SoqlError> {
        let (first, first_is_bare_not) = self.operand()?;
        let mut operands = vec![first];
        let mut conjunction: Option<bool> = None;
        loop {
            let is_and = if self.at_keyword("AND") {
                true
            } else if self.at_keyword("OR") {
                false
            } else {
                break;
            };
            if first_is_bare_not || conjunction.is_some_and(|c| c != is_and) {
                return Err(self.unexpected(self.peek()));
            }
            conjunction = Some(is_and);
            self.advance();
            if self.at_keyword("NOT") {
                return Err(self.unexpected(self.peek()));
            }
            operands.push(self.operand()?.0);
        }
        Ok(match conjunction {
            None => operands.pop().expect("a chain has at least one operand"),
            Some(true) => RawCond::And(operands),
            Some(false) => RawCond::Or(operands),
        })
    }

    /// One operand; the flag tells whether it is a `NOT` outside parentheses.
    fn operand(&mut self) -> Result<(RawCond, bool), SoqlError> {
        if self.peek().kind == TokKind::LParen {
            return Ok((self.parenthesized()?, false));
        }
        if self.at_keyword("NOT") {
            self.advance();
            let inner = if self.peek().kind == TokKind::LParen {
                self.parenthesized()?
            } else {
                self.simple()?
            };
            return Ok((RawCond::Not(Box::new(inner)), true));
        }
        Ok((self.simple()?, false))
    }

    fn parenthesized(&mut self) -> Result<RawCond, SoqlError> {
        self.expect(&TokKind::LParen)?;
        let inner = self.expr()?;
        self.expect(&TokKind::RParen)?;
        Ok(inner)
    }

    fn simple(&mut self) -> Result<RawCond, SoqlError> {
        let path = self.name(true)?;
        let token = self.peek().clone();
        match &token.kind {
            TokKind::Op(op) => {
                let op = *op;
                self.advance();
                let value = self.literal()?;
                Ok(RawCond::Cmp { path, op, value })
            }
            _ if token.is_keyword("IN") => {
                self.advance();
                let values = self.list()?;
                Ok(RawCond::In {
                    path,
                    negated: false,
                    values,
                })
            }
            _ if token.is_keyword("NOT") => {
                self.advance();
                self.expect_keyword("IN")?;
                let values = self.list()?;
                Ok(RawCond::In {
                    path,
                    negated: true,
                    values,
                })
            }
            _ if token.is_keyword("LIKE") => {
                self.advance();
                let pattern = self.literal()?;
                Ok(RawCond::Like { path, pattern })
            }
            _ => Err(self.unexpected(&token)),
        }
    }

    fn list(&mut self) -> Result<Vec<RawLit>, SoqlError> {
        self.expect(&TokKind::LParen)?;
        let mut values = vec![self.literal()?];
        while self.peek().kind == TokKind::Comma {
            self.advance();
            values.push(self.literal()?);
        }
        self.expect(&TokKind::RParen)?;
        Ok(values)
    }

    fn literal(&mut self) -> Result<RawLit, SoqlError> {
        let token = self.advance();
        let literal = match &token.kind {
            TokKind::Str(chars) => RawLit::Str(chars.clone(), token.text(self.src).to_owned()),
            TokKind::Number(text) => {
                RawLit::Number(text.parse().map_err(|_| self.unexpected(&token))?)
            }
            TokKind::Date(date) => RawLit::Date(*date),
            TokKind::DateTime(instant) => RawLit::DateTime(*instant),
            TokKind::Ident(word) => match word.to_ascii_uppercase().as_str() {
                "TRUE" => RawLit::Bool(true),
                "FALSE" => RawLit::Bool(false),
                "NULL" => RawLit::Null,
                "TODAY" => RawLit::Relative(DateLiteral::Today),
                "YESTERDAY" => RawLit::Relative(DateLiteral::Yesterday),
                "TOMORROW" => RawLit::Relative(DateLiteral::Tomorrow),
                "LAST_N_DAYS" => RawLit::Relative(DateLiteral::LastNDays(self.day_count()?)),
                "NEXT_N_DAYS" => RawLit::Relative(DateLiteral::NextNDays(self.day_count()?)),
                _ => return Err(self.unexpected(&token)),
            },
            _ => return Err(self.unexpected(&token)),
        };
        Ok(literal)
    }

    /// The `:n` of `LAST_N_DAYS:n`.
    fn day_count(&mut self) -> Result<u32, SoqlError> {
        self.expect(&TokKind::Colon)?;
        let token = self.advance();
        match &token.kind {
            TokKind::Number(digits) if digits.bytes().all(|b| b.is_ascii_digit()) => {
                digits.parse().map_err(|_| self.unexpected(&token))
            }
            _ => Err(self.unexpected(&token)),
        }
    }
}
