//! Compiles `proto/` with the pure-Rust protox compiler (no system protoc)
//! and writes the descriptor set that reflection serves.

use prost::Message;
use std::path::PathBuf;

const PROTOS: [&str; 14] = [
    "reserve/v1/common.proto",
    "reserve/v1/network.proto",
    "reserve/v1/catalog.proto",
    "reserve/v1/audit.proto",
    "reserve/v1/stock.proto",
    "reserve/v1/incident.proto",
    "reserve/v1/allocation.proto",
    "reserve/v1/enterprise.proto",
    "reserve/v1/sourcing.proto",
    "reserve/v1/events.proto",
    "reserve/v1/requisition.proto",
    "reserve/v1/compensation.proto",
    "reserve/v1/lease.proto",
    "reserve/v1/maintenance.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?).join("../../proto");
    println!("cargo:rerun-if-changed={}", root.display());
    let fds = protox::compile(PROTOS, [&root])?;
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(out.join("reserve_descriptor.bin"), fds.encode_to_vec())?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_fds(fds)?;
    Ok(())
}
