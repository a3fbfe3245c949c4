"""Circuit breaker: open → fast fail → half-open (bounded probes) → closed."""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest

from stormproof.clients import (
    BreakerEvent,
    BreakerPolicy,
    BreakerState,
    CallEvent,
    CircuitOpenError,
    NotFoundError,
    PaymentOutcomeUnknownError,
    PaymentServiceClient,
    ResponseValidationError,
    ServiceUnavailableError,
    UserServiceClient,
)
from stormproof.clients.testing import instant_runtime

from .conftest import BASE, PAY_ARGS, POLICY, USER, error_body

OPEN_AFTER_3 = replace(
    POLICY,
    retry=replace(POLICY.retry, max_attempts=1),
    breaker=BreakerPolicy(
        failure_threshold=3, reset_timeout_s=30.0, half_open_max_calls=1, success_threshold=2
    ),
)


@pytest.fixture
def client(clock, events):
    with UserServiceClient(
        BASE, policy=OPEN_AFTER_3, runtime=instant_runtime(0, clock), on_event=events.append
    ) as c:
        yield c


def fail(client, n):
    for _ in range(n):
        with pytest.raises(ServiceUnavailableError):
            client.get_user("u1")


def transitions(events):
    return [(e.old_state, e.new_state) for e in events if isinstance(e, BreakerEvent)]


def test_full_cycle_open_fast_fail_half_open_closed(client, rsps, clock, events, caplog):
    caplog.set_level(logging.INFO, logger="stormproof.clients")
    rsps.get(f"{BASE}/users/u1", status=503, json=error_body("unavailable"))
    fail(client, 3)
    assert client.breaker_state is BreakerState.OPEN
    assert len(rsps.calls) == 3

    with pytest.raises(CircuitOpenError) as caught:
        client.get_user("u1")
    assert caught.value.attempts == 0
    assert caught.value.retry_after == pytest.approx(30.0)
    assert len(rsps.calls) == 3  # fast fail: nothing sent
    call = events[-1]
    assert isinstance(call, CallEvent)
    assert (call.attempts, call.outcome, call.breaker_state) == (
        0,
        "CircuitOpenError",
        BreakerState.OPEN,
    )

    clock.advance(30.0)
    rsps.replace("GET", f"{BASE}/users/u1", json=USER)
    client.get_user("u1")  # first probe succeeds, one more needed
    assert client.breaker_state is BreakerState.HALF_OPEN
    client.get_user("u1")
    assert client.breaker_state is BreakerState.CLOSED
    assert transitions(events) == [
        (BreakerState.CLOSED, BreakerState.OPEN),
        (BreakerState.OPEN, BreakerState.HALF_OPEN),
        (BreakerState.HALF_OPEN, BreakerState.CLOSED),
    ]
    opened = next(e for e in events if isinstance(e, BreakerEvent))
    assert opened.service == "users"
    logged = [r for r in caplog.records if " -> " in r.getMessage()]
    assert [r.getMessage() for r in logged] == [
        "circuit breaker closed -> open",
        "circuit breaker open -> half_open",
        "circuit breaker half_open -> closed",
    ]
    assert logged[0].levelno == logging.WARNING
    assert logged[0].breaker_state == "open"


def test_failed_probe_reopens(client, rsps, clock, events):
    rsps.get(f"{BASE}/users/u1", status=503, json=error_body("unavailable"))
    fail(client, 3)
    clock.advance(31.0)
    fail(client, 1)
    assert client.breaker_state is BreakerState.OPEN
    with pytest.raises(CircuitOpenError) as caught:
        client.get_user("u1")
    assert caught.value.retry_after == pytest.approx(30.0)
    assert transitions(events)[-1] == (BreakerState.HALF_OPEN, BreakerState.OPEN)


def test_client_errors_and_bad_responses_do_not_count(client, rsps):
    rsps.get(f"{BASE}/users/u1", status=503, json=error_body("unavailable"))
    fail(client, 2)
    rsps.replace("GET", f"{BASE}/users/u1", status=404, json=error_body("not_found"))
    for _ in range(5):
        with pytest.raises(NotFoundError):
            client.get_user("u1")
    rsps.replace("GET", f"{BASE}/users/u1", body=b"<html/>", content_type="text/html")
    for _ in range(5):
        with pytest.raises(ResponseValidationError):
            client.get_user("u1")
    rsps.replace("GET", f"{BASE}/users/u1", status=503, json=error_body("unavailable"))
    fail(client, 2)  # the 404s reset the consecutive count: 2 more do not open it
    assert client.breaker_state is BreakerState.CLOSED
    fail(client, 1)
    assert client.breaker_state is BreakerState.OPEN


def test_half_open_admits_a_bounded_number_of_probes(rsps, clock):
    policy = replace(OPEN_AFTER_3, breaker=replace(OPEN_AFTER_3.breaker, half_open_max_calls=2))
    client = UserServiceClient(BASE, policy=policy, runtime=instant_runtime(0, clock))
    rsps.get(f"{BASE}/users/u1", status=503, json=error_body("unavailable"))
    fail(client, 3)
    clock.advance(30.0)

    release = threading.Event()
    arrived = threading.Semaphore(0)

    def slow_ok(request):
        arrived.release()
        release.wait(10)
        return (
            200,
            {"Content-Type": "application/json"},
            '{"id":"u1","email":"a@b.co",'
            '"name":"A","created_at":"2026-11-29T07:46:08Z","updated_at":"2026-11-29T07:46:08Z"}',
        )

    rsps.replace("GET", f"{BASE}/users/u1", status=200)
    rsps.remove("GET", f"{BASE}/users/u1")
    rsps.add_callback("GET", f"{BASE}/users/u1", callback=slow_ok)

    def call():
        try:
            client.get_user("u1")
        except CircuitOpenError as error:
            return error
        return "ok"

    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(call) for _ in range(8)]
        assert arrived.acquire(timeout=10)
        assert arrived.acquire(timeout=10)
        refused = [f.result(timeout=10) for f in futures if f.done()]
        deadline = time.monotonic() + 10
        while len(refused) < 6 and time.monotonic() < deadline:
            time.sleep(0.01)
            refused = [f.result() for f in futures if f.done()]
        assert len(refused) == 6
        assert all(isinstance(r, CircuitOpenError) for r in refused)
        assert all(r.retry_after == 0.0 for r in refused)
        release.set()
        results = [f.result(timeout=10) for f in futures]
    assert results.count("ok") == 2
    assert len(rsps.calls) == 3 + 2
    assert client.breaker_state is BreakerState.CLOSED


