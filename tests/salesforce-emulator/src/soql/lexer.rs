//! Turns a SOQL string into tokens: identifiers (dotted field paths stay one
//! token), quoted strings with Salesforce's escape rules, numbers, unquoted
//! date and datetime literals, punctuation and comparison operators.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};

use super::SoqlError;

/// One character of a quoted string literal, as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StrChar {
    /// A character that stands for itself (possibly written as an escape such as `\n`).
    Plain(char),
    /// `\%` or `\_`: legal only in a LIKE pattern, where it means the literal character.
    EscapedWildcard(char),
}

/// A comparison operator of a WHERE condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum TokKind {
    /// A name or keyword; a dotted path such as `Account.Name` is one token.
    Ident(String),
    Str(Vec<StrChar>),
    /// The digits of a number as written (optionally signed, optionally with a fraction).
    Number(String),
    Date(NaiveDate),
    DateTime(DateTime<Utc>),
    Comma,
    LParen,
    RParen,
    Colon,
    Op(CmpOp),
    /// Any other single character (`;`, `.`, `"`, `*`…): never valid in the supported grammar.
    Other,
    Eof,
}

/// A token with its byte span in the query text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub(crate) kind: TokKind,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

impl Token {
    /// The token as written, for error messages (`<EOF>` at the end of input).
    pub(crate) fn text<'a>(&self, src: &'a str) -> &'a str {
        match self.kind {
            TokKind::Eof => "<EOF>",
            _ => src.get(self.start..self.end).unwrap_or("<EOF>"),
        }
    }

    /// True when the token is the keyword `kw` (case-insensitive).
    pub(crate) fn is_keyword(&self, kw: &str) -> bool {
        matches!(&self.kind, TokKind::Ident(s) if s.eq_ignore_ascii_case(kw))
    }
}

/// Splits `src` into tokens, ending with [`TokKind::Eof`].
pub(crate) fn tokenize(src: &str) -> Result<Vec<Token>, SoqlError> {
    let mut lexer = Lexer {
        src,
        chars: src.char_indices().collect(),
        pos: 0,
    };
    let mut tokens = Vec::new();
    loop {
        let token = lexer.next_token()?;
        let done = token.kind == TokKind::Eof;
        tokens.push(token);
        if done {
            return Ok(tokens);
        }
    }
}

struct Lexer<'a> {
    src: &'a str,
    chars: Vec<(usize, char)>,
    /// Index into `chars`.
    pos: usize,
}

