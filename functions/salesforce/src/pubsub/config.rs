//! The Pub/Sub client's configuration, read once at start.
//!
//! | variable | meaning |
//! | --- | --- |
//! | `SF_PUBSUB_ENDPOINT` | default `https://api.pubsub.salesforce.com:7443`; `http://` (plaintext) only for the emulator |
//! | `SF_PUBSUB_WATCHDOG_SECS` | default `300`: a subscription that receives neither an event nor a keepalive for this long ends with [`TransientError::Stalled`](super::TransientError::Stalled) |
//! | `SF_PUBSUB_CONNECT_TIMEOUT_MS` | default `10000` |
//!
//! Salesforce sends a keepalive within 270 s when requests are pending, so the
//! watchdog must be longer than that against the real API.
//!
//! An extra root certificate for `https://` endpoints (the org emulator's
//! self-signed one) is set through the Rust API only,
//! [`PubSubConfig::with_ca_certificate`]: no deployable reads one.

use std::time::Duration;

use portal_core::config::{Env, VarError};

/// `SF_PUBSUB_ENDPOINT`.
pub const ENDPOINT: &str = "SF_PUBSUB_ENDPOINT";
/// `SF_PUBSUB_WATCHDOG_SECS`.
pub const WATCHDOG_SECS: &str = "SF_PUBSUB_WATCHDOG_SECS";
/// `SF_PUBSUB_CONNECT_TIMEOUT_MS`.
pub const CONNECT_TIMEOUT_MS: &str = "SF_PUBSUB_CONNECT_TIMEOUT_MS";
/// Every variable [`PubSubConfig::from_lookup`] reads (tests/deploy checks
/// that the SAM template sets them).
pub const VARIABLES: &[&str] = &[ENDPOINT, WATCHDOG_SECS, CONNECT_TIMEOUT_MS];

/// The global Pub/Sub API endpoint.
pub const DEFAULT_ENDPOINT: &str = "https://api.pubsub.salesforce.com:7443";
/// The default watchdog: longer than the 270 s keepalive bound of the real API.
pub const DEFAULT_WATCHDOG: Duration = Duration::from_secs(300);
/// The default connect timeout.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A malformed Pub/Sub setting; the message names the variable.
#[derive(Debug, thiserror::Error)]
pub enum PubSubConfigError {
    /// A value of the wrong form.
    #[error("{var} is not valid: {reason}")]
    Invalid {
        /// The variable (or `endpoint` for [`PubSubConfig::new`]).
        var: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

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

impl PubSubConfig {
    /// A configuration for `endpoint` (`https://host:port` or `http://host:port`)
    /// with the default watchdog and connect timeout.
    pub fn new(endpoint: &str) -> Result<Self, PubSubConfigError> {
        let (endpoint, transport) = parse_endpoint("endpoint", endpoint)?;
        Ok(Self {
            endpoint,
            transport,
            watchdog: DEFAULT_WATCHDOG,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            ca_certificate: None,
        })
    }

    /// Reads the process environment.
    pub fn from_env() -> Result<Self, PubSubConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup`; empty values count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, PubSubConfigError> {
        let env = Env::new(lookup).echo_values();
        let raw_endpoint = env.raw(ENDPOINT);
        let (endpoint, transport) = parse_endpoint(
            ENDPOINT,
            raw_endpoint.as_deref().unwrap_or(DEFAULT_ENDPOINT),
        )?;
        let watchdog = env
            .seconds(WATCHDOG_SECS, DEFAULT_WATCHDOG)
            .map_err(invalid)?;
        let connect_timeout = env
            .millis(CONNECT_TIMEOUT_MS, DEFAULT_CONNECT_TIMEOUT)
            .map_err(invalid)?;
        Ok(Self {
            endpoint,
            transport,
            watchdog,
            connect_timeout,
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
    pub fn with_ca_certificate(
        mut self,
        pem: impl Into<String>,
    ) -> Result<Self, PubSubConfigError> {
        let pem = pem.into();
        let invalid = |reason: &str| PubSubConfigError::Invalid {
            var: "ca_certificate",
            reason: reason.to_owned(),
        };
        if self.transport != Transport::Tls {
            return Err(invalid(
                "a CA certificate applies only to an https:// endpoint",
            ));
        }
        if !pem.contains("-----BEGIN CERTIFICATE-----")
            || !pem.contains("-----END CERTIFICATE-----")
        {
            return Err(invalid(
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

/// The error of a typed reader, which is always `Invalid`: every Pub/Sub
/// variable has a default, so none is ever missing.
fn invalid(err: VarError) -> PubSubConfigError {
    let var = err.var();
    match err {
        VarError::Invalid { reason, .. } => PubSubConfigError::Invalid { var, reason },
        VarError::Missing { .. } => PubSubConfigError::Invalid {
            var,
            reason: "is not set".to_owned(),
        },
    }
}

fn parse_endpoint(var: &'static str, raw: &str) -> Result<(String, Transport), PubSubConfigError> {
    let invalid = |reason: String| PubSubConfigError::Invalid { var, reason };
    let url = url::Url::parse(raw.trim()).map_err(|e| invalid(format!("not a URL ({e})")))?;
    let transport = match url.scheme() {
        "https" => Transport::Tls,
        "http" => Transport::Plaintext,
        other => {
            return Err(invalid(format!(
                "the scheme must be https or http, not {other}"
            )));
        }
    };
    if url.host_str().is_none() {
        return Err(invalid("the URL has no host".into()));
    }
    if url.path() != "/" || url.query().is_some() || !url.username().is_empty() {
        return Err(invalid(
            "the URL must be scheme://host[:port] without a path, query or credentials".into(),
        ));
    }
    Ok((url.as_str().trim_end_matches('/').to_owned(), transport))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn load(pairs: &[(&str, &str)]) -> Result<PubSubConfig, PubSubConfigError> {
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
        let config = load(&[(ENDPOINT, "http://127.0.0.1:8082/"), (WATCHDOG_SECS, "30")]).unwrap();
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
            (WATCHDOG_SECS, "0"),
            (CONNECT_TIMEOUT_MS, "soon"),
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
    fn variables_should_list_exactly_what_from_lookup_reads() {
        let asked = std::cell::RefCell::new(std::collections::BTreeSet::new());
        PubSubConfig::from_lookup(|name| {
            asked.borrow_mut().insert(name.to_owned());
            None
        })
        .unwrap();
        let listed: std::collections::BTreeSet<String> =
            VARIABLES.iter().map(|v| (*v).to_owned()).collect();
        assert_eq!(asked.into_inner(), listed);
    }
}
