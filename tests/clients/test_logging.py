"""Structured logs with the documented fields; secrets never in logs, messages or reprs."""

from __future__ import annotations

import logging

import pytest
import requests

from stormproof.clients import LOGGER_NAME, PaymentOutcomeUnknownError, ServiceError
from stormproof.clients._redact import redact

from .conftest import BASE, BEARER, CARD_TOKEN, PAY_ARGS, PAYMENT, USER, error_body

FIELDS = (
    "service",
    "operation",
    "method",
    "path",
    "attempt",
    "status",
    "elapsed_ms",
    "breaker_state",
    "idempotency_key",
    "request_id",
)
# The CVV is checked with its label: a bare "987" also turns up in random request ids.
SECRETS = (BEARER, CARD_TOKEN, "4242424242424242", "4242 4242 4242 4242", "cvv=987")


def everything_in(record: logging.LogRecord) -> str:
    return " ".join([record.getMessage(), *(str(v) for v in record.__dict__.values())])


@pytest.fixture
def logs(caplog):
    caplog.set_level(logging.DEBUG, logger=LOGGER_NAME)
    return caplog


def test_attempt_and_call_records_carry_structured_fields(users, rsps, logs):
    rsps.get(f"{BASE}/users/u1", status=503, json=error_body("unavailable"))
    rsps.get(f"{BASE}/users/u1", json=USER)
    users.get_user("u1")
    records = [r for r in logs.records if r.name == LOGGER_NAME]
    assert [r.getMessage().split(";")[0] for r in records] == [
        "attempt 1 ServiceUnavailableError",
        "attempt 2 ok",
        "call ok",
    ]
    first = records[0]
    for name in FIELDS:
        assert hasattr(first, name), name
    assert (first.service, first.operation, first.method, first.path) == (
        "users",
        "get_user",
        "GET",
        "/users/u1",
    )
    assert (first.attempt, first.status, first.breaker_state) == (1, 503, "closed")
    assert first.request_id == rsps.calls[0].request.headers["X-Request-Id"]
    assert "retrying in" in first.getMessage()
    assert records[0].levelno == logging.INFO
    assert records[1].levelno == logging.DEBUG
    assert records[2].attempt == 2


def test_secrets_never_reach_logs_errors_or_reprs(payments, rsps, logs):
    echo = (
        f"token {CARD_TOKEN} declined; card 4242 4242 4242 4242 cvv=987; "
        f"Authorization: Bearer {BEARER}"
    )
    rsps.post(f"{BASE}/payments", status=503, json=error_body("unavailable", echo))
    rsps.post(f"{BASE}/payments", body=requests.ReadTimeout(f"read timed out {BEARER}"))
    rsps.post(f"{BASE}/payments", status=500, json=error_body("internal", echo))
    with pytest.raises(PaymentOutcomeUnknownError) as caught:
        payments.create_payment(**PAY_ARGS, idempotency_key="pay-1")
    error = caught.value
    texts = [str(error), repr(error), str(error.cause), repr(error.cause)]
    texts += [everything_in(r) for r in logs.records]
    for text in texts:
        for secret in SECRETS:
            assert secret not in text
    assert "[REDACTED]" in str(error.cause)
    assert any(r.idempotency_key == "pay-1" for r in logs.records if hasattr(r, "idempotency_key"))
    # the request itself carried the real values
    assert rsps.calls[0].request.headers["Authorization"] == f"Bearer {BEARER}"
    assert CARD_TOKEN in rsps.calls[0].request.body.decode()


def test_validation_errors_never_echo_the_token(payments, rsps, logs):
    with pytest.raises(ServiceError) as caught:
        payments.create_payment(**{**PAY_ARGS, "payment_method_token": "x" * 600})
    assert "xxxxxxxx" not in str(caught.value)
    assert "payment_method_token" in str(caught.value)
    assert all("xxxxxxxx" not in everything_in(r) for r in logs.records)


def test_success_logs_are_clean_too(payments, rsps, logs):
    rsps.post(f"{BASE}/payments", json=PAYMENT, status=201)
    payments.create_payment(**PAY_ARGS)
    assert logs.records
    for record in logs.records:
        for secret in SECRETS:
            assert secret not in everything_in(record)


def test_the_filter_scrubs_anything_logged_on_the_clients_logger(payments, logs):
    logging.getLogger(LOGGER_NAME).warning(
        "debug dump: %s", {"Authorization": f"Bearer {BEARER}", "cvv": "987"}
    )
    record = logs.records[-1]
    assert BEARER not in record.getMessage()
    assert "'987'" not in record.getMessage()
    assert "[REDACTED]" in record.getMessage()


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("Authorization: Bearer abc.def-ghi", "Authorization: [REDACTED]"),
        ("card 4111 1111 1111 1111 ok", "card [REDACTED] ok"),
        ("card 4111-1111-1111-1111", "card [REDACTED]"),
        ('{"payment_method_token": "tok_abc"}', '{"payment_method_token": "[REDACTED]"}'),
        (
            "request 12345678-1234-4234-9234-123456789012",
            "request 12345678-1234-4234-9234-123456789012",
        ),
        ("elapsed 1234.567 ms, status 503", "elapsed 1234.567 ms, status 503"),
    ],
)
def test_redact(text, kept):
    assert redact(text) == kept


def test_client_repr_has_no_token(payments):
    assert BEARER not in repr(payments)
    assert repr(payments) == f"PaymentServiceClient('{BASE}')"
