//! The API's configuration, read once at start from the environment.
//!
//! | variable | required | meaning |
//! | --- | --- | --- |
//! | `PORTAL_JWT_ISSUER` | yes | the identity provider's `iss` |
//! | `PORTAL_JWT_AUDIENCE` | yes | this API's `aud` |
//! | `PORTAL_JWKS_URL` | one of the two | the identity provider's JWKS (RS256/ES256 keys by `kid`), `https://` |
//! | `PORTAL_JWT_PUBLIC_KEY_PEM` | one of the two | a PEM public key (RSA → RS256, EC P-256 → ES256) |
//! | `PORTAL_ACCOUNT_CLAIM` | no (`sf_account_id`) | a claim that, when a token has it, must name the login's linked Account |
//! | `PORTAL_EMAIL_VERIFIED_CLAIM` | no (`email_verified`) | the claim saying the provider verified the e-mail (`true` or `"true"`) |
//! | `PORTAL_LINK_CACHE_SECS` | no (`60`, at most 3600) | how long a container trusts a resolved login link |
//! | `PORTAL_POSTS_PER_MINUTE` / `PORTAL_POSTS_PER_DAY` | no (`30` / `500`) | POSTs per login |
//! | `PORTAL_REGISTRATIONS_PER_HOUR` | no (`5`) | registration attempts per login |
//! | `PORTAL_JWT_LEEWAY_SECS` | no (`30`, at most 300) | clock skew allowed on `exp` and `nbf` |
//! | `PORTAL_TIMEZONE` | no (`Asia/Tokyo`) | where "today" is judged (`Asia/Tokyo`, `UTC` or `+09:00`) |
//! | `IDEMPOTENCY_TABLE` | yes (Lambda) | the DynamoDB state table: idempotency records, login links, per-login counters, deactivated Accounts |
//! | `PORTAL_PRICEBOOK_ID` | no (the standard price book) | the `Pricebook2` the portal sells from |
//!
//! Deployed, the Salesforce private key is not an environment value:
//! `SF_PRIVATE_KEY_SECRET_ARN` names its Secrets Manager secret, read once at
//! cold start and laid over the environment ([`SECRETS`]).
//!
//! A missing or malformed setting is a [`ConfigError`] naming the variable.

use std::time::Duration;

use portal_aws::SecretVariable;
use portal_core::config::{Env, VarError};
use portal_core::domain::Timezone;
use portal_core::portal::{DEFAULT_LINK_CACHE_TTL, PortalSettings, RequestLimits};
use salesforce::portal::PriceBook;
use url::Url;

/// `PORTAL_JWT_ISSUER`.
pub const JWT_ISSUER: &str = "PORTAL_JWT_ISSUER";
/// `PORTAL_JWT_AUDIENCE`.
pub const JWT_AUDIENCE: &str = "PORTAL_JWT_AUDIENCE";
/// `PORTAL_JWKS_URL`.
pub const JWKS_URL: &str = "PORTAL_JWKS_URL";
/// `PORTAL_JWT_PUBLIC_KEY_PEM`.
pub const JWT_PUBLIC_KEY_PEM: &str = "PORTAL_JWT_PUBLIC_KEY_PEM";
/// `PORTAL_ACCOUNT_CLAIM`.
pub const ACCOUNT_CLAIM: &str = "PORTAL_ACCOUNT_CLAIM";
/// `PORTAL_EMAIL_VERIFIED_CLAIM`.
pub const EMAIL_VERIFIED_CLAIM: &str = "PORTAL_EMAIL_VERIFIED_CLAIM";
/// `PORTAL_LINK_CACHE_SECS`.
pub const LINK_CACHE_SECS: &str = "PORTAL_LINK_CACHE_SECS";
/// `PORTAL_POSTS_PER_MINUTE`.
pub const POSTS_PER_MINUTE: &str = "PORTAL_POSTS_PER_MINUTE";
/// `PORTAL_POSTS_PER_DAY`.
pub const POSTS_PER_DAY: &str = "PORTAL_POSTS_PER_DAY";
/// `PORTAL_REGISTRATIONS_PER_HOUR`.
pub const REGISTRATIONS_PER_HOUR: &str = "PORTAL_REGISTRATIONS_PER_HOUR";
/// `PORTAL_JWT_LEEWAY_SECS`.
pub const JWT_LEEWAY_SECS: &str = "PORTAL_JWT_LEEWAY_SECS";
/// `PORTAL_TIMEZONE`.
pub const TIMEZONE: &str = "PORTAL_TIMEZONE";
/// `IDEMPOTENCY_TABLE`.
pub const IDEMPOTENCY_TABLE: &str = "IDEMPOTENCY_TABLE";
/// `PORTAL_PRICEBOOK_ID`.
pub const PRICEBOOK_ID: &str = "PORTAL_PRICEBOOK_ID";
/// Every variable [`ApiConfig::from_lookup`] reads (tests/deploy checks that
/// the SAM template sets them; the `SF_*` ones are `salesforce::config::VARIABLES`).
pub const VARIABLES: &[&str] = &[
    JWT_ISSUER,
    JWT_AUDIENCE,
    JWKS_URL,
    JWT_PUBLIC_KEY_PEM,
    ACCOUNT_CLAIM,
    EMAIL_VERIFIED_CLAIM,
    JWT_LEEWAY_SECS,
    TIMEZONE,
    IDEMPOTENCY_TABLE,
    PRICEBOOK_ID,
    LINK_CACHE_SECS,
    POSTS_PER_MINUTE,
    POSTS_PER_DAY,
    REGISTRATIONS_PER_HOUR,
];

