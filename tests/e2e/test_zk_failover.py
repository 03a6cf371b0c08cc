"""Master failover through ZooKeeper: two simulated masters register under zk://…/mesos;
the leader goes away; mesoswarm follows the new leader and keeps its framework id."""
import os
import re
import subprocess

import pytest

from conftest import BIN, Daemon, docker, free_port, start_daemon, wait_for


@pytest.fixture
def zk():
    addr = os.environ.get("MESOSWARM_TEST_ZK")
    if not addr:
        pytest.fail("MESOSWARM_TEST_ZK is not set: run the suite through ./scripts/test.sh, which starts ZooKeeper "
                    "(Debian package zookeeper) and exports its address")
    return addr


def sim_master(tmp_path, zk_url, name, runtime):
    port = free_port()
    return Daemon(["dev", "--runtime", runtime, "--master-only", "--agents", "2", "--master-addr", f"127.0.0.1:{port}",
                   "--zk-register", zk_url], f"tcp://127.0.0.1:{port}", str(tmp_path / f"{name}.log")), port


def test_manager_follows_the_new_leader_and_keeps_its_framework_id(zk, tmp_path, runtime):
    path = f"/mesos-test-{free_port()}"
    zk_url = f"zk://{zk}{path}"
    a, port_a = sim_master(tmp_path, zk_url, "master-a", runtime)
    wait_for("master A registered", lambda: a.alive() and "registered in ZooKeeper" in a.tail(50), timeout=30)
    b, port_b = sim_master(tmp_path, zk_url, "master-b", runtime)
    wait_for("master B registered", lambda: b.alive() and "registered in ZooKeeper" in b.tail(50), timeout=30)
    d = start_daemon(tmp_path, ["manage", zk_url], runtime=runtime)
    try:
        d.wait_ready()
        out = docker(d, "info", check=True).stdout
        assert f"Mesos master: 127.0.0.1:{port_a}" in out, out
        fw = re.search(r"Framework ID: (\S+)", out).group(1)
        a.stop()  # the leader's process ends and its znode goes away
        wait_for("the manager on master B",
                 lambda: f"Mesos master: 127.0.0.1:{port_b}" in (o := docker(d, "info", check=True).stdout)
                 and "Status: connected" in o, timeout=20)
        out = docker(d, "info", check=True).stdout
        assert re.search(r"Framework ID: (\S+)", out).group(1) == fw, "the framework id survives the failover"
    finally:
        d.stop()
        a.stop()
        b.stop()
