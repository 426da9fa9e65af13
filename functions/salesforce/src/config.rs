//! The client's configuration, read once at start from the environment
//! variables of the setup guide ([`VARIABLES`]):
//!
//! | variable | meaning |
//! | --- | --- |
//! | `SF_LOGIN_URL` | required; the `aud` of the JWT assertion and the base of the token endpoint |
//! | `SF_CLIENT_ID` | required; the Connected App's consumer key |
//! | `SF_USERNAME` | required; the pre-authorised integration user |
//! | `SF_PRIVATE_KEY_PATH` / `SF_PRIVATE_KEY_BASE64` | exactly one; the RSA private key (PEM), as a file or as base64 of the PEM ([`PRIVATE_KEY_SECRET`] when deployed) |
//! | `SF_API_VERSION` | default `62.0` |
//! | `SF_REQUEST_TIMEOUT_MS` | default `20000` |
//!
//! The key is parsed (and a test signature made) here, so a bad key fails the
//! start, not the first request. It is held in a [`secrecy::SecretBox`]: the
//! configuration's `Debug` never shows it.

use std::fmt;
use std::time::Duration;

use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use portal_core::config::{Config, ConfigError, Env, SecretVariable};
use secrecy::{ExposeSecret, SecretBox};

/// `SF_LOGIN_URL`: set means a real org (portal-local reads it to choose).
pub const LOGIN_URL: &str = "SF_LOGIN_URL";
/// `SF_PRIVATE_KEY_PATH`.
pub const PRIVATE_KEY_PATH: &str = "SF_PRIVATE_KEY_PATH";
/// `SF_PRIVATE_KEY_BASE64`.
pub const PRIVATE_KEY_BASE64: &str = "SF_PRIVATE_KEY_BASE64";
/// Every variable [`SalesforceConfig`] reads (tests/deploy holds the SAM template to it).
pub const VARIABLES: &[&str] = &[
    LOGIN_URL,
    "SF_CLIENT_ID",
    "SF_USERNAME",
    PRIVATE_KEY_PATH,
    PRIVATE_KEY_BASE64,
    "SF_API_VERSION",
    "SF_REQUEST_TIMEOUT_MS",
];
/// The private key, deployed as a Secrets Manager secret: every binary that
/// talks to Salesforce lists this one in its `SECRETS`.
pub const PRIVATE_KEY_SECRET: SecretVariable = SecretVariable {
    variable: PRIVATE_KEY_BASE64,
    arn_variable: "SF_PRIVATE_KEY_SECRET_ARN",
    json_key: None,
};

/// The REST API version used when `SF_API_VERSION` is not set.
pub const DEFAULT_API_VERSION: &str = "62.0";
/// The per-request timeout used when `SF_REQUEST_TIMEOUT_MS` is not set.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_millis(20_000);

/// The Connected App's RSA private key, parsed and checked. It cannot be printed.
pub struct PrivateKey(SecretBox<EncodingKey>);

impl PrivateKey {
    /// Parses a PEM RSA private key (PKCS#8 `PRIVATE KEY` or PKCS#1 `RSA PRIVATE KEY`)
    /// and makes a test signature with it.
    pub fn from_pem(pem: &[u8]) -> Result<Self, InvalidKey> {
        let text = std::str::from_utf8(pem).map_err(|_| InvalidKey)?;
        // `from_rsa_pem` also accepts public keys: insist on a private one.
        if !text.contains("-----BEGIN PRIVATE KEY-----")
            && !text.contains("-----BEGIN RSA PRIVATE KEY-----")
        {
            return Err(InvalidKey);
        }
        let key = EncodingKey::from_rsa_pem(pem).map_err(|_| InvalidKey)?;
        jsonwebtoken::encode(&Header::new(Algorithm::RS256), &serde_json::json!({}), &key)
            .map_err(|_| InvalidKey)?;
        Ok(Self(SecretBox::new(Box::new(key))))
    }

