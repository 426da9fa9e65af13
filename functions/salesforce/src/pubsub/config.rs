//! The Pub/Sub client's configuration, read once at start ([`VARIABLES`]).
//!
//! | variable | meaning |
//! | --- | --- |
//! | `SF_PUBSUB_ENDPOINT` | default `https://api.pubsub.salesforce.com:7443`; `http://` (plaintext) only for the emulator |
//! | `SF_PUBSUB_WATCHDOG_SECS` | default `300`: a subscription that receives neither an event nor a keepalive for this long ends with [`TransientError::Stalled`](super::TransientError::Stalled) |
//! | `SF_PUBSUB_CONNECT_TIMEOUT_MS` | default `10000` |
//!
//! Salesforce sends a keepalive within 270 s when requests are pending, so the
//! watchdog must be longer than that against the real API. An extra root
//! certificate for `https://` endpoints (the org emulator's self-signed one)
//! is set through the Rust API only, [`PubSubConfig::with_ca_certificate`].

use std::time::Duration;

use portal_core::config::{Config, ConfigError, Env};

/// `SF_PUBSUB_ENDPOINT`.
pub const ENDPOINT: &str = "SF_PUBSUB_ENDPOINT";
/// Every variable [`PubSubConfig`] reads (tests/deploy holds the SAM template to it).
pub const VARIABLES: &[&str] = &[
    ENDPOINT,
    "SF_PUBSUB_WATCHDOG_SECS",
    "SF_PUBSUB_CONNECT_TIMEOUT_MS",
];

/// The global Pub/Sub API endpoint.
pub const DEFAULT_ENDPOINT: &str = "https://api.pubsub.salesforce.com:7443";
/// The default watchdog: longer than the 270 s keepalive bound of the real API.
pub const DEFAULT_WATCHDOG: Duration = Duration::from_secs(300);
/// The default connect timeout.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Whether the channel is encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// TLS with the webpki root certificates, plus the one set with
    /// [`PubSubConfig::with_ca_certificate`] (`https://`).
    Tls,
    /// Plaintext HTTP/2 (`http://`): the emulator on localhost.
    Plaintext,
}

/// Where and how to reach the Pub/Sub API.
#[derive(Debug, Clone)]
pub struct PubSubConfig {
    endpoint: String,
    transport: Transport,
    watchdog: Duration,
    connect_timeout: Duration,
    ca_certificate: Option<String>,
}

impl Config for PubSubConfig {
    fn read(env: &Env<'_>) -> Result<Self, ConfigError> {
        let (endpoint, transport) = parse_endpoint(ENDPOINT, &env.or(ENDPOINT, DEFAULT_ENDPOINT))?;
        Ok(Self {
            endpoint,
            transport,
            watchdog: env.seconds("SF_PUBSUB_WATCHDOG_SECS", DEFAULT_WATCHDOG)?,
            connect_timeout: env.millis("SF_PUBSUB_CONNECT_TIMEOUT_MS", DEFAULT_CONNECT_TIMEOUT)?,
            ca_certificate: None,
        })
    }
}

impl PubSubConfig {
    /// A configuration for `endpoint` (`https://host:port` or `http://host:port`)
    /// with the default watchdog and connect timeout.
    pub fn new(endpoint: &str) -> Result<Self, ConfigError> {
        let (endpoint, transport) = parse_endpoint("endpoint", endpoint)?;
        Ok(Self {
            endpoint,
            transport,
            watchdog: DEFAULT_WATCHDOG,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            ca_certificate: None,
        })
    }

    /// Sets the watchdog (tests use milliseconds).
    pub fn with_watchdog(mut self, watchdog: Duration) -> Self {
        self.watchdog = watchdog;
        self
    }

    /// Sets the connect timeout.
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Also trusts `pem` (one or more PEM `CERTIFICATE` blocks), besides the webpki
    /// roots, when connecting over TLS: e.g. the org emulator's self-signed
    /// certificate. Refused for a plaintext (`http://`) endpoint and for text that
    /// holds no PEM certificate.
    pub fn with_ca_certificate(mut self, pem: impl Into<String>) -> Result<Self, ConfigError> {
        let pem = pem.into();
        if self.transport != Transport::Tls {
            return Err(ConfigError::invalid(
                "ca_certificate",
                "a CA certificate applies only to an https:// endpoint",
            ));
        }
        if !pem.contains("-----BEGIN CERTIFICATE-----")
            || !pem.contains("-----END CERTIFICATE-----")
        {
            return Err(ConfigError::invalid(
                "ca_certificate",
                "expected a PEM certificate (-----BEGIN CERTIFICATE-----)",
            ));
        }
        self.ca_certificate = Some(pem);
        Ok(self)
    }

