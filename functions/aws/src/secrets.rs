//! Secrets Manager values turned into configuration variables, read once at
//! cold start.
//!
//! A deployed function does not get its secrets as environment values (those
//! are readable by anyone allowed `lambda:GetFunctionConfiguration`); it gets
//! the secret's ARN in an `…_SECRET_ARN` variable and reads the value with
//! `GetSecretValue` when it starts. [`SecretOverlay`] holds the values so
//! read, and [`SecretOverlay::lookup`] lays them over the environment, so the
//! synchronous `from_lookup` configuration loaders read them as if they were
//! ordinary variables.
//!
//! When no `…_SECRET_ARN` is set, nothing is fetched and the plain variables
//! are read as before (local runs, tests).

use std::collections::{BTreeSet, HashMap};

use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::error::SdkError;
use aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueError;
use portal_core::config::SecretVariable;

/// A secret cannot be read or has the wrong shape. The message names the
/// variables and the ARN, never a value.
#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    /// `GetSecretValue` failed (no such secret, access denied, network).
    #[error("cannot read the secret {arn} ({arn_variable})")]
    Fetch {
        /// The variable that named the secret.
        arn_variable: &'static str,
        /// The secret's ARN.
        arn: String,
        /// The SDK error (never contains the value).
        #[source]
        source: Box<SdkError<GetSecretValueError>>,
    },
    /// The secret has no string value (a binary secret).
    #[error("the secret {arn} ({arn_variable}) has no SecretString")]
    NotAString {
        /// The variable that named the secret.
        arn_variable: &'static str,
        /// The secret's ARN.
        arn: String,
    },
    /// The secret is not a JSON object, or lacks a key, or the key's value is
    /// not a string.
    #[error("the secret {arn} ({arn_variable}) gives {variable} no string at key {key:?}")]
    MissingKey {
        /// The variable the key was for.
        variable: &'static str,
        /// The variable that named the secret.
        arn_variable: &'static str,
        /// The secret's ARN.
        arn: String,
        /// The JSON key.
        key: &'static str,
    },
}

/// Values read from Secrets Manager, by variable name. `Debug` shows the
/// names only.
#[derive(Clone, Default)]
pub struct SecretOverlay {
    values: HashMap<String, String>,
}

impl std::fmt::Debug for SecretOverlay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: BTreeSet<&str> = self.values.keys().map(String::as_str).collect();
        f.debug_struct("SecretOverlay")
            .field("variables", &names)
            .finish()
    }
}

impl SecretOverlay {
    /// Reads the secrets whose `…_SECRET_ARN` is set in the process
    /// environment, with a Secrets Manager client built from the normal AWS
    /// environment (region, credentials, `AWS_ENDPOINT_URL`). When none is
    /// set, no client is built and the overlay is empty.
    ///
    /// # Errors
    /// [`SecretsError`] naming the first secret that cannot be read.
    pub async fn from_env(secrets: &[SecretVariable]) -> Result<Self, SecretsError> {
        let env = |name: &str| std::env::var(name).ok();
        if !secrets.iter().any(|s| arn_of(s, env).is_some()) {
            return Ok(Self::default());
        }
        let client = Client::new(&crate::config::load_sdk_config(None).await);
        resolve_secret_variables(&client, secrets, env).await
    }

    /// The variables this overlay provides.
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.values.keys().map(String::as_str)
    }

    /// A lookup that answers from the secrets first and from `base`
    /// otherwise, for the `from_lookup` configuration loaders.
    pub fn lookup<'a>(
        &'a self,
        base: impl Fn(&str) -> Option<String> + 'a,
    ) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| self.values.get(name).cloned().or_else(|| base(name))
    }
}

fn arn_of(secret: &SecretVariable, lookup: impl Fn(&str) -> Option<String>) -> Option<String> {
    lookup(secret.arn_variable)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// For each of `secrets` whose ARN variable `lookup` gives, fetches the
/// secret (once per ARN, however many variables it feeds) and takes the
/// variable's value from it. A variable whose ARN variable is unset is left
/// to `lookup` (the plain variable).
///
/// # Errors
/// [`SecretsError`] naming the variable and the ARN of the first failure.
pub async fn resolve_secret_variables(
    client: &Client,
    secrets: &[SecretVariable],
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<SecretOverlay, SecretsError> {
    let mut fetched: HashMap<String, String> = HashMap::new();
    let mut values = HashMap::new();
    for secret in secrets {
        let Some(arn) = arn_of(secret, &lookup) else {
            continue;
        };
        let text = match fetched.get(&arn) {
            Some(text) => text.clone(),
            None => {
                let text = fetch(client, secret.arn_variable, &arn).await?;
                fetched.insert(arn.clone(), text.clone());
                text
            }
        };
        let value = match secret.json_key {
            None => text,
            Some(key) => json_field(&text, key).ok_or_else(|| SecretsError::MissingKey {
                variable: secret.variable,
                arn_variable: secret.arn_variable,
                arn: arn.clone(),
                key,
            })?,
        };
        values.insert(secret.variable.to_owned(), value);
    }
    tracing::info!(
        secrets = fetched.len(),
        variables = values.len(),
        "read the configuration secrets"
    );
    Ok(SecretOverlay { values })
}

#[tracing::instrument(skip(client))]
async fn fetch(
    client: &Client,
    arn_variable: &'static str,
    arn: &str,
) -> Result<String, SecretsError> {
    let output = client
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .map_err(|e| SecretsError::Fetch {
            arn_variable,
            arn: arn.to_owned(),
            source: Box::new(e),
        })?;
    output
        .secret_string
        .ok_or_else(|| SecretsError::NotAString {
            arn_variable,
            arn: arn.to_owned(),
        })
}

/// The string at `key` of a JSON object, if `text` is one and has it.
fn json_field(text: &str, key: &str) -> Option<String> {
    match serde_json::from_str::<serde_json::Value>(text)
        .ok()?
        .get(key)?
    {
        serde_json::Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_field_should_take_only_string_values_of_an_object() {
        let text = r#"{"identifier":"id","secret":"s","accessKey":"","n":1}"#;
        assert_eq!(json_field(text, "identifier").as_deref(), Some("id"));
        assert_eq!(json_field(text, "accessKey").as_deref(), Some(""));
        assert_eq!(json_field(text, "n"), None);
        assert_eq!(json_field(text, "missing"), None);
        assert_eq!(json_field("not json", "identifier"), None);
    }

    #[test]
    fn debug_should_show_the_names_and_not_the_values() {
        let overlay = SecretOverlay {
            values: HashMap::from([("SF_PRIVATE_KEY_BASE64".to_owned(), "s3cr3t".to_owned())]),
        };
        let shown = format!("{overlay:?}");
        assert!(shown.contains("SF_PRIVATE_KEY_BASE64"), "{shown}");
        assert!(!shown.contains("s3cr3t"), "{shown}");
    }

    #[test]
    fn lookup_should_prefer_the_secret_and_fall_back_to_the_base() {
        let overlay = SecretOverlay {
            values: HashMap::from([("A".to_owned(), "secret".to_owned())]),
        };
        let lookup = overlay.lookup(|name| Some(format!("env-{name}")));
        assert_eq!(lookup("A").as_deref(), Some("secret"));
        assert_eq!(lookup("B").as_deref(), Some("env-B"));
    }
}
