//! [`ReplayId`]: a platform event's position in its topic, the one type
//! every crate uses (the Pub/Sub client, the subscriber, the replay store, the
//! queue message).

use std::fmt;

/// A Pub/Sub replay id: opaque bytes exactly as Salesforce sent them, never
/// empty. Compare it for equality and store it; do no arithmetic and assume
/// no ordering.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ReplayId(Vec<u8>);

impl ReplayId {
    /// Wraps the bytes; `None` when empty (the API's "no position").
    pub fn new(bytes: impl Into<Vec<u8>>) -> Option<Self> {
        let bytes = bytes.into();
        (!bytes.is_empty()).then_some(Self(bytes))
    }

    /// The bytes, as Salesforce sent them.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The bytes, consumed.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }

    /// Lower-case hex, for logs and for stores that keep text.
    pub fn to_hex(&self) -> String {
        self.0
            .iter()
            .fold(String::with_capacity(self.0.len() * 2), |mut s, b| {
                use fmt::Write as _;
                // Writing to a String cannot fail.
                let _ = write!(s, "{b:02x}");
                s
            })
    }

    /// Parses [`Self::to_hex`]'s output; `None` when it is empty or not even-length hex.
    pub fn from_hex(hex: &str) -> Option<Self> {
        if !hex.len().is_multiple_of(2) || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
            .collect::<Option<Vec<u8>>>()
            .and_then(Self::new)
    }
}

impl fmt::Debug for ReplayId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ReplayId({})", self.to_hex())
    }
}

impl fmt::Display for ReplayId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_empty_should_be_no_replay_id() {
        assert_eq!(ReplayId::new(Vec::new()), None);
        assert_eq!(ReplayId::from_hex(""), None);
    }

    #[test]
    fn when_written_as_hex_should_read_back_and_refuse_garbage() {
        let id = ReplayId::new(vec![0, 0, 0, 0, 0, 0x1f, 0xab, 0x01]).unwrap();
        assert_eq!(id.to_hex(), "00000000001fab01");
        assert_eq!(ReplayId::from_hex(&id.to_hex()), Some(id.clone()));
        assert_eq!(format!("{id:?}"), "ReplayId(00000000001fab01)");
        assert_eq!(id.to_string(), "00000000001fab01");
        for bad in ["0", "zz", "0g"] {
            assert_eq!(ReplayId::from_hex(bad), None, "{bad}");
        }
    }
}
