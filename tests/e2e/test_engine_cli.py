"""The docker CLI (28.x) against containers that really run: through `mesoswarm dev --engine`
(the simulated agents run each task as a container on a real dockerd) and, as the baseline,
against that dockerd directly. Each test is what a Docker user types and sees."""
import json
import os
import re
import shlex
import shutil
import subprocess
import urllib.error
import urllib.request

import pytest

from conftest import DOCKER_CLI, docker, docker_env, docker_popen, finish, wait_for

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z ")


def state(target, name):
    return json.loads(docker(target, "inspect", "-f", "{{json .State}}", name, check=True).stdout)


def run_d(target, name, *cmd, opts=()):
    p = docker(target, "run", "-d", "--name", name, *opts, "busybox", *cmd, check=True)
    return p.stdout.strip()


def test_run_rm_prints_the_output_and_exits_0(target):
    name = target.unique("rm")
    p = docker(target, "run", "--rm", "--name", name, "busybox", "echo", "hello")
    assert (p.returncode, p.stdout, p.stderr) == (0, "hello\n", ""), p
    assert docker(target, "ps", "-aq", "--filter", f"name=^{name}$", check=True).stdout == "", "--rm removed it"


def test_run_exits_with_the_containers_exit_code(target):
    name = target.unique("exit3")
    p = docker(target, "run", "--name", name, "busybox", "sh", "-c", "echo to-stderr >&2; exit 3")
    assert p.returncode == 3, p
    assert (p.stdout, p.stderr) == ("", "to-stderr\n")
    s = state(target, name)
    assert (s["Status"], s["ExitCode"]) == ("exited", 3)


def test_logs_follow_streams_while_running_and_ends_when_the_container_exits(target):
    name = target.unique("follow")
    run_d(target, name, "sh", "-c", "echo first; sleep 4; echo second")
    p, out, err = docker_popen(target, "logs", "-f", name)
    try:
        out.wait_line("the first line, streamed", lambda line: line == "first\n")
        assert state(target, name)["Running"], "the first line arrived while the container still runs"
        assert finish(p, 60, "docker logs -f") == 0, err.text()
    finally:
        if p.poll() is None:
            p.kill()
    out.join()
    assert out.text() == "first\nsecond\n"
    # dockerd reports the exit by the time the stream ends; mesoswarm learns it from Mesos' status
    # update, a moment later at most.
    wait_for("the container to be reported exited", lambda: state(target, name)["Status"] == "exited", timeout=30)


def test_logs_tail_timestamps_and_stderr(target):
    name, err_name = target.unique("logs"), target.unique("logs-err")
    run_d(target, name, "sh", "-c", "echo a; echo b; echo c")
    run_d(target, err_name, "sh", "-c", "echo out; echo oops >&2")
    wait_for("the containers to exit", lambda: state(target, name)["Status"] == state(target, err_name)["Status"] == "exited")
    p = docker(target, "logs", err_name, check=True)
    assert (p.stdout, p.stderr) == ("out\n", "oops\n"), "stdout and stderr stay apart"
    assert docker(target, "logs", name, check=True).stdout == "a\nb\nc\n"
    assert docker(target, "logs", "--tail", "1", name, check=True).stdout == "c\n"
    stamped = docker(target, "logs", "-t", name, check=True).stdout.splitlines()
    assert [TIMESTAMP.sub("", line) for line in stamped] == ["a", "b", "c"], stamped
    assert all(TIMESTAMP.match(line) for line in stamped), stamped


def test_exec_output_stdin_and_exit_code(target):
    name = target.unique("exec")
    run_d(target, name, "sleep", "1000")
    p = docker(target, "exec", name, "sh", "-c", "echo out; echo err >&2; exit 4")
    assert (p.returncode, p.stdout, p.stderr) == (4, "out\n", "err\n"), p
    p = docker(target, "exec", "-i", name, "cat", input="piped in\n")
    assert (p.returncode, p.stdout) == (0, "piped in\n"), p
    p = docker(target, "exec", name, "nosuchcommand")
    assert p.returncode == 126 or p.returncode == 127, p
    assert 'exec: "nosuchcommand": executable file not found in $PATH' in p.stdout + p.stderr, p


