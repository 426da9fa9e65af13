//! Salesforce record ids: 15 case-sensitive characters (3-character key prefix,
//! pod, base-62 counter) plus the 3-character case-safe checksum suffix of the
//! 18-character form.

use std::sync::atomic::{AtomicU64, Ordering};

use rand::Rng;

const CHECKSUM_ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// The "pod" characters every generated id carries after its key prefix.
const POD: &str = "Em";
/// Digits of the base-62 counter: 3 (prefix) + 2 (pod) + 10 = 15.
const COUNTER_DIGITS: usize = 10;

/// The 3-character checksum suffix of a 15-character id: for each 5-character
/// chunk, bit `i` is set when character `i` is an uppercase `A`–`Z`.
///
/// `id15` must be 15 ASCII characters (see [`is_well_formed`]).
pub fn checksum_suffix(id15: &str) -> String {
    id15.as_bytes()
        .chunks(5)
        .take(3)
        .map(|chunk| {
            let bits = chunk
                .iter()
                .enumerate()
                .filter(|(_, c)| c.is_ascii_uppercase())
                .fold(0usize, |acc, (i, _)| acc | (1 << i));
            char::from(CHECKSUM_ALPHABET[bits])
        })
        .collect()
}

/// True when `id` has the shape of a record id: 15 or 18 ASCII letters and digits.
pub fn is_well_formed(id: &str) -> bool {
    (id.len() == 15 || id.len() == 18) && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The 18-character form of a 15- or 18-character id, or `None` when the id is
/// malformed or its checksum suffix does not match.
pub fn normalize(id: &str) -> Option<String> {
    if !is_well_formed(id) {
        return None;
    }
    let (id15, suffix) = id.split_at(15);
    let expected = checksum_suffix(id15);
    if !suffix.is_empty() && suffix != expected {
        return None;
    }
    Some(format!("{id15}{expected}"))
}

/// The key prefix (first three characters) of an id.
pub fn key_prefix(id: &str) -> &str {
    id.get(..3).unwrap_or(id)
}

fn base62(mut n: u64, digits: usize) -> String {
    let mut out = vec![b'0'; digits];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    out.into_iter().map(char::from).collect()
}

/// An 18-character id with `prefix` and a random body (org ids, query locators).
pub fn random_id(prefix: &str) -> String {
    let mut rng = rand::rng();
    let body: String = (0..15usize.saturating_sub(prefix.len() + POD.len()))
        .map(|_| char::from(BASE62[rng.random_range(0..BASE62.len())]))
        .collect();
    let id15 = format!("{prefix}{POD}{body}");
    let suffix = checksum_suffix(&id15);
    format!("{id15}{suffix}")
}

/// Hands out unique record ids: key prefix, pod, then a base-62 counter.
#[derive(Debug)]
pub struct IdGenerator {
    next: AtomicU64,
}

impl Default for IdGenerator {
    fn default() -> Self {
        IdGenerator {
            next: AtomicU64::new(1),
        }
    }
}

impl IdGenerator {
    /// The next 18-character id for an object with this 3-character key prefix.
    /// Counters are never reused, even when the transaction that took one rolls back.
    pub fn next(&self, prefix: &str) -> String {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let id15 = format!("{prefix}{POD}{}", base62(n, COUNTER_DIGITS));
        let suffix = checksum_suffix(&id15);
        format!("{id15}{suffix}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_matches_the_worked_examples() {
        assert_eq!(
            normalize("001000000000001").as_deref(),
            Some("001000000000001AAA")
        );
        assert_eq!(
            normalize("0015000000VALDt").as_deref(),
            Some("0015000000VALDtAAP")
        );
        assert_eq!(
            normalize("006Dn00000AbCdE").as_deref(),
            Some("006Dn00000AbCdEIAV")
        );
    }

    #[test]
    fn when_the_suffix_is_wrong_the_id_should_be_rejected() {
        assert_eq!(
            normalize("0015000000VALDtAAP").as_deref(),
            Some("0015000000VALDtAAP")
        );
        assert_eq!(normalize("0015000000VALDtAAA"), None);
        assert_eq!(normalize("0015000000VALDtaap"), None);
    }

    #[test]
    fn malformed_ids_are_rejected() {
        for bad in [
            "",
            "001",
            "00100000000000",
            "0010000000000011",
            "001000000000-01",
            "001000000000001AAAA",
        ] {
            assert_eq!(normalize(bad), None, "{bad}");
        }
    }

    #[test]
    fn generated_ids_are_unique_valid_and_prefixed() {
        let ids = IdGenerator::default();
        let a = ids.next("001");
        let b = ids.next("001");
        assert_ne!(a, b);
        for id in [&a, &b] {
            assert_eq!(id.len(), 18);
            assert!(id.starts_with("001Em"));
            assert_eq!(normalize(id).as_deref(), Some(id.as_str()));
        }
        let org = random_id("00D");
        assert!(org.starts_with("00D"));
        assert_eq!(normalize(&org).as_deref(), Some(org.as_str()));
    }

    #[test]
    fn base62_counts_with_leading_zeros() {
        assert_eq!(base62(0, 4), "0000");
        assert_eq!(base62(61, 4), "000z");
        assert_eq!(base62(62, 4), "0010");
    }
}
