"""Fixtures for mesoswarm's end-to-end tests: the mesoswarm binary, real Mesos masters,
ZooKeeper, and the real docker CLI and Docker SDK for Python as clients.

Every server a test starts is stopped by its pid at teardown. Every wait is a bounded
poll on a condition, never a fixed sleep.
"""
import json
import os
import shlex
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request

import pytest

BIN = os.environ.get("MESOSWARM_BIN", "")
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


def start_daemon(tmp_path, args, name="mesoswarm"):
    """Starts `mesoswarm <args>` on a free loopback port; `manage` gets its own store file
    in the test's directory unless the test gives one."""
    port = free_port()
    host = f"tcp://127.0.0.1:{port}"
    extra = ["--host", host]
    if args[0] == "manage" and "--store" not in args:
        extra += ["--store", str(tmp_path / f"{name}.redb")]
    return Daemon([args[0], *extra, *args[1:]], host, str(tmp_path / f"{name}.log"))


@pytest.fixture
def dev(tmp_path):
    """`mesoswarm dev` with 3 simulated agents, connected."""
    d = start_daemon(tmp_path, ["dev", "--agents", "3", "--cluster-opt", "mesos.offerrefusetimeout=1s"])
    try:
        d.wait_ready()
        yield d
    finally:
        d.stop()


def docker(daemon, *args, check=False, timeout=60, input=None):
    """Runs the real docker CLI against `daemon`; returns CompletedProcess (text)."""
    env = dict(os.environ, DOCKER_HOST=daemon.docker_host)
    env.pop("DOCKER_CONTEXT", None)
    p = subprocess.run(["docker", *args], env=env, capture_output=True, text=True, timeout=timeout, input=input)
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
