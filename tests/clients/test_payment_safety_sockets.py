"""Payment safety against the real payments provider: a charged attempt answered 503, then the
retry refused with a 4xx (a gateway rejecting it), ends in ``PaymentOutcomeUnknownError``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from stormproof import providers
from stormproof.clients import (
    BreakerPolicy,
    ClientRequestError,
    PaymentOutcomeUnknownError,
    PaymentServiceClient,
    ResiliencePolicy,
    RetryPolicy,
)

POLICY = ResiliencePolicy(
    retry=RetryPolicy(max_attempts=3, initial_backoff_s=0.01, max_backoff_s=0.02),
    breaker=BreakerPolicy(enabled=False),
)
ARGS = {"amount": 1250, "currency": "EUR", "user_id": "usr_1", "payment_method_token": "tok_visa"}


@pytest.fixture(scope="module")
def payments() -> Iterator[providers.ProviderServer]:
    with providers.serve("payments") as server:
        yield server


@pytest.fixture
def provider(payments) -> Iterator[str]:
    requests.post(f"{payments.url}/_test/reset", timeout=5).raise_for_status()
    yield payments.url
    requests.post(f"{payments.url}/_test/reset", timeout=5).raise_for_status()


def fault(url: str, **rule: object) -> None:
    requests.post(f"{url}/_test/faults", json=rule, timeout=5).raise_for_status()


def ledger(url: str) -> dict[str, dict[str, int]]:
    response = requests.get(f"{url}/_test/ledger", timeout=5)
    response.raise_for_status()
    return dict(response.json()["by_key"])


@pytest.mark.parametrize("refusal", [400, 403, 422])
def test_a_charged_payment_whose_retry_is_refused_is_outcome_unknown(provider, refusal):
    fault(provider, mode="status", status=503, apply="after", path="/payments", count=1)
    fault(provider, mode="status", status=refusal, apply="before", path="/payments", count=1)
    with PaymentServiceClient(provider, policy=POLICY) as client:
        with pytest.raises(PaymentOutcomeUnknownError) as caught:
            client.create_payment(**ARGS, idempotency_key="gw-key-1")
        assert caught.value.idempotency_key == "gw-key-1"
        assert caught.value.attempts == 2
        assert "Fix the request" not in str(caught.value)
        assert ledger(provider)["gw-key-1"]["charges"] == 1  # it was charged: "unknown" is right
        # Reconciling with the key finds the charge; repeating with it replays, no second charge.
        assert client.get_payment_by_idempotency_key("gw-key-1").amount == 1250
        client.create_payment(**ARGS, idempotency_key="gw-key-1")
    assert ledger(provider)["gw-key-1"]["charges"] == 1


def test_a_refund_whose_retry_is_refused_is_outcome_unknown(provider):
    with PaymentServiceClient(provider, policy=POLICY) as client:
        payment = client.create_payment(**ARGS, idempotency_key="pay-1")
        path = f"/payments/{payment.id}/refunds"
        fault(provider, mode="status", status=503, apply="after", path=path, count=1)
        fault(provider, mode="status", status=400, apply="before", path=path, count=1)
        with pytest.raises(PaymentOutcomeUnknownError) as caught:
            client.refund_payment(payment.id, 250, idempotency_key="refund-1")
        assert caught.value.idempotency_key == "refund-1"
    assert ledger(provider)["refund-1"]["refunds"] == 1


def test_a_refusal_of_the_first_attempt_is_the_services_answer(provider):
    fault(provider, mode="status", status=400, apply="before", path="/payments", count=1)
    with (
        PaymentServiceClient(provider, policy=POLICY) as client,
        pytest.raises(ClientRequestError) as caught,
    ):
        client.create_payment(**ARGS, idempotency_key="gw-key-2")
    assert type(caught.value) is ClientRequestError  # nothing was charged, and it says so
    assert "gw-key-2" not in ledger(provider)
