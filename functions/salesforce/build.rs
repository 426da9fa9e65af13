//! Generates the Pub/Sub API's gRPC client and server (module `salesforce::pubsub::proto`)
//! from `proto/pubsub_api.proto`, with `protox` (a pure-Rust protobuf compiler: no
//! `protoc` is needed on the machine) and `tonic-prost-build`.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let proto_dir = manifest_dir.join("../../proto");
    let proto = proto_dir.join("pubsub_api.proto");
    println!("cargo:rerun-if-changed={}", proto.display());
    let descriptors = protox::compile(["pubsub_api.proto"], [&proto_dir])?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .generate_default_stubs(true)
        .emit_rerun_if_changed(false)
        .compile_fds(descriptors)?;
    Ok(())
}
