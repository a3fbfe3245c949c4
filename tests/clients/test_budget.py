"""Retry budget on the fake clock: refused retries are not made and say why."""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest

from stormproof.clients import (
    AttemptEvent,
    PaymentOutcomeUnknownError,
    PaymentServiceClient,
    RetryPolicy,
    ServiceUnavailableError,
    UserServiceClient,
)
from stormproof.clients._budget import RetryBudget
from stormproof.clients.testing import FakeClock, instant_runtime

from .conftest import BASE, PAY_ARGS, POLICY, error_body


def budget_policy(**budget):
    retry = replace(POLICY.retry, max_attempts=3, budget_enabled=True, **budget)
    return replace(POLICY, retry=retry)


def failing_calls(client, rsps, n):
    rsps.get(f"{BASE}/users/u1", status=503, json=error_body("unavailable"))
    attempts = []
    for _ in range(n):
        with pytest.raises(ServiceUnavailableError) as caught:
            client.get_user("u1")
        attempts.append(caught.value.attempts)
    return attempts


def test_the_budget_is_off_by_default():
    assert RetryPolicy().budget_enabled is False


def test_without_a_budget_every_call_retries(rsps, clock):
    client = UserServiceClient(BASE, policy=POLICY, runtime=instant_runtime(0, clock))
    assert failing_calls(client, rsps, 10) == [3] * 10


def test_retries_stay_within_the_ratio_of_calls(rsps, clock):
    client = UserServiceClient(
        BASE,
        policy=budget_policy(budget_ratio=0.5, budget_min_per_s=0.0, budget_window_s=60.0),
        runtime=instant_runtime(0, clock),
    )
    attempts = failing_calls(client, rsps, 10)
    retries = sum(a - 1 for a in attempts)
    assert retries == 5  # 50% of 10 calls (without a budget: 20)
    assert attempts[-1] == 1


def test_a_refused_retry_ends_with_the_attempts_own_error_and_says_why(rsps, clock, events, caplog):
    caplog.set_level(logging.INFO, logger="stormproof.clients")
    client = UserServiceClient(
        BASE,
        policy=budget_policy(budget_ratio=0.0, budget_min_per_s=0.0),
        runtime=instant_runtime(0, clock),
        on_event=events.append,
    )
    rsps.get(f"{BASE}/users/u1", status=503, json=error_body("unavailable"))
    with pytest.raises(ServiceUnavailableError, match="retry budget exhausted") as caught:
        client.get_user("u1")
    assert caught.value.attempts == 1
    assert clock.sleeps == []
    attempt = next(e for e in events if isinstance(e, AttemptEvent))
    assert (attempt.will_retry, attempt.not_retried) == (False, "retry budget exhausted")
    assert any("not retried: retry budget exhausted" in r.getMessage() for r in caplog.records)


def test_the_minimum_rate_allows_retries_and_refills_as_the_window_slides(rsps, clock):
    client = UserServiceClient(
        BASE,
        policy=budget_policy(budget_ratio=0.0, budget_min_per_s=0.2, budget_window_s=10.0),
        runtime=instant_runtime(0, clock),
    )
    # 0.2/s over 10 s: 2 retries per window; a failing call uses up to 2.
    assert failing_calls(client, rsps, 2) == [3, 1]
    clock.advance(11.0)
    assert failing_calls(client, rsps, 1) == [3]


def test_a_payment_refused_a_retry_after_an_ambiguous_attempt_is_outcome_unknown(rsps, clock):
    client = PaymentServiceClient(
        BASE,
        policy=budget_policy(budget_ratio=0.0, budget_min_per_s=0.0),
        runtime=instant_runtime(0, clock),
    )
    rsps.post(f"{BASE}/payments", status=503, json=error_body("unavailable"))
    with pytest.raises(PaymentOutcomeUnknownError, match="retry budget exhausted") as caught:
        client.create_payment(**PAY_ARGS, idempotency_key="k-1")
    assert caught.value.idempotency_key == "k-1"


def test_the_budget_counts_calls_and_retries_of_the_window():
    clock = FakeClock()
    budget = RetryBudget(
        RetryPolicy(budget_enabled=True, budget_ratio=0.2, budget_min_per_s=0.0), clock
    )
    for _ in range(10):
        budget.deposit()
    assert [budget.withdraw() for _ in range(3)] == [True, True, False]
    clock.advance(10.1)
    assert budget.withdraw() is False  # the calls left the window with the retries
