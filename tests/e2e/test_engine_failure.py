"""An agent's Docker engine dies while a client streams from it through mesoswarm. This test
starts a dockerd and a mesoswarm of its own, so the other engine tests are not disturbed."""
import re

import pytest

from conftest import Engine, docker, docker_popen, finish, start_engine_dev


@pytest.fixture
def doomed_engine():
    e = Engine("doomed")
    try:
        yield e
    finally:
        e.stop()


def test_engine_dies_mid_stream_the_client_gets_an_error_and_mesoswarm_keeps_serving(doomed_engine, tmp_path,
                                                                                       runtime):
    dev = start_engine_dev(tmp_path, doomed_engine, name="mesoswarm-doomed", runtime=runtime)
    try:
        docker(dev, "run", "-d", "--name", "ticker", "busybox", "sh", "-c", "while true; do echo tick; sleep 0.3; done",
               check=True)
        p, out, err = docker_popen(dev, "logs", "-f", "ticker")
        try:
            out.wait_line("the ticks, streamed through mesoswarm", lambda line: line == "tick\n")
            # The engine crashes (SIGKILL: no goodbye, the stream just breaks off): a client that
            # follows the logs must learn the stream broke, not believe the container ended, and
            # must not hang.
            doomed_engine.kill()
            code = finish(p, 60, "docker logs -f after its engine died")
        finally:
            if p.poll() is None:
                p.kill()
        err.join()
        assert code != 0, f"docker logs -f ended with 0 as if the container had exited; stderr: {err.text()!r}"
        assert err.text().strip(), "the client says why it stopped"

        # mesoswarm itself keeps answering.
        ps = docker(dev, "ps", "-a", "--format", "{{.Names}}", timeout=30)
        assert ps.returncode == 0 and "ticker" in ps.stdout.split(), ps
        info = docker(dev, "info", "--format", "{{.Driver}}", timeout=30)
        assert (info.returncode, info.stdout.strip()) == (0, "mesos"), info
        assert docker(dev, "inspect", "-f", "{{.Name}}", "ticker", timeout=30).stdout.strip() == "/ticker"

        # Every agent runs its containers on that engine: a new container cannot start anywhere.
        # The user expects docker's usual failure for a container that cannot start (exit 125),
        # promptly, with a message saying the engine cannot be reached - not a hang and not a
        # container reported as running.
        run = docker(dev, "run", "-d", "--name", "after", "busybox", "sleep", "1000", timeout=120)
        assert run.returncode == 125, run
        assert run.stderr.startswith("docker: Error response from daemon: "), run.stderr
        assert re.search(r"(?i)docker (engine|daemon)|engine", run.stderr), run.stderr
        assert re.search(r"(?i)connect|reach|refused|not running|unavailable|down", run.stderr), run.stderr
        state = docker(dev, "inspect", "-f", "{{.State.Running}}", "after", timeout=30)
        assert state.returncode != 0 or state.stdout.strip() == "false", state
        assert docker(dev, "ps", timeout=30).returncode == 0
    finally:
        dev.stop()
