"""Bad input gets a clear Docker-style error and loses nothing."""
import json
import os
import socket
import subprocess
import urllib.error
import urllib.request

from conftest import BIN, docker, free_port, start_daemon, wait_for


def request(d, method, path, body=None, headers=None):
    host = d.docker_host.removeprefix("tcp://")
    req = urllib.request.Request(f"http://{host}{path}", data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def declare_oversized_body(d, path, size):
    """Sends only the headers of a request whose declared body is `size` bytes and reads the
    answer: the server answers 413 at once and closes without reading the body (as dockerd
    does), so a client still uploading would only see a broken pipe."""
    host, port = d.docker_host.removeprefix("tcp://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                  f"Content-Length: {size}\r\n\r\n".encode())
        data = b""
        while b"\r\n\r\n" not in data or len(data.split(b"\r\n\r\n", 1)[1]) < body_length(data):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    return int(head.split()[1]), body


def body_length(data):
    for line in data.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return int(line.split(b":", 1)[1])
    return 0


def test_malformed_json_oversized_body_and_bad_name(dev):
    status, headers, body = request(dev, "POST", "/v1.44/containers/create", b"{not json",
                                    {"Content-Type": "application/json"})
    assert status == 400
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body)["message"].startswith("invalid JSON")
    status, body = declare_oversized_body(dev, "/v1.44/containers/create", 2 << 20)
    assert status == 413
    assert "limit" in json.loads(body)["message"]
    status, _, body = request(dev, "POST", "/v1.44/containers/create?name=-bad", b'{"Image":"busybox"}',
                              {"Content-Type": "application/json"})
    assert status == 400
    assert json.loads(body)["message"].startswith("Invalid container name (-bad)")
    # Nothing was lost or half-created.
    assert docker(dev, "ps", "-a", "-q", check=True).stdout == ""
    docker(dev, "create", "--name", "fine", "busybox", check=True)


def test_unimplemented_routes_answer_like_dockerd(dev):
    status, headers, body = request(dev, "GET", "/v1.44/volumes")
    assert status == 404
    assert headers["Content-Type"] == "application/json"
    assert "page not found" in json.loads(body)["message"] and "/volumes" in json.loads(body)["message"]


def test_bad_cluster_opt_is_a_startup_error_naming_the_key(tmp_path, runtime):
    p = subprocess.run([BIN, "dev", "--runtime", runtime, "--host", f"tcp://127.0.0.1:{free_port()}", "--cluster-opt",
                        "mesos.offertimout=10m"], capture_output=True, text=True, timeout=30)
    assert p.returncode != 0
    assert 'unknown cluster option "mesos.offertimout" (did you mean mesos.offertimeout?)' in p.stderr, p.stderr
    p = subprocess.run([BIN, "manage", "--runtime", runtime, "--host", f"tcp://127.0.0.1:{free_port()}", "--cluster-opt",
                        "mesos.tasktimeout=soon", "127.0.0.1:1"], capture_output=True, text=True, timeout=30)
    assert p.returncode != 0
    assert 'mesos.tasktimeout="soon"' in p.stderr, p.stderr


def test_unreachable_master_retries_while_the_docker_api_answers(tmp_path, runtime):
    dead = free_port()  # nothing listens here
    d = start_daemon(tmp_path, ["manage", f"127.0.0.1:{dead}"], runtime=runtime)
    try:
        d.wait_ready(connected=False)
        out = docker(d, "info", check=True).stdout
        assert "Status: not connected" in out
        wait_for("two connection attempts in the log", lambda: d.tail(200).count(f"127.0.0.1:{dead}") >= 2, timeout=30)
        assert "retrying in" in d.tail(200)
        docker(d, "create", "--name", "offline", "busybox", check=True)
        assert docker(d, "inspect", "-f", "{{.State.Status}}", "offline", check=True).stdout == "created\n"
    finally:
        d.stop()
