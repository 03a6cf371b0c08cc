//! Compiles mesoswarm's Mesos v1 `.proto` transcriptions with protox (a pure
//! Rust protobuf compiler, so no system `protoc` is needed) and prost-build.
//!
//! Outputs in `OUT_DIR`:
//! * `mesos.v1.rs` and `mesos.v1.scheduler.rs`: the prost-generated types;
//! * `mesos_v1_descriptor_set.bin`: the encoded `FileDescriptorSet` of both
//!   files (with source info), exposed as `FILE_DESCRIPTOR_SET`.

use std::env;
use std::path::PathBuf;

const PROTO_ROOT: &str = "proto";
const PROTO_FILES: &[&str] = &[
    "proto/mesos/v1/mesos.proto",
    "proto/mesos/v1/scheduler/scheduler.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed={PROTO_ROOT}");
    for file in PROTO_FILES {
        println!("cargo:rerun-if-changed={file}");
    }

    let mut compiler = protox::Compiler::new([PROTO_ROOT])?;
    compiler.include_source_info(true).include_imports(true);
    compiler.open_files(PROTO_FILES)?;

    let out_dir = PathBuf::from(env::var_os("OUT_DIR").ok_or("OUT_DIR is not set")?);
    std::fs::write(
        out_dir.join("mesos_v1_descriptor_set.bin"),
        compiler.encode_file_descriptor_set(),
    )?;

    prost_build::Config::new().compile_fds(compiler.file_descriptor_set())?;
    Ok(())
}
