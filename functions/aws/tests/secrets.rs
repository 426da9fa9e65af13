//! [`resolve_secret_variables`] against Secrets Manager on the moto server:
//! every test creates its own secrets.

use std::collections::HashMap;

use portal_aws::secrets::{SecretsError, resolve_secret_variables};
use portal_core::config::SecretVariable;
use test_support::aws::{sdk_config, unique_name};

const KEY: SecretVariable = SecretVariable {
    variable: "SF_PRIVATE_KEY_BASE64",
    arn_variable: "SF_PRIVATE_KEY_SECRET_ARN",
    json_key: None,
};

const fn whmcs(variable: &'static str, key: &'static str) -> SecretVariable {
    SecretVariable {
        variable,
        arn_variable: "WHMCS_CREDENTIALS_SECRET_ARN",
        json_key: Some(key),
    }
}

const SECRETS: &[SecretVariable] = &[
    KEY,
    whmcs("WHMCS_API_IDENTIFIER", "identifier"),
    whmcs("WHMCS_API_SECRET", "secret"),
    whmcs("WHMCS_ACCESS_KEY", "accessKey"),
];

async fn client() -> aws_sdk_secretsmanager::Client {
    aws_sdk_secretsmanager::Client::new(&sdk_config().await)
}

/// Creates a secret with a unique name and returns its ARN.
async fn create_secret(client: &aws_sdk_secretsmanager::Client, value: &str) -> String {
    client
        .create_secret()
        .name(unique_name("secret"))
        .secret_string(value)
        .send()
        .await
        .expect("moto creates the secret")
        .arn
        .expect("a created secret has an ARN")
}

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |name| map.get(name).cloned()
}

#[tokio::test]
async fn when_the_arns_are_set_should_overlay_the_secret_values() {
    let client = client().await;
    let key_arn = create_secret(&client, "a2V5").await;
    let whmcs_arn = create_secret(
        &client,
        r#"{"identifier":"the-id","secret":"the-secret","accessKey":""}"#,
    )
    .await;
    let base = env(&[
        ("SF_PRIVATE_KEY_SECRET_ARN", &key_arn),
        ("WHMCS_CREDENTIALS_SECRET_ARN", &whmcs_arn),
        (
            "WHMCS_API_URL",
            "https://billing.example.com/includes/api.php",
        ),
    ]);
    let overlay = resolve_secret_variables(&client, SECRETS, &base)
        .await
        .expect("both secrets exist");
    let lookup = overlay.lookup(&base);
    assert_eq!(lookup("SF_PRIVATE_KEY_BASE64").as_deref(), Some("a2V5"));
    assert_eq!(lookup("WHMCS_API_IDENTIFIER").as_deref(), Some("the-id"));
    assert_eq!(lookup("WHMCS_API_SECRET").as_deref(), Some("the-secret"));
    assert_eq!(lookup("WHMCS_ACCESS_KEY").as_deref(), Some(""));
    assert_eq!(
        lookup("WHMCS_API_URL").as_deref(),
        Some("https://billing.example.com/includes/api.php"),
        "other variables still come from the environment"
    );
    assert_eq!(overlay.variables().count(), 4);
}

#[tokio::test]
async fn when_no_arn_is_set_should_leave_the_plain_variables_in_place() {
    let client = client().await;
    let base = env(&[
        ("SF_PRIVATE_KEY_BASE64", "plain-key"),
        ("WHMCS_API_SECRET", "plain-secret"),
    ]);
    let overlay = resolve_secret_variables(&client, SECRETS, &base)
        .await
        .expect("nothing to fetch");
    assert_eq!(overlay.variables().count(), 0);
    let lookup = overlay.lookup(&base);
    assert_eq!(
        lookup("SF_PRIVATE_KEY_BASE64").as_deref(),
        Some("plain-key")
    );
    assert_eq!(lookup("WHMCS_API_SECRET").as_deref(), Some("plain-secret"));
}

#[tokio::test]
async fn when_the_secret_does_not_exist_should_fail_naming_the_variable_and_arn() {
    let client = client().await;
    let arn = format!(
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:{}",
        unique_name("absent")
    );
    let base = env(&[("SF_PRIVATE_KEY_SECRET_ARN", &arn)]);
    let err = resolve_secret_variables(&client, &[KEY], &base)
        .await
        .expect_err("the secret is absent");
    assert!(matches!(err, SecretsError::Fetch { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("SF_PRIVATE_KEY_SECRET_ARN"), "{message}");
    assert!(message.contains(&arn), "{message}");
}

#[tokio::test]
async fn when_a_json_key_is_missing_should_fail_naming_the_variable_and_not_the_value() {
    let client = client().await;
    let arn = create_secret(&client, r#"{"identifier":"the-id","secret":"hush"}"#).await;
    let base = env(&[("WHMCS_CREDENTIALS_SECRET_ARN", &arn)]);
    let err = resolve_secret_variables(&client, SECRETS, &base)
        .await
        .expect_err("accessKey is missing");
    let message = err.to_string();
    assert!(message.contains("WHMCS_ACCESS_KEY"), "{message}");
    assert!(message.contains("accessKey"), "{message}");
    assert!(message.contains(&arn), "{message}");
    assert!(
        !message.contains("hush") && !message.contains("the-id"),
        "{message}"
    );
}