    /// The extra root certificate (PEM) trusted over TLS, if any.
    pub fn ca_certificate(&self) -> Option<&str> {
        self.ca_certificate.as_deref()
    }

    /// The endpoint, without a trailing slash.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// TLS or plaintext, from the endpoint's scheme.
    pub fn transport(&self) -> Transport {
        self.transport
    }

    /// How long a subscription may go without an event or a keepalive.
    pub fn watchdog(&self) -> Duration {
        self.watchdog
    }

    /// How long connecting may take.
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }
}

fn parse_endpoint(var: &'static str, raw: &str) -> Result<(String, Transport), ConfigError> {
    let url = url::Url::parse(raw.trim())
        .map_err(|e| ConfigError::unparsable(var, "expected https://host:port", e))?;
    let transport = match url.scheme() {
        "https" => Transport::Tls,
        "http" => Transport::Plaintext,
        other => {
            return Err(ConfigError::invalid(
                var,
                format!("the scheme must be https or http, not {other}"),
            ));
        }
    };
    if url.host_str().is_none()
        || url.path() != "/"
        || url.query().is_some()
        || !url.username().is_empty()
    {
        return Err(ConfigError::invalid(
            var,
            "expected scheme://host[:port] without a path, query or credentials",
        ));
    }
    Ok((url.as_str().trim_end_matches('/').to_owned(), transport))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn load(pairs: &[(&str, &str)]) -> Result<PubSubConfig, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        PubSubConfig::from_lookup(move |k| map.get(k).cloned())
    }

    #[test]
    fn when_unset_should_point_at_salesforce_over_tls() {
        let config = load(&[]).unwrap();
        assert_eq!(config.endpoint(), "https://api.pubsub.salesforce.com:7443");
        assert_eq!(config.transport(), Transport::Tls);
        assert_eq!(config.watchdog(), DEFAULT_WATCHDOG);
    }

    #[test]
    fn when_http_should_use_plaintext() {
        let config = load(&[
            (ENDPOINT, "http://127.0.0.1:8082/"),
            ("SF_PUBSUB_WATCHDOG_SECS", "30"),
        ])
        .unwrap();
        assert_eq!(config.endpoint(), "http://127.0.0.1:8082");
        assert_eq!(config.transport(), Transport::Plaintext);
        assert_eq!(config.watchdog(), Duration::from_secs(30));
    }

    #[test]
    fn when_malformed_should_name_the_variable() {
        for (var, value) in [
            (ENDPOINT, "api.pubsub.salesforce.com:7443"),
            (ENDPOINT, "ftp://x"),
            (ENDPOINT, "https://x/path"),
            ("SF_PUBSUB_WATCHDOG_SECS", "0"),
            ("SF_PUBSUB_CONNECT_TIMEOUT_MS", "soon"),
        ] {
            let err = load(&[(var, value)]).unwrap_err();
            assert!(err.to_string().contains(var), "{err}");
        }
    }

    const PEM: &str = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

    #[test]
    fn when_a_ca_certificate_is_set_on_https_should_keep_it() {
        let config = PubSubConfig::new("https://localhost:8082")
            .unwrap()
            .with_ca_certificate(PEM)
            .unwrap();
        assert_eq!(config.ca_certificate(), Some(PEM));
        assert_eq!(
            PubSubConfig::new("https://x").unwrap().ca_certificate(),
            None
        );
    }

    #[test]
    fn when_a_ca_certificate_is_set_on_http_or_is_not_pem_should_refuse_it() {
        let plaintext = PubSubConfig::new("http://127.0.0.1:8082")
            .unwrap()
            .with_ca_certificate(PEM)
            .unwrap_err();
        assert!(plaintext.to_string().contains("https"), "{plaintext}");
        let garbage = PubSubConfig::new("https://localhost:8082")
            .unwrap()
            .with_ca_certificate("not a certificate")
            .unwrap_err();
        assert!(garbage.to_string().contains("PEM"), "{garbage}");
    }

    #[test]
    fn variables_should_list_exactly_what_it_reads() {
        let (config, read) = portal_core::config::read_recording::<PubSubConfig>(|_| None);
        config.unwrap();
        assert_eq!(read, portal_core::config::names(&[VARIABLES]));
    }
}
