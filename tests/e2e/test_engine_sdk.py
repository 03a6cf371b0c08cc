"""The Docker SDK for Python (PyPI docker 7.1.0) against containers that really run: through
`mesoswarm dev --engine` and, as the baseline, against that dockerd directly."""
import io
import tarfile

import docker as docker_sdk
import pytest


@pytest.fixture
def client(target):
    c = docker_sdk.DockerClient(base_url=target.docker_host, timeout=60)  # version auto-detected
    yield c
    c.close()


def test_run_in_the_foreground_returns_the_output(target, client):
    name = target.unique("sdk-fg")
    out = client.containers.run("busybox", ["sh", "-c", "echo out; echo err >&2"], name=name)
    assert out == b"out\n", "run() returns the container's stdout"
    c = client.containers.get(name)
    assert (c.status, c.attrs["State"]["ExitCode"]) == ("exited", 0)
    assert client.containers.run("busybox", ["sh", "-c", "echo both; echo err >&2"], stderr=True, remove=True) \
        in (b"both\nerr\n", b"err\nboth\n")


def test_run_remove_leaves_nothing(target, client):
    name = target.unique("sdk-rm")
    assert client.containers.run("busybox", ["echo", "bye"], name=name, remove=True) == b"bye\n"
    assert client.containers.list(all=True, filters={"name": name}) == []


def test_run_of_a_failing_command_raises_container_error(target, client):
    name = target.unique("sdk-err")
    with pytest.raises(docker_sdk.errors.ContainerError) as e:
        client.containers.run("busybox", ["sh", "-c", "echo boom >&2; exit 3"], name=name)
    assert e.value.exit_status == 3
    assert e.value.stderr == b"boom\n"


def test_run_detached_logs_stream_and_wait(target, client):
    name = target.unique("sdk-d")
    c = client.containers.run("busybox", ["sh", "-c", "for i in 1 2 3; do echo tick $i; sleep 0.3; done; exit 9"],
                              name=name, detach=True)
    assert len(c.id) == 64 and c.name == name
    streamed = b"".join(c.logs(stream=True, follow=True))
    assert streamed == b"tick 1\ntick 2\ntick 3\n"
    assert c.wait(timeout=60) == {"Error": None, "StatusCode": 9}
    c.reload()
    assert c.status == "exited"


def test_exec_run_exit_code_output_and_demux(target, client):
    name = target.unique("sdk-exec")
    c = client.containers.run("busybox", ["sleep", "1000"], name=name, detach=True)
    r = c.exec_run(["sh", "-c", "echo in-exec; exit 5"])
    assert (r.exit_code, r.output) == (5, b"in-exec\n")
    r = c.exec_run(["sh", "-c", "echo out; echo err >&2"], demux=True)
    assert (r.exit_code, r.output) == (0, (b"out\n", b"err\n"))
    r = c.exec_run(["sh", "-c", "echo $GREETING; pwd"], environment={"GREETING": "hello"}, workdir="/tmp")
    assert (r.exit_code, r.output) == (0, b"hello\n/tmp\n")


def test_put_archive_and_get_archive_round_trip(target, client):
    name = target.unique("sdk-cp")
    c = client.containers.run("busybox", ["sleep", "1000"], name=name, detach=True)
    data = b"round trip\n" * 1000
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        info = tarfile.TarInfo("hello.txt")
        info.size = len(data)
        info.mode = 0o640
        t.addfile(info, io.BytesIO(data))
    assert c.put_archive("/tmp", buf.getvalue()) is True
    bits, stat = c.get_archive("/tmp/hello.txt")
    raw = b"".join(bits)
    assert (stat["name"], stat["size"], stat["mode"] & 0o777) == ("hello.txt", len(data), 0o640)
    with tarfile.open(fileobj=io.BytesIO(raw)) as t:
        assert t.extractfile("hello.txt").read() == data
    assert c.exec_run(["cat", "/tmp/hello.txt"]).output == data
    with pytest.raises(docker_sdk.errors.NotFound):
        c.get_archive("/tmp/nosuch")


def test_stop_wait_remove(target, client):
    name = target.unique("sdk-life")
    c = client.containers.run("busybox", ["sleep", "1000"], name=name, detach=True)
    c.stop(timeout=1)
    assert c.wait(timeout=60)["StatusCode"] == 137
    c.remove()
    with pytest.raises(docker_sdk.errors.NotFound):
        client.containers.get(name)
