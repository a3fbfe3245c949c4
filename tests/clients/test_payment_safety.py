"""Once an attempt of a payment or refund was ambiguous, no later error may say nothing happened."""

from __future__ import annotations

import pytest

from stormproof.clients import (
    ClientRequestError,
    ConflictError,
    NotFoundError,
    PaymentOutcomeUnknownError,
    RateLimitedError,
)

from .conftest import BASE, PAY_ARGS, PAYMENT, REFUND, error_body

KEY = "pay-key-1"


@pytest.mark.parametrize(
    ("status", "kind", "cause"),
    [
        (400, "validation_error", ClientRequestError),  # a gateway rejecting the retry
        (403, "forbidden", ClientRequestError),
        (422, "validation_error", ClientRequestError),
        (404, "not_found", NotFoundError),
        (409, "conflict", ConflictError),
    ],
)
@pytest.mark.parametrize("first", [503, 500, 504])
def test_a_4xx_after_an_ambiguous_payment_attempt_is_outcome_unknown(
    payments, rsps, first, status, kind, cause
):
    rsps.post(f"{BASE}/payments", status=first, json=error_body("unavailable"))
    rsps.post(f"{BASE}/payments", status=status, json=error_body(kind))
    with pytest.raises(PaymentOutcomeUnknownError) as caught:
        payments.create_payment(**PAY_ARGS, idempotency_key=KEY)
    error = caught.value
    assert error.idempotency_key == KEY
    assert error.attempts == 2
    assert type(error.cause) is cause
    assert "Fix the request" not in str(error)
    assert KEY in str(error)


def test_a_4xx_after_an_ambiguous_refund_attempt_is_outcome_unknown(payments, rsps):
    rsps.post(f"{BASE}/payments/p1/refunds", status=503, json=error_body("unavailable"))
    rsps.post(f"{BASE}/payments/p1/refunds", status=400, json=error_body("bad_request"))
    with pytest.raises(PaymentOutcomeUnknownError) as caught:
        payments.refund_payment("p1", 250, idempotency_key=KEY)
    assert caught.value.idempotency_key == KEY


def test_a_rate_limit_after_an_ambiguous_attempt_is_outcome_unknown(payments, rsps):
    rsps.post(f"{BASE}/payments", status=503, json=error_body("unavailable"))
    rsps.post(f"{BASE}/payments", status=429, json=error_body("rate_limited"))
    rsps.post(f"{BASE}/payments", status=429, json=error_body("rate_limited"))
    with pytest.raises(PaymentOutcomeUnknownError) as caught:
        payments.create_payment(**PAY_ARGS, idempotency_key=KEY)
    assert isinstance(caught.value.cause, RateLimitedError)


def test_a_key_mismatch_is_a_definitive_answer_about_the_key(payments, rsps):
    rsps.post(f"{BASE}/payments", status=503, json=error_body("unavailable"))
    rsps.post(f"{BASE}/payments", status=422, json=error_body("idempotency_mismatch"))
    with pytest.raises(ClientRequestError) as caught:
        payments.create_payment(**PAY_ARGS, idempotency_key=KEY)
    assert not isinstance(caught.value, PaymentOutcomeUnknownError)
    assert caught.value.error_type == "idempotency_mismatch"


def test_a_replay_after_an_ambiguous_attempt_is_the_payment(payments, rsps):
    rsps.post(f"{BASE}/payments", status=503, json=error_body("unavailable"))
    rsps.post(f"{BASE}/payments", status=201, json=PAYMENT, headers={"Idempotent-Replayed": "true"})
    assert payments.create_payment(**PAY_ARGS, idempotency_key=KEY).id == PAYMENT["id"]


def test_a_4xx_on_the_first_attempt_is_the_services_refusal(payments, rsps):
    rsps.post(f"{BASE}/payments/p1/refunds", status=422, json=error_body("validation_error"))
    with pytest.raises(ClientRequestError) as caught:
        payments.refund_payment("p1", 250, idempotency_key=KEY)
    assert type(caught.value) is ClientRequestError
    assert caught.value.attempts == 1
    assert REFUND["payment_id"] == "p1"
