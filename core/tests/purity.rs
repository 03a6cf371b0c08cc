//! The core must stay pure: no clock, socket, file, thread, process, runtime or OS random
//! source under `core/` or `proto/`, in their own code or in what they depend on. These
//! checks fail the build the moment someone adds one.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Text that means the code reaches outside the state machine.
const FORBIDDEN_CODE: &[(&str, &str)] = &[
    ("Instant::now", "reads the clock"),
    ("SystemTime", "reads the wall clock"),
    ("std::time::Instant", "is a clock type"),
    ("std::net", "opens sockets"),
    ("std::fs", "touches files"),
    ("std::thread", "starts threads"),
    ("std::process", "starts processes"),
    ("std::env::var", "reads the environment"),
    ("std::io::std", "touches stdin/stdout/stderr"),
    ("println!", "writes to stdout"),
    ("eprintln!", "writes to stderr"),
    ("tokio", "is a runtime"),
    ("smol", "is a runtime"),
    ("async_std", "is a runtime"),
    ("getrandom", "reads the OS random source"),
    ("OsRng", "reads the OS random source"),
    ("thread_rng", "reads the OS random source"),
    ("RandomState", "is seeded from the OS random source"),
    ("unsafe ", "escapes the type system"),
];

/// Crates the core and proto must not depend on, directly or not (normal dependencies).
const FORBIDDEN_CRATES: &[&str] = &[
    "tokio",
    "mio",
    "socket2",
    "smol",
    "async-io",
    "async-std",
    "async-executor",
    "polling",
    "hyper",
    "hyper-util",
    "reqwest",
    "h2",
    "getrandom",
    "rand",
    "rand_core",
    "redb",
    "zookeeper-client",
    "rustls",
    "ring",
    "tracing-subscriber",
    "chrono",
    "time",
];

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("read {}: {e}", dir.display())) {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn core_and_proto_sources_do_no_io() {
    let root = workspace_root();
    let mut files = Vec::new();
    for dir in ["core/src", "proto/src", "proto/build.rs"] {
        let p = root.join(dir);
        if p.is_dir() {
            rust_files(&p, &mut files);
        }
    }
    assert!(
        files.len() > 20,
        "found only {} source files: wrong root?",
        files.len()
    );
    let mut hits = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("read source");
        let is_build_script = file.ends_with("build.rs");
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for (needle, why) in FORBIDDEN_CODE {
                if is_build_script {
                    continue; // the build script runs at compile time, not in the core
                }
                if code.contains(needle) {
                    hits.push(format!("{}:{}: `{needle}` {why}", file.display(), n + 1));
                }
            }
            // std's HashMap is seeded from the OS random source and iterates in a random
            // order. The core uses `hash::Map`; only bollard's response models, whose field
            // types are fixed by that crate, hold std maps (rendered with sorted keys).
            let rel = file
                .strip_prefix(&root)
                .unwrap_or(file)
                .to_string_lossy()
                .to_string();
            let bollard_render = rel.contains("docker/render");
            if !bollard_render
                && (code.contains("HashMap") || code.contains("HashSet"))
                && !rel.ends_with("hash.rs")
            {
                hits.push(format!(
                    "{rel}:{}: std HashMap/HashSet (use hash::Map)",
                    n + 1
                ));
            }
        }
    }
    assert!(
        hits.is_empty(),
        "the core must stay sans-IO:\n{}",
        hits.join("\n")
    );
}

#[test]
fn core_and_proto_depend_on_no_runtime_or_io_crate() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1"])
        .current_dir(workspace_root())
        .output()
        .expect("run cargo metadata");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).expect("metadata JSON");
    let names: HashMap<String, String> = meta["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| {
            (
                p["id"].as_str().unwrap().to_string(),
                p["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let nodes: HashMap<String, &serde_json::Value> = meta["resolve"]["nodes"]
        .as_array()
        .expect("resolve nodes")
        .iter()
        .map(|n| (n["id"].as_str().unwrap().to_string(), n))
        .collect();
    for root_name in ["mesoswarm-core", "mesoswarm-proto"] {
        let root_id = names
            .iter()
            .find(|(_, n)| *n == root_name)
            .map(|(id, _)| id.clone())
            .expect("root package");
        let mut seen = BTreeSet::new();
        let mut stack = vec![root_id];
        while let Some(id) = stack.pop() {
            if !seen.insert(id.clone()) {
                continue;
            }
            for dep in nodes[&id]["deps"].as_array().expect("deps") {
                let normal = dep["dep_kinds"]
                    .as_array()
                    .expect("dep_kinds")
                    .iter()
                    .any(|k| k["kind"].is_null());
                if normal {
                    stack.push(dep["pkg"].as_str().unwrap().to_string());
                }
            }
        }
        let reached: BTreeSet<&str> = seen.iter().map(|id| names[id].as_str()).collect();
        assert!(
            reached.contains("prost"),
            "{root_name}: the walk found too little: {reached:?}"
        );
        let bad: Vec<&&str> = FORBIDDEN_CRATES
            .iter()
            .filter(|c| reached.contains(**c))
            .collect();
        assert!(
            bad.is_empty(),
            "{root_name} depends on {bad:?}, which do I/O, read a clock or run a runtime"
        );
    }
}