/// `SF_PRIVATE_KEY_SECRET_ARN`: the secret holding `SF_PRIVATE_KEY_BASE64`.
pub const SF_PRIVATE_KEY_SECRET_ARN: &str = "SF_PRIVATE_KEY_SECRET_ARN";
/// The variables that may come from Secrets Manager, read at cold start by
/// [`portal_aws::SecretOverlay::from_env`] (tests/deploy checks that the
/// template gives each one its secret's ARN, never the value).
pub const SECRETS: &[SecretVariable] = &[SecretVariable {
    variable: salesforce::config::PRIVATE_KEY_BASE64,
    arn_variable: SF_PRIVATE_KEY_SECRET_ARN,
    json_key: None,
}];

/// The account claim when `PORTAL_ACCOUNT_CLAIM` is not set.
pub const DEFAULT_ACCOUNT_CLAIM: &str = "sf_account_id";
/// The e-mail-verified claim when `PORTAL_EMAIL_VERIFIED_CLAIM` is not set (OIDC's).
pub const DEFAULT_EMAIL_VERIFIED_CLAIM: &str = "email_verified";
/// The longest `PORTAL_LINK_CACHE_SECS` accepted: it bounds how late a
/// deactivation is seen.
pub const MAX_LINK_CACHE_SECS: u64 = 3600;
/// The leeway when `PORTAL_JWT_LEEWAY_SECS` is not set.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(30);
/// The largest leeway accepted: more would keep expired tokens alive.
pub const MAX_LEEWAY_SECS: u64 = 300;

/// A missing or malformed setting; the message names the variable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A required variable is absent or empty.
    #[error("{0} is not set")]
    NotSet(&'static str),
    /// Neither or both key sources are set.
    #[error("exactly one of {JWKS_URL} and {JWT_PUBLIC_KEY_PEM} must be set")]
    KeySource,
    /// A value of the wrong form.
    #[error("{var} is not valid: {reason}")]
    Invalid {
        /// The variable.
        var: &'static str,
        /// What is expected (never the value of a secret).
        reason: String,
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

/// Where the token-signing public keys come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// A JWKS URL, fetched and cached, refreshed on an unknown `kid`.
    Jwks(Url),
    /// One PEM public key (RSA or EC P-256).
    PublicKeyPem(String),
}

/// How bearer tokens are verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthConfig {
    /// Expected `iss`.
    pub issuer: String,
    /// Expected `aud`.
    pub audience: String,
    /// The verification keys.
    pub keys: KeySource,
    /// A claim that, when present, must name the login's linked Account.
    pub account_claim: String,
    /// The claim saying the identity provider verified the e-mail.
    pub email_verified_claim: String,
    /// Clock skew allowed on `exp` and `nbf`.
    pub leeway: Duration,
}

/// How logins are resolved and limited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdentitySettings {
    /// How long a container trusts a resolved login link.
    pub link_cache_ttl: Duration,
    /// The per-login limits.
    pub limits: RequestLimits,
}

