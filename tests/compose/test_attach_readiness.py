"""Attach mode waits, with a bound, for Toxiproxy and the providers, or fails with a clear error."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from stormproof.chaos.runner import (
    DEFAULT_ATTACH_TIMEOUT_S,
    ChaosEnvironmentError,
    wait_until_attached,
)
from tests.compose._files import ENVIRONMENT_FILE
from tests.compose._standins import run_stormproof

SERVICES = ("users", "notifications", "payments")


class _SlowStarter(BaseHTTPRequestHandler):
    """Answers 503 to the first requests of each path, then 200: a service still starting."""

    failures_per_path = 2
    seen: dict[str, int]

    def do_GET(self) -> None:
        count = self.seen.get(self.path, 0) + 1
        self.seen[self.path] = count
        status = 503 if count <= self.failures_per_path else 200
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def _serve(failures_per_path: int) -> Iterator[tuple[int, dict[str, int]]]:
    seen: dict[str, int] = {}
    handler = type(
        "Handler", (_SlowStarter,), {"seen": seen, "failures_per_path": failures_per_path}
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server.server_address[1], seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def slow_starter() -> Iterator[tuple[int, dict[str, int]]]:
    with _serve(failures_per_path=2) as served:
        yield served


@pytest.fixture
def refusing_port() -> Iterator[int]:
    """A port bound but not listening: every connection is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def _environ(toxiproxy_port: int, provider_port: int) -> dict[str, str]:
    environ = {
        "TOXIPROXY_URL": f"http://127.0.0.1:{toxiproxy_port}",
        "STORMPROOF_PROVIDERS_HOST": "127.0.0.1",
    }
    for service in SERVICES:
        environ[f"STORMPROOF_{service.upper()}_PORT"] = str(provider_port)
    return environ


def test_waits_until_every_service_answers(slow_starter):
    port, seen = slow_starter
    wait_until_attached(ENVIRONMENT_FILE, timeout_s=10, environ=_environ(port, port))
    # Every service is asked until it answers 200, and not again afterwards. The providers share
    # one stand-in here, so its two 503s fall on the first two of them.
    assert seen == {"/version": 3, "/healthz": 2 + len(SERVICES)}


def test_names_every_service_that_did_not_answer_in_time(refusing_port):
    start = time.monotonic()
    with pytest.raises(ChaosEnvironmentError) as caught:
        wait_until_attached(
            ENVIRONMENT_FILE, timeout_s=0.5, environ=_environ(refusing_port, refusing_port)
        )
    assert time.monotonic() - start < 5
    message = str(caught.value)
    assert message.startswith("attached services not ready after 0.5 s: ")
    assert f"Toxiproxy at http://127.0.0.1:{refusing_port}/version: " in message
    for service in SERVICES:
        assert f"{service} provider at http://127.0.0.1:{refusing_port}/healthz: " in message
    assert message.count("Connection refused") == 1 + len(SERVICES)


def test_reports_the_status_of_a_service_that_answers_but_is_not_ready():
    with (
        _serve(failures_per_path=10**6) as (port, _),
        pytest.raises(ChaosEnvironmentError) as caught,
    ):
        wait_until_attached(ENVIRONMENT_FILE, timeout_s=0.3, environ=_environ(port, port))
    assert f"Toxiproxy at http://127.0.0.1:{port}/version: HTTP 503" in str(caught.value)


def test_the_wait_is_bounded_with_a_fake_clock(refusing_port):
    now = [0.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    with pytest.raises(ChaosEnvironmentError):
        wait_until_attached(
            ENVIRONMENT_FILE,
            timeout_s=5,
            environ=_environ(refusing_port, refusing_port),
            clock=lambda: now[0],
            sleep=sleep,
        )
    assert sum(sleeps) == pytest.approx(5)
    assert max(sleeps) <= 0.25
    assert len(sleeps) == 20


def test_a_bad_environment_file_is_reported_before_waiting(tmp_path):
    broken = tmp_path / "environment.yaml"
    broken.write_text("toxiproxy_url: ${NOT_SET_ANYWHERE}\nservices: {}\n")
    with pytest.raises(ChaosEnvironmentError, match="NOT_SET_ANYWHERE"):
        wait_until_attached(broken, timeout_s=60, environ={})


def test_stormproof_run_fails_once_with_the_reason_when_nothing_answers(
    refusing_port, tmp_path: Path
):
    start = time.monotonic()
    done = run_stormproof(
        ["run", "--environment", str(ENVIRONMENT_FILE), "--no-contracts", "--no-html"],
        {**_environ(refusing_port, refusing_port), "STORMPROOF_ATTACH_TIMEOUT": "1"},
        cwd=tmp_path,
        timeout_s=60,
    )
    assert time.monotonic() - start < 30  # the interpreter's start-up included
    assert done.returncode == 2, done.stdout + done.stderr
    assert "attached services not ready after 1 s: " in done.stderr
    assert f"Toxiproxy at http://127.0.0.1:{refusing_port}/version" in done.stderr
    assert "scenarios passed" not in done.stdout  # nothing ran


def test_the_cli_default_is_the_library_default():
    from stormproof.chaos._cli_run import run_command  # noqa: PLC0415

    assert run_command.__kwdefaults__["attach_timeout"] == DEFAULT_ATTACH_TIMEOUT_S