impl Lexer<'_> {
    fn peek_at(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.pos + ahead).map(|&(_, c)| c)
    }

    /// Byte offset of the character at `pos` (the end of input past the last one).
    fn offset(&self, pos: usize) -> usize {
        self.chars.get(pos).map_or(self.src.len(), |&(i, _)| i)
    }

    fn token(&self, kind: TokKind, start_pos: usize) -> Token {
        Token {
            kind,
            start: self.offset(start_pos),
            end: self.offset(self.pos),
        }
    }

    fn next_token(&mut self) -> Result<Token, SoqlError> {
        while self.peek_at(0).is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
        let start = self.pos;
        let Some(c) = self.peek_at(0) else {
            return Ok(self.token(TokKind::Eof, start));
        };
        let kind = match c {
            '\'' => self.string()?,
            c if c.is_ascii_alphabetic() => self.ident(),
            c if c.is_ascii_digit() => self.number_or_date()?,
            '-' if self.peek_at(1).is_some_and(|d| d.is_ascii_digit()) => {
                self.pos += 1;
                self.number();
                TokKind::Number(self.text_from(start).to_owned())
            }
            ',' => self.single(TokKind::Comma),
            '(' => self.single(TokKind::LParen),
            ')' => self.single(TokKind::RParen),
            ':' => self.single(TokKind::Colon),
            '=' => self.single(TokKind::Op(CmpOp::Eq)),
            '!' if self.peek_at(1) == Some('=') => self.double(TokKind::Op(CmpOp::Ne)),
            '<' if self.peek_at(1) == Some('>') => self.double(TokKind::Op(CmpOp::Ne)),
            '<' if self.peek_at(1) == Some('=') => self.double(TokKind::Op(CmpOp::Le)),
            '>' if self.peek_at(1) == Some('=') => self.double(TokKind::Op(CmpOp::Ge)),
            '<' => self.single(TokKind::Op(CmpOp::Lt)),
            '>' => self.single(TokKind::Op(CmpOp::Gt)),
            _ => self.single(TokKind::Other),
        };
        Ok(self.token(kind, start))
    }

    fn single(&mut self, kind: TokKind) -> TokKind {
        self.pos += 1;
        kind
    }

    fn double(&mut self, kind: TokKind) -> TokKind {
        self.pos += 2;
        kind
    }

    fn text_from(&self, start_pos: usize) -> &str {
        &self.src[self.offset(start_pos)..self.offset(self.pos)]
    }

    /// A name, or a dotted path of names (`Order.Account.Name`).
    fn ident(&mut self) -> TokKind {
        let start = self.pos;
        loop {
            while self
                .peek_at(0)
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                self.pos += 1;
            }
            let dotted_name_follows = self.peek_at(0) == Some('.')
                && self.peek_at(1).is_some_and(|c| c.is_ascii_alphabetic());
            if !dotted_name_follows {
                break;
            }
            self.pos += 1;
        }
        TokKind::Ident(self.text_from(start).to_owned())
    }

    /// Digits with an optional fraction; the caller has consumed any sign.
    fn number(&mut self) {
        self.skip_digits();
        if self.peek_at(0) == Some('.') && self.peek_at(1).is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
            self.skip_digits();
        }
    }

    fn skip_digits(&mut self) -> usize {
        let start = self.pos;
        while self.peek_at(0).is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        self.pos - start
    }

    /// True when the characters from `pos + ahead` match `pattern`, where `9` stands for any digit.
    fn matches_shape(&self, ahead: usize, pattern: &str) -> bool {
        pattern
            .chars()
            .enumerate()
            .all(|(i, p)| match self.peek_at(ahead + i) {
                Some(c) if p == '9' => c.is_ascii_digit(),
                Some(c) => c == p,
                None => false,
            })
    }

    fn digits_value(&self, from: usize, len: usize) -> u32 {
        (from..from + len)
            .filter_map(|i| self.peek_at(i).and_then(|c| c.to_digit(10)))
            .fold(0, |acc, d| acc * 10 + d)
    }

    fn number_or_date(&mut self) -> Result<TokKind, SoqlError> {
        let start = self.pos;
        if !self.matches_shape(0, "9999-99-99") {
            self.number();
            return Ok(TokKind::Number(self.text_from(start).to_owned()));
        }
        let year = i32::try_from(self.digits_value(0, 4)).unwrap_or(i32::MAX);
        let date = NaiveDate::from_ymd_opt(year, self.digits_value(5, 2), self.digits_value(8, 2));
        self.pos += 10;
        let date = date.ok_or_else(|| self.bad_literal(start))?;
        if self.peek_at(0) != Some('T') {
            return Ok(TokKind::Date(date));
        }
        if !self.matches_shape(1, "99:99:99") {
            self.pos += 1;
            return Err(self.bad_literal(start));
        }
        let (h, m, s) = (
            self.digits_value(1, 2),
            self.digits_value(4, 2),
            self.digits_value(7, 2),
        );
        self.pos += 9;
        let mut nanos = 0;
        if self.peek_at(0) == Some('.') {
            self.pos += 1;
            let frac_start = self.pos;
            let n = self.skip_digits();
            if n == 0 || n > 9 {
                return Err(self.bad_literal(start));
            }
            nanos = self
                .text_from(frac_start)
                .chars()
                .chain(std::iter::repeat('0'))
                .take(9)
                .fold(0, |acc, d| acc * 10 + d.to_digit(10).unwrap_or(0));
        }
        let time =
            NaiveTime::from_hms_nano_opt(h, m, s, nanos).ok_or_else(|| self.bad_literal(start))?;
        let offset_minutes: i64 = match self.peek_at(0) {
            Some('Z') => {
                self.pos += 1;
                0
            }
            Some(sign @ ('+' | '-')) if self.matches_shape(1, "99:99") => {
                let (oh, om) = (self.digits_value(1, 2), self.digits_value(4, 2));
                self.pos += 6;
                if oh > 23 || om > 59 {
                    return Err(self.bad_literal(start));
                }
                let minutes = i64::from(oh * 60 + om);
                if sign == '-' { -minutes } else { minutes }
            }
            _ => return Err(self.bad_literal(start)),
        };
        let utc = date.and_time(time) - Duration::minutes(offset_minutes);
        Ok(TokKind::DateTime(utc.and_utc()))
    }

    fn bad_literal(&self, start_pos: usize) -> SoqlError {
        SoqlError::malformed(format!("unexpected token: '{}'", self.text_from(start_pos)))
    }

    /// A single-quoted string; the opening quote is at `pos`.
    fn string(&mut self) -> Result<TokKind, SoqlError> {
        let start = self.pos;
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            let Some(c) = self.peek_at(0) else {
                return Err(SoqlError::malformed(format!(
                    "unterminated string literal: {}",
                    self.text_from(start)
                )));
            };
            self.pos += 1;
            match c {
                '\'' => return Ok(TokKind::Str(out)),
                '\\' => out.push(self.escape(start)?),
                c => out.push(StrChar::Plain(c)),
            }
        }
    }

    /// The character after a backslash (already consumed) inside the string starting at `start`.
    fn escape(&mut self, start: usize) -> Result<StrChar, SoqlError> {
        let Some(c) = self.peek_at(0) else {
            return Err(SoqlError::malformed(format!(
                "unterminated string literal: {}",
                self.text_from(start)
            )));
        };
        self.pos += 1;
        let plain = match c {
            '\\' | '\'' | '"' => c,
            'n' | 'N' => '\n',
            'r' | 'R' => '\r',
            't' | 'T' => '\t',
            'b' | 'B' => '\u{8}',
            'f' | 'F' => '\u{c}',
            '%' | '_' => return Ok(StrChar::EscapedWildcard(c)),
            'u' => {
                let hex: String = (0..4).filter_map(|i| self.peek_at(i)).collect();
                let decoded = (hex.len() == 4 && hex.chars().all(|h| h.is_ascii_hexdigit()))
                    .then(|| u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32))
                    .flatten();
                match decoded {
                    Some(ch) => {
                        self.pos += 4;
                        ch
                    }
                    None => return Err(self.illegal_escape(start, &format!("\\u{hex}"))),
                }
            }
            other => return Err(self.illegal_escape(start, &format!("\\{other}"))),
        };
        Ok(StrChar::Plain(plain))
    }

    fn illegal_escape(&mut self, start: usize, sequence: &str) -> SoqlError {
        // Show the literal up to its closing quote when there is one.
        let mut end = self.pos;
        let mut escaped = false;
        while let Some(c) = self.chars.get(end).map(|&(_, c)| c) {
            end += 1;
            match (escaped, c) {
                (false, '\\') => escaped = true,
                (false, '\'') => break,
                _ => escaped = false,
            }
        }
        let literal = &self.src[self.offset(start)..self.offset(end)];
        SoqlError::malformed(format!(
            "Invalid string literal {literal}. Illegal character sequence '{sequence}' in string literal."
        ))
    }
}
