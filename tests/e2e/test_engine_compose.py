"""docker-compose 1.29 (Debian's /usr/bin/docker-compose, on its own python3-docker) over
tcp:// against `mesoswarm dev --engine` and, as the baseline, against that dockerd directly."""
import os
import re
import shutil
import subprocess
import urllib.error
import urllib.request

import pytest

from conftest import docker, docker_env, wait_for

# Two services as a user writes them. mesoswarm places each container on a Mesos agent's own
# bridge network and has no user-defined networks (it answers POST /networks/create with a
# message saying to use `network_mode: bridge`), so the services say so; without it, compose
# first creates a "<project>_default" network (see test_compose_file_without_network_mode).
COMPOSE_FILE = """\
version: "2.4"
services:
  web:
    image: busybox
    command: httpd -f -p 80
    network_mode: bridge
    ports:
      - "80"
  worker:
    image: busybox
    command: sh -c 'trap "exit 0" TERM; while true; do echo tick; sleep 1; done'
    network_mode: bridge
"""

PLAIN_COMPOSE_FILE = COMPOSE_FILE.replace("    network_mode: bridge\n", "")


def compose_bin():
    path = shutil.which("docker-compose") or "/usr/bin/docker-compose"
    if not os.access(path, os.X_OK):
        pytest.fail("docker-compose is missing: ./scripts/test.sh installs Debian's docker-compose (1.29)")
    return path


class Compose:
    def __init__(self, target, project, directory, text=COMPOSE_FILE):
        self.target = target
        self.project = project
        self.dir = directory
        (directory / "docker-compose.yml").write_text(text)
        self.bin = compose_bin()

    def __call__(self, *args, check=True, timeout=120):
        env = docker_env(self.target)
        env.pop("COMPOSE_PROJECT_NAME", None)
        p = subprocess.run([self.bin, "--ansi", "never", "-p", self.project, *args], cwd=self.dir, env=env,
                           capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        if check and p.returncode != 0:
            pytest.fail(f"docker-compose {' '.join(args)} failed ({p.returncode}):\nstdout: {p.stdout}\n"
                        f"stderr: {p.stderr}\ndaemon log:\n{self.target.tail()}")
        return p

    def ps(self):
        """{container name: state column} from `docker-compose ps`."""
        rows = {}
        for line in self("ps").stdout.splitlines()[2:]:
            m = re.match(r"^(\S+)\s+.*?\s{2,}(Up|Exit \d+|Restarting|Paused)\b", line)
            if m:
                rows[m.group(1)] = m.group(2)
        return rows


def test_compose_up_ps_logs_scale_down(target, tmp_path):
    project = target.unique("mswc").replace("-", "")
    c = Compose(target, project, tmp_path)
    label = f"label=com.docker.compose.project={project}"
    try:
        up = c("up", "-d")
        assert f"Creating {project}_web_1" in up.stderr and f"Creating {project}_worker_1" in up.stderr, up.stderr
        assert c.ps() == {f"{project}_web_1": "Up", f"{project}_worker_1": "Up"}

        port = c("port", "web", "80").stdout.strip().rsplit(":", 1)[1]

        def http_status():
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
                    return r.status
            except urllib.error.HTTPError as e:
                return e.code  # busybox httpd with no index.html answers 404

        assert wait_for(f"web on 127.0.0.1:{port}", http_status) == 404

        logs = wait_for("the worker's ticks in docker-compose logs",
                        lambda: (lambda o: o if "tick" in o else None)(c("logs", "--no-color", "worker").stdout))
        assert re.search(rf"^worker_1\s+\| tick$", logs, re.M), logs

        c("up", "-d", "--scale", "worker=2")
        assert c.ps() == {f"{project}_web_1": "Up", f"{project}_worker_1": "Up", f"{project}_worker_2": "Up"}
        workers = docker(target, "ps", "--filter", label, "--filter", "label=com.docker.compose.service=worker",
                         "--format", "{{.Names}} {{.State}}", check=True).stdout.split("\n")
        assert sorted(filter(None, workers)) == [f"{project}_worker_1 running", f"{project}_worker_2 running"]

        down = c("down", "-t", "1")
        assert f"Removing {project}_worker_2" in down.stderr, down.stderr
        assert docker(target, "ps", "-a", "-q", "--filter", label, check=True).stdout == ""
        assert c.ps() == {}
    finally:
        c("down", "-t", "1", check=False)
        left = docker(target, "ps", "-aq", "--filter", label).stdout.split()
        if left:
            docker(target, "rm", "-f", *left)


def test_compose_file_without_network_mode(target, tmp_path):
    """A compose file that leaves the services on compose's default network: dockerd creates
    "<project>_default"; mesoswarm refuses the network with a message that says what to write
    instead, and `up` stops before it creates any container."""
    project = target.unique("mswn").replace("-", "")
    c = Compose(target, project, tmp_path, PLAIN_COMPOSE_FILE)
    label = f"label=com.docker.compose.project={project}"
    try:
        up = c("up", "-d", check=target.name == "dockerd")
        if target.name == "dockerd":
            assert c.ps() == {f"{project}_web_1": "Up", f"{project}_worker_1": "Up"}
            return
        assert up.returncode == 1, up
        assert f'Creating network "{project}_default" with the default driver' in up.stderr, up.stderr
        assert "network_mode: bridge" in up.stderr, up.stderr
        assert docker(target, "ps", "-a", "-q", "--filter", label, check=True).stdout == ""
    finally:
        c("down", "-t", "1", check=False)
        left = docker(target, "ps", "-aq", "--filter", label).stdout.split()
        if left:
            docker(target, "rm", "-f", *left)
