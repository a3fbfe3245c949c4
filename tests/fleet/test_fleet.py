"""Four client processes against one provider that goes down, with and without fleet state.

With fleet state on Redis the breaker opens after the configured number of failures in total
and the retries of all processes stay within one budget; without it each process pays alone
(the figures show the difference). Redis killed or stalled mid-run never fails a call.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import replace
from pathlib import Path

import pytest

from stormproof.clients import (
    BreakerEvent,
    BreakerPolicy,
    BreakerState,
    CircuitOpenError,
    DeadlineExceededError,
    FleetPolicy,
    ResiliencePolicy,
    RetryPolicy,
    ServiceError,
    UserServiceClient,
)
from tests.clients._server import LocalServer, free_port, json_answer

from .conftest import RedisServer

WORKER = Path(__file__).with_name("_worker.py")
PROCESSES = 4
USER = {
    "id": "u1",
    "email": "ada@example.com",
    "name": "Ada",
    "created_at": "2026-11-29T07:46:08Z",
    "updated_at": "2026-11-29T07:46:08Z",
}
UNAVAILABLE_LOG = "fleet state on Redis unavailable"


class Provider:
    """A users provider on 127.0.0.1 that is up or down (503) as the test says."""

    def __init__(self) -> None:
        self.down = False
        self._server = LocalServer(self._answer)
        self.url = self._server.url

    def _answer(self, request, sock) -> bool:
        if self.down:
            sock.sendall(json_answer(503, {"error": {"type": "unavailable", "message": "down"}}))
        else:
            sock.sendall(json_answer(200, USER))
        return True

    @property
    def requests(self) -> int:
        return len(self._server.stats.requests)

    def close(self) -> None:
        self._server.close()


@pytest.fixture
def provider() -> Iterator[Provider]:
    server = Provider()
    yield server
    server.close()


class Fleet:
    """PROCESSES worker processes driven phase by phase."""

    def __init__(self, url: str, calls: int, phases: int, env: dict[str, str]) -> None:
        base = {k: v for k, v in os.environ.items() if not k.startswith("STORMPROOF_")}
        self.procs = [
            subprocess.Popen(
                [sys.executable, str(WORKER), url, str(calls), str(phases)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env={**base, **env},
            )
            for _ in range(PROCESSES)
        ]

    def _line(self, proc: subprocess.Popen[str]) -> str:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line, f"worker exited: {proc.stderr.read() if proc.stderr else ''}"
        return line.strip()

    def phase(self) -> list[dict[str, object]]:
        """Start every worker's next phase at once; return what each reported."""
        for proc in self.procs:
            assert self._line(proc) == "ready"
        for proc in self.procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        return [json.loads(self._line(proc)) for proc in self.procs]

    def finish(self) -> list[str]:
        """Wait for the workers to exit; return each one's log (stderr)."""
        logs = []
        for proc in self.procs:
            _, err = proc.communicate(timeout=30)
            assert proc.returncode == 0, err
            logs.append(err)
        return logs

    def kill(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=5)


@contextmanager
def fleet(url: str, calls: int, phases: int, env: dict[str, str]) -> Iterator[Fleet]:
    workers = Fleet(url, calls, phases, env)
    try:
        yield workers
    finally:
        workers.kill()


def env_for(redis: RedisServer | None, **settings: object) -> dict[str, str]:
    env = {f"STORMPROOF_{name.upper()}": str(value) for name, value in settings.items()}
    if redis is not None:
        env["STORMPROOF_FLEET_REDIS_URL"] = redis.url
        env["STORMPROOF_FLEET_TIMEOUT_S"] = "0.2"  # four processes share two busy CPUs
    return env


BREAKER_ENV = {
    "retry_max_attempts": 1,
    "breaker_failure_threshold": 8,
    "breaker_reset_timeout_s": 60,
}


@pytest.mark.parametrize("shared", [True, False], ids=["fleet", "per-process"])
def test_the_breaker_opens_after_the_configured_failures_in_total(redis_server, provider, shared):
    provider.down = True
    env = env_for(redis_server if shared else None, **BREAKER_ENV)
    with fleet(provider.url, 20, 1, env) as workers:
        reports = workers.phase()
        workers.finish()
    failures = provider.requests
    print(
        f"failed attempts that reached the provider ({'fleet' if shared else 'local'}): {failures}"
    )
    if shared:
        # 8 in total; each other process may have had one attempt in flight when it opened.
        assert 8 <= failures <= 8 + PROCESSES - 1
    else:
        assert failures == 8 * PROCESSES
    for report in reports:
        assert set(report["outcomes"]) <= {"ServiceUnavailableError", "CircuitOpenError"}
        assert report["outcomes"][-1] == "CircuitOpenError"


