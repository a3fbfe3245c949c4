"""Child processes of a run: the embedded proxy, and the providers (all app providers in one).

The client under test then owns the test process: a garbage collection or a busy loop in the proxy
or a provider no longer stalls it. Every child is stopped on every exit path (the `ExitStack` that
started it closes, Ctrl-C included), and on Linux it also dies with its parent.
"""

from __future__ import annotations

import collections
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from typing import TypeVar

import requests

from stormproof.chaos.services import ServiceDeclaration

_START_TIMEOUT_S = 30.0
_STOP_TIMEOUT_S = 5.0
_PROXY_READY = re.compile(r"stormproof toxiproxy listening on (?P<url>http://\S+)")
_Found = TypeVar("_Found")  # what a readiness line says (a URL, the URLs of several apps)


class ProcessStartError(RuntimeError):
    """A child process did not start; the message carries what it printed."""


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    if sys.platform.startswith("linux"):
        import ctypes  # noqa: PLC0415

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class ChildProcess:
    """One child process, its last lines of output kept for error messages."""

    def __init__(
        self, name: str, argv: Sequence[str], *, env: dict[str, str] | None = None
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.tail: collections.deque[str] = collections.deque(maxlen=40)
        self._lines: collections.deque[str] = collections.deque()
        self._ready = threading.Condition()
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            self.argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            preexec_fn=_die_with_parent,  # noqa: PLW1509 - no threads of ours run in the child
        )
        threading.Thread(target=self._drain, name=f"{name}-output", daemon=True).start()

    def _drain(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._ready:
                self.tail.append(line.rstrip())
                self._lines.append(line.rstrip())
                self._ready.notify_all()
        with self._ready:
            self._ready.notify_all()

    def wait_for(self, parse: Callable[[str], _Found | None], timeout_s: float) -> _Found:
        """The first value `parse` finds in the output (e.g. the URL it listens on)."""
        deadline = time.monotonic() + timeout_s
        with self._ready:
            while True:
                while self._lines:
                    found = parse(self._lines.popleft())
                    if found is not None:
                        self._lines.clear()
                        return found
                if self.process.poll() is not None:
                    raise self.failed(f"exited with status {self.process.returncode}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise self.failed(f"did not start within {timeout_s:g} s")
                self._ready.wait(min(left, 0.2))

    def failed(self, why: str) -> ProcessStartError:
        """An error naming the process, why, and its last output."""
        said = "\n".join(f"    {line}" for line in self.tail) or "    (no output)"
        return ProcessStartError(f"{self.name} ({' '.join(self.argv)}) {why}; it said:\n{said}")

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it is still there after a few seconds."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=_STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=_STOP_TIMEOUT_S)
        if self.process.stdout is not None:
            self.process.stdout.close()


def _start(stack: ExitStack, name: str, argv: Sequence[str]) -> ChildProcess:
    child = ChildProcess(name, argv, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    stack.callback(child.stop)
    return child


def spawn_proxy(stack: ExitStack, seed: int | None) -> ChildProcess:
    """Start `stormproof proxy` on a free port; `proxy_url` waits for it to listen."""
    argv = [sys.executable, "-m", "stormproof.chaos.cli", "proxy", "--port", "0"]
    if seed is not None:
        argv += ["--seed", str(seed)]
    return _start(stack, "the embedded Toxiproxy", argv)


def proxy_url(child: ChildProcess) -> str:
    """The API URL of a proxy `spawn_proxy` started, once it listens."""
    return child.wait_for(_proxy_line, _START_TIMEOUT_S)


def _proxy_line(line: str) -> str | None:
    found = _PROXY_READY.search(line)
    return found.group("url") if found else None


def _urls_line(line: str) -> dict[str, str] | None:
    if not line.startswith("{"):
        return None
    try:
        urls = json.loads(line).get("urls")
    except (ValueError, AttributeError):
        return None
    return {str(name): str(url) for name, url in urls.items()} if isinstance(urls, dict) else None


def start_apps(stack: ExitStack, declarations: Sequence[ServiceDeclaration]) -> dict[str, str]:
    """Serve the declared app factories, all in one child process; returns each one's base URL."""
    apps = {d.name: {"app": d.app, "options": dict(d.options)} for d in declarations}
    argv = [sys.executable, "-m", "stormproof.chaos.services._serve", json.dumps(apps)]
    names = ", ".join(apps)
    child = _start(stack, f"the provider{'s' if len(apps) > 1 else ''} {names}", argv)
    return child.wait_for(_urls_line, _START_TIMEOUT_S)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_command(stack: ExitStack, declaration: ServiceDeclaration) -> str:
    """Run a declared provider command (`{host}`, `{port}` filled in); returns its base URL once
    its health path answers."""
    assert declaration.command is not None
    port = _free_port()
    argv = [part.format(host="127.0.0.1", port=port) for part in declaration.command]
    child = _start(stack, f"the {declaration.name} provider", argv)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + _START_TIMEOUT_S
    while True:
        try:
            requests.get(url + declaration.health_path, timeout=1.0)
            return url
        except requests.RequestException:
            pass
        if child.process.poll() is not None:
            raise child.failed(f"exited with status {child.process.returncode}")
        if time.monotonic() > deadline:
            raise child.failed(f"did not answer {url}{declaration.health_path} in time")
        time.sleep(0.1)