impl Default for IdentitySettings {
    fn default() -> Self {
        Self {
            link_cache_ttl: DEFAULT_LINK_CACHE_TTL,
            limits: RequestLimits::default(),
        }
    }
}

/// Everything the `portal-api` binary reads at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiConfig {
    /// Token verification.
    pub auth: AuthConfig,
    /// The use cases' settings (timezone, currency).
    pub settings: PortalSettings,
    /// The DynamoDB table of the API's items (idempotency records, login
    /// links, per-login counters, deactivated Accounts).
    pub idempotency_table: String,
    /// The price book the portal sells from.
    pub price_book: PriceBook,
    /// Login links and limits.
    pub identity: IdentitySettings,
}

impl ApiConfig {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup` (empty values count as unset).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let auth = AuthConfig::from_lookup(&lookup)?;
        let settings = settings_from_lookup(&lookup)?;
        let env = Env::new(&lookup);
        let idempotency_table = env.required(IDEMPOTENCY_TABLE)?;
        let price_book =
            PriceBook::from_setting(env.optional(PRICEBOOK_ID).as_deref()).map_err(|e| {
                ConfigError::Invalid {
                    var: PRICEBOOK_ID,
                    reason: e.to_string(),
                }
            })?;
        let identity = identity_from_lookup(&lookup)?;
        Ok(Self {
            auth,
            settings,
            idempotency_table,
            price_book,
            identity,
        })
    }
}

/// Reads `PORTAL_LINK_CACHE_SECS` and the per-login limits.
pub fn identity_from_lookup(
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<IdentitySettings, ConfigError> {
    let env = Env::new(lookup).echo_values();
    let defaults = RequestLimits::default();
    Ok(IdentitySettings {
        link_cache_ttl: Duration::from_secs(env.number(
            LINK_CACHE_SECS,
            DEFAULT_LINK_CACHE_TTL.as_secs(),
            0..=MAX_LINK_CACHE_SECS,
        )?),
        limits: RequestLimits {
            posts_per_minute: env.number(
                POSTS_PER_MINUTE,
                defaults.posts_per_minute,
                1..=10_000,
            )?,
            posts_per_day: env.number(POSTS_PER_DAY, defaults.posts_per_day, 1..=1_000_000)?,
            registrations_per_hour: env.number(
                REGISTRATIONS_PER_HOUR,
                defaults.registrations_per_hour,
                1..=1_000,
            )?,
        },
    })
}

impl AuthConfig {
    /// Reads the `PORTAL_JWT_*`, `PORTAL_JWKS_URL` and `PORTAL_ACCOUNT_CLAIM` settings.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env::new(lookup).echo_values();
        let issuer = env.required(JWT_ISSUER)?;
        if issuer.contains('#') || issuer.chars().any(char::is_control) {
            return Err(ConfigError::Invalid {
                var: JWT_ISSUER,
                reason: "an issuer has no # (no fragment) and no control characters".into(),
            });
        }
        let audience = env.required(JWT_AUDIENCE)?;
        // The PEM is taken as set; only its escaped newlines are unfolded.
        let keys = match (env.optional(JWKS_URL), env.raw(JWT_PUBLIC_KEY_PEM)) {
            (Some(url), None) => {
                let url = Url::parse(&url).map_err(|e| ConfigError::Invalid {
                    var: JWKS_URL,
                    reason: format!("not a URL ({e})"),
                })?;
                // Keys fetched in clear text could be swapped by anyone on the path.
                if url.scheme() != "https" {
                    return Err(ConfigError::Invalid {
                        var: JWKS_URL,
                        reason: "must be an https:// URL".into(),
                    });
                }
                KeySource::Jwks(url)
            }
            (None, Some(pem)) => KeySource::PublicKeyPem(pem.replace("\\n", "\n")),
            _ => return Err(ConfigError::KeySource),
        };
        let account_claim = env
            .optional(ACCOUNT_CLAIM)
            .unwrap_or_else(|| DEFAULT_ACCOUNT_CLAIM.to_owned());
        let email_verified_claim = env
            .optional(EMAIL_VERIFIED_CLAIM)
            .unwrap_or_else(|| DEFAULT_EMAIL_VERIFIED_CLAIM.to_owned());
        let leeway = Duration::from_secs(env.number(
            JWT_LEEWAY_SECS,
            DEFAULT_LEEWAY.as_secs(),
            0..=MAX_LEEWAY_SECS,
        )?);
        Ok(Self {
            issuer,
            audience,
            keys,
            account_claim,
            email_verified_claim,
            leeway,
        })
    }
}

/// Reads `PORTAL_TIMEZONE` into the use cases' settings.
pub fn settings_from_lookup(
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<PortalSettings, ConfigError> {
    let timezone = Env::new(lookup)
        .parsed(TIMEZONE, |v| Timezone::parse(v).map_err(|e| e.to_string()))?
        .unwrap_or_else(Timezone::tokyo);
    Ok(PortalSettings {
        timezone,
        ..PortalSettings::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }

    const BASE: &[(&str, &str)] = &[
        (JWT_ISSUER, "https://id.example.jp/"),
        (JWT_AUDIENCE, "portal-api"),
        (JWKS_URL, "https://id.example.jp/.well-known/jwks.json"),
        (IDEMPOTENCY_TABLE, "portal-state"),
    ];

    #[test]
    fn when_only_the_required_settings_are_set_should_take_the_defaults() {
        let config = ApiConfig::from_lookup(env(BASE)).unwrap();
        assert_eq!(config.auth.account_claim, "sf_account_id");
        assert_eq!(config.auth.leeway, Duration::from_secs(30));
        assert_eq!(config.settings.timezone, Timezone::tokyo());
        assert_eq!(config.idempotency_table, "portal-state");
        assert!(matches!(config.auth.keys, KeySource::Jwks(_)));
        assert_eq!(config.auth.email_verified_claim, "email_verified");
        assert_eq!(config.identity, IdentitySettings::default());
        assert_eq!(config.identity.link_cache_ttl, Duration::from_secs(60));
    }

    #[test]
    fn when_a_setting_is_missing_or_malformed_should_name_the_variable() {
        for missing in [JWT_ISSUER, JWT_AUDIENCE, IDEMPOTENCY_TABLE] {
            let pairs: Vec<_> = BASE
                .iter()
                .copied()
                .filter(|(k, _)| *k != missing)
                .collect();
            let err = ApiConfig::from_lookup(env(&pairs)).unwrap_err();
            assert!(err.to_string().contains(missing), "{err}");
        }
        let mut both = BASE.to_vec();
        both.push((JWT_PUBLIC_KEY_PEM, "-----BEGIN PUBLIC KEY-----"));
        let err = ApiConfig::from_lookup(env(&both)).unwrap_err();
        assert!(err.to_string().contains(JWKS_URL), "{err}");
        for (var, bad) in [
            (JWT_LEEWAY_SECS, "3600"),
            (TIMEZONE, "Mars/Olympus"),
            (JWKS_URL, "ftp://x"),
            (JWKS_URL, "http://id.example.jp/.well-known/jwks.json"),
            (JWT_ISSUER, "https://id.example.jp/#frag"),
            (LINK_CACHE_SECS, "7200"),
            (POSTS_PER_MINUTE, "0"),
            (REGISTRATIONS_PER_HOUR, "many"),
            (PRICEBOOK_ID, "001000000000001"),
        ] {
            let mut pairs: Vec<_> = BASE.iter().copied().filter(|(k, _)| *k != var).collect();
            pairs.push((var, bad));
            let err = ApiConfig::from_lookup(env(&pairs)).unwrap_err();
            assert!(err.to_string().contains(var), "{err}");
        }
    }

    #[test]
    fn variables_should_list_exactly_what_from_lookup_reads() {
        let base = env(BASE);
        let asked = std::cell::RefCell::new(std::collections::BTreeSet::new());
        ApiConfig::from_lookup(|name| {
            asked.borrow_mut().insert(name.to_owned());
            base(name)
        })
        .unwrap();
        let listed: std::collections::BTreeSet<String> =
            VARIABLES.iter().map(|v| (*v).to_owned()).collect();
        assert_eq!(asked.into_inner(), listed);
    }

    #[test]
    fn every_secret_should_feed_a_variable_the_salesforce_config_reads() {
        for secret in SECRETS {
            assert!(
                salesforce::config::VARIABLES.contains(&secret.variable),
                "{} is not read by SalesforceConfig",
                secret.variable
            );
        }
    }
}
