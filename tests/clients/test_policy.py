"""Policies: immutable, production defaults, replace-friendly, readable from the environment."""

from __future__ import annotations

import dataclasses
from dataclasses import replace

import pytest

from stormproof.clients import (
    BreakerPolicy,
    FleetPolicy,
    ResiliencePolicy,
    RetryPolicy,
    UserServiceClient,
)


def test_production_defaults():
    policy = ResiliencePolicy()
    assert (policy.connect_timeout_s, policy.read_timeout_s, policy.deadline_s) == (2.0, 5.0, 10.0)
    assert policy.retry == RetryPolicy(max_attempts=3, initial_backoff_s=0.1, max_backoff_s=2.0)
    assert policy.breaker.failure_threshold == 5
    assert policy.breaker.half_open_max_calls == 1


def test_policies_are_frozen_and_replace_builds_variations():
    policy = ResiliencePolicy()
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.deadline_s = 1.0  # type: ignore[misc]
    faster = replace(policy, deadline_s=1.0, retry=replace(policy.retry, max_attempts=1))
    assert (faster.deadline_s, faster.retry.max_attempts) == (1.0, 1)
    assert policy.deadline_s == 10.0


@pytest.mark.parametrize(
    ("build", "fragment"),
    [
        (lambda: ResiliencePolicy(deadline_s=0), "deadline_s must be a finite number > 0"),
        (lambda: RetryPolicy(max_attempts=0), "max_attempts must be an integer >= 1"),
        (lambda: RetryPolicy(multiplier=0.5), "multiplier must be a number >= 1"),
        (lambda: BreakerPolicy(half_open_max_calls=0), "half_open_max_calls must be"),
    ],
)
def test_invalid_values_are_refused(build, fragment):
    with pytest.raises(ValueError, match=fragment):
        build()


def test_backoff_ceiling_grows_exponentially_up_to_the_cap():
    retry = RetryPolicy(initial_backoff_s=0.1, max_backoff_s=1.0, multiplier=2.0)
    assert [retry.backoff_ceiling(n) for n in range(1, 7)] == pytest.approx(
        [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]
    )
    assert retry.backoff_ceiling(10_000) == 1.0


def test_from_env_service_variable_beats_global_beats_base():
    environ = {
        "STORMPROOF_DEADLINE_S": "3.5",
        "STORMPROOF_PAYMENTS_DEADLINE_S": "7",
        "STORMPROOF_RETRY_MAX_ATTEMPTS": "5",
        "STORMPROOF_USERS_RETRY_MAX_ATTEMPTS": "9",
        "STORMPROOF_PAYMENTS_BREAKER_RESET_TIMEOUT_S": "1.5",
        "STORMPROOF_BREAKER_ENABLED": "false",
    }
    base = ResiliencePolicy(read_timeout_s=4.0)
    policy = ResiliencePolicy.from_env("payments", base=base, environ=environ)
    assert policy.deadline_s == 7.0
    assert policy.retry.max_attempts == 5
    assert policy.breaker.reset_timeout_s == 1.5
    assert policy.breaker.enabled is False
    assert policy.read_timeout_s == 4.0
    users = ResiliencePolicy.from_env("users", environ=environ)
    assert (users.deadline_s, users.retry.max_attempts) == (3.5, 9)


def test_from_env_without_variables_is_the_base():
    assert ResiliencePolicy.from_env("users", environ={}) == ResiliencePolicy()


@pytest.mark.parametrize(
    ("variable", "value", "fragment"),
    [
        ("STORMPROOF_PAYMENTS_DEADLINE_S", "soon", "must be a number, got 'soon'"),
        ("STORMPROOF_RETRY_MAX_ATTEMPTS", "2.5", "must be an integer, got '2.5'"),
        ("STORMPROOF_RETRY_MAX_ATTEMPTS", "0", "max_attempts must be an integer >= 1"),
        ("STORMPROOF_BREAKER_ENABLED", "maybe", "must be true or false"),
        ("STORMPROOF_CONNECT_TIMEOUT_S", "inf", "must be a finite number"),
        ("STORMPROOF_BREAKER_WINDOW", "sliding", "window must be 'consecutive' or 'count' or"),
        ("STORMPROOF_BREAKER_FAILURE_RATE_THRESHOLD", "50", "must be a fraction in (0, 1]"),
        ("STORMPROOF_RETRY_BUDGET_WINDOW_S", "0", "budget_window_s must be a finite number > 0"),
        ("STORMPROOF_FLEET_TIMEOUT_S", "-1", "timeout_s must be a finite number > 0"),
    ],
)
def test_from_env_bad_values_name_the_variable(variable, value, fragment):
    with pytest.raises(ValueError, match=variable) as caught:
        ResiliencePolicy.from_env("payments", environ={variable: value})
    assert fragment in str(caught.value)


def test_client_reads_the_environment_when_no_policy_is_given(monkeypatch):
    monkeypatch.setenv("STORMPROOF_USERS_DEADLINE_S", "1.25")
    with UserServiceClient("http://svc.test") as client:
        assert client.policy.deadline_s == 1.25


def test_a_bad_redis_url_is_refused_without_showing_it():
    with pytest.raises(ValueError, match="redis_url must be") as caught:
        ResiliencePolicy.from_env(
            "users", environ={"STORMPROOF_FLEET_REDIS_URL": "http://user:hunter2@redis:6379"}
        )
    assert "hunter2" not in str(caught.value)
    policy = FleetPolicy(redis_url="redis://user:hunter2@redis:6379/0")
    assert "hunter2" not in repr(policy)
