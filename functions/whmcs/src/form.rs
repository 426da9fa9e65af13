//! The form body of an API call, with PHP-style indexed arrays.
//!
//! PHP reads `pid[0]=1&pid[1]=2` as an array; repeated keys (`pid=1&pid=2`)
//! keep only the last value, silently losing order lines. `serde_urlencoded`
//! cannot produce indexed keys, so this module builds them and refuses to
//! add any key twice.

use std::collections::HashSet;

/// A parameter added twice to one body: a bug in the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("form parameter '{0}' added twice")]
pub struct DuplicateKey(pub String);

/// An ordered `application/x-www-form-urlencoded` body.
#[derive(Debug, Clone, Default)]
pub struct FormBody {
    pairs: Vec<(String, String)>,
    keys: HashSet<String>,
}

impl FormBody {
    /// An empty body.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `key=value`.
    ///
    /// # Errors
    /// [`DuplicateKey`] when `key` is already present.
    pub fn push(
        &mut self,
        key: impl Into<String>,
        value: impl Into<String>,
    ) -> Result<(), DuplicateKey> {
        let key = key.into();
        if !self.keys.insert(key.clone()) {
            return Err(DuplicateKey(key));
        }
        self.pairs.push((key, value.into()));
        Ok(())
    }

    /// Adds `name[index]=value`, an element of a PHP indexed array.
    ///
    /// # Errors
    /// [`DuplicateKey`] when that element is already present.
    pub fn push_indexed(
        &mut self,
        name: &str,
        index: usize,
        value: impl Into<String>,
    ) -> Result<(), DuplicateKey> {
        self.push(format!("{name}[{index}]"), value)
    }

    /// Adds `key=1` when `flag` is true and nothing otherwise: PHP reads any
    /// non-empty string but `"0"` as true, so `false` is never sent as text.
    ///
    /// # Errors
    /// [`DuplicateKey`] when `key` is already present.
    pub fn push_flag(&mut self, key: &str, flag: bool) -> Result<(), DuplicateKey> {
        if flag { self.push(key, "1") } else { Ok(()) }
    }

    /// Whether `key` is present.
    #[must_use]
    pub fn contains(&self, key: &str) -> bool {
        self.keys.contains(key)
    }

    /// The percent-encoded body (`[` and `]` are encoded as `%5B`/`%5D`, which PHP decodes
    /// before parsing array keys; spaces become `+`).
    #[must_use]
    pub fn encode(&self) -> String {
        let mut out = String::new();
        for (key, value) in &self.pairs {
            if !out.is_empty() {
                out.push('&');
            }
            out.extend(url::form_urlencoded::byte_serialize(key.as_bytes()));
            out.push('=');
            out.extend(url::form_urlencoded::byte_serialize(value.as_bytes()));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_encoding_arrays_should_index_every_element() {
        let mut form = FormBody::new();
        form.push("action", "AddOrder").unwrap();
        form.push_indexed("pid", 0, "101").unwrap();
        form.push_indexed("pid", 1, "103").unwrap();
        assert_eq!(
            form.encode(),
            "action=AddOrder&pid%5B0%5D=101&pid%5B1%5D=103"
        );
    }

    #[test]
    fn when_values_have_reserved_characters_should_percent_encode_them() {
        let mut form = FormBody::new();
        form.push("email", "a+b@x.example").unwrap();
        form.push("name", "Jürgen & Co=1").unwrap();
        form.push("b64", "YTox/Q==").unwrap();
        assert_eq!(
            form.encode(),
            "email=a%2Bb%40x.example&name=J%C3%BCrgen+%26+Co%3D1&b64=YTox%2FQ%3D%3D"
        );
    }

    #[test]
    fn when_a_key_is_added_twice_should_refuse() {
        let mut form = FormBody::new();
        form.push_indexed("pid", 0, "1").unwrap();
        assert_eq!(
            form.push("pid[0]", "2"),
            Err(DuplicateKey("pid[0]".to_owned()))
        );
    }

    #[test]
    fn when_a_flag_is_false_should_send_nothing() {
        let mut form = FormBody::new();
        form.push_flag("noemail", false).unwrap();
        form.push_flag("noinvoice", true).unwrap();
        assert_eq!(form.encode(), "noinvoice=1");
    }

    #[test]
    fn when_decoded_like_php_should_give_back_the_pairs() {
        let mut form = FormBody::new();
        form.push_indexed("customfields", 3, "YToxOnt9+/=").unwrap();
        form.push("x", "  spaced  ").unwrap();
        let decoded: Vec<(String, String)> = url::form_urlencoded::parse(form.encode().as_bytes())
            .into_owned()
            .collect();
        assert_eq!(
            decoded,
            vec![
                ("customfields[3]".to_owned(), "YToxOnt9+/=".to_owned()),
                ("x".to_owned(), "  spaced  ".to_owned()),
            ]
        );
    }
}
