"""A `stormproof proxy` started on its own, as a team runs a real Toxiproxy beside its tests."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import requests

STORMPROOF = [sys.executable, "-c", "from stormproof.chaos.cli import main; main()"]


def free_port() -> int:
    """A port of 127.0.0.1 that nothing listens on (now)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(url: str, timeout_s: float = 15.0) -> None:
    """Return once `url` answers at all; fail after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=0.5)
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not answer within {timeout_s} s")


@contextmanager
def separate_proxy() -> Iterator[str]:
    """A `stormproof proxy` in a process of its own, for the block; yields its API URL."""
    port = free_port()
    server = subprocess.Popen(
        [*STORMPROOF, "proxy", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for(f"{url}/version")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)