BUDGET_ENV = {
    "retry_max_attempts": 3,
    "retry_initial_backoff_s": 0,
    "retry_budget_enabled": "true",
    "retry_budget_ratio": 0,
    "retry_budget_min_per_s": 0.1,
    "retry_budget_window_s": 60,  # 6 retries per window, whatever the traffic
    "breaker_enabled": "false",
}


@pytest.mark.parametrize("shared", [True, False], ids=["fleet", "per-process"])
def test_total_retries_stay_within_one_budget(redis_server, provider, shared):
    provider.down = True
    env = env_for(redis_server if shared else None, **BUDGET_ENV)
    calls = 10
    with fleet(provider.url, calls, 1, env) as workers:
        workers.phase()
        logs = workers.finish()
    retries = provider.requests - PROCESSES * calls
    print(f"retries ({'fleet' if shared else 'local'}): {retries} (no budget: {2 * 4 * calls})")
    assert retries == (6 if shared else 6 * PROCESSES)
    assert all("retry budget exhausted" in log for log in logs)


def test_redis_killed_mid_run_falls_back_to_local_state_and_logs_once(redis_server, provider):
    env = env_for(
        redis_server, breaker_failure_threshold=5, breaker_reset_timeout_s=60, retry_max_attempts=1
    )
    with fleet(provider.url, 10, 2, env) as workers:
        up = workers.phase()
        redis_server.kill()
        provider.down = True
        down = workers.phase()
        logs = workers.finish()
    assert all(report["outcomes"] == ["ok"] * 10 for report in up)
    for report, log in zip(down, logs, strict=True):
        # The local breaker took over: five failures of this process, then it opened.
        assert report["outcomes"] == ["ServiceUnavailableError"] * 5 + ["CircuitOpenError"] * 5
        assert report["longest_s"] < 1.0
        assert log.count(UNAVAILABLE_LOG) == 1, log


def local_policy(redis_url: str, **fleet: object) -> ResiliencePolicy:
    return ResiliencePolicy(
        retry=RetryPolicy(max_attempts=1),
        breaker=BreakerPolicy(failure_threshold=3, window="count", minimum_calls=3),
        fleet=replace(FleetPolicy(redis_url=redis_url, timeout_s=0.05), **fleet),
    )


def test_a_stalled_redis_costs_at_most_its_timeout_once_per_recheck(redis_server, caplog):
    caplog.set_level("INFO", logger="stormproof.clients")
    with LocalServer(lambda r, s: s.sendall(json_answer(200, USER)) or True) as server:
        policy = local_policy(redis_server.url, recheck_s=0.5)
        with UserServiceClient(server.url, policy=policy) as client:
            client.get_user("u1")
            redis_server.proc.send_signal(signal.SIGSTOP)
            try:
                started = time.monotonic()
                for _ in range(5):
                    assert client.get_user("u1").id == "u1"
                took = time.monotonic() - started
                waited = client._pipeline.fleet.failures
            finally:
                redis_server.proc.send_signal(signal.SIGCONT)
            time.sleep(0.55)
            client.get_user("u1")
    assert waited == 1  # one command timed out; the next ones skipped Redis until recheck_s
    assert took < 1.0  # bounded by the 50 ms timeout, not redis-py's 5 s default
    messages = [r.getMessage() for r in caplog.records]
    assert sum(UNAVAILABLE_LOG in m for m in messages) == 1
    assert any("fleet state on Redis is back" in m for m in messages)


def test_an_unreachable_redis_never_fails_a_call(caplog):
    caplog.set_level("WARNING", logger="stormproof.clients")
    nobody = f"redis://127.0.0.1:{free_port()}/0"
    with LocalServer(lambda r, s: s.sendall(json_answer(200, USER)) or True) as server:
        policy = local_policy(nobody, recheck_s=0.05)
        with UserServiceClient(server.url, policy=policy) as client:
            for _ in range(5):
                assert client.get_user("u1").id == "u1"
                time.sleep(0.06)  # past recheck_s: every call tries Redis again
            tried = client._pipeline.fleet.failures
    assert tried >= 5  # Redis was tried (and failed) again and again...
    assert sum(UNAVAILABLE_LOG in r.getMessage() for r in caplog.records) == 1  # ...logged once


