"""mesoswarm against the REAL Apache Mesos 1.11.0 master (../shared/real-mesos).

The agents of that master cannot execute tasks, so every launch ends TASK_FAILED: what is
real here is the whole framework protocol — subscription, offers, ACCEPT validation, status
updates and acknowledgements, KILL, reconciliation, failover of the framework.
"""
import json
import re
import subprocess
import time
import urllib.request

import pytest

from conftest import DOCKER_CLI, docker, start_daemon, wait_for


def framework(mesos, name="mesoswarm"):
    for f in mesos.state()["frameworks"]:
        if f["name"] == name:
            return f
    return None


@pytest.fixture
def manage(real_mesos, tmp_path, runtime):
    store = tmp_path / "state.redb"
    d = start_daemon(tmp_path, ["manage", "--store", str(store), "--cluster-opt", "mesos.offerrefusetimeout=3s",
                                "--cluster-opt", "mesos.tasktimeout=20s", "--log", "debug",
                                f"127.0.0.1:{real_mesos.port}"], runtime=runtime)
    d.store = store
    try:
        d.wait_ready()
        yield d
    finally:
        d.stop()


def test_subscribes_and_docker_info_shows_the_real_offers(real_mesos, manage):
    fw = wait_for("the framework registered with the master", lambda: framework(real_mesos))
    assert fw["active"] and fw["capabilities"] == ["MULTI_ROLE", "PARTITION_AWARE", "TASK_KILLING_STATE"]
    assert fw["checkpoint"] is True and fw["failover_timeout"] == 604800
    def info_with_two_offers():
        o = docker(manage, "info", check=True).stdout
        return o if "Offers: 2" in o else None

    out = wait_for("2 offers in docker info", info_with_two_offers)
    assert re.search(r"Framework ID: " + re.escape(fw["id"]), out), out
    assert out.count("└ cpus: 4") == 2, out
    assert out.count("└ ports: 31000-32000") == 2, out


def test_run_launches_a_task_the_master_accepts_and_reports_its_failure(real_mesos, manage):
    wait_for("offers", lambda: "Offers: 2" in docker(manage, "info", check=True).stdout)
    p = docker(manage, "run", "-d", "--name", "real1", "-m", "64m", "busybox", "true", timeout=120)
    assert p.returncode == 125, p
    assert "Error response from daemon: failed to start container real1: Mesos reported TASK_FAILED" in p.stderr, p.stderr
    st = docker(manage, "inspect", "-f", "{{.State.Status}}|{{.State.Error}}", "real1", check=True).stdout.strip()
    status, error = st.split("|", 1)
    assert status == "exited"
    assert error.startswith("TASK_FAILED: "), st
    # The master saw the task, with our resources, and received our ACKNOWLEDGE (the task
    # left its active set and the resources came back).
    done = wait_for("the task among the master's completed tasks",
                    lambda: [t for f in real_mesos.state()["completed_frameworks"] + real_mesos.state()["frameworks"]
                             for t in f.get("completed_tasks", []) if t["name"] == "real1"])
    assert done[0]["state"] == "TASK_FAILED"
    assert done[0]["resources"]["mem"] == 64
    wait_for("offers back after the failure", lambda: "Offers: 2" in docker(manage, "info", check=True).stdout)


def test_declined_offers_come_back_after_refuse_seconds(real_mesos, manage):
    wait_for("offers", lambda: "Offers: 2" in docker(manage, "info", check=True).stdout)
    # A container no agent can hold: the held offers fit nothing waiting, so they are declined
    # at once with refuse_seconds=3, and the master offers them again 3 s later.
    bg = subprocess.Popen([DOCKER_CLI, "run", "-d", "--name", "huge", "--cpus", "64", "busybox"],
                          env={"DOCKER_HOST": manage.docker_host, "PATH": "/usr/local/bin:/usr/bin:/bin"},
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # The held offers are declined at once; the same resources come back and are declined
        # again only after refuse_seconds.
        declines = wait_for("a second round of DECLINE calls in the master log", lambda: second_round(real_mesos), timeout=40)
        assert declines[1] - declines[0] >= 2.9, declines
    finally:
        bg.kill()
        bg.wait()


def second_round(mesos):
    """(first DECLINE time, first DECLINE more than 0.5 s later) from the master log."""
    with open(mesos.log, errors="replace") as f:
        times = [parse_glog_time(line) for line in f if "Processing DECLINE call for offers" in line]
    later = [t for t in times if times and t > times[0] + 0.5]
    return (times[0], later[0]) if later else None


def parse_glog_time(line):
    hh, mm, ss = line.split()[1].split(":")
    return int(hh) * 3600 + int(mm) * 60 + float(ss)


def test_restarted_manager_resubscribes_with_its_framework_id_and_reconciles(real_mesos, manage, tmp_path, runtime):
    fw = wait_for("the framework", lambda: framework(real_mesos))
    docker(manage, "run", "-d", "--name", "survivor", "busybox", "true", timeout=120)
    manage.stop()
    again = start_daemon(tmp_path, ["manage", "--store", str(manage.store), "--log", "debug",
                                    f"127.0.0.1:{real_mesos.port}"], name="mesoswarm-2", runtime=runtime)
    try:
        again.wait_ready()
        fw2 = wait_for("the framework active again", lambda: (f := framework(real_mesos)) and f["active"] and f)
        assert fw2["id"] == fw["id"]
        assert docker(again, "inspect", "-f", "{{.State.Status}}", "survivor", check=True).stdout == "exited\n"
        log = open(real_mesos.log, errors="replace").read()
        subscribed = log.count("Subscribing framework 'mesoswarm'")
        assert subscribed == 2 and f"Giving framework {fw['id']} (mesoswarm) 1weeks to failover" in log, log[-2000:]
        wait_for("a reconciliation after the re-subscription",
                 lambda: open(real_mesos.log, errors="replace").read().count(
                     f"Performing implicit task state reconciliation for framework {fw['id']}") >= 2, timeout=30)
    finally:
        again.stop()


def test_a_call_with_a_stale_stream_id_is_rejected_and_recovered_from(real_mesos, manage):
    fw = wait_for("the framework", lambda: framework(real_mesos))
    # Another subscriber with our framework id takes the framework over: our stream gets
    # ERROR "Framework failed over", and our next call carries a stale stream id.
    body = json.dumps({"type": "SUBSCRIBE", "framework_id": {"value": fw["id"]},
                       "subscribe": {"framework_info": {"user": "root", "name": "mesoswarm", "id": {"value": fw["id"]},
                                                        "roles": ["*"], "failover_timeout": 604800, "checkpoint": True,
                                                        "capabilities": [{"type": "MULTI_ROLE"}, {"type": "PARTITION_AWARE"},
                                                                         {"type": "TASK_KILLING_STATE"}]}}}).encode()
    req = urllib.request.Request(f"{real_mesos.url}/api/v1/scheduler", data=body, method="POST",
                                 headers={"Content-Type": "application/json", "Accept": "application/json"})
    intruder = urllib.request.urlopen(req, timeout=10)
    assert intruder.status == 200
    intruder.close()  # and go away: the framework is now disconnected until mesoswarm comes back
    wait_for("mesoswarm to notice and re-subscribe",
             lambda: (f := framework(real_mesos)) and f["active"] and "Framework failed over" in manage.tail(400), timeout=60)
    docker(manage, "create", "--name", "after", "busybox", check=True)
    assert manage.connected()
