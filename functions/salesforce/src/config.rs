//! The client's configuration, read once at start from the environment
//! variables of the setup guide.
//!
//! | variable | meaning |
//! | --- | --- |
//! | `SF_LOGIN_URL` | required; the `aud` of the JWT assertion and the base of the token endpoint |
//! | `SF_CLIENT_ID` | required; the Connected App's consumer key |
//! | `SF_USERNAME` | required; the pre-authorised integration user |
//! | `SF_PRIVATE_KEY_PATH` / `SF_PRIVATE_KEY_BASE64` | exactly one; the RSA private key (PEM), as a file or as base64 of the PEM |
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
use portal_core::config::{Env, VarError};
use secrecy::{ExposeSecret, SecretBox};

/// `SF_LOGIN_URL`.
pub const LOGIN_URL: &str = "SF_LOGIN_URL";
/// `SF_CLIENT_ID`.
pub const CLIENT_ID: &str = "SF_CLIENT_ID";
/// `SF_USERNAME`.
pub const USERNAME: &str = "SF_USERNAME";
/// `SF_PRIVATE_KEY_PATH`.
pub const PRIVATE_KEY_PATH: &str = "SF_PRIVATE_KEY_PATH";
/// `SF_PRIVATE_KEY_BASE64`.
pub const PRIVATE_KEY_BASE64: &str = "SF_PRIVATE_KEY_BASE64";
/// `SF_API_VERSION`.
pub const API_VERSION: &str = "SF_API_VERSION";
/// `SF_REQUEST_TIMEOUT_MS`.
pub const REQUEST_TIMEOUT_MS: &str = "SF_REQUEST_TIMEOUT_MS";
/// Every variable [`SalesforceConfig::from_lookup`] reads (tests/deploy checks
/// that the SAM template sets them).
pub const VARIABLES: &[&str] = &[
    LOGIN_URL,
    CLIENT_ID,
    USERNAME,
    PRIVATE_KEY_PATH,
    PRIVATE_KEY_BASE64,
    API_VERSION,
    REQUEST_TIMEOUT_MS,
];

/// The REST API version used when `SF_API_VERSION` is not set.
pub const DEFAULT_API_VERSION: &str = "62.0";
/// The per-request timeout used when `SF_REQUEST_TIMEOUT_MS` is not set.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_millis(20_000);

