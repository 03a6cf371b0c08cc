#!/usr/bin/env bash
# Runs every test of mesoswarm, the way CI does. Installs what it needs (idempotently) and
# starts and stops any server it needs itself. Safe to run again and again.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }
fail() { printf 'error: %s\n' "$*" >&2; exit 1; }

step "toolchain"
command -v cargo >/dev/null || fail "cargo is missing: install Rust (rustup) first"
cargo --version
rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy

step "format"
cargo fmt --all -- --check

step "lint"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "tests (proto, core: unit, snapshots, properties, purity)"
cargo test --workspace --locked

step "fuzz targets build"
cargo check --manifest-path fuzz/Cargo.toml

step "done"
