"""Retry rules, backoff bounds, Retry-After, idempotency keys: all on the instant test runtime."""

from __future__ import annotations

import email.utils
import time
from dataclasses import replace

import pytest
import requests
import urllib3.exceptions

from stormproof.clients import (
    AttemptEvent,
    CallEvent,
    ClientRequestError,
    ConflictError,
    NotFoundError,
    PaymentServiceClient,
    RateLimitedError,
    ReadTimeoutError,
    RequestValidationError,
    ServiceUnavailableError,
    UserServiceClient,
)
from stormproof.clients.testing import FakeClock, instant_runtime, use_instant_runtime

from .conftest import BASE, PAY_ARGS, PAYMENT, POLICY, REFUND, USER, error_body, with_retry


def unavailable(rsps, method, url, times, **headers):
    for _ in range(times):
        rsps.add(method, url, status=503, json=error_body("unavailable"), headers=headers)


def refused() -> requests.ConnectionError:
    reason = urllib3.exceptions.NewConnectionError(None, "refused")
    return requests.ConnectionError(urllib3.exceptions.MaxRetryError(None, "/", reason))


def test_idempotent_call_retries_until_success(users, rsps, events, clock):
    unavailable(rsps, "GET", f"{BASE}/users/u1", 2)
    rsps.get(f"{BASE}/users/u1", json=USER)
    assert users.get_user("u1").id == "u1"
    assert len(rsps.calls) == 3
    attempts = [e for e in events if isinstance(e, AttemptEvent)]
    assert [(e.attempt, e.outcome, e.status_code, e.will_retry) for e in attempts] == [
        (1, "ServiceUnavailableError", 503, True),
        (2, "ServiceUnavailableError", 503, True),
        (3, "ok", 200, False),
    ]
    assert [e.backoff_s for e in attempts] == pytest.approx([*clock.sleeps, None])
    assert attempts[1].started_at == pytest.approx(attempts[0].started_at + clock.sleeps[0])
    calls = [e for e in events if isinstance(e, CallEvent)]
    assert len(calls) == 1
    assert (calls[0].attempts, calls[0].outcome, calls[0].error) == (3, "ok", None)


def test_retries_stop_at_max_attempts(users, rsps, events):
    unavailable(rsps, "GET", f"{BASE}/users/u1", 5)
    with pytest.raises(ServiceUnavailableError) as caught:
        users.get_user("u1")
    assert caught.value.attempts == 3
    assert len(rsps.calls) == 3
    call = events[-1]
    assert isinstance(call, CallEvent)
    assert (call.attempts, call.outcome) == (3, "ServiceUnavailableError")
    assert "503" in (call.error or "")


def test_backoff_is_full_jitter_under_an_exponential_cap(rsps):
    policy = with_retry(max_attempts=8, initial_backoff_s=0.1, max_backoff_s=0.5, multiplier=2.0)
    runs = []
    for seed in (1, 1, 2):
        clock = FakeClock()
        client = UserServiceClient(BASE, policy=policy, runtime=instant_runtime(seed, clock))
        rsps.get(f"{BASE}/users/u1", status=500, json=error_body("internal"))
        with pytest.raises(Exception):  # noqa: B017, PT011 - the class is not the point here
            client.get_user("u1")
        assert len(clock.sleeps) == 7
        for attempt, slept in enumerate(clock.sleeps, start=1):
            assert 0 <= slept <= policy.retry.backoff_ceiling(attempt)
        runs.append(clock.sleeps)
    assert runs[0] == runs[1]  # same seed, same sleeps
    assert runs[0] != runs[2]
    assert max(runs[0] + runs[2]) > 0.25  # the cap is reached, not just the first ceiling


def test_retry_after_seconds_is_honoured(users, rsps, clock):
    rsps.get(
        f"{BASE}/users/u1",
        status=429,
        json=error_body("rate_limited"),
        headers={"Retry-After": "3"},
    )
    rsps.get(f"{BASE}/users/u1", json=USER)
    users.get_user("u1")
    assert clock.sleeps == [3.0]


def test_retry_after_http_date_is_honoured(users, rsps, clock):
    when = email.utils.formatdate(clock.wall() + 4, usegmt=True)
    unavailable(rsps, "GET", f"{BASE}/users/u1", 1, **{"Retry-After": when})
    rsps.get(f"{BASE}/users/u1", json=USER)
    users.get_user("u1")
    assert clock.sleeps == [pytest.approx(4.0, abs=1.0)]


