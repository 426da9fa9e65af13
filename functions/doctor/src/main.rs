//! `portal-doctor`: checks the Salesforce org and WHMCS against what the
//! product needs and prints the setup checklist; `portal-doctor
//! generate-metadata <sfdx-project-dir>` regenerates the metadata package.
//!
//! Exit codes: 0 everything passes, 1 something fails, 2 a configuration error.

use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use portal_core::config::Config as _;
use portal_core::logs::LogFormat;
use portal_doctor::{Doctor, DoctorConfig, Item, metadata, smoke};
use salesforce::pubsub::PubSubConfig;

const USAGE: &str = "usage: portal-doctor [--json] [--smoke]\n       portal-doctor generate-metadata <sfdx-project-dir>\n";

/// `DOCTOR_SMOKE_TIMEOUT_SECS`: how long `--smoke` waits for the event, then for provisioning.
const SMOKE_TIMEOUT: &str = "DOCTOR_SMOKE_TIMEOUT_SECS";

fn print(text: &str) -> ExitCode {
    let mut out = std::io::stdout().lock();
    if out
        .write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .is_err()
    {
        return ExitCode::from(2);
    }
    ExitCode::SUCCESS
}

fn fail(code: u8, message: &str) -> ExitCode {
    // Nothing more can be done when stderr is gone.
    let _ = writeln!(std::io::stderr().lock(), "portal-doctor: {message}");
    ExitCode::from(code)
}

fn generate(dir: &str) -> ExitCode {
    match metadata::write(Path::new(dir)) {
        Ok(written) => print(&format!(
            "wrote {} files under {dir}/{}\n",
            written.len(),
            metadata::SOURCE_DIR
        )),
        Err(e) => fail(1, &e.to_string()),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    portal_core::logs::init(LogFormat::Text, "warn");
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    if let ["generate-metadata", dir] = args.as_slice() {
        return generate(dir);
    }
    if args.iter().any(|a| !matches!(*a, "--json" | "--smoke")) {
        return fail(2, USAGE.trim_end());
    }
    let json = args.contains(&"--json");
    let smoke = args.contains(&"--smoke");
    let config = match DoctorConfig::from_env() {
        Ok(config) => config,
        Err(e) => return fail(2, &format!("configuration error: {e}")),
    };
    let doctor = match Doctor::new(config) {
        Ok(doctor) => doctor,
        Err(e) => return fail(2, &e.to_string()),
    };
    let mut report = doctor.run().await;
    let mut leftovers = String::new();
    if smoke {
        if !report.passed() {
            let _ = print(&report.to_text());
            return fail(
                1,
                "the smoke run needs every check to pass first; it wrote nothing",
            );
        }
        let pubsub = match PubSubConfig::from_env() {
            Ok(pubsub) => pubsub,
            Err(e) => return fail(2, &format!("configuration error: {e}")),
        };
        let timeout = match std::env::var(SMOKE_TIMEOUT).ok().map(|v| v.parse::<u64>()) {
            None => smoke::DEFAULT_TIMEOUT,
            Some(Ok(secs)) if secs > 0 => Duration::from_secs(secs),
            Some(_) => {
                return fail(
                    2,
                    &format!("configuration error: {SMOKE_TIMEOUT} must be a number of seconds"),
                );
            }
        };
        // Said before anything is written (on stderr, so that --json stays one document).
        let _ = write!(
            std::io::stderr().lock(),
            "{}",
            smoke::plan(&report.target[0].1)
        );
        let outcome = doctor.smoke(pubsub, timeout).run().await;
        report.checks.retain(|c| {
            !matches!(
                c.item,
                Item::TestApproval | Item::TestSubscription | Item::TestEndToEnd
            )
        });
        report.checks.extend(outcome.checks.iter().cloned());
        leftovers = outcome.leftovers();
    }
    let text = if json {
        format!("{:#}\n", report.to_json())
    } else {
        report.to_text()
    };
    if print(&text) != ExitCode::SUCCESS {
        return ExitCode::from(2);
    }
    if !leftovers.is_empty() {
        let _ = write!(std::io::stderr().lock(), "{leftovers}");
    }
    ExitCode::from(report.exit_code())
}