def test_top_lists_the_containers_processes(target):
    name = target.unique("top")
    run_d(target, name, "sleep", "1000")
    p = docker(target, "top", name, check=True)
    header, *rows = p.stdout.splitlines()
    assert header.split()[:3] == ["UID", "PID", "PPID"], p.stdout
    assert any(row.endswith("sleep 1000") for row in rows), p.stdout


def test_stats_no_stream_shows_the_containers_name_id_and_usage(target):
    name = target.unique("stats")
    cid = run_d(target, name, "sleep", "1000")
    p = docker(target, "stats", "--no-stream", "--format", "{{.ID}}|{{.Name}}|{{.PIDs}}|{{.MemUsage}}", name,
               check=True, timeout=60)
    short_id, shown_name, pids, mem = p.stdout.strip().split("|")
    assert (short_id, shown_name) == (cid[:12], name), "the user's container, not the engine's names for it"
    assert int(pids) >= 1, p.stdout
    assert not mem.startswith("0B"), p.stdout


def test_port_is_the_engines_published_port_and_answers(target):
    name = target.unique("port")
    run_d(target, name, "httpd", "-f", "-p", "80", opts=("-p", "80"))
    lines = docker(target, "port", name, "80", check=True).stdout.split()
    ports = {line.rsplit(":", 1)[1] for line in lines}
    assert len(ports) == 1, lines
    port = ports.pop()
    engine_side = target.engine_container(name)["NetworkSettings"]["Ports"]["80/tcp"]
    assert {b["HostPort"] for b in engine_side} == {port}, engine_side

    def http_status():
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code  # busybox httpd with no index.html: 404, an answer all the same

    assert wait_for(f"httpd on 127.0.0.1:{port}", http_status) == 404


def test_cp_both_ways_and_diff(target, tmp_path):
    name = target.unique("cp")
    cid = run_d(target, name, "sh", "-c", "echo made inside > /tmp/made.txt; sleep 1000")
    wait_for("the container's file", lambda: "A /tmp/made.txt" in docker(target, "diff", name, check=True).stdout)
    src = tmp_path / "in.txt"
    src.write_bytes(b"round trip \xe2\x9c\x93\nsecond line\n")
    docker(target, "cp", str(src), f"{name}:/tmp/in.txt", check=True)
    back = tmp_path / "back.txt"
    docker(target, "cp", f"{name}:/tmp/in.txt", str(back), check=True)
    assert back.read_bytes() == src.read_bytes()
    made = tmp_path / "made.txt"
    docker(target, "cp", f"{name}:/tmp/made.txt", str(made), check=True)
    assert made.read_text() == "made inside\n"
    changes = docker(target, "diff", name, check=True).stdout.splitlines()
    assert {"C /tmp", "A /tmp/made.txt", "A /tmp/in.txt"} <= set(changes), changes
    p = docker(target, "cp", f"{name}:/tmp/nosuch", str(tmp_path / "x"))
    assert p.returncode == 1, p
    # dockerd names the container as the user wrote it; naming it by its (full) id is fine too,
    # but never by an id or name the user has not seen (the engine's).
    assert p.stderr in (f"Error response from daemon: Could not find the file /tmp/nosuch in container {ref}\n"
                        for ref in (name, cid)), p