def test_breaker_opening_mid_call_stops_its_retries(rsps, clock):
    policy = replace(
        POLICY,
        retry=replace(POLICY.retry, max_attempts=5),
        breaker=BreakerPolicy(failure_threshold=2),
    )
    client = UserServiceClient(BASE, policy=policy, runtime=instant_runtime(0, clock))
    rsps.get(f"{BASE}/users/u1", status=503, json=error_body("unavailable"))
    with pytest.raises(CircuitOpenError) as caught:
        client.get_user("u1")
    assert caught.value.attempts == 2
    assert len(rsps.calls) == 2


def test_payment_cut_short_by_the_breaker_is_outcome_unknown(rsps, clock):
    policy = replace(
        POLICY,
        retry=replace(POLICY.retry, max_attempts=5),
        breaker=BreakerPolicy(failure_threshold=2),
    )
    client = PaymentServiceClient(BASE, policy=policy, runtime=instant_runtime(0, clock))
    rsps.post(f"{BASE}/payments", status=503, json=error_body("unavailable"))
    with pytest.raises(PaymentOutcomeUnknownError) as caught:
        client.create_payment(**PAY_ARGS, idempotency_key="k-7")
    assert isinstance(caught.value.cause, CircuitOpenError)
    assert caught.value.idempotency_key == "k-7"


def test_disabled_breaker_never_opens(rsps, clock):
    policy = replace(OPEN_AFTER_3, breaker=BreakerPolicy(enabled=False, failure_threshold=1))
    client = UserServiceClient(BASE, policy=policy, runtime=instant_runtime(0, clock))
    rsps.get(f"{BASE}/users/u1", status=503, json=error_body("unavailable"))
    fail(client, 5)
    assert client.breaker_state is BreakerState.CLOSED
    assert len(rsps.calls) == 5


def test_each_client_instance_has_its_own_breaker(rsps, clock):
    a = UserServiceClient(BASE, policy=OPEN_AFTER_3, runtime=instant_runtime(0, clock))
    b = UserServiceClient(BASE, policy=OPEN_AFTER_3, runtime=instant_runtime(0, clock))
    rsps.get(f"{BASE}/users/u1", status=503, json=error_body("unavailable"))
    fail(a, 3)
    assert a.breaker_state is BreakerState.OPEN
    assert b.breaker_state is BreakerState.CLOSED


def test_sixteen_threads_open_the_breaker_once_and_close_it_after_recovery(rsps, clock, events):
    policy = replace(
        OPEN_AFTER_3,
        breaker=BreakerPolicy(
            failure_threshold=5, reset_timeout_s=30.0, half_open_max_calls=2, success_threshold=3
        ),
    )
    client = UserServiceClient(
        BASE, policy=policy, runtime=instant_runtime(0, clock), on_event=events.append
    )
    up = threading.Event()
    body = (
        '{"id":"u1","email":"a@b.co","name":"A",'
        '"created_at":"2026-11-29T07:46:08Z","updated_at":"2026-11-29T07:46:08Z"}'
    )

    def answer(request):
        if up.is_set():
            return 200, {"Content-Type": "application/json"}, body
        return 503, {"Content-Type": "application/json"}, '{"error":{"type":"unavailable"}}'

    rsps.add_callback("GET", f"{BASE}/users/u1", callback=answer)

    def ten_calls(_):
        outcomes = []
        for _ in range(10):
            try:
                client.get_user("u1")
                outcomes.append("ok")
            except (ServiceUnavailableError, CircuitOpenError) as error:
                outcomes.append(type(error).__name__)
        return outcomes

    with ThreadPoolExecutor(16) as pool:
        down = [o for batch in pool.map(ten_calls, range(16)) for o in batch]
    assert client.breaker_state is BreakerState.OPEN
    # Only the calls admitted before it opened reached the service: at most the threshold
    # plus the other 15 threads' calls already in flight.
    assert down.count("ServiceUnavailableError") == len(rsps.calls) <= 5 + 15
    assert down.count("CircuitOpenError") == 160 - len(rsps.calls)

    up.set()
    clock.advance(30.0)
    with ThreadPoolExecutor(16) as pool:
        recovered = [o for batch in pool.map(ten_calls, range(16)) for o in batch]
    assert client.breaker_state is BreakerState.CLOSED
    assert set(recovered) <= {"ok", "CircuitOpenError"}
    assert recovered.count("ok") >= 3  # the success threshold; refusals only while half-open
    assert client.get_user("u1").id == "u1"
    assert client._pipeline.breaker._probes == 0
    assert transitions(events) == [
        (BreakerState.CLOSED, BreakerState.OPEN),
        (BreakerState.OPEN, BreakerState.HALF_OPEN),
        (BreakerState.HALF_OPEN, BreakerState.CLOSED),
    ]
