//! `portal-doctor`: checks the Salesforce org and WHMCS against what the
//! product needs and prints the setup checklist; `portal-doctor
//! generate-metadata <sfdx-project-dir>` regenerates the metadata package.
//!
//! Exit codes: 0 everything passes, 1 something fails, 2 a configuration error.

use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;

use portal_core::config::Config as _;
use portal_core::logs::LogFormat;
use portal_doctor::{Doctor, DoctorConfig, metadata};

const USAGE: &str =
    "usage: portal-doctor [--json]\n       portal-doctor generate-metadata <sfdx-project-dir>\n";

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
    let json = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["generate-metadata", dir] => return generate(dir),
        [] => false,
        ["--json"] => true,
        _ => return fail(2, USAGE.trim_end()),
    };
    let config = match DoctorConfig::from_env() {
        Ok(config) => config,
        Err(e) => return fail(2, &format!("configuration error: {e}")),
    };
    let doctor = match Doctor::new(config) {
        Ok(doctor) => doctor,
        Err(e) => return fail(2, &e.to_string()),
    };
    let report = doctor.run().await;
    let text = if json {
        format!("{:#}\n", report.to_json())
    } else {
        report.to_text()
    };
    if print(&text) != ExitCode::SUCCESS {
        return ExitCode::from(2);
    }
    ExitCode::from(report.exit_code())
}