def test_retry_after_above_the_policy_cap_ends_the_call_instead_of_retrying_early(rsps, clock):
    policy = with_retry(max_retry_after_s=1.5)
    client = UserServiceClient(BASE, policy=policy, runtime=instant_runtime(0, clock))
    rsps.get(
        f"{BASE}/users/u1",
        status=429,
        json=error_body("rate_limited"),
        headers={"Retry-After": "8"},
    )
    rsps.get(f"{BASE}/users/u1", json=USER)
    with pytest.raises(RateLimitedError) as caught:
        client.get_user("u1")
    assert caught.value.retry_after == 8.0
    assert clock.sleeps == []
    assert len(rsps.calls) == 1


def test_retry_after_up_to_the_cap_is_waited_in_full(rsps, clock):
    policy = with_retry(max_retry_after_s=1.5)
    client = UserServiceClient(BASE, policy=policy, runtime=instant_runtime(0, clock))
    rsps.get(
        f"{BASE}/users/u1",
        status=429,
        json=error_body("rate_limited"),
        headers={"Retry-After": "1"},
    )
    rsps.get(f"{BASE}/users/u1", json=USER)
    client.get_user("u1")
    assert clock.sleeps == [1.0]


def test_retry_after_beyond_the_deadline_fails_now_instead_of_sleeping(rsps, clock):
    policy = replace(POLICY, deadline_s=5.0, retry=replace(POLICY.retry, max_retry_after_s=60))
    client = UserServiceClient(BASE, policy=policy, runtime=instant_runtime(0, clock))
    rsps.get(
        f"{BASE}/users/u1",
        status=429,
        json=error_body("rate_limited"),
        headers={"Retry-After": "30"},
    )
    with pytest.raises(RateLimitedError) as caught:
        client.get_user("u1")
    assert caught.value.retry_after == 30.0
    assert clock.sleeps == []
    assert len(rsps.calls) == 1


def test_no_sleep_runs_past_the_deadline(rsps, clock):
    policy = replace(
        POLICY,
        deadline_s=1.0,
        retry=replace(POLICY.retry, max_attempts=50, initial_backoff_s=0.3, max_backoff_s=0.3),
    )
    client = UserServiceClient(BASE, policy=policy, runtime=instant_runtime(3, clock))
    rsps.get(f"{BASE}/users/u1", status=503, json=error_body("unavailable"))
    start = clock()
    with pytest.raises(ServiceUnavailableError) as caught:
        client.get_user("u1")
    assert clock() - start < 1.0
    assert sum(clock.sleeps) < 1.0
    assert 3 <= caught.value.attempts < 50


@pytest.mark.parametrize(
    "failure",
    [
        {"status": 503, "json": error_body("unavailable")},
        {"status": 500, "json": error_body("internal")},
        {"body": requests.ReadTimeout("read timed out")},
    ],
)
def test_non_idempotent_call_without_key_is_not_retried_after_sending(users, rsps, failure):
    rsps.post(f"{BASE}/users", **failure)
    rsps.post(f"{BASE}/users", json=USER, status=201)
    with pytest.raises((ServiceUnavailableError, ReadTimeoutError, Exception)):
        users.create_user(email="ada@example.com", name="Ada")
    assert len(rsps.calls) == 1


def test_patch_is_not_retried_after_sending(users, rsps):
    unavailable(rsps, "PATCH", f"{BASE}/users/u1", 1)
    rsps.patch(f"{BASE}/users/u1", json=USER)
    with pytest.raises(ServiceUnavailableError):
        users.update_user("u1", name="x")
    assert len(rsps.calls) == 1


def test_failure_before_sending_is_retried_even_without_key(users, rsps):
    rsps.post(f"{BASE}/users", body=refused())
    rsps.post(f"{BASE}/users", json=USER, status=201)
    assert users.create_user(email="ada@example.com", name="Ada").id == "u1"
    assert len(rsps.calls) == 2


@pytest.mark.parametrize(
    ("status", "kind", "error"),
    [
        (404, "not_found", NotFoundError),
        (409, "conflict", ConflictError),
        (422, "validation_error", ClientRequestError),
    ],
)
def test_client_errors_are_never_retried(users, rsps, status, kind, error):
    rsps.get(f"{BASE}/users/u1", status=status, json=error_body(kind))
    with pytest.raises(error):
        users.get_user("u1")
    assert len(rsps.calls) == 1


