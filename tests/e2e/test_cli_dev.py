"""The real docker CLI against `mesoswarm dev` (simulated Mesos cluster behind real HTTP)."""
import json
import re
import time

from conftest import docker, wait_for

HEX64 = re.compile(r"^[0-9a-f]{64}$")


def state(dev, name):
    return docker(dev, "inspect", "-f", "{{.State.Status}}", name, check=True).stdout.strip()


def test_info_shows_the_cluster_offers(dev):
    def info_with_offers():
        o = docker(dev, "info", check=True).stdout
        return o if re.search(r"Offers: [1-9]", o) else None

    out = wait_for("offers in docker info", info_with_offers)
    assert "Storage Driver: mesos" in out
    assert "Status: connected" in out
    assert re.search(r"^\s+└ cpus: 4$", out, re.M), out
    assert re.search(r"^\s+└ ports: 31000-32000$", out, re.M), out
    assert re.search(r"^ CPUs: 12$", out, re.M), out  # 3 agents x 4 cpus, all on offer


def test_run_detached_with_resources_ports_env_name_labels(dev):
    p = docker(dev, "run", "-d", "--name", "web", "-m", "256m", "--cpus", "0.5", "-p", "80",
               "-p", "31555:53/udp", "-e", "GREETING=hi", "--label", "team=infra", "busybox", "sleep", "1000",
               check=True)
    cid = p.stdout.strip()
    assert HEX64.match(cid), p.stdout
    assert state(dev, "web") == "running"
    fmt = "{{.Name}} {{.Config.Image}} {{.HostConfig.Memory}} {{.HostConfig.NanoCpus}} {{index .Config.Labels \"team\"}} {{json .Config.Env}}"
    assert docker(dev, "inspect", "-f", fmt, "web", check=True).stdout.strip() == \
        '/web busybox 268435456 500000000 infra ["GREETING=hi"]'
    ports = docker(dev, "port", "web", check=True).stdout if False else \
        docker(dev, "inspect", "-f", "{{json .NetworkSettings.Ports}}", "web", check=True).stdout
    bound = json.loads(ports)
    assert bound["53/udp"][0]["HostPort"] == "31555"
    assert 31000 <= int(bound["80/tcp"][0]["HostPort"]) <= 32000
    assert docker(dev, "inspect", "-f", "{{.Id}}", cid[:12], check=True).stdout.strip() == cid


def test_ps_all_filters_and_format(dev):
    docker(dev, "run", "-d", "--name", "ps-one", "--label", "app=a", "busybox", "sleep", "1000", check=True)
    docker(dev, "create", "--name", "ps-two", "--label", "app=b", "busybox", check=True)
    running = docker(dev, "ps", "--format", "{{.Names}} {{.Image}} {{.State}}", check=True).stdout.split("\n")
    assert "ps-one busybox running" in running
    assert not any(line.startswith("ps-two") for line in running), "ps without -a lists running containers only"
    all_ = docker(dev, "ps", "-a", "--format", "{{.Names}} {{.State}}", check=True).stdout.split("\n")
    assert "ps-two created" in all_
    assert docker(dev, "ps", "-a", "--filter", "label=app=b", "--format", "{{.Names}}", check=True).stdout == "ps-two\n"
    assert docker(dev, "ps", "-a", "--filter", "status=created", "--filter", "name=ps-", "--format", "{{.Names}}",
                  check=True).stdout == "ps-two\n"
    assert docker(dev, "ps", "-a", "-q", "--filter", "name=ps-one", check=True).stdout.strip() == \
        docker(dev, "inspect", "-f", "{{.Id}}", "ps-one", check=True).stdout.strip()[:12]


def test_stop_start_restart_kill_wait_rm(dev):
    docker(dev, "run", "-d", "--name", "life", "busybox", "sleep", "1000", check=True)
    assert docker(dev, "stop", "-t", "1", "life", check=True).stdout == "life\n"
    assert state(dev, "life") == "exited"
    assert docker(dev, "start", "life", check=True).stdout == "life\n"
    assert state(dev, "life") == "running"
    assert docker(dev, "restart", "-t", "1", "life", check=True).stdout == "life\n"
    assert state(dev, "life") == "running"
    assert docker(dev, "inspect", "-f", "{{.RestartCount}}", "life", check=True).stdout.strip() == "1"
    assert docker(dev, "kill", "life", check=True).stdout == "life\n"
    assert docker(dev, "wait", "life", check=True).stdout == "137\n"
    assert state(dev, "life") == "exited"
    assert docker(dev, "rm", "life", check=True).stdout == "life\n"
    p = docker(dev, "inspect", "life")
    assert p.returncode == 1
    assert p.stderr.strip() == "Error: No such object: life"


def test_rm_force_of_a_running_container(dev):
    docker(dev, "run", "-d", "--name", "doomed", "busybox", "sleep", "1000", check=True)
    p = docker(dev, "rm", "doomed")
    assert p.returncode == 1
    assert p.stderr.strip() == ('Error response from daemon: cannot remove container "/doomed": container is running: '
                                'stop the container before removing or force remove')
    assert docker(dev, "rm", "-f", "doomed", check=True).stdout == "doomed\n"
    assert docker(dev, "ps", "-a", "-q", "--filter", "name=doomed", check=True).stdout == ""


def test_name_conflict_and_unknown_container_errors(dev):
    cid = docker(dev, "create", "--name", "taken", "busybox", check=True).stdout.strip()
    p = docker(dev, "create", "--name", "taken", "busybox")
    assert p.returncode == 1
    assert p.stderr.strip() == (f'Error response from daemon: Conflict. The container name "/taken" is already in use '
                                f'by container "{cid}". You have to remove (or rename) that container to be able to reuse '
                                f'that name.')
    p = docker(dev, "stop", "nosuch")
    assert p.returncode == 1
    assert p.stderr.strip() == "Error response from daemon: No such container: nosuch"
    p = docker(dev, "create", "--name", "bad name", "busybox")
    assert p.returncode == 1
    assert "Invalid container name (bad name), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed" in p.stderr


def test_events_since_until(dev):
    start = int(time.time()) - 1
    docker(dev, "create", "--name", "ev", "busybox", check=True)
    docker(dev, "rm", "ev", check=True)
    until = int(time.time()) + 1
    p = docker(dev, "events", "--since", str(start), "--until", str(until), "--filter", "container=ev",
               "--format", "{{.Type}} {{.Action}} {{.Actor.Attributes.name}}", check=True, timeout=30)
    assert p.stdout.split("\n")[:2] == ["container create ev", "container destroy ev"], p.stdout


def test_output_of_simulated_containers_is_explained(dev):
    """Without --engine the agents are simulated: a foreground run starts the task (Mesos
    runs it) but there is no output to stream, and the client is told why."""
    p = docker(dev, "run", "--name", "fg", "busybox", "echo", "hi", timeout=60)
    assert p.returncode != 0, p
    assert "mesoswarm dev without --engine simulates its agents" in p.stderr, p.stderr
    assert "--engine unix:///var/run/docker.sock" in p.stderr, p.stderr
    assert state(dev, "fg") == "running", "the task itself was started through Mesos"
    logs = docker(dev, "logs", "fg")
    assert logs.returncode == 1 and "simulates its agents" in logs.stderr, logs