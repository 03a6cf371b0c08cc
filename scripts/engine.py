#!/usr/bin/env python3
"""Keeps a Debian dockerd of our own up (tests/e2e/conftest.py's Engine: own data root,
socket, bridge and a busybox image) for the Rust tests that need a real engine. Prints
`MESOSWARM_TEST_DOCKER=unix://…` once it is ready, and tears everything down on SIGTERM or
SIGINT. scripts/test.sh starts and stops it."""
import os
import signal
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))
from conftest import Engine  # noqa: E402

signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
engine = Engine("cargo-tests")
try:
    print(f"MESOSWARM_TEST_DOCKER={engine.unix_host}", flush=True)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
finally:
    engine.stop()