def test_one_key_for_every_retry_of_a_payment_and_a_new_one_for_the_next(payments, rsps, events):
    unavailable(rsps, "POST", f"{BASE}/payments", 1)
    rsps.post(f"{BASE}/payments", body=requests.ReadTimeout("read timed out"))
    rsps.post(f"{BASE}/payments", json=PAYMENT, status=201)
    rsps.post(f"{BASE}/payments", json=PAYMENT, status=201)
    payments.create_payment(**PAY_ARGS)
    payments.create_payment(**PAY_ARGS)
    keys = [call.request.headers["Idempotency-Key"] for call in rsps.calls]
    assert len(keys) == 4
    assert keys[0] == keys[1] == keys[2]
    assert keys[3] != keys[0]
    request_ids = {call.request.headers["X-Request-Id"] for call in rsps.calls}
    assert len(request_ids) == 4
    attempt_keys = [e.idempotency_key for e in events if isinstance(e, AttemptEvent)]
    assert attempt_keys == keys


def test_refund_retries_with_one_key(payments, rsps):
    unavailable(rsps, "POST", f"{BASE}/payments/p1/refunds", 2)
    rsps.post(f"{BASE}/payments/p1/refunds", json=REFUND, status=201)
    payments.refund_payment("p1", amount=250, idempotency_key="refund-1")
    assert {c.request.headers["Idempotency-Key"] for c in rsps.calls} == {"refund-1"}
    assert len(rsps.calls) == 3


def test_notification_retries_with_its_key(notifications, rsps):
    rsps.post(f"{BASE}/notifications", body=requests.ReadTimeout("read timed out"))
    rsps.post(
        f"{BASE}/notifications",
        status=202,
        json={
            "id": "n1",
            "channel": "push",
            "recipient": "dev",
            "status": "queued",
            "created_at": "2026-11-29T07:46:08Z",
            "updated_at": "2026-11-29T07:46:08Z",
        },
    )
    notifications.send_notification(channel="push", recipient="dev", body="hi")
    keys = [c.request.headers["Idempotency-Key"] for c in rsps.calls]
    assert len(keys) == 2
    assert keys[0] == keys[1]


def test_in_flight_conflict_of_a_keyed_call_is_retried(payments, rsps):
    rsps.post(f"{BASE}/payments", status=409, json=error_body("idempotency_in_flight"))
    rsps.post(f"{BASE}/payments", json=PAYMENT, status=201)
    assert payments.create_payment(**PAY_ARGS).id == "p1"
    assert len(rsps.calls) == 2


def test_rate_limit_without_retry_after_uses_backoff(users, rsps, clock):
    rsps.get(f"{BASE}/users/u1", status=429, json=error_body("rate_limited"))
    rsps.get(f"{BASE}/users/u1", json=USER)
    users.get_user("u1")
    assert len(clock.sleeps) == 1
    assert 0 <= clock.sleeps[0] <= 0.1


def test_validation_failure_emits_one_call_event_with_zero_attempts(users, events, rsps):
    with pytest.raises(RequestValidationError):
        users.get_user("")
    assert events == [events[0]]
    assert isinstance(events[0], CallEvent)
    assert (events[0].attempts, events[0].outcome) == (0, "RequestValidationError")


def test_test_mode_switch_makes_retries_instant(rsps):
    unavailable(rsps, "GET", f"{BASE}/users/u1", 2)
    rsps.get(f"{BASE}/users/u1", json=USER)
    policy = replace(with_retry(initial_backoff_s=30.0, max_backoff_s=30.0), deadline_s=100.0)
    started = time.monotonic()
    with use_instant_runtime(seed=5) as runtime:
        client = UserServiceClient(BASE, policy=policy)
        client.get_user("u1")
    assert time.monotonic() - started < 5.0  # two backoffs of up to 30 s took no real time
    assert runtime.clock() > 1000.0
    with PaymentServiceClient(BASE) as outside:
        assert outside._pipeline.runtime is not runtime


def test_listener_errors_do_not_break_calls(users, rsps, caplog):
    def broken(event):
        raise RuntimeError("listener bug")

    users.add_listener(broken)
    rsps.get(f"{BASE}/users/u1", json=USER)
    assert users.get_user("u1").id == "u1"
    assert any("listener" in r.getMessage() for r in caplog.records)
    users.remove_listener(broken)
