"""The Docker SDK for Python (PyPI `docker`) against `mesoswarm dev`."""
import docker as docker_sdk
import pytest


@pytest.fixture
def client(dev):
    c = docker_sdk.DockerClient(base_url=dev.docker_host, timeout=60)  # version auto-detected via GET /version
    yield c
    c.close()


def test_version_negotiation_and_info(client):
    assert client.version()["ApiVersion"] == "1.44"
    info = client.info()
    assert info["Driver"] == "mesos"
    assert ["Status", "connected"] in info["DriverStatus"]


def test_run_detached_list_inspect_stop_start_restart_kill_wait_remove(client):
    c = client.containers.run("busybox", ["sleep", "1000"], name="sdk-web", detach=True,
                              mem_limit="128m", nano_cpus=250_000_000, ports={"80/tcp": None},
                              environment={"A": "1"}, labels={"team": "sdk"})
    assert len(c.id) == 64
    c.reload()
    assert c.status == "running"
    assert c.attrs["HostConfig"]["Memory"] == 128 * 1024 * 1024
    assert c.attrs["Config"]["Labels"] == {"team": "sdk"}
    assert [x.name for x in client.containers.list(filters={"label": "team=sdk"})] == ["sdk-web"]
    c.stop(timeout=1)
    c.reload()
    assert c.status == "exited"
    c.start()
    c.reload()
    assert c.status == "running"
    c.restart(timeout=1)
    c.reload()
    assert c.status == "running" and c.attrs["RestartCount"] == 1
    c.kill()
    assert c.wait(timeout=30)["StatusCode"] == 137
    c.remove()
    with pytest.raises(docker_sdk.errors.NotFound) as e:
        client.containers.get("sdk-web")
    assert "No such container: sdk-web" in str(e.value)


def test_remove_force_and_conflicts(client):
    c = client.containers.run("busybox", ["sleep", "1000"], name="sdk-busy", detach=True)
    with pytest.raises(docker_sdk.errors.APIError) as e:
        c.remove()
    assert e.value.status_code == 409
    c.remove(force=True)
    assert client.containers.list(all=True, filters={"name": "sdk-busy"}) == []
    client.containers.create("busybox", name="sdk-dup")
    with pytest.raises(docker_sdk.errors.APIError) as e:
        client.containers.create("busybox", name="sdk-dup")
    assert e.value.status_code == 409
    assert 'The container name "/sdk-dup" is already in use' in str(e.value)


def test_low_level_api_filters_in_list_form(dev):
    low = docker_sdk.APIClient(base_url=dev.docker_host, version="auto", timeout=60)
    low.create_container("busybox", name="sdk-ll", labels={"com.docker.compose.project": "p"})
    rows = low.containers(all=True, filters={"label": ["com.docker.compose.project=p"]})
    assert [r["Names"] for r in rows] == [["/sdk-ll"]]
    low.close()
