//! The shipped bytes are the tested bytes: what `infra/build` makes, run as
//! it ships.
//!
//! - Each Lambda `bootstrap` that `sam build` wrote (`target/sam/build/<Function>/bootstrap`,
//!   aarch64, glibc) is started under `qemu-aarch64 -L <aarch64 sysroot>` against the
//!   Lambda Runtime API emulator, with the org emulator, the WHMCS emulator and moto
//!   behind it ([`worlds`]): `tests/bootstraps.rs`.
//! - The subscriber's OCI image (`target/image/oci`) is checked against
//!   `infra/subscriber/Dockerfile` and its binary, taken from the unpacked root
//!   filesystem, forwards an event from the org emulator's Pub/Sub face to SQS
//!   under qemu ([`image`]): `tests/image.rs`.
//! - `benches/cold_start.rs` measures every function's cold start and peak RSS,
//!   native and under qemu.
//!
//! The tests are `#[ignore]`d: `cargo test --workspace` needs no arm64 toolchain.
//! CI runs `infra/build`, then `cargo test -p artifact-tests -- --ignored`.

pub mod image;
pub mod worlds;

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Where `sam build` writes (`infra/build functions`); `ARTIFACTS_SAM_BUILD_DIR` overrides.
pub const SAM_BUILD_DIR: &str = "target/sam/build";
/// Where `infra/build image` writes; `ARTIFACTS_IMAGE_DIR` overrides.
pub const IMAGE_DIR: &str = "target/image";
/// The aarch64 glibc qemu loads the bootstraps' libraries from (Debian
/// `libc6-arm64-cross`); `QEMU_LD_PREFIX` overrides.
pub const AARCH64_SYSROOT: &str = "/usr/aarch64-linux-gnu";

/// A Lambda function of `template.yaml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Function {
    /// Its logical id in the template (and its folder under `sam build`'s output).
    pub logical_id: &'static str,
    /// The Cargo binary it ships (`Metadata.BuildProperties.Binary`).
    pub binary: &'static str,
}

/// `PortalApiFunction`.
pub const PORTAL_API: Function = Function {
    logical_id: "PortalApiFunction",
    binary: "portal-api",
};
/// `ProvisionerFunction`.
pub const PROVISIONER: Function = Function {
    logical_id: "ProvisionerFunction",
    binary: "provisioner",
};
/// `ReconcilerFunction`.
pub const RECONCILER: Function = Function {
    logical_id: "ReconcilerFunction",
    binary: "reconciler",
};
/// Every Lambda function.
pub const FUNCTIONS: [Function; 3] = [PORTAL_API, PROVISIONER, RECONCILER];

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap_or_else(|_| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")))
}

fn dir(var: &str, default: &str) -> PathBuf {
    std::env::var_os(var).map_or_else(|| workspace_root().join(default), PathBuf::from)
}

impl Function {
    /// The arm64 `bootstrap` `sam build` made for this function.
    pub fn bootstrap(&self) -> PathBuf {
        dir("ARTIFACTS_SAM_BUILD_DIR", SAM_BUILD_DIR)
            .join(self.logical_id)
            .join("bootstrap")
    }

    /// The native release build (`cargo build --release -p … --bin …`);
    /// `ARTIFACTS_NATIVE_DIR` names another folder (e.g. `target/native/release`
    /// when built with its own `CARGO_TARGET_DIR`).
    pub fn native_release(&self) -> PathBuf {
        dir("ARTIFACTS_NATIVE_DIR", "target/release").join(self.binary)
    }
}

/// The folder of the subscriber's image.
pub fn image_dir() -> PathBuf {
    dir("ARTIFACTS_IMAGE_DIR", IMAGE_DIR)
}

/// How a binary is started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runner {
    /// Directly (a native binary).
    Native,
    /// Under `qemu-aarch64`, loading shared libraries from the aarch64 sysroot.
    Qemu,
}

impl Runner {
    /// The program and arguments put before the binary (empty for [`Runner::Native`]).
    pub fn prefix(self) -> Vec<OsString> {
        match self {
            Runner::Native => Vec::new(),
            Runner::Qemu => {
                let sysroot = std::env::var_os("QEMU_LD_PREFIX")
                    .unwrap_or_else(|| OsString::from(AARCH64_SYSROOT));
                vec!["qemu-aarch64".into(), "-L".into(), sysroot]
            }
        }
    }
}
