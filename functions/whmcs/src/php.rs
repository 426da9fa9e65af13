//! PHP `serialize` for flat arrays of integer keys to string or integer
//! values: the payload WHMCS expects, base64-encoded, in AddOrder's
//! `customfields[i]` and `configoptions[i]`.

use std::collections::BTreeMap;

use base64::Engine as _;

/// A value of a serialised PHP array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhpScalar {
    /// An integer: `i:<n>;`.
    Int(i64),
    /// A string: `s:<byte length>:"<bytes>";` (no escaping; the length is in UTF-8 bytes).
    Str(String),
}

/// `serialize(array(k => v, …))` for integer keys, in the given order.
#[must_use]
pub fn serialize_int_array<I>(entries: I) -> String
where
    I: IntoIterator<Item = (i64, PhpScalar)>,
{
    let mut body = String::new();
    let mut count = 0usize;
    for (key, value) in entries {
        count += 1;
        body.push_str("i:");
        body.push_str(&key.to_string());
        body.push(';');
        match value {
            PhpScalar::Int(n) => {
                body.push_str("i:");
                body.push_str(&n.to_string());
                body.push(';');
            }
            PhpScalar::Str(s) => {
                body.push_str("s:");
                body.push_str(&s.len().to_string());
                body.push_str(":\"");
                body.push_str(&s);
                body.push_str("\";");
            }
        }
    }
    format!("a:{count}:{{{body}}}")
}

/// `base64_encode(serialize(array(id => value, …)))` for field or option ids.
#[must_use]
pub fn encode_id_map(values: &BTreeMap<u32, String>) -> String {
    let serialized = serialize_int_array(
        values
            .iter()
            .map(|(id, value)| (i64::from(*id), PhpScalar::Str(value.clone()))),
    );
    base64::engine::general_purpose::STANDARD.encode(serialized)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_serializing_ascii_should_match_php() {
        let s = serialize_int_array([(5, PhpScalar::Str("SF-801xxxx".into()))]);
        assert_eq!(s, "a:1:{i:5;s:10:\"SF-801xxxx\";}");
    }

    #[test]
    fn when_serializing_non_ascii_should_count_utf8_bytes() {
        // "Zoë" is 3 characters but 4 bytes; "日本" is 2 characters, 6 bytes.
        let s = serialize_int_array([
            (1, PhpScalar::Str("Zoë".into())),
            (2, PhpScalar::Str("日本".into())),
        ]);
        assert_eq!(s, "a:2:{i:1;s:4:\"Zoë\";i:2;s:6:\"日本\";}");
    }

    #[test]
    fn when_serializing_ints_and_empty_should_match_php() {
        assert_eq!(serialize_int_array([]), "a:0:{}");
        let s = serialize_int_array([(11, PhpScalar::Int(1)), (-2, PhpScalar::Str(String::new()))]);
        assert_eq!(s, "a:2:{i:11;i:1;i:-2;s:0:\"\";}");
    }

    #[test]
    fn when_encoding_an_id_map_should_base64_the_serialized_array() {
        let map = BTreeMap::from([(7, "801000000000001AAA".to_owned())]);
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encode_id_map(&map))
            .unwrap();
        assert_eq!(decoded, b"a:1:{i:7;s:18:\"801000000000001AAA\";}");
    }
}
