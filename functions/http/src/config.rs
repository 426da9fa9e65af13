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
//! The Salesforce client's `SF_*` settings are read beside these; deployed,
//! its private key comes from Secrets Manager ([`SECRETS`]). A missing or
//! malformed setting is a `ConfigError` naming the variable.

use std::time::Duration;

use portal_core::config::{Config, ConfigError, Env, SecretVariable};
use portal_core::domain::Timezone;
use portal_core::portal::{DEFAULT_LINK_CACHE_TTL, PortalSettings, RequestLimits};
use salesforce::portal::PriceBook;
use url::Url;

/// `PORTAL_JWKS_URL`.
pub const JWKS_URL: &str = "PORTAL_JWKS_URL";
/// `PORTAL_JWT_PUBLIC_KEY_PEM`.
pub const JWT_PUBLIC_KEY_PEM: &str = "PORTAL_JWT_PUBLIC_KEY_PEM";
/// Every variable [`ApiConfig`] reads (tests/deploy holds the SAM template to
/// it; the `SF_*` ones are `salesforce::config::VARIABLES`).
pub const VARIABLES: &[&str] = &[
    "PORTAL_JWT_ISSUER",
    "PORTAL_JWT_AUDIENCE",
    JWKS_URL,
    JWT_PUBLIC_KEY_PEM,
    "PORTAL_ACCOUNT_CLAIM",
    "PORTAL_EMAIL_VERIFIED_CLAIM",
    "PORTAL_JWT_LEEWAY_SECS",
    "PORTAL_TIMEZONE",
    "IDEMPOTENCY_TABLE",
    "PORTAL_PRICEBOOK_ID",
    "PORTAL_LINK_CACHE_SECS",
    "PORTAL_POSTS_PER_MINUTE",
    "PORTAL_POSTS_PER_DAY",
    "PORTAL_REGISTRATIONS_PER_HOUR",
];
/// The variables read from Secrets Manager at cold start.
pub const SECRETS: &[SecretVariable] = &[salesforce::config::PRIVATE_KEY_SECRET];

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

impl Config for ApiConfig {
    fn read(env: &Env<'_>) -> Result<Self, ConfigError> {
        Ok(Self {
            auth: AuthConfig::read(env)?,
            settings: portal_settings(env)?,
            idempotency_table: env.required("IDEMPOTENCY_TABLE")?,
            price_book: price_book(env)?,
            identity: IdentitySettings::read(env)?,
        })
    }
}

impl Config for IdentitySettings {
    fn read(env: &Env<'_>) -> Result<Self, ConfigError> {
        let defaults = RequestLimits::default();
        Ok(Self {
            link_cache_ttl: Duration::from_secs(env.number(
                "PORTAL_LINK_CACHE_SECS",
                DEFAULT_LINK_CACHE_TTL.as_secs(),
                0..=MAX_LINK_CACHE_SECS,
            )?),
            limits: RequestLimits {
                posts_per_minute: env.number(
                    "PORTAL_POSTS_PER_MINUTE",
                    defaults.posts_per_minute,
                    1..=10_000,
                )?,
                posts_per_day: env.number(
                    "PORTAL_POSTS_PER_DAY",
                    defaults.posts_per_day,
                    1..=1_000_000,
                )?,
                registrations_per_hour: env.number(
                    "PORTAL_REGISTRATIONS_PER_HOUR",
                    defaults.registrations_per_hour,
                    1..=1_000,
                )?,
            },
        })
    }
}