    pub(crate) fn encoding_key(&self) -> &EncodingKey {
        self.0.expose_secret()
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PrivateKey([REDACTED])")
    }
}

/// The bytes given are not a usable RSA private key in PEM form.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("not an RSA private key in PEM form")]
pub struct InvalidKey;

/// A REST API version such as `62.0`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiVersion(String);

impl ApiVersion {
    /// Parses `NN.N`.
    pub fn parse(s: &str) -> Option<Self> {
        let (major, minor) = s.split_once('.')?;
        let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
        (major.len() == 2 && minor.len() == 1 && digits(major) && digits(minor))
            .then(|| Self(s.to_owned()))
    }

    /// The version, e.g. `62.0`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for ApiVersion {
    fn default() -> Self {
        Self(DEFAULT_API_VERSION.to_owned())
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Everything the client needs, validated.
#[derive(Debug)]
pub struct SalesforceConfig {
    login_url: String,
    client_id: String,
    username: String,
    private_key: PrivateKey,
    api_version: ApiVersion,
    request_timeout: Duration,
}

impl Config for SalesforceConfig {
    fn read(env: &Env<'_>) -> Result<Self, ConfigError> {
        let login_url = parse_login_url(&env.required(LOGIN_URL)?)?;
        let client_id = env.required("SF_CLIENT_ID")?;
        let username = env.required("SF_USERNAME")?;
        let key = |var, pem: &[u8]| {
            PrivateKey::from_pem(pem).map_err(|e| {
                ConfigError::unparsable(var, "expected an RSA private key in PEM form", e)
            })
        };
        let private_key = match (env.optional(PRIVATE_KEY_PATH), env.raw(PRIVATE_KEY_BASE64)) {
            (Some(path), None) => {
                let pem = std::fs::read(path).map_err(|source| ConfigError::Unreadable {
                    var: PRIVATE_KEY_PATH,
                    source,
                })?;
                key(PRIVATE_KEY_PATH, &pem)?
            }
            (None, Some(b64)) => {
                let compact: String = b64.split_whitespace().collect();
                let pem = base64::engine::general_purpose::STANDARD
                    .decode(compact)
                    .map_err(|e| {
                        ConfigError::unparsable(
                            PRIVATE_KEY_BASE64,
                            "expected base64 of a PEM key",
                            e,
                        )
                    })?;
                key(PRIVATE_KEY_BASE64, &pem)?
            }
            _ => return Err(ConfigError::OneOf(PRIVATE_KEY_PATH, PRIVATE_KEY_BASE64)),
        };
        Ok(Self {
            login_url,
            client_id,
            username,
            private_key,
            api_version: match env.optional("SF_API_VERSION") {
                None => ApiVersion::default(),
                Some(v) => ApiVersion::parse(&v).ok_or_else(|| {
                    ConfigError::invalid(
                        "SF_API_VERSION",
                        format!("expected a version like {DEFAULT_API_VERSION}, got {v:?}"),
                    )
                })?,
            },
            request_timeout: env.millis("SF_REQUEST_TIMEOUT_MS", DEFAULT_REQUEST_TIMEOUT)?,
        })
    }
}

impl SalesforceConfig {
    /// A configuration from explicit values (tests, local runs); the PEM is
    /// parsed now. API version and timeout take their defaults.
    pub fn new(
        login_url: &str,
        client_id: impl Into<String>,
        username: impl Into<String>,
        private_key_pem: &[u8],
    ) -> Result<Self, ConfigError> {
        let non_empty = |var: &'static str, value: String| {
            let value = value.trim().to_owned();
            if value.is_empty() {
                Err(ConfigError::Missing { var })
            } else {
                Ok(value)
            }
        };
        Ok(Self {
            login_url: parse_login_url(login_url)?,
            client_id: non_empty("SF_CLIENT_ID", client_id.into())?,
            username: non_empty("SF_USERNAME", username.into())?,
            private_key: PrivateKey::from_pem(private_key_pem).map_err(|e| {
                ConfigError::unparsable("private key", "expected an RSA private key in PEM form", e)
            })?,
            api_version: ApiVersion::default(),
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
        })
    }

    /// Sets the REST API version.
    pub fn with_api_version(mut self, version: ApiVersion) -> Self {
        self.api_version = version;
        self
    }

    /// Sets the per-request timeout.
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// The login URL without a trailing slash, e.g. `https://login.salesforce.com`.
    pub fn login_url(&self) -> &str {
        &self.login_url
    }

    /// The Connected App's consumer key.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The integration user's username.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The Connected App's private key.
    pub fn private_key(&self) -> &PrivateKey {
        &self.private_key
    }

    /// The REST API version.
    pub fn api_version(&self) -> &ApiVersion {
        &self.api_version
    }

    /// The timeout of every request.
    pub fn request_timeout(&self) -> Duration {
        self.request_timeout
    }
}

/// Checks the login URL and drops any trailing slash (the assertion's `aud`
/// must be exactly the origin Salesforce expects).
fn parse_login_url(raw: &str) -> Result<String, ConfigError> {
    let url = url::Url::parse(raw.trim())
        .map_err(|e| ConfigError::unparsable(LOGIN_URL, "expected an https:// URL", e))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(ConfigError::invalid(LOGIN_URL, "the scheme must be https"));
    }
    if url.host_str().is_none()
        || url.query().is_some()
        || url.fragment().is_some()
        || !url.username().is_empty()
    {
        return Err(ConfigError::invalid(
            LOGIN_URL,
            "expected an origin, without credentials, a query or a fragment",
        ));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    /// A throwaway 2048-bit key generated for these tests only.
    const KEY_PEM: &str = include_str!("../tests/fixtures/unit-test-key.pem");
    const PUBLIC_PEM: &str = include_str!("../tests/fixtures/unit-test-key.pub.pem");

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |k| map.get(k).cloned()
    }

