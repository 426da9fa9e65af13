//! The workspace's binaries, as Cargo sees them (`cargo metadata --no-deps`):
//! every `[[bin]]`, `src/main.rs` and `src/bin/*.rs` target of every member.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

/// `cargo metadata` failed or said something unexpected.
#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    /// Cargo could not be started.
    #[error("cannot run cargo metadata: {0}")]
    Spawn(#[source] std::io::Error),
    /// Cargo exited with an error.
    #[error("cargo metadata failed: {0}")]
    Failed(String),
    /// The output is not the expected JSON.
    #[error("cannot read cargo metadata's output: {0}")]
    Json(#[from] serde_json::Error),
}

/// A binary target of a workspace member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binary {
    /// The binary's name (`portal-api`).
    pub name: String,
    /// Its package (`portal-http`).
    pub package: String,
    /// The package's folder.
    pub package_dir: PathBuf,
}

#[derive(Deserialize)]
struct Metadata {
    packages: Vec<Package>,
}

#[derive(Deserialize)]
struct Package {
    name: String,
    manifest_path: PathBuf,
    targets: Vec<Target>,
}

#[derive(Deserialize)]
struct Target {
    name: String,
    kind: Vec<String>,
}

/// The binaries of the workspace members whose folder is under `root/folder`.
pub fn binaries_under(root: &Path, folder: &str) -> Result<Vec<Binary>, WorkspaceError> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--offline",
        ])
        .current_dir(root)
        .output()
        .map_err(WorkspaceError::Spawn)?;
    if !output.status.success() {
        return Err(WorkspaceError::Failed(
            String::from_utf8_lossy(&output.stderr).into_owned(),
        ));
    }
    let metadata: Metadata = serde_json::from_slice(&output.stdout)?;
    let under = root.join(folder);
    let mut binaries: Vec<Binary> = metadata
        .packages
        .into_iter()
        .filter_map(|p| {
            let dir = p.manifest_path.parent()?.to_path_buf();
            dir.starts_with(&under).then_some((p.name, dir, p.targets))
        })
        .flat_map(|(package, dir, targets)| {
            targets
                .into_iter()
                .filter(|t| t.kind.iter().any(|k| k == "bin"))
                .map(move |t| Binary {
                    name: t.name,
                    package: package.clone(),
                    package_dir: dir.clone(),
                })
        })
        .collect();
    binaries.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(binaries)
}
