"""Fixtures for mesoswarm's end-to-end tests: the mesoswarm binary, real Mesos masters,
ZooKeeper, and the real docker CLI and Docker SDK for Python as clients.

Every server a test starts is stopped by its pid at teardown. Every wait is a bounded
poll on a condition, never a fixed sleep.
"""
import http.client
import ipaddress
import json
import os
import random
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request

import pytest

BIN = os.environ.get("MESOSWARM_BIN", "")
# The docker CLI the suite is written for (28.x). Debian's docker.io also installs a 20.10 CLI at
# /usr/bin/docker, so never rely on whichever `docker` PATH finds first; scripts/test.sh exports it.
DOCKER_CLI = os.environ.get("DOCKER_CLI") or (
    "/usr/local/bin/docker" if os.access("/usr/local/bin/docker", os.X_OK) else "docker")
SHARED = os.environ.get("MESOSWARM_SHARED", os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared"))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for(what, predicate, timeout=30.0, interval=0.1):
    """Polls `predicate` until it returns something truthy; fails the test after `timeout`."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
            if last:
                return last
        except Exception as e:  # noqa: BLE001 - the condition is not met yet
            last = e
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


class Daemon:
    """A mesoswarm process started by a test."""

    def __init__(self, args, docker_host, log_path):
        if not BIN or not os.path.exists(BIN):
            pytest.fail("MESOSWARM_BIN is not set: run the suite through ./scripts/test.sh, which builds mesoswarm first")
        self.docker_host = docker_host
        self.log_path = log_path
        self.log = open(log_path, "wb")
        self.proc = subprocess.Popen([BIN, *args], stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def ping(self):
        host = self.docker_host.removeprefix("tcp://")
        with urllib.request.urlopen(f"http://{host}/_ping", timeout=2) as r:
            return r.status == 200

    def info(self):
        host = self.docker_host.removeprefix("tcp://")
        with urllib.request.urlopen(f"http://{host}/info", timeout=5) as r:
            return json.load(r)

    def wait_ready(self, connected=True, timeout=60):
        wait_for("mesoswarm to answer /_ping", lambda: self.alive() and self.ping(), timeout)
        if connected:
            wait_for("mesoswarm to subscribe to Mesos", self.connected, timeout)

    def connected(self):
        rows = dict((k.strip(), v) for k, v in self.info().get("DriverStatus") or [])
        return rows.get("Status") == "connected"

    def alive(self):
        if self.proc.poll() is not None:
            pytest.fail(f"mesoswarm exited with {self.proc.returncode}:\n{self.tail()}")
        return True

    def tail(self, n=60):
        with open(self.log_path, "rb") as f:
            return b"\n".join(f.read().splitlines()[-n:]).decode(errors="replace")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.log.close()


@pytest.fixture
def tmp(tmp_path):
    return tmp_path


# The async runtimes mesoswarm runs on (`--runtime`). Every test that starts mesoswarm takes
# the `runtime` fixture and so runs once on each: the two shells must be at parity.
RUNTIMES = ("tokio", "smol")


@pytest.fixture(params=RUNTIMES)
def runtime(request):
    """The runtime of the mesoswarm this test starts."""
    return request.param


def start_daemon(tmp_path, args, name="mesoswarm", *, runtime):
    """Starts `mesoswarm <args> --runtime <runtime>` on a free loopback port; `manage` gets
    its own store file in the test's directory unless the test gives one. `runtime` has no
    default on purpose: a test that starts mesoswarm takes the `runtime` fixture."""
    port = free_port()
    host = f"tcp://127.0.0.1:{port}"
    extra = ["--host", host, "--runtime", runtime]
    if args[0] == "manage" and "--store" not in args:
        extra += ["--store", str(tmp_path / f"{name}.redb")]
    return Daemon([args[0], *extra, *args[1:]], host, str(tmp_path / f"{name}.log"))


@pytest.fixture
def dev(tmp_path, runtime):
    """`mesoswarm dev` with 3 simulated agents, connected."""
    d = start_daemon(tmp_path, ["dev", "--agents", "3", "--cluster-opt", "mesos.offerrefusetimeout=1s"],
                     runtime=runtime)
    try:
        d.wait_ready()
        yield d
    finally:
        d.stop()


def docker_env(daemon):
    """The environment for a client of `daemon`: its DOCKER_HOST, no context."""
    env = dict(os.environ, DOCKER_HOST=daemon.docker_host)
    env.pop("DOCKER_CONTEXT", None)
    return env


def docker(daemon, *args, check=False, timeout=60, input=None):
    """Runs the real docker CLI (DOCKER_CLI) against `daemon`; returns CompletedProcess (text)."""
    p = subprocess.run([DOCKER_CLI, *args], env=docker_env(daemon), capture_output=True, text=True, timeout=timeout,
                       input=input)
    if check and p.returncode != 0:
        pytest.fail(f"docker {shlex.join(args)} failed ({p.returncode}):\nstdout: {p.stdout}\nstderr: {p.stderr}\nmesoswarm log:\n{daemon.tail()}")
    return p


class RealMesos:
    def __init__(self, agents=2, extra=()):
        tools = os.path.join(SHARED, "real-mesos")
        if not os.path.exists(os.path.join(tools, "start.sh")):
            pytest.fail(f"the real Mesos tool is missing at {tools}: the shared/ folder must sit beside the checkout (scripts/test.sh sets it up)")
        self.tools = tools
        out = subprocess.run(["bash", os.path.join(tools, "start.sh"), "--port", "0", "--agents", str(agents), *extra],
                             capture_output=True, text=True, timeout=120)
        if out.returncode != 0:
            pytest.fail(f"real Mesos master did not start:\n{out.stderr}")
        env = dict(line.split("=", 1) for line in out.stdout.splitlines() if "=" in line)
        self.url = env["REAL_MESOS_MASTER_URL"]
        self.port = int(env["REAL_MESOS_MASTER_PORT"])
        self.dir = env["REAL_MESOS_INSTANCE_DIR"]
        self.log = env["REAL_MESOS_LOG"]

    def state(self):
        with urllib.request.urlopen(f"{self.url}/master/state", timeout=5) as r:
            return json.load(r)

    def stop(self):
        subprocess.run(["bash", os.path.join(self.tools, "stop.sh"), self.dir], capture_output=True, timeout=60)


@pytest.fixture
def real_mesos():
    m = RealMesos(agents=2)
    try:
        yield m
    finally:
        m.stop()


# ---------------------------------------------------------------- a real Docker engine

ENGINE_HOWTO = "./scripts/test.sh installs it (apt-get install docker.io busybox-static)"


def _which(name, extra=("/usr/sbin", "/sbin", "/usr/bin", "/bin")):
    found = shutil.which(name)
    if found:
        return found
    for d in extra:
        if os.access(os.path.join(d, name), os.X_OK):
            return os.path.join(d, name)
    return None


def _is_static_elf(path):
    """True if `path` is an ELF executable without a program interpreter (statically linked):
    the busybox image has no libc, so a dynamically linked busybox would not run in it."""
    with open(path, "rb") as f:
        head = f.read(64)
        if head[:4] != b"\x7fELF" or head[4] != 2:  # 64-bit only
            return False
        phoff = int.from_bytes(head[0x20:0x28], "little")
        phentsize = int.from_bytes(head[0x36:0x38], "little")
        phnum = int.from_bytes(head[0x38:0x3a], "little")
        for i in range(phnum):
            f.seek(phoff + i * phentsize)
            if int.from_bytes(f.read(4), "little") == 3:  # PT_INTERP
                return False
    return True


def _unix_http(sock_path, method, path, timeout=5):
    """One HTTP request to a Docker engine's unix socket: (status, body bytes)."""
    class Conn(http.client.HTTPConnection):
        def connect(self):
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(timeout)
            self.sock.connect(sock_path)

    c = Conn("localhost", timeout=timeout)
    try:
        c.request(method, path)
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def _free_private_24():
    """A 10.x.y.0/24 that overlaps no route or address of this host."""
    used = []
    out = subprocess.run([_which("ip"), "-4", "-o", "route", "show", "table", "all"], capture_output=True,
                         text=True, timeout=10).stdout
    out += subprocess.run([_which("ip"), "-4", "-o", "addr"], capture_output=True, text=True, timeout=10).stdout
    for tok in out.split():
        if "/" in tok or tok.count(".") == 3:
            try:
                net = ipaddress.ip_network(tok, strict=False)
            except ValueError:
                continue
            if net.prefixlen > 0:
                used.append(net)
    rng = random.SystemRandom()
    for _ in range(1000):
        cand = ipaddress.ip_network(f"10.{rng.randrange(100, 250)}.{rng.randrange(0, 256)}.0/24")
        if not any(cand.overlaps(u) for u in used):
            return cand
    pytest.fail(f"no free private /24 for the engine's bridge (routes and addresses: {used})")


class Engine:
    """A Debian dockerd (docker.io, 20.10) of our own: its own data root, exec root, pidfile,
    config file, unix socket and a TCP listener on a free loopback port, all under a temp dir
    (short, under /tmp: unix socket paths are limited to 108 bytes), plus a `busybox:latest`
    image built from Debian's busybox-static with `docker import` (docs: docker-api.md §8.1).

    Networking, and why: another dockerd may run on this machine (a developer's, or a
    concurrent test run's). Two dockerds cannot share the default bridge `docker0`: each one's
    IPAM hands out 172.17.0.2, .3, … on it independently, so their containers would collide on
    addresses. So each Engine gets a bridge of its own (`ip link add … type bridge`, a free
    private 10.x.y.0/24), passed as `--bridge`, and deleted at teardown. `--bridge=none` is no
    option: `-p` needs a bridge network. And every dockerd with iptables enabled starts by
    deleting and recreating the DOCKER* iptables chains (libnetwork's bridge driver calls
    removeIPChains() at init), which would wipe the other daemon's port mappings; so ours runs
    with `--iptables=false`. Published ports then work through docker-proxy (the userland proxy,
    on by default) for connections to the host, which is all the tests use; what is lost is
    NAT to the outside and container-to-container traffic across the host's FORWARD policy,
    which the tests do not need.
    """

    def __init__(self, name="engine", tls=None):
        """`tls`: (ca, cert, key) PEM paths: the TCP listener then requires TLS with client
        certificates (dockerd --tlsverify); the unix socket stays plain."""
        self.name = name
        self.tls = tls
        self.dockerd = _which("dockerd")
        if not self.dockerd:
            pytest.fail(f"dockerd is missing (Debian's docker.io package): {ENGINE_HOWTO}")
        if not os.path.exists("/bin/busybox") or not _is_static_elf("/bin/busybox"):
            pytest.fail(f"a statically linked /bin/busybox is missing (Debian's busybox-static package): {ENGINE_HOWTO}")
        if not _which("ip"):
            pytest.fail("the `ip` command (iproute2) is missing: apt-get install iproute2")
        if os.geteuid() != 0:
            pytest.fail("the engine tests start dockerd, which needs root: run them as root (CI does)")
        self.proc = None
        self.killed = False
        self.dir = tempfile.mkdtemp(prefix="msw-eng-", dir="/tmp")
        self.sock = os.path.join(self.dir, "docker.sock")
        self.unix_host = f"unix://{self.sock}"
        self.port = free_port()
        self.docker_host = f"tcp://127.0.0.1:{self.port}"
        self.log_path = os.path.join(self.dir, "dockerd.log")
        self.bridge = "mswe" + os.urandom(4).hex()  # at most 15 characters
        self.ns = "msw-" + self.bridge  # containerd namespaces: [A-Za-z0-9] words joined by . _ -
        self.subnet = _free_private_24()
        self._ip("link", "add", "name", self.bridge, "type", "bridge")
        try:
            self._ip("addr", "add", f"{next(self.subnet.hosts())}/{self.subnet.prefixlen}", "dev", self.bridge)
            self._ip("link", "set", self.bridge, "up")
            self.start_dockerd()
            self.build_busybox()
        except BaseException:
            self.stop()
            raise

    def _ip(self, *args):
        p = subprocess.run([_which("ip"), *args], capture_output=True, text=True, timeout=10)
        if p.returncode != 0:
            pytest.fail(f"ip {shlex.join(args)} failed: {p.stderr.strip()}")

    def start_dockerd(self):
        for d in ("data", "exec"):
            os.makedirs(os.path.join(self.dir, d), exist_ok=True)
        config = os.path.join(self.dir, "daemon.json")
        with open(config, "w") as f:
            f.write("{}\n")  # not the machine's /etc/docker/daemon.json
        args = [self.dockerd,
                "--config-file", config,
                "--data-root", os.path.join(self.dir, "data"),
                "--exec-root", os.path.join(self.dir, "exec"),
                "--pidfile", os.path.join(self.dir, "dockerd.pid"),
                "-H", self.unix_host, "-H", self.docker_host,
                "--bridge", self.bridge, "--iptables=false",
                # If dockerd finds a system containerd, it uses it instead of starting its own:
                # keep our objects apart from anyone else's there.
                "--containerd-namespace", self.ns, "--containerd-plugins-namespace", self.ns + "-plugins"]
        if self.tls:
            ca, cert, key = self.tls
            args += ["--tlsverify", "--tlscacert", ca, "--tlscert", cert, "--tlskey", key]
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        wait_for(f"dockerd to answer on {self.unix_host}", self.ready, timeout=60, interval=0.2)

    def ready(self):
        if self.proc.poll() is not None:
            pytest.fail(f"dockerd exited with {self.proc.returncode}:\n{self.tail()}")
        status, _ = _unix_http(self.sock, "GET", "/_ping", timeout=2)
        if status != 200:
            return False
        if self.tls:
            return True  # the TCP listener needs a client certificate; the socket answered
        host = self.docker_host.removeprefix("tcp://")
        with urllib.request.urlopen(f"http://{host}/_ping", timeout=2) as r:
            return r.status == 200

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def tail(self, n=60):
        try:
            with open(self.log_path, "rb") as f:
                return b"\n".join(f.read().splitlines()[-n:]).decode(errors="replace")
        except OSError as e:
            return str(e)

    def cli(self, *args, check=True, timeout=60, input=None):
        """The docker CLI against this engine's unix socket."""
        env = dict(os.environ, DOCKER_HOST=self.unix_host)
        env.pop("DOCKER_CONTEXT", None)
        p = subprocess.run([DOCKER_CLI, *args], env=env, capture_output=True, text=True, timeout=timeout, input=input)
        if check and p.returncode != 0:
            pytest.fail(f"docker {shlex.join(args)} on the engine failed ({p.returncode}):\n{p.stderr}\n"
                        f"dockerd log:\n{self.tail()}")
        return p

    def build_busybox(self):
        """busybox:latest from the static binary: a rootfs with one symlink per applet and a
        passwd with root, imported with `docker import`, plus the extra tags of §8.1."""
        root = os.path.join(self.dir, "imagefs")
        for d in ("bin", "etc", "tmp", "proc", "sys", "dev"):
            os.makedirs(os.path.join(root, d), exist_ok=True)
        shutil.copy2("/bin/busybox", os.path.join(root, "bin", "busybox"))
        applets = subprocess.run([os.path.join(root, "bin", "busybox"), "--list"], capture_output=True, text=True,
                                 timeout=10, check=True).stdout.split()
        for a in applets:
            if a != "busybox" and "/" not in a:
                link = os.path.join(root, "bin", a)
                if not os.path.lexists(link):
                    os.symlink("busybox", link)
        with open(os.path.join(root, "etc", "passwd"), "w") as f:
            f.write("root:x:0:0:root:/:/bin/sh\n")
        env = dict(os.environ, DOCKER_HOST=self.unix_host)
        env.pop("DOCKER_CONTEXT", None)
        tar = subprocess.Popen(["tar", "-C", root, "-c", "."], stdout=subprocess.PIPE)
        try:
            imp = subprocess.run([DOCKER_CLI, "import", "-c", 'CMD ["sh"]', "-c", "ENV PATH=/bin", "-", "busybox:latest"],
                                 stdin=tar.stdout, env=env, capture_output=True, text=True, timeout=120)
        finally:
            tar.stdout.close()
            tar.wait(timeout=60)
        if imp.returncode != 0 or tar.returncode != 0:
            pytest.fail(f"docker import of busybox failed: {imp.stderr}\n{self.tail()}")
        for t in ("alpine:3.10", "alpine:latest", "hello-world:latest"):
            self.cli("tag", "busybox:latest", t)

    def kill(self):
        """SIGKILL dockerd: the engine dies as in a crash; its containers keep running under
        containerd until stop() cleans up."""
        if self.alive():
            self.killed = True
            self.proc.kill()
            self.proc.wait(timeout=30)

    def _containerd_pid(self):
        try:
            with open(os.path.join(self.dir, "exec", "containerd", "containerd.pid")) as f:
                pid = int(f.read().strip())
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return None  # a zombie: dead, only not reaped
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                return pid if self.dir.encode() in f.read() else None  # ours, not someone else's
        except (OSError, ValueError):
            return None

    def stop(self):
        """Removes every container, stops dockerd (SIGTERM by pid, SIGKILL after 30 s), deletes
        the bridge and the temp dir. After kill() the containers still run under their
        containerd shims, so dockerd is started again on the same dirs first: it takes them back
        (and stops them, having no live-restore), and the cleanup is the same."""
        try:
            if self.killed and not self.alive():
                try:
                    self.log.close()
                    # containerd died with dockerd (it runs with a parent-death signal), but
                    # where nobody reaps orphans it lingers as a zombie that dockerd would take
                    # for a running containerd and wait on: drop its stale pidfile.
                    pidfile = os.path.join(self.dir, "exec", "containerd", "containerd.pid")
                    if os.path.exists(pidfile) and not self._containerd_pid():
                        os.unlink(pidfile)
                    self.start_dockerd()
                except BaseException as e:  # noqa: BLE001 - clean up as much as we can
                    print(f"engine {self.name}: restarting dockerd for cleanup failed: {e}")
            if self.alive():
                ids = self.cli("ps", "-aq", check=False, timeout=30).stdout.split()
                if ids:
                    self.cli("rm", "-f", *ids, check=False, timeout=120)
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(timeout=10)
            pid = self._containerd_pid()
            if pid:
                os.kill(pid, signal.SIGKILL)
        finally:
            if hasattr(self, "log"):
                self.log.close()
            subprocess.run([_which("ip"), "link", "del", self.bridge], capture_output=True, timeout=10)
            self._remove_dir()

    def _remove_dir(self):
        with open("/proc/self/mounts") as f:
            mounts = [line.split()[1] for line in f]
        for m in sorted((m for m in mounts if m.startswith(self.dir + "/")), key=len, reverse=True):
            subprocess.run(["umount", "-l", m], capture_output=True, timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)

    def container_of(self, mesoswarm_id):
        """The engine's container running mesoswarm's container `mesoswarm_id`, by the label
        the agents put on it: its inspect JSON, or None."""
        ids = self.cli("ps", "-aq", "--no-trunc", "--filter", f"label=com.mesoswarm.container.id={mesoswarm_id}",
                       timeout=30).stdout.split()
        if not ids:
            return None
        return json.loads(self.cli("inspect", ids[0], timeout=30).stdout)[0]


@pytest.fixture(scope="session")
def engine():
    """Debian's dockerd of our own (see Engine), for the whole session."""
    e = Engine("session")
    try:
        yield e
    finally:
        e.stop()


def start_engine_dev(tmp_path, engine, name="mesoswarm-engine", agents=3, *, runtime):
    """`mesoswarm dev --engine unix://<engine socket>` on `runtime`, connected."""
    d = start_daemon(tmp_path, ["dev", "--agents", str(agents), "--cluster-opt", "mesos.offerrefusetimeout=1s",
                                "--engine", engine.unix_host], name=name, runtime=runtime)
    try:
        d.wait_ready()
    except BaseException:
        d.stop()
        raise
    return d


@pytest.fixture(scope="session")
def engine_devs(engine, tmp_path_factory):
    """`engine_devs(runtime)`: the session's `mesoswarm dev` on `runtime` whose simulated
    agents run every task as a container on `engine`, started when a test first asks for it
    and kept for the session (one per runtime, so the engine tests start two in all)."""
    started = {}

    def get(runtime):
        if runtime not in started:
            started[runtime] = start_engine_dev(tmp_path_factory.mktemp(f"engine-dev-{runtime}"), engine,
                                                runtime=runtime)
        return started[runtime]

    try:
        yield get
    finally:
        for d in started.values():
            d.stop()


@pytest.fixture
def engine_dev(engine_devs, runtime):
    """The session's `mesoswarm dev --engine` on `runtime`; its `docker_host` is the
    DOCKER_HOST for the tests."""
    return engine_devs(runtime)


class EngineTarget:
    """Where an engine test points its clients: `mesoswarm dev --engine` (the real subject) or
    the plain dockerd itself (the baseline that shows the test's expectations are Docker's)."""

    def __init__(self, name, daemon, engine, runtime=None):
        self.name = name
        self.runtime = runtime  # mesoswarm's `--runtime`; None for the dockerd baseline
        self.daemon = daemon
        self.engine = engine
        self.docker_host = daemon.docker_host
        self.created = []

    def tail(self, n=60):
        return self.daemon.tail(n)

    def unique(self, prefix):
        """A container (or project) name no other test uses; removed at teardown."""
        name = f"{prefix}-{self.name[:3]}-{os.urandom(3).hex()}"
        self.created.append(name)
        return name

    def engine_container(self, ref):
        """The inspect JSON of the engine's container that runs the target's container `ref`."""
        if self.name == "dockerd":
            return json.loads(self.engine.cli("inspect", ref, timeout=30).stdout)[0]
        cid = docker(self, "inspect", "-f", "{{.Id}}", ref, check=True).stdout.strip()
        return wait_for(f"the engine's container for {ref} ({cid})", lambda: self.engine.container_of(cid), timeout=30)

    def cleanup(self):
        for name in self.created:
            try:
                docker(self, "rm", "-f", name, timeout=60)
            except subprocess.TimeoutExpired:
                pass


@pytest.fixture(params=[*(("mesoswarm", r) for r in RUNTIMES), ("dockerd", None)],
                ids=[*(f"mesoswarm-{r}" for r in RUNTIMES), "dockerd"])
def target(request, engine):
    """The engine tests run against mesoswarm on each runtime (whose agents run containers on
    `engine`) and, as a baseline, once against that dockerd directly."""
    name, runtime = request.param
    daemon = request.getfixturevalue("engine_devs")(runtime) if name == "mesoswarm" else engine
    t = EngineTarget(name, daemon, engine, runtime)
    try:
        yield t
    finally:
        t.cleanup()


class Lines:
    """Reads a process's text pipe line by line in a thread, so a test can wait (bounded) for
    a line without blocking on a read."""

    def __init__(self, pipe):
        self.lines = []
        self._t = threading.Thread(target=self._read, args=(pipe,), daemon=True)
        self._t.start()

    def _read(self, pipe):
        for line in pipe:
            self.lines.append(line)

    def text(self):
        return "".join(self.lines)

    def wait_line(self, what, predicate, timeout=30):
        return wait_for(what, lambda: next((line for line in list(self.lines) if predicate(line)), None), timeout)

    def join(self, timeout=10):
        self._t.join(timeout)


def docker_popen(daemon, *args, stdin=subprocess.DEVNULL):
    """Starts the docker CLI against `daemon` in the background: (Popen, stdout Lines, stderr Lines)."""
    p = subprocess.Popen([DOCKER_CLI, *args], env=docker_env(daemon), stdin=stdin, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    return p, Lines(p.stdout), Lines(p.stderr)


def finish(p, timeout, what):
    """Waits (bounded) for a background client to end; fails the test if it hangs."""
    try:
        return p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait(timeout=10)
        pytest.fail(f"{what} did not end within {timeout}s")