    const CLIENT_ID: &str = "SF_CLIENT_ID";
    const USERNAME: &str = "SF_USERNAME";
    const API_VERSION: &str = "SF_API_VERSION";
    const REQUEST_TIMEOUT_MS: &str = "SF_REQUEST_TIMEOUT_MS";

    fn base() -> Vec<(&'static str, String)> {
        vec![
            (LOGIN_URL, "https://test.salesforce.com/".to_owned()),
            (CLIENT_ID, "3MVGabc".to_owned()),
            (USERNAME, "integration@example.com".to_owned()),
            (PRIVATE_KEY_BASE64, b64(KEY_PEM)),
        ]
    }

    fn load(pairs: &[(&'static str, String)]) -> Result<SalesforceConfig, ConfigError> {
        let borrowed: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        SalesforceConfig::from_lookup(env(&borrowed))
    }

    fn without(var: &str) -> Vec<(&'static str, String)> {
        base().into_iter().filter(|(k, _)| *k != var).collect()
    }

    fn with(var: &'static str, value: &str) -> Vec<(&'static str, String)> {
        let mut v = without(var);
        v.push((var, value.to_owned()));
        v
    }

    #[test]
    fn when_complete_should_load_with_defaults_and_hide_the_key() {
        let config = load(&base()).unwrap();
        assert_eq!(config.login_url(), "https://test.salesforce.com");
        assert_eq!(config.api_version().as_str(), "62.0");
        assert_eq!(config.request_timeout(), Duration::from_secs(20));
        let debug = format!("{config:?}");
        assert!(debug.contains("REDACTED"));
        assert!(!debug.contains("MII"), "{debug}");
    }

    #[test]
    fn when_a_required_variable_is_missing_should_name_it() {
        for var in [LOGIN_URL, CLIENT_ID, USERNAME] {
            let err = load(&without(var)).unwrap_err();
            assert_eq!(err.to_string(), format!("{var} is not set"));
            let err = load(&with(var, "  ")).unwrap_err();
            assert_eq!(err.to_string(), format!("{var} is not set"));
        }
        let err = load(&without(PRIVATE_KEY_BASE64)).unwrap_err();
        assert!(matches!(
            err,
            ConfigError::OneOf(PRIVATE_KEY_PATH, PRIVATE_KEY_BASE64)
        ));
    }

    #[test]
    fn when_the_key_is_malformed_should_say_which_variable() {
        let err = load(&with(PRIVATE_KEY_BASE64, "not base64 !!")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "SF_PRIVATE_KEY_BASE64 is not valid: expected base64 of a PEM key"
        );

        let err = load(&with(PRIVATE_KEY_BASE64, &b64(PUBLIC_PEM))).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("SF_PRIVATE_KEY_BASE64 is not valid: expected an RSA private key"),
            "{err}"
        );

        let dir = std::env::temp_dir().join(format!("sf-config-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let bad = dir.join("bad.pem");
        std::fs::write(
            &bad,
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        )
        .unwrap();
        let mut pairs = without(PRIVATE_KEY_BASE64);
        pairs.push((PRIVATE_KEY_PATH, bad.display().to_string()));
        let err = load(&pairs).unwrap_err();
        assert_eq!(
            err.to_string(),
            "SF_PRIVATE_KEY_PATH is not valid: expected an RSA private key in PEM form"
        );

        let good = dir.join("good.pem");
        std::fs::write(&good, KEY_PEM).unwrap();
        let mut pairs = without(PRIVATE_KEY_BASE64);
        pairs.push((PRIVATE_KEY_PATH, good.display().to_string()));
        assert!(load(&pairs).is_ok());

        pairs.push((PRIVATE_KEY_BASE64, b64(KEY_PEM)));
        assert!(matches!(load(&pairs), Err(ConfigError::OneOf(..))));

        let mut pairs = without(PRIVATE_KEY_BASE64);
        pairs.push((
            PRIVATE_KEY_PATH,
            dir.join("missing.pem").display().to_string(),
        ));
        let err = load(&pairs).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("SF_PRIVATE_KEY_PATH: the file cannot be read")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn when_optional_values_are_malformed_should_name_them() {
        for bad in ["62", "v62.0", "62.0.1", "6.20", "abc"] {
            let err = load(&with(API_VERSION, bad)).unwrap_err();
            assert!(
                err.to_string().starts_with("SF_API_VERSION is not valid"),
                "{bad}: {err}"
            );
        }
        assert_eq!(
            load(&with(API_VERSION, "61.0"))
                .unwrap()
                .api_version()
                .as_str(),
            "61.0"
        );
        for bad in ["0", "-5", "1.5s", "ten"] {
            let err = load(&with(REQUEST_TIMEOUT_MS, bad)).unwrap_err();
            assert!(
                err.to_string()
                    .starts_with("SF_REQUEST_TIMEOUT_MS is not valid"),
                "{bad}: {err}"
            );
        }
        assert_eq!(
            load(&with(REQUEST_TIMEOUT_MS, "1500"))
                .unwrap()
                .request_timeout(),
            Duration::from_millis(1500)
        );
        for bad in ["login.salesforce.com", "ftp://x", "https://x?y=1"] {
            let err = load(&with(LOGIN_URL, bad)).unwrap_err();
            assert!(
                err.to_string().starts_with("SF_LOGIN_URL is not valid"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn variables_should_list_exactly_what_it_reads() {
        let pairs = base();
        let borrowed: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (config, read) =
            portal_core::config::read_recording::<SalesforceConfig>(env(&borrowed));
        config.unwrap();
        assert_eq!(read, portal_core::config::names(&[VARIABLES]));
    }
}
