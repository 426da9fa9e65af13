//! PHP `serialize`/`unserialize` for the one shape WHMCS uses in AddOrder:
//! a flat array of integer keys to string or integer values
//! (`a:1:{i:5;s:11:"SF-801xxxx";}`).
//!
//! This is an independent implementation from the client's, on purpose: the
//! client's tests round-trip through this one. Unserialising is strict, like
//! WHMCS's `safe_unserialize` and stricter: `s:N` must count the exact number
//! of UTF-8 bytes, the element count must match, nothing may trail, and
//! objects or nested arrays are refused.

use std::collections::BTreeMap;

/// A value inside a serialised PHP array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhpValue {
    /// `i:<n>;`
    Int(i64),
    /// `s:<byte length>:"<bytes>";`
    Str(String),
}

impl PhpValue {
    /// The value as PHP would print it (`(string)$value`).
    #[must_use]
    pub fn to_php_string(&self) -> String {
        match self {
            Self::Int(n) => n.to_string(),
            Self::Str(s) => s.clone(),
        }
    }
}

/// Why a serialised string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnserializeError {
    /// The input ended before the array was complete.
    #[error("unexpected end of serialised data at byte {0}")]
    UnexpectedEnd(usize),
    /// A byte other than the one the format requires.
    #[error("expected {expected} at byte {at}")]
    Expected {
        /// What the format requires here.
        expected: &'static str,
        /// Byte offset in the input.
        at: usize,
    },
    /// A number that does not parse.
    #[error("invalid number at byte {0}")]
    InvalidNumber(usize),
    /// `s:N` whose N does not match the bytes between the quotes.
    #[error("string length {declared} at byte {at} does not match its bytes")]
    LengthMismatch {
        /// The declared byte length.
        declared: usize,
        /// Byte offset of the `s:`.
        at: usize,
    },
    /// A string that is not valid UTF-8.
    #[error("string at byte {0} is not UTF-8")]
    NotUtf8(usize),
    /// A value type this decoder refuses (objects, nested arrays, floats…).
    #[error("unsupported value type '{kind}' at byte {at}")]
    Unsupported {
        /// The PHP type letter.
        kind: char,
        /// Byte offset.
        at: usize,
    },
    /// A string key where an integer key is required.
    #[error("array key at byte {0} is not an integer")]
    NonIntegerKey(usize),
    /// The same key twice.
    #[error("array key {0} appears twice")]
    DuplicateKey(i64),
    /// Bytes after the closing brace.
    #[error("trailing data after the array at byte {0}")]
    Trailing(usize),
}

/// Serialises `entries` as a PHP array, keys in the given order.
#[must_use]
pub fn serialize_array(entries: &[(i64, PhpValue)]) -> String {
    let mut out = format!("a:{}:{{", entries.len());
    for (key, value) in entries {
        out.push_str(&format!("i:{key};"));
        match value {
            PhpValue::Int(n) => out.push_str(&format!("i:{n};")),
            PhpValue::Str(s) => out.push_str(&format!("s:{}:\"{s}\";", s.len())),
        }
    }
    out.push('}');
    out
}

/// Parses a serialised PHP array of integer keys to string/integer values.
///
/// # Errors
/// Any deviation from the exact format (see [`UnserializeError`]).
pub fn unserialize_array(input: &[u8]) -> Result<BTreeMap<i64, PhpValue>, UnserializeError> {
    let mut p = Parser { input, pos: 0 };
    p.expect(b"a:", "'a:'")?;
    let count = p.number_until(b':')?;
    let count = usize::try_from(count).map_err(|_| UnserializeError::InvalidNumber(p.pos))?;
    p.expect(b"{", "'{'")?;
    let mut out = BTreeMap::new();
    for _ in 0..count {
        let key_at = p.pos;
        let key = match p.peek()? {
            b'i' => {
                p.expect(b"i:", "'i:'")?;
                p.number_until(b';')?
            }
            b's' => return Err(UnserializeError::NonIntegerKey(key_at)),
            _ => {
                return Err(UnserializeError::Expected {
                    expected: "an array key",
                    at: key_at,
                });
            }
        };
        let value = p.value()?;
        if out.insert(key, value).is_some() {
            return Err(UnserializeError::DuplicateKey(key));
        }
    }
    p.expect(b"}", "'}'")?;
    if p.pos != input.len() {
        return Err(UnserializeError::Trailing(p.pos));
    }
    Ok(out)
}