impl Config for AuthConfig {
    fn read(env: &Env<'_>) -> Result<Self, ConfigError> {
        let var = "PORTAL_JWT_ISSUER";
        let issuer = env.required(var)?;
        if issuer.contains('#') || issuer.chars().any(char::is_control) {
            return Err(ConfigError::invalid(
                var,
                "an issuer has no # (no fragment) and no control characters",
            ));
        }
        // The PEM is taken as set; only its escaped newlines are unfolded.
        let keys = match (env.optional(JWKS_URL), env.raw(JWT_PUBLIC_KEY_PEM)) {
            (Some(url), None) => {
                let url = Url::parse(&url).map_err(|e| {
                    ConfigError::unparsable(JWKS_URL, "expected an https:// URL", e)
                })?;
                // Keys fetched in clear text could be swapped by anyone on the path.
                if url.scheme() != "https" {
                    return Err(ConfigError::invalid(JWKS_URL, "must be an https:// URL"));
                }
                KeySource::Jwks(url)
            }
            (None, Some(pem)) => KeySource::PublicKeyPem(pem.replace("\\n", "\n")),
            _ => return Err(ConfigError::OneOf(JWKS_URL, JWT_PUBLIC_KEY_PEM)),
        };
        Ok(Self {
            issuer,
            audience: env.required("PORTAL_JWT_AUDIENCE")?,
            keys,
            account_claim: env.or("PORTAL_ACCOUNT_CLAIM", DEFAULT_ACCOUNT_CLAIM),
            email_verified_claim: env
                .or("PORTAL_EMAIL_VERIFIED_CLAIM", DEFAULT_EMAIL_VERIFIED_CLAIM),
            leeway: Duration::from_secs(env.number(
                "PORTAL_JWT_LEEWAY_SECS",
                DEFAULT_LEEWAY.as_secs(),
                0..=MAX_LEEWAY_SECS,
            )?),
        })
    }
}

/// `PORTAL_TIMEZONE` into the use cases' settings.
///
/// # Errors
/// [`ConfigError`] when it is not a timezone.
pub fn portal_settings(env: &Env<'_>) -> Result<PortalSettings, ConfigError> {
    let timezone = env
        .parsed(
            "PORTAL_TIMEZONE",
            "expected Asia/Tokyo, UTC or an offset like +09:00",
            Timezone::parse,
        )?
        .unwrap_or_else(Timezone::tokyo);
    Ok(PortalSettings {
        timezone,
        ..PortalSettings::default()
    })
}

/// `PORTAL_PRICEBOOK_ID`: the price book sold from (the standard one when unset).
///
/// # Errors
/// [`ConfigError`] when it is not a `Pricebook2` id.
pub fn price_book(env: &Env<'_>) -> Result<PriceBook, ConfigError> {
    let var = "PORTAL_PRICEBOOK_ID";
    PriceBook::from_setting(env.optional(var).as_deref())
        .map_err(|e| ConfigError::unparsable(var, "expected a Pricebook2 id", e))
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

    const JWT_ISSUER: &str = "PORTAL_JWT_ISSUER";
    const JWT_AUDIENCE: &str = "PORTAL_JWT_AUDIENCE";
    const IDEMPOTENCY_TABLE: &str = "IDEMPOTENCY_TABLE";

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
            ("PORTAL_JWT_LEEWAY_SECS", "3600"),
            ("PORTAL_TIMEZONE", "Mars/Olympus"),
            (JWKS_URL, "ftp://x"),
            (JWKS_URL, "http://id.example.jp/.well-known/jwks.json"),
            (JWT_ISSUER, "https://id.example.jp/#frag"),
            ("PORTAL_LINK_CACHE_SECS", "7200"),
            ("PORTAL_POSTS_PER_MINUTE", "0"),
            ("PORTAL_REGISTRATIONS_PER_HOUR", "many"),
            ("PORTAL_PRICEBOOK_ID", "001000000000001"),
        ] {
            let mut pairs: Vec<_> = BASE.iter().copied().filter(|(k, _)| *k != var).collect();
            pairs.push((var, bad));
            let err = ApiConfig::from_lookup(env(&pairs)).unwrap_err();
            assert!(err.to_string().contains(var), "{err}");
        }
    }

    #[test]
    fn variables_should_list_exactly_what_it_reads() {
        let (config, read) = portal_core::config::read_recording::<ApiConfig>(env(BASE));
        config.unwrap();
        assert_eq!(read, portal_core::config::names(&[VARIABLES]));
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
