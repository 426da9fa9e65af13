//! Parsing of the form-encoded request body into PHP-like parameters.
//!
//! PHP turns `pid[0]=1&pid[1]=2` into an array and silently keeps the last of
//! repeated keys (`pid=1&pid=2` becomes `pid=2`; `pid[]=1&pid[]=2` appends).
//! The emulator refuses every ambiguous shape instead, so a client that
//! encodes arrays wrongly fails loudly in tests rather than losing order lines
//! against real WHMCS.

use std::collections::{BTreeMap, HashMap, HashSet};

/// One request parameter, as PHP would see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Param {
    /// `name=value`
    Scalar(String),
    /// `name[index]=value…`, by index as sent (integer indexes for our arrays).
    Array(BTreeMap<String, String>),
}

/// Why a body was refused before any action ran.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    /// The same key twice (`pid=1&pid=2`, `pid[]=1&pid[]=2`, `pid[0]=1&pid[0]=2`).
    #[error(
        "Parameter '{0}' was sent more than once; WHMCS would silently keep only the last value. Send PHP arrays as name[0]=…&name[1]=…"
    )]
    Repeated(String),
    /// A parameter sent both as a scalar and as an array.
    #[error("Parameter '{0}' was sent both as a scalar and as an array")]
    Mixed(String),
    /// `name[]` or nested brackets, which this emulator does not accept.
    #[error("Parameter key '{0}' is not supported: use explicit integer indexes like name[0]")]
    UnsupportedKey(String),
}

/// All parameters of a request, by name (names are case-sensitive, as in PHP).
#[derive(Debug, Clone, Default)]
pub struct Params {
    map: HashMap<String, Param>,
}

impl Params {
    /// Parses an `application/x-www-form-urlencoded` body strictly.
    ///
    /// # Errors
    /// Repeated, mixed or unsupported keys (see [`FormError`]).
    pub fn parse(body: &[u8]) -> Result<Self, FormError> {
        let mut map: HashMap<String, Param> = HashMap::new();
        let mut seen: HashSet<String> = HashSet::new();
        for (raw_key, value) in url::form_urlencoded::parse(body) {
            let raw_key = raw_key.into_owned();
            let value = value.into_owned();
            if !seen.insert(raw_key.clone()) {
                return Err(FormError::Repeated(raw_key));
            }
            match split_array_key(&raw_key)? {
                None => match map.get(&raw_key) {
                    Some(Param::Scalar(_)) => return Err(FormError::Repeated(raw_key)),
                    Some(Param::Array(_)) => return Err(FormError::Mixed(raw_key)),
                    None => {
                        map.insert(raw_key, Param::Scalar(value));
                    }
                },
                Some((name, index)) => {
                    let entry = map
                        .entry(name.to_owned())
                        .or_insert_with(|| Param::Array(BTreeMap::new()));
                    match entry {
                        Param::Scalar(_) => return Err(FormError::Mixed(name.to_owned())),
                        Param::Array(items) => {
                            if items.insert(index.to_owned(), value).is_some() {
                                return Err(FormError::Repeated(raw_key));
                            }
                        }
                    }
                }
            }
        }
        Ok(Self { map })
    }

    /// The parameter `name`, however it was sent.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&Param> {
        self.map.get(name)
    }

    /// The scalar `name`, if sent as a scalar; `None` if absent or an array.
    #[must_use]
    pub fn scalar(&self, name: &str) -> Option<&str> {
        match self.map.get(name) {
            Some(Param::Scalar(v)) => Some(v.as_str()),
            _ => None,
        }
    }

    /// The scalar `name`, trimmed, treating an empty value as absent (like PHP's `if ($x)`).
    #[must_use]
    pub fn non_empty(&self, name: &str) -> Option<&str> {
        self.scalar(name).map(str::trim).filter(|v| !v.is_empty())
    }
}

/// Splits `name[index]` into its parts; `None` for a plain key.
fn split_array_key(key: &str) -> Result<Option<(&str, &str)>, FormError> {
    let Some(open) = key.find('[') else {
        return Ok(None);
    };
    let name = &key[..open];
    let rest = &key[open + 1..];
    let Some(index) = rest.strip_suffix(']') else {
        return Err(FormError::UnsupportedKey(key.to_owned()));
    };
    if name.is_empty() || index.is_empty() || index.contains(['[', ']']) {
        return Err(FormError::UnsupportedKey(key.to_owned()));
    }
    Ok(Some((name, index)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_arrays_are_indexed_should_collect_them() {
        let p = Params::parse(b"action=AddOrder&pid%5B0%5D=101&pid[1]=102").unwrap();
        assert_eq!(p.scalar("action"), Some("AddOrder"));
        let Some(Param::Array(items)) = p.get("pid") else {
            panic!("pid is not an array")
        };
        assert_eq!(items.get("0").map(String::as_str), Some("101"));
        assert_eq!(items.get("1").map(String::as_str), Some("102"));
    }

    #[test]
    fn when_keys_repeat_should_refuse() {
        for body in [
            "pid=1&pid=2",
            "pid[]=1&pid[]=1",
            "pid[0]=1&pid[0]=2",
            "pid=1&pid[0]=2",
            "pid[0]=1&pid=2",
            "pid[0][1]=2",
            "pid[=2",
        ] {
            assert!(Params::parse(body.as_bytes()).is_err(), "accepted {body}");
        }
    }

    #[test]
    fn when_values_are_percent_encoded_should_decode_them() {
        let p = Params::parse(b"email=a%2Bb%40x.example&name=J%C3%BCrgen+M").unwrap();
        assert_eq!(p.scalar("email"), Some("a+b@x.example"));
        assert_eq!(p.scalar("name"), Some("Jürgen M"));
    }
}
