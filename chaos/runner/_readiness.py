"""Waiting, with a bound, until an attached environment answers: Toxiproxy and every provider.

`stormproof run --environment FILE` calls this once before the run, so services that are still
starting (a compose stack brought up without `--wait`) are waited for, and a wrong host or port
gives one error naming what did not answer instead of a harness error per scenario.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import requests

from stormproof.chaos.runner._environment import ChaosEnvironmentError, read_environment_file

DEFAULT_ATTACH_TIMEOUT_S = 30.0
_POLL_INTERVAL_S = 0.25
_PROBE_TIMEOUT_S = 2.0
_ERRNO = re.compile(r"\[Errno -?\d+\] [^'\")]+")


def _probe(session: requests.Session, url: str, timeout_s: float) -> str | None:
    """None when `url` answers 200; otherwise the problem in a few words."""
    try:
        answer = session.get(url, timeout=timeout_s)
    except requests.Timeout:
        return f"no answer within {timeout_s:g} s"
    except requests.ConnectionError as exc:
        found = _ERRNO.search(str(exc))
        return found.group(0).strip() if found else "cannot connect"
    except requests.RequestException as exc:
        return type(exc).__name__
    answer.close()
    return None if answer.status_code == 200 else f"HTTP {answer.status_code}"


def wait_until_attached(
    environment_file: str | Path,
    *,
    timeout_s: float = DEFAULT_ATTACH_TIMEOUT_S,
    environ: Mapping[str, str] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Wait until the Toxiproxy API (`/version`) and each provider (`/healthz`) answer 200.

    Args:
        environment_file: The environment file that describes the services.
        timeout_s: How long to keep trying.
        environ: Variables for the file's `${VAR}` expansion (default: the process environment).
        clock: Monotonic clock, injectable for tests.
        sleep: Sleep between rounds, injectable for tests.

    Raises:
        ChaosEnvironmentError: the file is invalid, or something still did not answer after
            `timeout_s`; the message names each one with its URL and the last problem seen.
    """
    toxiproxy_url, services = read_environment_file(environment_file, environ)
    pending = {"Toxiproxy": f"{toxiproxy_url.rstrip('/')}/version"}
    for name, endpoint in services.items():
        pending[f"{name} provider"] = f"{endpoint.provider_url.rstrip('/')}/healthz"
    problems: dict[str, str] = {}
    deadline = clock() + timeout_s
    with requests.Session() as session:
        session.trust_env = False  # a proxy from HTTP_PROXY must not stand between us and them
        while True:
            for label, url in list(pending.items()):
                remaining = max(deadline - clock(), 0.1)
                problem = _probe(session, url, min(_PROBE_TIMEOUT_S, remaining))
                if problem is None:
                    del pending[label]
                    problems.pop(label, None)
                else:
                    problems[label] = problem
            if not pending:
                return
            remaining = deadline - clock()
            if remaining <= 0:
                details = "; ".join(
                    f"{label} at {url}: {problems[label]}" for label, url in pending.items()
                )
                raise ChaosEnvironmentError(
                    f"attached services not ready after {timeout_s:g} s: {details}"
                )
            sleep(min(_POLL_INTERVAL_S, remaining))
