//! Test-only key material (see `fixtures/README.md`): never use it against a real org.

/// PKCS#8 PEM of the RSA key the emulated Connected App trusts by default.
pub const CLIENT_PRIVATE_KEY_PEM: &str = include_str!("../fixtures/test-client-key.pem");

/// The public half of [`CLIENT_PRIVATE_KEY_PEM`], the emulator's default `public_key_pem`.
pub const CLIENT_PUBLIC_KEY_PEM: &str = include_str!("../fixtures/test-client-key.pub.pem");

/// A key the Connected App does not trust, for refusal tests.
pub const WRONG_PRIVATE_KEY_PEM: &str = include_str!("../fixtures/wrong-client-key.pem");
