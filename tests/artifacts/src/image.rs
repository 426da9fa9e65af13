//! The subscriber's OCI image as `infra/build image` leaves it (an OCI image
//! layout, read without any container tool), and the runtime stage of
//! `infra/subscriber/Dockerfile` it must agree with.

use std::path::Path;

use anyhow::{Context as _, bail};
use serde_json::Value;

/// The image's tag in the layout (`org.opencontainers.image.ref.name`).
pub const TAG: &str = "portal-subscriber";
/// The image's target size, unpacked (issue 14).
pub const MAX_BYTES: u64 = 15_000_000;

/// What the image says about how it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunConfig {
    /// `User`, e.g. `65532:65532`.
    pub user: String,
    /// `Entrypoint`.
    pub entrypoint: Vec<String>,
    /// `StopSignal`.
    pub stop_signal: String,
    /// `Env`, `NAME=value`, in order.
    pub env: Vec<String>,
}

/// The image in an OCI layout.
#[derive(Debug, Clone)]
pub struct Image {
    /// `architecture` of the config.
    pub architecture: String,
    /// `os` of the config.
    pub os: String,
    /// How it runs.
    pub run: RunConfig,
    /// The layers' sizes as stored (compressed), in bytes.
    pub layer_bytes: u64,
    /// How many layers.
    pub layers: usize,
}

fn blob(layout: &Path, digest: &str) -> anyhow::Result<Value> {
    let (algorithm, hex) = digest
        .split_once(':')
        .with_context(|| format!("not a digest: {digest}"))?;
    let path = layout.join("blobs").join(algorithm).join(hex);
    let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_slice(&bytes).with_context(|| format!("{} is not JSON", path.display()))
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

impl Image {
    /// Reads the image tagged `tag` in the OCI layout at `layout`.
    pub fn read(layout: &Path, tag: &str) -> anyhow::Result<Self> {
        let index_path = layout.join("index.json");
        let index: Value = serde_json::from_slice(
            &std::fs::read(&index_path)
                .with_context(|| format!("reading {}", index_path.display()))?,
        )?;
        let descriptor = index["manifests"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|m| m["annotations"]["org.opencontainers.image.ref.name"] == tag)
            .with_context(|| format!("no image tagged {tag} in {}", index_path.display()))?;
        let manifest = blob(layout, descriptor["digest"].as_str().unwrap_or_default())?;
        let config = blob(
            layout,
            manifest["config"]["digest"].as_str().unwrap_or_default(),
        )?;
        let layers = manifest["layers"].as_array().cloned().unwrap_or_default();
        let run = &config["config"];
        Ok(Self {
            architecture: config["architecture"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            os: config["os"].as_str().unwrap_or_default().to_owned(),
            run: RunConfig {
                user: run["User"].as_str().unwrap_or_default().to_owned(),
                entrypoint: strings(&run["Entrypoint"]),
                stop_signal: run["StopSignal"].as_str().unwrap_or_default().to_owned(),
                env: strings(&run["Env"]),
            },
            layer_bytes: layers.iter().filter_map(|l| l["size"].as_u64()).sum(),
            layers: layers.len(),
        })
    }
}

/// The runtime (last) stage of a Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerfileStage {
    /// The stage's base (`FROM <base>`).
    pub base: String,
    /// How it runs.
    pub run: RunConfig,
}

/// Reads the last stage of the Dockerfile at `path`: its `FROM`, and its
/// `USER`, `ENTRYPOINT` (exec form), `STOPSIGNAL` and `ENV` instructions.
pub fn dockerfile_runtime(path: &Path) -> anyhow::Result<DockerfileStage> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    // Continuation lines joined; comments and blank lines dropped.
    let joined = text.replace("\\\n", " ");
    let lines: Vec<&str> = joined
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let start = lines
        .iter()
        .rposition(|l| l.to_ascii_uppercase().starts_with("FROM "))
        .context("no FROM")?;
    let mut stage = DockerfileStage {
        base: String::new(),
        run: RunConfig {
            user: String::new(),
            entrypoint: Vec::new(),
            stop_signal: String::new(),
            env: Vec::new(),
        },
    };
    for line in &lines[start..] {
        let (instruction, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let rest = rest.trim();
        match instruction.to_ascii_uppercase().as_str() {
            "FROM" => {
                stage.base = rest
                    .split_whitespace()
                    .find(|w| !w.starts_with("--"))
                    .unwrap_or_default()
                    .to_owned();
            }
            "USER" => stage.run.user = rest.to_owned(),
            "STOPSIGNAL" => stage.run.stop_signal = rest.to_owned(),
            "ENTRYPOINT" => {
                let form: Value = serde_json::from_str(rest)
                    .with_context(|| format!("ENTRYPOINT is not in exec form: {rest}"))?;
                stage.run.entrypoint = strings(&form);
            }
            "ENV" => {
                for pair in rest.split_whitespace() {
                    if !pair.contains('=') {
                        bail!("ENV {rest}: use the NAME=value form");
                    }
                    stage.run.env.push(pair.to_owned());
                }
            }
            _ => {}
        }
    }
    Ok(stage)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dockerfile_runs_the_static_binary_on_an_empty_base_as_a_non_root_user() {
        let stage =
            dockerfile_runtime(&crate::workspace_root().join("infra/subscriber/Dockerfile"))
                .unwrap();
        assert_eq!(stage.base, "scratch");
        assert_eq!(stage.run.entrypoint, ["/usr/local/bin/subscriber"]);
        assert_eq!(stage.run.stop_signal, "SIGTERM");
        let uid = stage.run.user.split(':').next().unwrap();
        assert_ne!(uid, "0");
        assert!(uid.parse::<u32>().is_ok(), "numeric user on an empty base");
    }

    #[test]
    fn the_build_script_sets_what_the_dockerfile_sets() {
        // infra/build's `umoci config` flags, read from the script itself.
        let script = std::fs::read_to_string(crate::workspace_root().join("infra/build")).unwrap();
        let flag = |name: &str| -> String {
            script
                .lines()
                .find_map(|l| l.trim().strip_prefix(&format!("--config.{name} ")))
                .map(|v| v.trim_end_matches('\\').trim().to_owned())
                .unwrap_or_else(|| panic!("infra/build sets no --config.{name}"))
        };
        let stage =
            dockerfile_runtime(&crate::workspace_root().join("infra/subscriber/Dockerfile"))
                .unwrap();
        assert_eq!(flag("user"), stage.run.user);
        assert_eq!(flag("stopsignal"), stage.run.stop_signal);
        assert_eq!(vec![flag("entrypoint")], stage.run.entrypoint);
        assert_eq!(vec![flag("env")], stage.run.env);

        // The same tool pins build the binary in both.
        let dockerfile =
            std::fs::read_to_string(crate::workspace_root().join("infra/subscriber/Dockerfile"))
                .unwrap();
        for (var, package) in [
            ("CARGO_LAMBDA_VERSION", "cargo-lambda"),
            ("ZIGLANG_VERSION", "ziglang"),
        ] {
            let version = script
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{var}=")))
                .unwrap_or_else(|| panic!("infra/build pins no {var}"));
            let pin = format!("{package}=={version}");
            assert!(dockerfile.contains(&pin), "the Dockerfile installs {pin}");
        }
    }
}