def test_export_is_a_tar_of_the_filesystem(target):
    name = target.unique("export")
    run_d(target, name, "sleep", "1000")
    docker_cmd = subprocess.Popen([DOCKER_CLI, "export", name], env=docker_env(target), stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
    tar = subprocess.run(["tar", "t"], stdin=docker_cmd.stdout, capture_output=True, text=True, timeout=120)
    docker_cmd.stdout.close()
    assert finish(docker_cmd, 60, "docker export") == 0, docker_cmd.stderr.read()
    assert tar.returncode == 0, tar.stderr
    entries = tar.stdout.split()
    assert "bin/busybox" in entries, entries[:20]
    assert "etc/passwd" in entries


def test_attach_to_a_running_container_sees_its_output_and_exit_code(target):
    name = target.unique("attach")
    run_d(target, name, "sh", "-c", "while [ ! -f /tmp/stop ]; do echo tick; sleep 0.3; done; echo bye; exit 7")
    # Detaching (ending the client) leaves the container running.
    p, out, err = docker_popen(target, "attach", "--no-stdin", "--sig-proxy=false", name)
    out.wait_line("live output through attach", lambda line: line == "tick\n")
    p.kill()  # CLI 28 ignores SIGINT/SIGTERM while attached with --sig-proxy=false: as a closed terminal
    finish(p, 30, "docker attach after SIGKILL")
    assert state(target, name)["Running"], "ending an attached client does not stop the container"
    # Attached until the container exits: the client ends with its exit code.
    p, out, err = docker_popen(target, "attach", "--no-stdin", "--sig-proxy=false", name)
    out.wait_line("live output through attach", lambda line: line == "tick\n")
    docker(target, "exec", name, "touch", "/tmp/stop", check=True)
    assert finish(p, 60, "docker attach") == 7, err.text()
    out.join()
    assert out.lines[-1] == "bye\n", out.lines[-3:]


def test_run_i_forwards_stdin_and_its_end(target):
    # `cat` ends only when it sees the end of its input: the client's half-close must reach it.
    p = docker(target, "run", "-i", "--rm", "busybox", "cat", input="hi\n", timeout=60)
    assert (p.returncode, p.stdout, p.stderr) == (0, "hi\n", ""), p
    big = "".join(f"line {i}\n" for i in range(20000))
    p = docker(target, "run", "-i", "--rm", "busybox", "wc", "-l", input=big, timeout=120)
    assert (p.returncode, p.stdout.strip()) == (0, "20000"), p


def test_start_a_of_a_created_container_prints_its_output(target):
    name = target.unique("starta")
    docker(target, "create", "--name", name, "busybox", "sh", "-c", "echo started; echo err >&2; exit 2", check=True)
    assert state(target, name)["Status"] == "created"
    p = docker(target, "start", "-a", name)
    assert (p.returncode, p.stdout, p.stderr) == (2, "started\n", "err\n"), p
    assert state(target, name)["ExitCode"] == 2


def test_run_it_in_a_terminal(target, tmp_path):
    tmux = shutil.which("tmux")
    if not tmux:
        pytest.fail("tmux is missing: ./scripts/test.sh installs it (apt-get install tmux)")
    name = target.unique("tty")
    sock = f"msw-{os.getpid()}-{name}"  # a tmux server of our own
    env = docker_env(target)
    cmd = shlex.join(["env", f"DOCKER_HOST={target.docker_host}", DOCKER_CLI, "run", "-it", "--rm", "--name", name,
                      "busybox", "sh"]) + "; echo EXIT=$?; sleep 600"

    def tm(*args):
        return subprocess.run([tmux, "-L", sock, *args], env=dict(env, TERM="xterm"), capture_output=True, text=True,
                              timeout=30)

    def screen():
        return tm("capture-pane", "-p", "-t", "it").stdout.splitlines()

    assert tm("new-session", "-d", "-s", "it", "-x", "100", "-y", "30", cmd).returncode == 0
    try:
        # busybox sh's prompt as root: "~ # " (capture-pane drops the trailing blank)
        wait_for("the shell's prompt", lambda: any(re.match(r"^[~/]\S* #$", line.rstrip()) for line in screen()),
                 timeout=60)
        tm("send-keys", "-t", "it", "echo $((6*7))", "Enter")
        wait_for("42 on the screen", lambda: "42" in [line.strip() for line in screen()], timeout=30)
        tty = json.loads(docker(target, "inspect", "-f", "{{json .Config.Tty}}", name, check=True).stdout)
        assert tty is True
        tm("send-keys", "-t", "it", "exit", "Enter")
        wait_for("the client to end with the shell", lambda: "EXIT=0" in screen(), timeout=60)
    finally:
        tm("kill-server")
