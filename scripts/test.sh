#!/usr/bin/env bash
# Runs every test of mesoswarm, the way CI does. Installs what it needs (idempotently),
# starts the servers it needs (ZooKeeper; the end-to-end suite starts real Mesos masters and
# mesoswarm itself) and stops them again, by pid. Safe to run again and again.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
SHARED=${MESOSWARM_SHARED:-$ROOT/../shared}

step() { printf '\n==> %s\n' "$*"; }
fail() { printf 'error: %s\n' "$*" >&2; exit 1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }

# ---------------------------------------------------------------- what the tests need
# docker.io: the dockerd the end-to-end suite starts as the agents' engine (and its 20.10 CLI, which
# the tests do NOT use: see DOCKER_CLI below); busybox-static: the busybox:latest image is built from
# it with `docker import`; docker-compose: compose 1.29 as a client; tmux: drives `docker run -it`.
APT_PACKAGES=(zookeeper docker.io busybox-static docker-compose tmux)
PIP_PACKAGES=("docker==7.1.0" "pytest==8.3.5")

step "toolchain"
command -v cargo >/dev/null || fail "cargo is missing: install Rust (rustup) first"
cargo --version
rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy

step "system packages: ${APT_PACKAGES[*]}"
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "installed"

step "docker CLI"
# docker.io puts a 20.10 CLI at /usr/bin/docker; the suite is written for the CLI 28 at
# /usr/local/bin/docker. Every test runs "$DOCKER_CLI", never whatever `docker` PATH finds first.
if [ -z "${DOCKER_CLI:-}" ]; then
  if [ -x /usr/local/bin/docker ]; then DOCKER_CLI=/usr/local/bin/docker; else DOCKER_CLI=$(command -v docker || true); fi
fi
[ -n "$DOCKER_CLI" ] && [ -x "$DOCKER_CLI" ] || fail "no docker CLI found (expected the CLI 28 at /usr/local/bin/docker)"
export DOCKER_CLI
echo "client: $DOCKER_CLI: $("$DOCKER_CLI" --version)"
echo "engine: $(command -v dockerd): $(dockerd --version)"
echo "compose: $(docker-compose version --short 2>/dev/null)"

step "Python packages: ${PIP_PACKAGES[*]}"
python3 -m pip install --quiet --disable-pip-version-check "${PIP_PACKAGES[@]}"
python3 -c 'import docker, pytest; print("docker", docker.__version__, "pytest", pytest.__version__)'

step "real Mesos 1.11.0 master (../shared/real-mesos)"
[ -x "$SHARED/real-mesos/setup.sh" ] || fail "$SHARED/real-mesos is missing: the shared/ folder must sit beside the checkout"
bash "$SHARED/real-mesos/setup.sh" >/dev/null
echo "ready"

# ---------------------------------------------------------------- servers
CLEANUP=()
cleanup() { for c in "${CLEANUP[@]}"; do eval "$c" || true; done; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

start_zookeeper() {
  local dir port
  dir=$(mktemp -d "${TMPDIR:-/tmp}/mesoswarm-zk.XXXXXX")
  port=$(free_port)
  mkdir -p "$dir/data"
  cat >"$dir/zoo.cfg" <<CFG
tickTime=2000
dataDir=$dir/data
clientPort=$port
clientPortAddress=127.0.0.1
admin.enableServer=false
4lw.commands.whitelist=ruok,srvr,stat,mntr
CFG
  java -cp /usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar \
    org.apache.zookeeper.server.quorum.QuorumPeerMain "$dir/zoo.cfg" >"$dir/zk.log" 2>&1 &
  local pid=$!
  CLEANUP+=("kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf '$dir'")
  for _ in $(seq 1 100); do
    if [ "$(python3 -c "import socket
s=socket.create_connection(('127.0.0.1',$port),0.5); s.sendall(b'ruok'); print(s.recv(4).decode())" 2>/dev/null)" = imok ]; then
      export MESOSWARM_TEST_ZK="127.0.0.1:$port"
      echo "ZooKeeper on $MESOSWARM_TEST_ZK (pid $pid)"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  tail -20 "$dir/zk.log" >&2
  fail "ZooKeeper did not start"
}

step "ZooKeeper"
start_docker_engine() {
  # A dockerd of our own (scripts/engine.py: own data root, socket and bridge, a busybox image
  # from busybox-static) for the Rust tests of `mesoswarm dev --engine`. The end-to-end suite
  # starts its own engines.
  local out
  out=$(mktemp "${TMPDIR:-/tmp}/mesoswarm-engine.XXXXXX")
  python3 scripts/engine.py >"$out" 2>&1 &
  local pid=$!
  CLEANUP+=("kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f '$out'")
  for _ in $(seq 1 600); do
    if grep -q '^MESOSWARM_TEST_DOCKER=' "$out"; then
      export "$(grep -m1 '^MESOSWARM_TEST_DOCKER=' "$out")"
      echo "dockerd for the Rust tests at $MESOSWARM_TEST_DOCKER (holder pid $pid)"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  cat "$out" >&2
  fail "the Docker engine for the Rust tests did not start"
}

start_zookeeper
start_docker_engine

# ---------------------------------------------------------------- checks and tests
step "format"
cargo fmt --all -- --check

step "lint"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "tests (proto, core, simulations, shells)"
cargo test --workspace --locked

step "fuzz targets build"
cargo check --manifest-path fuzz/Cargo.toml

if [ -d tests/e2e ]; then
  step "end-to-end: docker CLI, Docker SDK for Python, real Mesos master, ZooKeeper"
  cargo build --locked --bin mesoswarm
  MESOSWARM_BIN="$ROOT/target/debug/mesoswarm" MESOSWARM_SHARED="$SHARED" DOCKER_CLI="$DOCKER_CLI" \
    python3 -m pytest -q -p no:cacheprovider tests/e2e
fi

step "done"
