//! The Pub/Sub face's TLS option: a self-signed certificate for `localhost` and
//! `127.0.0.1`, made at start, and the tonic server configured with it.
//!
//! The certificate is its own trust anchor: a client trusts it by adding its PEM
//! as a root (`PubSubConfig::with_ca_certificate`, `grpcurl -cacert`).

use std::time::Duration;

use tonic::transport::{Identity, Server, ServerTlsConfig};

/// The names the certificate is valid for.
const SUBJECT_ALT_NAMES: [&str; 2] = ["localhost", "127.0.0.1"];

/// How long a client may take over the TLS handshake before the server drops it
/// (a plaintext client never completes one).
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the TLS option could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum PubSubTlsError {
    /// The key pair or the certificate could not be generated.
    #[error("could not generate the Pub/Sub server's self-signed certificate")]
    Generate(#[source] rcgen::Error),
    /// tonic refused the generated identity.
    #[error("could not configure TLS on the Pub/Sub server")]
    Configure(#[source] tonic::transport::Error),
}

/// A self-signed certificate and its private key, both PEM.
pub(crate) struct SelfSigned {
    cert_pem: String,
    key_pem: String,
}

// The private key stays out of debug output.
impl std::fmt::Debug for SelfSigned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SelfSigned").finish_non_exhaustive()
    }
}

impl SelfSigned {
    /// A fresh key pair and a certificate for `localhost` and `127.0.0.1`.
    pub(crate) fn generate() -> Result<Self, PubSubTlsError> {
        let names: Vec<String> = SUBJECT_ALT_NAMES.iter().map(|n| (*n).to_owned()).collect();
        let rcgen::CertifiedKey { cert, signing_key } =
            rcgen::generate_simple_self_signed(names).map_err(PubSubTlsError::Generate)?;
        Ok(Self {
            cert_pem: cert.pem(),
            key_pem: signing_key.serialize_pem(),
        })
    }

    /// The certificate (PEM): what clients trust.
    pub(crate) fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// A tonic server builder that serves over TLS with this certificate.
    pub(crate) fn server(&self) -> Result<Server, PubSubTlsError> {
        let identity = Identity::from_pem(&self.cert_pem, &self.key_pem);
        Server::builder()
            .tls_config(
                ServerTlsConfig::new()
                    .identity(identity)
                    .timeout(HANDSHAKE_TIMEOUT),
            )
            .map_err(PubSubTlsError::Configure)
    }
}
