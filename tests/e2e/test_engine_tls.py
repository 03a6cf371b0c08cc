"""An agent engine that requires TLS (dockerd --tlsverify, as on port 2376): mesoswarm checks
the engine's certificate against its CA and presents a client certificate, both for the dev
agent that runs the containers and for the proxy (logs, exec). A client certificate the
engine's CA did not sign is refused, and the user is told."""
import subprocess

import pytest

from conftest import Engine, docker, start_daemon


def openssl(*args, cwd):
    p = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        pytest.fail(f"openssl {' '.join(args)} failed: {p.stderr}")


def make_pki(d, prefix):
    """A CA, a server certificate for 127.0.0.1 and a client certificate, as `dockerd
    --tlsverify` docs describe them (the extensions say which side each is for)."""
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={prefix}-ca",
            "-keyout", f"{prefix}-ca-key.pem", "-out", f"{prefix}-ca.pem", cwd=d)
    for who, ext in (("server", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth"),
                     ("client", "extendedKeyUsage=clientAuth")):
        (d / f"{prefix}-{who}.ext").write_text(ext + "\n")
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={prefix}-{who}",
                "-keyout", f"{prefix}-{who}-key.pem", "-out", f"{prefix}-{who}.csr", cwd=d)
        openssl("x509", "-req", "-in", f"{prefix}-{who}.csr", "-CA", f"{prefix}-ca.pem",
                "-CAkey", f"{prefix}-ca-key.pem", "-CAcreateserial", "-days", "2",
                "-extfile", f"{prefix}-{who}.ext", "-out", f"{prefix}-{who}.pem", cwd=d)
    return {k: str(d / f"{prefix}-{k}.pem") for k in ("ca", "server", "server-key", "client", "client-key")}


@pytest.fixture(scope="module")
def tls_engine(tmp_path_factory):
    d = tmp_path_factory.mktemp("pki")
    good = make_pki(d, "good")
    rogue = make_pki(d, "rogue")
    e = Engine("tls", tls=(good["ca"], good["server"], good["server-key"]))
    try:
        yield e, good, rogue
    finally:
        e.stop()


def tls_dev(tmp_path, engine, pki, name, runtime):
    d = start_daemon(tmp_path, ["dev", "--agents", "1", "--engine", engine.docker_host,
                                "--engine-tls-ca", pki["ca"], "--engine-tls-cert", pki["client"],
                                "--engine-tls-key", pki["client-key"]], name=name, runtime=runtime)
    d.wait_ready()
    return d


def test_containers_run_and_stream_through_a_tls_engine(tls_engine, tmp_path, runtime):
    engine, good, _ = tls_engine
    d = tls_dev(tmp_path, engine, good, "tls-dev", runtime)
    try:
        p = docker(d, "run", "--rm", "busybox", "echo", "over tls", timeout=120)
        assert (p.returncode, p.stdout) == (0, "over tls\n"), p
        docker(d, "run", "-d", "--name", "tlsw", "busybox", "sleep", "1000", check=True, timeout=120)
        assert docker(d, "exec", "tlsw", "echo", "exec over tls", check=True).stdout == "exec over tls\n"
        docker(d, "rm", "-f", "tlsw", check=True, timeout=60)
    finally:
        d.stop()


def test_an_engine_that_does_not_trust_our_certificate_is_reported(tls_engine, tmp_path, runtime):
    engine, good, rogue = tls_engine
    # Our CA trusts the engine, but the engine's CA did not sign our client certificate.
    mixed = dict(good, client=rogue["client"], **{"client-key": rogue["client-key"]})
    d = tls_dev(tmp_path, engine, mixed, "tls-rogue", runtime)
    try:
        p = docker(d, "run", "--rm", "busybox", "echo", "never", timeout=120)
        assert p.returncode != 0, p
        assert "never" not in p.stdout
        assert "Failed to launch container" in p.stderr and "Docker engine" in p.stderr, p.stderr
    finally:
        d.stop()
