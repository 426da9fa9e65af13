//! The README's walkthrough, run as written against portal-local: every
//! `sh` block of the "Walkthrough" and "Try the emulated org" sections goes
//! through `bash` (with `curl` and `jq`), only the default addresses swapped
//! for this run's free ports. What it prints must be what the README says it
//! prints, so the walkthrough cannot drift from the system.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failure should panic loudly

use std::process::Command;
use std::time::Duration;

use portal_core::config::Config as _;
use portal_local::{LocalConfig, Runner};

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
        .expect("the README")
}

/// The text of `readme` from `from` up to the next `## ` heading.
fn section<'a>(readme: &'a str, from: &str) -> &'a str {
    let start = readme.find(from).expect("the section");
    let rest = &readme[start + from.len()..];
    &rest[..rest.find("\n## ").unwrap_or(rest.len())]
}

/// The fenced blocks of `text` in the language `lang`.
fn blocks(text: &str, lang: &str) -> Vec<String> {
    let fence = format!("```{lang}\n");
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(&fence) {
        let body = &rest[start + fence.len()..];
        let end = body.find("```").expect("a closed block");
        found.push(body[..end].to_owned());
        rest = &body[end + 3..];
    }
    found
}

#[tokio::test(flavor = "multi_thread")]
async fn the_readme_walkthrough_runs_as_written_and_prints_what_it_says() {
    let config = LocalConfig::from_lookup(|name| match name {
        "PORT" => Some("0".to_owned()),
        "SF_EMULATOR_BIND" | "SF_EMULATOR_PUBSUB_BIND" | "WHMCS_EMULATOR_BIND" => {
            Some("127.0.0.1:0".to_owned())
        }
        _ => None,
    })
    .unwrap();
    let runner = Runner::start(config).await.expect("portal-local starts");
    let readme = readme();
    let walkthrough = section(&readme, "## Walkthrough");
    let org_section = section(&readme, "## Try the emulated org");
    let mut script = String::from("set -euo pipefail\n");
    for block in blocks(walkthrough, "sh")
        .into_iter()
        .chain(blocks(org_section, "sh"))
    {
        script.push_str(&block);
    }
    let org = runner.org.url.trim_end_matches('/');
    let script = script
        .replace("http://127.0.0.1:3000", &runner.api.url)
        .replace("http://127.0.0.1:8081", org)
        .replace("http://127.0.0.1:8083/includes/api.php", &runner.whmcs.url);
    let output = tokio::time::timeout(
        Duration::from_secs(120),
        tokio::task::spawn_blocking(move || {
            Command::new("bash")
                .arg("-c")
                .arg(script)
                .output()
                .expect("bash runs")
        }),
    )
    .await
    .expect("the walkthrough finishes within two minutes")
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");

    // Every JSON the README shows after a block is printed as shown.
    let expect = |text: &str| {
        assert!(
            stdout.contains(text),
            "the walkthrough printed no {text}\n---\n{stdout}\n{stderr}"
        );
    };
    for shown in blocks(walkthrough, "json") {
        expect(shown.trim_end());
    }
    expect(r#"{"status":"Pending"}"#);
    expect(r#"{"status":"Pending Review","activationStatus":"Pending Review"}"#);
    expect(r#"{"subject":"Router question"}"#);
    let codes: Vec<&str> = stdout
        .lines()
        .filter(|l| l.len() == 3 && l.bytes().all(|b| b.is_ascii_digit()))
        .collect();
    assert_eq!(
        codes,
        ["204", "204", "204", "201", "204"],
        "the staff steps' and the case's status codes\n{stdout}"
    );
    let cancelled = stdout
        .lines()
        .find(|l| l.contains("\"stage\""))
        .expect("the cancellation's answer");
    let cancelled: serde_json::Value = serde_json::from_str(cancelled).unwrap();
    assert_eq!(cancelled["stage"], "△Cancelling", "{cancelled}");
    // The start of the chosen date in Tokyo: 15:00 UTC the day before.
    assert!(
        cancelled["scheduledAt"]
            .as_str()
            .is_some_and(|at| at.ends_with("T15:00:00Z")),
        "{cancelled}"
    );
    // The emulated org's refusal, exactly as the README quotes it.
    let quoted = org_section
        .lines()
        .find_map(|l| l.strip_prefix("# → "))
        .expect("the README quotes the refusal");
    expect(quoted);
    drop(runner);
}