struct Parser<'a> {
    input: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Result<u8, UnserializeError> {
        self.input
            .get(self.pos)
            .copied()
            .ok_or(UnserializeError::UnexpectedEnd(self.pos))
    }

    fn expect(&mut self, token: &[u8], expected: &'static str) -> Result<(), UnserializeError> {
        let end = self.pos + token.len();
        match self.input.get(self.pos..end) {
            Some(found) if found == token => {
                self.pos = end;
                Ok(())
            }
            Some(_) => Err(UnserializeError::Expected {
                expected,
                at: self.pos,
            }),
            None => Err(UnserializeError::UnexpectedEnd(self.pos)),
        }
    }

    /// Reads a signed decimal integer terminated by `end` (consumed).
    fn number_until(&mut self, end: u8) -> Result<i64, UnserializeError> {
        let start = self.pos;
        let rest = &self.input[start..];
        let len = rest
            .iter()
            .position(|b| *b == end)
            .ok_or(UnserializeError::UnexpectedEnd(self.input.len()))?;
        let digits = &rest[..len];
        let valid = match digits.split_first() {
            Some((b'-', tail)) => !tail.is_empty() && tail.iter().all(u8::is_ascii_digit),
            Some(_) => digits.iter().all(u8::is_ascii_digit),
            None => false,
        };
        if !valid {
            return Err(UnserializeError::InvalidNumber(start));
        }
        let text =
            std::str::from_utf8(digits).map_err(|_| UnserializeError::InvalidNumber(start))?;
        let n = text
            .parse::<i64>()
            .map_err(|_| UnserializeError::InvalidNumber(start))?;
        self.pos = start + len + 1;
        Ok(n)
    }

    fn value(&mut self) -> Result<PhpValue, UnserializeError> {
        let at = self.pos;
        match self.peek()? {
            b'i' => {
                self.expect(b"i:", "'i:'")?;
                Ok(PhpValue::Int(self.number_until(b';')?))
            }
            b's' => {
                self.expect(b"s:", "'s:'")?;
                let declared = self.number_until(b':')?;
                let declared =
                    usize::try_from(declared).map_err(|_| UnserializeError::InvalidNumber(at))?;
                self.expect(b"\"", "'\"'")?;
                let start = self.pos;
                let end = start + declared;
                let bytes = self
                    .input
                    .get(start..end)
                    .ok_or(UnserializeError::LengthMismatch { declared, at })?;
                if self.input.get(end..end + 2) != Some(b"\";".as_slice()) {
                    return Err(UnserializeError::LengthMismatch { declared, at });
                }
                let text =
                    std::str::from_utf8(bytes).map_err(|_| UnserializeError::NotUtf8(start))?;
                self.pos = end + 2;
                Ok(PhpValue::Str(text.to_owned()))
            }
            other => Err(UnserializeError::Unsupported {
                kind: char::from(other),
                at,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_serializing_non_ascii_should_count_bytes() {
        let s = serialize_array(&[(5, PhpValue::Str("Zoë".into()))]);
        assert_eq!(s, "a:1:{i:5;s:4:\"Zoë\";}");
    }

    #[test]
    fn when_round_tripping_should_get_the_same_entries() {
        let entries = vec![
            (5, PhpValue::Str("SF-801xx \"quoted\";}".into())),
            (7, PhpValue::Int(-3)),
            (9, PhpValue::Str(String::new())),
        ];
        let parsed = unserialize_array(serialize_array(&entries).as_bytes()).unwrap();
        assert_eq!(parsed.into_iter().collect::<Vec<_>>(), entries);
    }

    #[test]
    fn when_length_counts_characters_not_bytes_should_refuse() {
        let err = unserialize_array("a:1:{i:5;s:3:\"Zoë\";}".as_bytes()).unwrap_err();
        assert!(matches!(err, UnserializeError::LengthMismatch { .. }));
    }

    #[test]
    fn when_input_is_malformed_should_refuse() {
        for bad in [
            "",
            "a:2:{i:1;s:1:\"x\";}",
            "a:1:{i:1;s:1:\"x\";}junk",
            "a:1:{s:1:\"k\";s:1:\"x\";}",
            "a:1:{i:1;O:8:\"stdClass\":0:{}}",
            "a:1:{i:1;a:0:{}}",
            "a:2:{i:1;i:1;i:1;i:2;}",
            "a:1:{i:x;i:1;}",
            "s:1:\"x\";",
        ] {
            assert!(
                unserialize_array(bad.as_bytes()).is_err(),
                "accepted {bad:?}"
            );
        }
    }
}
