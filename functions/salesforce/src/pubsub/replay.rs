//! Positions in an event stream: [`ReplayId`] (opaque bytes, stored as they
//! come, never computed with) and [`ReplayFrom`] (where a subscription starts).

use std::fmt;

/// An event's position in its topic, exactly as Salesforce sent it.
///
/// Opaque: compare it for equality and store it, but do no arithmetic and assume
/// no ordering; resume after it with [`ReplayFrom::After`].
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ReplayId(Vec<u8>);

impl ReplayId {
    /// Wraps bytes read back from storage or received from the API.
    pub fn from_bytes(bytes: impl Into<Vec<u8>>) -> Self {
        Self(bytes.into())
    }

    /// The bytes to store.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The bytes, consumed.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }

    /// Lower-case hex, for logs and for stores that keep text.
    pub fn to_hex(&self) -> String {
        use fmt::Write as _;
        self.0
            .iter()
            .fold(String::with_capacity(self.0.len() * 2), |mut s, b| {
                // Writing to a String cannot fail.
                let _ = write!(s, "{b:02x}");
                s
            })
    }

    /// Parses [`Self::to_hex`]'s output; `None` when it is not even-length hex.
    pub fn from_hex(hex: &str) -> Option<Self> {
        if !hex.len().is_multiple_of(2) || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
            .collect::<Option<Vec<u8>>>()
            .map(Self)
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

/// Where a new subscription starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplayFrom {
    /// Only events published after the subscription starts (`LATEST`).
    Latest,
    /// The oldest retained event (`EARLIEST`; up to 72 hours back).
    Earliest,
    /// Just after this event (`CUSTOM`). An expired or unknown id fails with
    /// [`PubSubError::ReplayIdCorrupted`](super::PubSubError::ReplayIdCorrupted).
    After(ReplayId),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_rejects_garbage() {
        let id = ReplayId::from_bytes(vec![0, 0, 0, 0, 0, 0x1f, 0xab, 0x01]);
        assert_eq!(id.to_hex(), "00000000001fab01");
        assert_eq!(ReplayId::from_hex(&id.to_hex()), Some(id.clone()));
        assert_eq!(format!("{id:?}"), "ReplayId(00000000001fab01)");
        for bad in ["0", "zz", "0g"] {
            assert_eq!(ReplayId::from_hex(bad), None, "{bad}");
        }
        assert_eq!(ReplayId::from_hex(""), Some(ReplayId::from_bytes(vec![])));
    }
}
