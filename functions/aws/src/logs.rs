//! How every deployed worker logs: the one logger (`portal_core::logs`) in
//! its JSON form, filtered by `RUST_LOG` (default `info`).

use portal_core::logs::{LogFormat, init};

/// Installs the JSON logger; a second call (tests) keeps the first one.
pub fn init_json_logs() {
    init(LogFormat::Json, "info");
}
