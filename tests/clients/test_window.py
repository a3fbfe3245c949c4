"""Sliding-window breaker on the fake clock: failure rate, minimum calls, time span, slow calls."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from stormproof.clients import (
    BreakerPolicy,
    BreakerState,
    CircuitOpenError,
    ServiceUnavailableError,
    UserServiceClient,
)
from stormproof.clients._window import CountWindow, Tally, TimeBuckets, code
from stormproof.clients.testing import instant_runtime

from .conftest import BASE, POLICY, USER, error_body

ONE_ATTEMPT = replace(POLICY, retry=replace(POLICY.retry, max_attempts=1))


def client_with(clock, **breaker):
    policy = replace(ONE_ATTEMPT, breaker=BreakerPolicy(reset_timeout_s=30.0, **breaker))
    return UserServiceClient(BASE, policy=policy, runtime=instant_runtime(0, clock))


def call(client, rsps, status, *, took=0.0, clock=None):
    def answer(request):
        if took:
            clock.advance(took)
        body = USER if status == 200 else error_body("unavailable")
        return status, {"Content-Type": "application/json"}, json.dumps(body)

    rsps.reset()
    rsps.add_callback("GET", f"{BASE}/users/u1", callback=answer)
    try:
        client.get_user("u1")
    except ServiceUnavailableError:
        return "fail"
    except CircuitOpenError:
        return "open"
    return "ok"


def test_the_default_window_is_consecutive_failures():
    assert BreakerPolicy().window == "consecutive"


@pytest.mark.parametrize(("failures", "state"), [(5, BreakerState.OPEN), (4, BreakerState.CLOSED)])
def test_count_window_opens_at_the_failure_rate(rsps, clock, failures, state):
    client = client_with(
        clock, window="count", window_size=10, minimum_calls=10, failure_rate_threshold=0.5
    )
    for _ in range(10 - failures):
        assert call(client, rsps, 200) == "ok"
    for _ in range(failures):
        call(client, rsps, 503)
    assert client.breaker_state is state
    if state is BreakerState.OPEN:
        assert call(client, rsps, 200) == "open"


def test_count_window_waits_for_the_minimum_number_of_calls(rsps, clock):
    client = client_with(
        clock, window="count", window_size=10, minimum_calls=6, failure_rate_threshold=0.5
    )
    for _ in range(5):
        call(client, rsps, 503)  # 100% failures, but only 5 calls
    assert client.breaker_state is BreakerState.CLOSED
    call(client, rsps, 503)
    assert client.breaker_state is BreakerState.OPEN


def test_count_window_forgets_the_oldest_calls(rsps, clock):
    client = client_with(
        clock, window="count", window_size=4, minimum_calls=4, failure_rate_threshold=0.75
    )
    for status in (503, 503, 200, 200, 200, 200):  # the two failures slide out
        call(client, rsps, status)
    call(client, rsps, 503)
    call(client, rsps, 503)  # window: ok ok fail fail = 50% < 75%
    assert client.breaker_state is BreakerState.CLOSED
    call(client, rsps, 503)  # ok fail fail fail = 75%
    assert client.breaker_state is BreakerState.OPEN


def test_time_window_drops_failures_older_than_its_span(rsps, clock):
    client = client_with(
        clock, window="time", window_s=10.0, minimum_calls=4, failure_rate_threshold=0.5
    )
    for _ in range(3):
        call(client, rsps, 503)
    clock.advance(11.0)  # those three are out of the window now
    call(client, rsps, 503)
    for _ in range(3):
        call(client, rsps, 200)
    assert client.breaker_state is BreakerState.CLOSED  # 1 failure in 4
    call(client, rsps, 503)
    call(client, rsps, 503)  # 3 failures in 6 = 50%
    assert client.breaker_state is BreakerState.OPEN


def test_time_window_within_its_span_counts_everything(rsps, clock):
    client = client_with(
        clock, window="time", window_s=10.0, minimum_calls=4, failure_rate_threshold=0.5
    )
    for _ in range(3):
        call(client, rsps, 503)
    clock.advance(5.0)
    call(client, rsps, 503)
    assert client.breaker_state is BreakerState.OPEN


@pytest.mark.parametrize(("took", "state"), [(1.5, BreakerState.OPEN), (0.5, BreakerState.CLOSED)])
def test_slow_successful_calls_open_the_breaker(rsps, clock, took, state):
    client = client_with(
        clock,
        window="count",
        window_size=10,
        minimum_calls=5,
        slow_call_duration_s=1.0,
        slow_call_rate_threshold=0.8,
    )
    call(client, rsps, 200)
    for _ in range(4):
        assert call(client, rsps, 200, took=took, clock=clock) == "ok"
    assert client.breaker_state is state


def test_closing_after_probes_starts_an_empty_window(rsps, clock):
    client = client_with(
        clock,
        window="count",
        window_size=10,
        minimum_calls=2,
        failure_rate_threshold=0.5,
        success_threshold=1,
    )
    call(client, rsps, 503)
    call(client, rsps, 503)
    assert client.breaker_state is BreakerState.OPEN
    clock.advance(31.0)
    assert call(client, rsps, 200) == "ok"  # the probe closes it
    assert client.breaker_state is BreakerState.CLOSED
    call(client, rsps, 503)  # 1 call in a fresh window: under minimum_calls
    assert client.breaker_state is BreakerState.CLOSED


def test_count_window_keeps_running_totals():
    window = CountWindow(3)
    assert window.add(code(failed=True, slow=False)) == Tally(1, 1, 0)
    assert window.add(code(failed=False, slow=True)) == Tally(2, 1, 1)
    window.add(code(failed=False, slow=False))
    assert window.add(code(failed=False, slow=False)) == Tally(3, 0, 1)  # the failure slid out
    window.reset()
    assert window.add(code(failed=False, slow=False)) == Tally(1, 0, 0)


def test_time_buckets_sum_only_the_last_span():
    buckets = TimeBuckets(10.0, 2)
    buckets.add(100.0, (1, 0))
    buckets.add(105.0, (1, 1))
    assert buckets.sums(109.0) == [2, 1]
    assert buckets.sums(110.6) == [1, 1]  # the bucket of t=100 left the window
    assert buckets.sums(200.0) == [0, 0]


@pytest.mark.parametrize("window", ["count", "time"])
def test_a_success_that_fills_the_window_to_its_minimum_can_open_it(rsps, clock, window):
    client = client_with(clock, window=window, minimum_calls=4, failure_rate_threshold=0.5)
    for status in (503, 200, 503):
        call(client, rsps, status)
    assert client.breaker_state is BreakerState.CLOSED  # 3 calls: under the minimum
    call(client, rsps, 200)  # 2 failures in 4 = 50%
    assert client.breaker_state is BreakerState.OPEN
