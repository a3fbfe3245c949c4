from __future__ import annotations

from dataclasses import replace

import pytest
import responses

from stormproof.clients import (
    BreakerPolicy,
    ClientEvent,
    NotificationServiceClient,
    PaymentServiceClient,
    ResiliencePolicy,
    RetryPolicy,
    UserServiceClient,
)
from stormproof.clients.testing import FakeClock, instant_runtime

BASE = "http://svc.test"
TS = "2026-11-29T07:46:08Z"
USER = {"id": "u1", "email": "ada@example.com", "name": "Ada", "created_at": TS, "updated_at": TS}
NOTIFICATION = {
    "id": "n1",
    "channel": "email",
    "recipient": "ada@example.com",
    "status": "queued",
    "created_at": TS,
    "updated_at": TS,
}
PAYMENT = {
    "id": "p1",
    "amount": 1250,
    "currency": "EUR",
    "user_id": "u1",
    "status": "captured",
    "refunded_amount": 0,
    "created_at": TS,
}
REFUND = {"id": "r1", "payment_id": "p1", "amount": 250, "status": "succeeded", "created_at": TS}
CARD_TOKEN = "tok_visa_4242424242424242"
BEARER = "s3cr3t-bearer-token-value"
PAY_ARGS = {"amount": 1250, "currency": "EUR", "user_id": "u1", "payment_method_token": CARD_TOKEN}


def error_body(kind: str, message: str = "nope") -> dict[str, object]:
    return {"error": {"type": kind, "message": message}}


# Retries on, breaker effectively off: most tests look at one thing at a time.
POLICY = ResiliencePolicy(
    connect_timeout_s=1.0,
    read_timeout_s=2.0,
    deadline_s=10.0,
    retry=RetryPolicy(max_attempts=3, initial_backoff_s=0.1, max_backoff_s=1.0),
    breaker=BreakerPolicy(failure_threshold=1000),
)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def events() -> list[ClientEvent]:
    return []


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def users(clock, events):
    with UserServiceClient(
        BASE, policy=POLICY, runtime=instant_runtime(1, clock), on_event=events.append
    ) as client:
        yield client


@pytest.fixture
def notifications(clock, events):
    with NotificationServiceClient(
        BASE, policy=POLICY, runtime=instant_runtime(1, clock), on_event=events.append
    ) as client:
        yield client


@pytest.fixture
def payments(clock, events):
    with PaymentServiceClient(
        BASE,
        policy=POLICY,
        runtime=instant_runtime(1, clock),
        on_event=events.append,
        token=BEARER,
    ) as client:
        yield client


def with_retry(policy: ResiliencePolicy = POLICY, **changes: object) -> ResiliencePolicy:
    return replace(policy, retry=replace(policy.retry, **changes))
