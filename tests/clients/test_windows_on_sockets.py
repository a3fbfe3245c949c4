"""End to end on real sockets: the failure-rate window, the slow-call rate and the retry budget.

Each case runs a client against a real HTTP server on 127.0.0.1 twice: with the feature, the
expectation holds; with the feature weakened (the policy a client had before), it does not.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest

from stormproof.clients import (
    BreakerPolicy,
    CircuitOpenError,
    ResiliencePolicy,
    RetryPolicy,
    ServiceError,
    UserServiceClient,
)

from ._server import LocalServer, json_answer
from .conftest import USER

DOWN = {"error": {"type": "unavailable", "message": "down"}}
BASE_POLICY = ResiliencePolicy(
    retry=RetryPolicy(max_attempts=1),
    breaker=BreakerPolicy(failure_threshold=5, reset_timeout_s=60.0),
)


def outcomes(client: UserServiceClient, calls: int) -> list[str]:
    seen = []
    for _ in range(calls):
        try:
            client.get_user("u1")
            seen.append("ok")
        except ServiceError as error:
            seen.append(type(error).__name__)
    return seen


@pytest.mark.parametrize("weakened", [False, True], ids=["failure-rate window", "weakened"])
def test_half_the_calls_failing_opens_a_failure_rate_window(weakened):
    lock = threading.Lock()
    count = [0]

    def every_other_fails(request, sock):
        with lock:
            count[0] += 1
            n = count[0]
        sock.sendall(json_answer(503, DOWN) if n % 2 else json_answer(200, USER))
        return True

    breaker = BreakerPolicy(
        reset_timeout_s=60.0,
        window="count",
        window_size=20,
        minimum_calls=10,
        failure_rate_threshold=0.5,
    )
    if weakened:  # today's breaker: five consecutive failures, which never happen here
        breaker = replace(BASE_POLICY.breaker)
    with (
        LocalServer(every_other_fails) as server,
        UserServiceClient(server.url, policy=replace(BASE_POLICY, breaker=breaker)) as client,
    ):
        seen = outcomes(client, 40)
        reached = len(server.stats.requests)
    protected = reached <= 10 and seen[-1] == CircuitOpenError.__name__
    assert protected is not weakened, (reached, seen)


@pytest.mark.parametrize("weakened", [False, True], ids=["slow-call rate", "weakened"])
def test_slow_answers_open_a_slow_call_window(weakened):
    def slow(request, sock):
        time.sleep(0.15)
        sock.sendall(json_answer(200, USER))
        return True

    breaker = BreakerPolicy(
        reset_timeout_s=60.0,
        window="count",
        window_size=10,
        minimum_calls=4,
        slow_call_duration_s=60.0 if weakened else 0.1,
        slow_call_rate_threshold=0.5,
    )
    with (
        LocalServer(slow) as server,
        UserServiceClient(server.url, policy=replace(BASE_POLICY, breaker=breaker)) as client,
    ):
        started = time.monotonic()
        seen = outcomes(client, 10)
        took = time.monotonic() - started
        reached = len(server.stats.requests)
    protected = reached == 4 and seen == ["ok"] * 4 + [CircuitOpenError.__name__] * 6
    assert protected is not weakened, (reached, seen, took)


@pytest.mark.parametrize("weakened", [False, True], ids=["retry budget", "weakened"])
def test_sixteen_threads_share_one_retry_budget(weakened):
    def down(request, sock):
        sock.sendall(json_answer(503, DOWN))
        return True

    retry = RetryPolicy(
        max_attempts=3,
        initial_backoff_s=0.0,
        budget_enabled=not weakened,
        budget_ratio=0.2,
        budget_min_per_s=0.0,
    )
    policy = ResiliencePolicy(pool_maxsize=16, retry=retry, breaker=BreakerPolicy(enabled=False))
    threads, per_thread = 16, 5
    with (
        LocalServer(down) as server,
        UserServiceClient(server.url, policy=policy) as client,
        ThreadPoolExecutor(threads) as pool,
    ):
        list(pool.map(lambda _: outcomes(client, per_thread), range(threads)))
        retries = len(server.stats.requests) - threads * per_thread
    # 20% of 80 calls; without a budget every call retries twice (160).
    within = retries <= 0.2 * threads * per_thread
    assert within is not weakened, retries