def test_clients_in_one_process_share_the_fleet_breaker(redis_server):
    lock = threading.Lock()
    seen = []

    def down(request, sock):
        with lock:
            seen.append(request.path)
        sock.sendall(json_answer(503, {"error": {"type": "unavailable", "message": "down"}}))
        return True

    with LocalServer(down) as server:
        policy = local_policy(redis_server.url)
        policy = replace(policy, breaker=BreakerPolicy(failure_threshold=3, reset_timeout_s=60))
        a = UserServiceClient(server.url, policy=policy)
        b = UserServiceClient(server.url, policy=policy)
        outcomes = []
        for client in (a, b, a, b, a, b):
            try:
                client.get_user("u1")
            except Exception as error:
                outcomes.append(type(error).__name__)
        a.close()
        b.close()
    assert outcomes == ["ServiceUnavailableError"] * 3 + ["CircuitOpenError"] * 3
    assert len(seen) == 3


def test_the_deadline_holds_when_a_stalled_redis_took_part_of_it(redis_server):
    def slow(request, sock):
        time.sleep(0.6)
        sock.sendall(json_answer(200, USER))
        return False

    policy = ResiliencePolicy(
        read_timeout_s=5.0,
        deadline_s=0.5,
        retry=RetryPolicy(max_attempts=1),
        fleet=FleetPolicy(redis_url=redis_server.url, timeout_s=0.2),
    )
    with LocalServer(slow) as server, UserServiceClient(server.url, policy=policy) as client:
        redis_server.proc.send_signal(signal.SIGSTOP)
        try:
            started = time.monotonic()
            with pytest.raises(DeadlineExceededError):
                client.get_user("u1")
            took = time.monotonic() - started
        finally:
            redis_server.proc.send_signal(signal.SIGCONT)
    assert 0.4 <= took <= 0.5 + 0.1, took  # not 0.2 s of Redis on top of the deadline


@pytest.mark.parametrize("window", ["count", "time"])
def test_a_failure_rate_window_counts_the_attempts_of_every_client(redis_server, window):
    calls = [0]

    def every_other_fails(request, sock):
        calls[0] += 1
        answer = json_answer(503, {"error": {"type": "unavailable", "message": "down"}})
        sock.sendall(answer if calls[0] % 2 else json_answer(200, USER))
        return True

    breaker = BreakerPolicy(
        reset_timeout_s=60, window=window, minimum_calls=6, failure_rate_threshold=0.5
    )
    with LocalServer(every_other_fails) as server:
        policy = replace(local_policy(redis_server.url), breaker=breaker)
        a = UserServiceClient(server.url, policy=policy)
        b = UserServiceClient(server.url, policy=policy)
        for client in (a, b, a, b, a):  # 5 attempts in the fleet's window, 3 failed
            with suppress(ServiceError):
                client.get_user("u1")
        assert a.breaker_state is b.breaker_state is BreakerState.CLOSED  # under 6 calls
        # The 6th succeeds, and brings the fleet's window to 3 failures in 6 (a alone has seen
        # 3 attempts, all failed; b 3 successes: neither window would open on its own).
        assert b.get_user("u1").id == "u1"
        assert b.breaker_state is BreakerState.OPEN
        with pytest.raises(CircuitOpenError):
            a.get_user("u1")
        a.close()
        b.close()
    assert calls[0] == 6


@pytest.mark.parametrize("recovered", [True, False], ids=["probe succeeds", "probe fails"])
def test_one_clients_trial_call_closes_or_reopens_the_fleets_breaker(redis_server, recovered):
    state = {"down": True, "seen": 0}

    def answer(request, sock):
        state["seen"] += 1
        down = json_answer(503, {"error": {"type": "unavailable", "message": "down"}})
        sock.sendall(down if state["down"] else json_answer(200, USER))
        return True

    breaker = BreakerPolicy(failure_threshold=2, reset_timeout_s=0.3, success_threshold=1)
    with LocalServer(answer) as server:
        policy = replace(local_policy(redis_server.url), breaker=breaker)
        a = UserServiceClient(server.url, policy=policy)
        b_events = []
        b = UserServiceClient(server.url, policy=policy, on_event=b_events.append)
        for client in (a, b):
            with suppress(ServiceError):
                client.get_user("u1")
        with pytest.raises(CircuitOpenError):
            b.get_user("u1")
        assert a.breaker_state is BreakerState.CLOSED  # a learns it from the fleet when it calls
        time.sleep(0.35)
        state["down"] = not recovered
        with suppress(ServiceError):
            a.get_user("u1")  # a's trial call
        if recovered:
            assert b.get_user("u1").id == "u1"
            # b followed the fleet: closed by a's trial call, without a trial call of its own.
            changes = [(e.old_state, e.new_state) for e in b_events if isinstance(e, BreakerEvent)]
            closed, opened = BreakerState.CLOSED, BreakerState.OPEN
            assert changes == [(closed, opened), (opened, closed)]
        else:
            with pytest.raises(CircuitOpenError):
                b.get_user("u1")  # reopened by a's failed trial: b sends nothing
        a.close()
        b.close()
    assert state["seen"] == (4 if recovered else 3)