/// A missing or malformed setting; the message names the variable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A required variable is absent or empty.
    #[error("{0} is not set")]
    NotSet(&'static str),
    /// Neither key variable is set.
    #[error("{PRIVATE_KEY_PATH} or {PRIVATE_KEY_BASE64} must be set")]
    NoPrivateKey,
    /// Both key variables are set.
    #[error("only one of {PRIVATE_KEY_PATH} and {PRIVATE_KEY_BASE64} may be set")]
    TwoPrivateKeys,
    /// A value of the wrong form.
    #[error("{var} is not valid: {reason}")]
    Invalid {
        /// The variable.
        var: &'static str,
        /// What is wrong with it (never the value of a secret).
        reason: String,
    },
    /// The key file cannot be read.
    #[error("{var}: cannot read the file: {source}")]
    Unreadable {
        /// The variable.
        var: &'static str,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// `SF_PRIVATE_KEY_BASE64` does not decode.
    #[error("{0} is not valid base64")]
    NotBase64(&'static str),
    /// The key is not a usable RSA private key.
    #[error("{var}: the {what} is not an RSA private key in PEM form")]
    NotRsaPrivateKey {
        /// The variable the key came from (or `private key` for [`SalesforceConfig::new`]).
        var: &'static str,
        /// `file` or `decoded value`.
        what: &'static str,
    },
}

impl From<VarError> for ConfigError {
    fn from(err: VarError) -> Self {
        match err {
            VarError::Missing { var } => Self::NotSet(var),
            VarError::Invalid { var, reason } => Self::Invalid { var, reason },
        }
    }
}

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

impl SalesforceConfig {
    /// A configuration from explicit values (tests, local runs); the PEM is
    /// parsed now. API version and timeout take their defaults.
    pub fn new(
        login_url: &str,
        client_id: impl Into<String>,
        username: impl Into<String>,
        private_key_pem: &[u8],
    ) -> Result<Self, ConfigError> {
        let client_id = non_empty(CLIENT_ID, client_id.into())?;
        let username = non_empty(USERNAME, username.into())?;
        Ok(Self {
            login_url: parse_login_url(login_url)?,
            client_id,
            username,
            private_key: PrivateKey::from_pem(private_key_pem).map_err(|_| {
                ConfigError::NotRsaPrivateKey {
                    var: "private key",
                    what: "value",
                }
            })?,
            api_version: ApiVersion::default(),
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
        })
    }

    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup` (the environment, or a map in tests).
    /// Empty values count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env::new(lookup).echo_values();

        let login_url = parse_login_url(&env.required(LOGIN_URL)?)?;
        let client_id = env.required(CLIENT_ID)?;
        let username = env.required(USERNAME)?;
        let private_key = match (env.optional(PRIVATE_KEY_PATH), env.raw(PRIVATE_KEY_BASE64)) {
            (None, None) => return Err(ConfigError::NoPrivateKey),
            (Some(_), Some(_)) => return Err(ConfigError::TwoPrivateKeys),
            (Some(path), None) => {
                let pem = std::fs::read(path).map_err(|source| ConfigError::Unreadable {
                    var: PRIVATE_KEY_PATH,
                    source,
                })?;
                PrivateKey::from_pem(&pem).map_err(|_| ConfigError::NotRsaPrivateKey {
                    var: PRIVATE_KEY_PATH,
                    what: "file",
                })?
            }
            (None, Some(b64)) => {
                let compact: String = b64.split_whitespace().collect();
                let pem = base64::engine::general_purpose::STANDARD
                    .decode(compact)
                    .map_err(|_| ConfigError::NotBase64(PRIVATE_KEY_BASE64))?;
                PrivateKey::from_pem(&pem).map_err(|_| ConfigError::NotRsaPrivateKey {
                    var: PRIVATE_KEY_BASE64,
                    what: "decoded value",
                })?
            }
        };
        let api_version = env
            .parsed(API_VERSION, |v| {
                ApiVersion::parse(v).ok_or_else(|| {
                    format!("expected a version like {DEFAULT_API_VERSION}, got {v:?}")
                })
            })?
            .unwrap_or_default();
        let request_timeout = env.millis(REQUEST_TIMEOUT_MS, DEFAULT_REQUEST_TIMEOUT)?;
        Ok(Self {
            login_url,
            client_id,
            username,
            private_key,
            api_version,
            request_timeout,
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

fn non_empty(var: &'static str, value: String) -> Result<String, ConfigError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        Err(ConfigError::NotSet(var))
    } else {
        Ok(trimmed.to_owned())
    }
}

/// Checks the login URL and drops any trailing slash (the assertion's `aud`
/// must be exactly the origin Salesforce expects).
fn parse_login_url(raw: &str) -> Result<String, ConfigError> {
    let invalid = |reason: String| ConfigError::Invalid {
        var: LOGIN_URL,
        reason,
    };
    let trimmed = raw.trim();
    let url = url::Url::parse(trimmed).map_err(|e| invalid(format!("not a URL ({e})")))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(invalid("the scheme must be https".into()));
    }
    if url.host_str().is_none() {
        return Err(invalid("the URL has no host".into()));
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(invalid(
            "the URL must not carry credentials, a query or a fragment".into(),
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
        assert!(matches!(err, ConfigError::NoPrivateKey));
    }

    #[test]
    fn when_the_key_is_malformed_should_say_which_variable() {
        let err = load(&with(PRIVATE_KEY_BASE64, "not base64 !!")).unwrap_err();
        assert_eq!(err.to_string(), "SF_PRIVATE_KEY_BASE64 is not valid base64");

        let err = load(&with(PRIVATE_KEY_BASE64, &b64(PUBLIC_PEM))).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("SF_PRIVATE_KEY_BASE64: the decoded value is not an RSA private key"),
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
            "SF_PRIVATE_KEY_PATH: the file is not an RSA private key in PEM form"
        );

        let good = dir.join("good.pem");
        std::fs::write(&good, KEY_PEM).unwrap();
        let mut pairs = without(PRIVATE_KEY_BASE64);
        pairs.push((PRIVATE_KEY_PATH, good.display().to_string()));
        assert!(load(&pairs).is_ok());

        pairs.push((PRIVATE_KEY_BASE64, b64(KEY_PEM)));
        assert!(matches!(load(&pairs), Err(ConfigError::TwoPrivateKeys)));

        let mut pairs = without(PRIVATE_KEY_BASE64);
        pairs.push((
            PRIVATE_KEY_PATH,
            dir.join("missing.pem").display().to_string(),
        ));
        let err = load(&pairs).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("SF_PRIVATE_KEY_PATH: cannot read")
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
    fn variables_should_list_exactly_what_from_lookup_reads() {
        let pairs = base();
        let borrowed: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let lookup = env(&borrowed);
        let asked = std::cell::RefCell::new(std::collections::BTreeSet::new());
        SalesforceConfig::from_lookup(|name| {
            asked.borrow_mut().insert(name.to_owned());
            lookup(name)
        })
        .unwrap();
        let listed: std::collections::BTreeSet<String> =
            VARIABLES.iter().map(|v| (*v).to_owned()).collect();
        assert_eq!(asked.into_inner(), listed);
    }
}
