//! What the deployment must agree with, read without AWS: the SAM template
//! (CloudFormation short tags turned into their long JSON form), the
//! workspace's binaries (from `cargo metadata`) and the environment variables
//! a crate's sources read. The agreement itself is `tests/agreement.rs`.

pub mod reads;
pub mod template;
pub mod workspace;

use std::path::PathBuf;

/// The workspace root (two levels above this crate).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap_or_else(|_| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")))
}
