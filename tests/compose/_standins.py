"""Stand-ins for the compose services: `stormproof proxy` and `stormproof providers` as processes.

They are started the way the compose file starts Toxiproxy and the providers (the proxy loads a
config derived from compose/toxiproxy.json), but on free ports of 127.0.0.1; `attach_environ()` then
gives the variables that point compose/environment.yaml at them.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.compose._files import host_port, toxiproxy_config

# `stormproof ...` through the interpreter running the tests (no reliance on PATH).
STORMPROOF = [sys.executable, "-c", "from stormproof.chaos.cli import main; main()"]
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
_PORT_VARIABLE = {
    "users": "STORMPROOF_USERS",
    "notifications": "STORMPROOF_NOTIFICATIONS",
    "payments": "STORMPROOF_PAYMENTS",
}


@dataclass(frozen=True)
class StandIns:
    """The running stand-ins: the proxy's API and, per service, the proxy and provider ports."""

    toxiproxy_url: str
    proxy_ports: dict[str, int]
    provider_ports: dict[str, int]
    logs: Path

    def attach_environ(self) -> dict[str, str]:
        """The variables that make compose/environment.yaml describe these stand-ins."""
        environ = {
            "TOXIPROXY_URL": self.toxiproxy_url,
            "STORMPROOF_PROXY_HOST": "127.0.0.1",
            "STORMPROOF_PROXY_LISTEN_HOST": "127.0.0.1",
            "STORMPROOF_UPSTREAM_HOST": "127.0.0.1",
            "STORMPROOF_PROVIDERS_HOST": "127.0.0.1",
        }
        for service, prefix in _PORT_VARIABLE.items():
            environ[f"{prefix}_PROXY_PORT"] = str(self.proxy_ports[service])
            environ[f"{prefix}_PORT"] = str(self.provider_ports[service])
        return environ


def _child_environ() -> dict[str, str]:
    ours = ("STORMPROOF_", "TOXIPROXY")
    environ = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
    environ["PYTHONUNBUFFERED"] = "1"
    environ["PACT_DO_NOT_TRACK"] = "true"
    return environ


def _wait_for(path: Path, pattern: re.Pattern[str], process: subprocess.Popen[bytes]) -> str:
    """Poll a log file until `pattern` matches; the process must stay alive meanwhile."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        text = path.read_text(encoding="utf-8", errors="replace")
        if pattern.search(text):
            return text
        if process.poll() is not None:
            raise AssertionError(f"{process.args} exited with {process.returncode}:\n{text}")
        time.sleep(0.05)
    raise AssertionError(f"{process.args} did not start within {START_TIMEOUT_S} s:\n{text}")


@contextmanager
def _process(args: list[str], log: Path, cwd: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as sink:
        process = subprocess.Popen(
            args, stdout=sink, stderr=subprocess.STDOUT, cwd=cwd, env=_child_environ()
        )
        try:
            yield process
        finally:
            process.terminate()
            try:
                process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(STOP_TIMEOUT_S)


def _service_of(proxy_name: str, services: dict[str, str]) -> str:
    return next(service for service, name in services.items() if name == proxy_name)


def _proxies(url: str) -> dict[str, dict[str, object]]:
    with urllib.request.urlopen(f"{url}/proxies", timeout=5) as answer:
        proxies: dict[str, dict[str, object]] = json.load(answer)
    return proxies


@contextmanager
def start_standins(work: Path, proxy_names: dict[str, str]) -> Iterator[StandIns]:
    """Start the providers, then the proxy with compose's config rewritten for 127.0.0.1.

    Args:
        work: A folder for the derived config and the processes' logs.
        proxy_names: Proxy name per service, as the environment file names them.
    """
    work.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        providers_log = work / "providers.log"
        providers = stack.enter_context(
            _process(
                [*STORMPROOF, "providers", "--test-mode", "--port-base", "0", "--quiet"],
                providers_log,
                work,
            )
        )
        text = _wait_for(providers_log, re.compile(r"Press Ctrl-C to stop"), providers)
        provider_ports = {
            service: int(match.group(1))
            for service in _PORT_VARIABLE
            if (match := re.search(rf"^{service}\s+http://127\.0\.0\.1:(\d+)", text, re.M))
        }
        assert set(provider_ports) == set(_PORT_VARIABLE), text

        # The same proxies as compose/toxiproxy.json, rebased on 127.0.0.1: free listen ports
        # (read back below), upstreams on the providers' ports.
        derived = []
        for proxy in toxiproxy_config():
            service = _service_of(proxy["name"], proxy_names)
            _, compose_port = host_port(proxy["upstream"])
            assert compose_port > 0
            derived.append(
                {
                    **proxy,
                    "listen": "127.0.0.1:0",
                    "upstream": f"127.0.0.1:{provider_ports[service]}",
                }
            )
        config = work / "toxiproxy.json"
        config.write_text(json.dumps(derived, indent=2), encoding="utf-8")

        proxy_log = work / "toxiproxy.log"
        proxy = stack.enter_context(
            _process(
                [
                    *STORMPROOF,
                    "proxy",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    "0",
                    "--config",
                    f"{config}",
                ],
                proxy_log,
                work,
            )
        )
        text = _wait_for(proxy_log, re.compile(r"listening on (http://127\.0\.0\.1:\d+)"), proxy)
        url_match = re.search(r"listening on (http://127\.0\.0\.1:\d+)", text)
        assert url_match is not None
        url = url_match.group(1)
        proxy_ports = {
            _service_of(name, proxy_names): host_port(str(found["listen"]))[1]
            for name, found in _proxies(url).items()
        }
        assert set(proxy_ports) == set(_PORT_VARIABLE)
        yield StandIns(url, proxy_ports, provider_ports, work)


def run_stormproof(
    args: list[str], environ: dict[str, str], cwd: Path, timeout_s: float
) -> subprocess.CompletedProcess[str]:
    """Run `stormproof ARGS` as a process, with `environ` added to a clean environment."""
    child = _child_environ()
    child.update(environ)
    child["COLUMNS"] = "220"  # the scorecard shows whole scenario names
    return subprocess.run(
        [*STORMPROOF, *args],
        cwd=cwd,
        env=child,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )


__all__ = ["StandIns", "run_stormproof", "start_standins"]
