"""Consumer contract of the payment service, through the real ``PaymentServiceClient``."""

from __future__ import annotations

from typing import Any

import pytest
from pact import Pact

from contracts.consumer._shapes import (
    JSON,
    client_for,
    error,
    idempotency_key,
    payment,
    refund,
)
from stormproof.clients import (
    ClientRequestError,
    ConflictError,
    NotFoundError,
    PaymentOutcomeUnknownError,
    PaymentServiceClient,
    RateLimitedError,
    ServiceUnavailableError,
)

CHARGE: dict[str, Any] = {
    "amount": 1000,
    "currency": "EUR",
    "user_id": "usr_1",
    "payment_method_token": "tok_visa",
}


def _charge(client: PaymentServiceClient, key: str, **changes: Any) -> Any:
    return client.create_payment(idempotency_key=key, **{**CHARGE, **changes})


def test_create_payment(payments_pact: Pact) -> None:
    (
        payments_pact.upon_receiving("a request to charge 10.00 EUR")
        .with_request("POST", "/payments")
        .with_header("Idempotency-Key", idempotency_key("pay-key-new"))
        .with_body(CHARGE, content_type=JSON)
        .will_respond_with(201)
        .with_body(payment(amount=1000, user_id="usr_1"), content_type=JSON)
    )
    with client_for(payments_pact, PaymentServiceClient) as client:
        paid = _charge(client, "pay-key-new")
    assert (paid.amount, paid.currency, paid.status, paid.refunded_amount) == (
        1000,
        "EUR",
        "captured",
        0,
    )


def test_create_payment_replayed(payments_pact: Pact) -> None:
    (
        payments_pact.upon_receiving("a repeated request to charge with the same key")
        .given("a payment was created with idempotency key pay-key-1", CHARGE)
        .with_request("POST", "/payments")
        .with_header("Idempotency-Key", "pay-key-1")
        .with_body(CHARGE, content_type=JSON)
        .will_respond_with(201)
        .with_header("Idempotent-Replayed", "true")
        .with_body(payment(amount=1000, user_id="usr_1"), content_type=JSON)
    )
    with client_for(payments_pact, PaymentServiceClient) as client:
        paid = _charge(client, "pay-key-1")
    assert paid.amount == 1000


def test_create_payment_key_reused_for_other_body(payments_pact: Pact) -> None:
    (
        payments_pact.upon_receiving("a request reusing a payment key for another amount")
        .given("a payment was created with idempotency key pay-key-2", CHARGE)
        .with_request("POST", "/payments")
        .with_header("Idempotency-Key", "pay-key-2")
        .with_body({**CHARGE, "amount": 2500}, content_type=JSON)
        .will_respond_with(422)
        .with_body(error("idempotency_mismatch"), content_type=JSON)
    )
    with (
        client_for(payments_pact, PaymentServiceClient) as client,
        pytest.raises(ClientRequestError) as info,
    ):
        _charge(client, "pay-key-2", amount=2500)
    # A definitive refusal: nothing was charged, so this is not "outcome unknown".
    assert type(info.value) is ClientRequestError
    assert info.value.error_type == "idempotency_mismatch"


def test_create_payment_in_flight(payments_pact: Pact) -> None:
    (
        payments_pact.upon_receiving("a request to charge while the same key is in flight")
        .given("a request with idempotency key pay-key-3 is in flight")
        .with_request("POST", "/payments")
        .with_header("Idempotency-Key", "pay-key-3")
        .with_body(CHARGE, content_type=JSON)
        .will_respond_with(409)
        .with_body(error("idempotency_in_flight"), content_type=JSON)
    )
    with (
        client_for(payments_pact, PaymentServiceClient) as client,
        pytest.raises(PaymentOutcomeUnknownError) as info,
    ):
        _charge(client, "pay-key-3")
    # The first request may still charge: the caller must reconcile with the same key.
    assert info.value.idempotency_key == "pay-key-3"
    assert isinstance(info.value.cause, ConflictError)
    assert info.value.error_type == "idempotency_in_flight"


def test_create_payment_rate_limited(payments_pact: Pact) -> None:
    (
        payments_pact.upon_receiving("a request to charge while the service is rate limiting")
        .given("the service is rate limiting", retry_after="1")
        .with_request("POST", "/payments")
        .with_header("Idempotency-Key", idempotency_key("pay-key-429"))
        .with_body(CHARGE, content_type=JSON)
        .will_respond_with(429)
        .with_header("Retry-After", "1")
        .with_body(error("rate_limited"), content_type=JSON)
    )
    with (
        client_for(payments_pact, PaymentServiceClient) as client,
        pytest.raises(RateLimitedError) as info,
    ):
        _charge(client, "pay-key-429")
    assert info.value.retry_after == 1.0


def test_create_payment_unavailable(payments_pact: Pact) -> None:
    (
        payments_pact.upon_receiving("a request to charge while the service is unavailable")
        .given("the service is unavailable", retry_after="2")
        .with_request("POST", "/payments")
        .with_header("Idempotency-Key", idempotency_key("pay-key-503"))
        .with_body(CHARGE, content_type=JSON)
        .will_respond_with(503)
        .with_header("Retry-After", "2")
        .with_body(error("unavailable"), content_type=JSON)
    )
    with (
        client_for(payments_pact, PaymentServiceClient) as client,
        pytest.raises(PaymentOutcomeUnknownError) as info,
    ):
        _charge(client, "pay-key-503")
    # A 503 after the request was sent is ambiguous for a charge.
    assert info.value.idempotency_key == "pay-key-503"
    assert isinstance(info.value.cause, ServiceUnavailableError)
    assert info.value.status_code == 503


def test_get_payment(payments_pact: Pact) -> None:
    (
        payments_pact.upon_receiving("a request for a partially refunded payment pay_1")
        .given("a payment with id pay_1 exists", amount=1000, refunded_amount=400)
        .with_request("GET", "/payments/pay_1")
        .will_respond_with(200)
        .with_body(
            payment(
                payment_id="pay_1",
                amount=1000,
                status="partially_refunded",
                refunded_amount=400,
            ),
            content_type=JSON,
        )
    )
    with client_for(payments_pact, PaymentServiceClient) as client:
        found = client.get_payment("pay_1")
    assert (found.id, found.status, found.refunded_amount) == ("pay_1", "partially_refunded", 400)


def test_get_payment_not_found(payments_pact: Pact) -> None:
    (
        payments_pact.upon_receiving("a request for a payment that does not exist")
        .given("no payment with id pay_404 exists")
        .with_request("GET", "/payments/pay_404")
        .will_respond_with(404)
        .with_body(error("not_found"), content_type=JSON)
    )
    with client_for(payments_pact, PaymentServiceClient) as client, pytest.raises(NotFoundError):
        client.get_payment("pay_404")


def test_get_payment_unavailable(payments_pact: Pact) -> None:
    (
        payments_pact.upon_receiving("a request for a payment while the service is unavailable")
        .given("the service is unavailable")
        .with_request("GET", "/payments/pay_1")
        .will_respond_with(503)
        .with_body(error("unavailable"), content_type=JSON)
    )
    with (
        client_for(payments_pact, PaymentServiceClient) as client,
        pytest.raises(ServiceUnavailableError) as info,
    ):
        client.get_payment("pay_1")
    assert info.value.retry_after is None


def test_get_payment_by_idempotency_key(payments_pact: Pact) -> None:
    (
        payments_pact.upon_receiving("a lookup of the payment made with key pay-key-4")
        .given("a payment was created with idempotency key pay-key-4", CHARGE)
        .with_request("GET", "/payments/by-idempotency-key/pay-key-4")
        .will_respond_with(200)
        .with_body(payment(amount=1000, user_id="usr_1"), content_type=JSON)
    )
    with client_for(payments_pact, PaymentServiceClient) as client:
        found = client.get_payment_by_idempotency_key("pay-key-4")
    assert found.amount == 1000


def test_get_payment_by_idempotency_key_not_found(payments_pact: Pact) -> None:
    (
        payments_pact.upon_receiving("a lookup of a key no payment was made with")
        .given("no payment was created with idempotency key pay-key-none")
        .with_request("GET", "/payments/by-idempotency-key/pay-key-none")
        .will_respond_with(404)
        .with_body(error("not_found"), content_type=JSON)
    )
    with client_for(payments_pact, PaymentServiceClient) as client, pytest.raises(NotFoundError):
        client.get_payment_by_idempotency_key("pay-key-none")


def test_refund_part_of_payment(payments_pact: Pact) -> None:
    (
        payments_pact.upon_receiving("a request to refund 4.00 of payment pay_1")
        .given("a payment with id pay_1 exists", amount=1000)
        .with_request("POST", "/payments/pay_1/refunds")
        .with_header("Idempotency-Key", idempotency_key("ref-key-new"))
        .with_body({"amount": 400}, content_type=JSON)
        .will_respond_with(201)
        .with_body(refund(payment_id="pay_1", amount=400), content_type=JSON)
    )
    with client_for(payments_pact, PaymentServiceClient) as client:
        made = client.refund_payment("pay_1", 400, idempotency_key="ref-key-new")
    assert (made.payment_id, made.amount, made.status) == ("pay_1", 400, "succeeded")


def test_refund_whole_payment(payments_pact: Pact) -> None:
    (
        payments_pact.upon_receiving("a request to refund everything left of payment pay_1")
        .given("a payment with id pay_1 exists", amount=1000, refunded_amount=250)
        .with_request("POST", "/payments/pay_1/refunds")
        .with_header("Idempotency-Key", idempotency_key("ref-key-all"))
        .with_body({"amount": None}, content_type=JSON)
        .will_respond_with(201)
        .with_body(refund(payment_id="pay_1", amount=750), content_type=JSON)
    )
    with client_for(payments_pact, PaymentServiceClient) as client:
        made = client.refund_payment("pay_1", idempotency_key="ref-key-all")
    assert made.amount == 750


def test_refund_above_what_is_left(payments_pact: Pact) -> None:
    (
        payments_pact.upon_receiving("a request to refund more than is left of payment pay_1")
        .given("a payment with id pay_1 exists", amount=1000, refunded_amount=800)
        .with_request("POST", "/payments/pay_1/refunds")
        .with_header("Idempotency-Key", idempotency_key("ref-key-over"))
        .with_body({"amount": 500}, content_type=JSON)
        .will_respond_with(422)
        .with_body(error("validation_error", field="amount"), content_type=JSON)
    )
    with (
        client_for(payments_pact, PaymentServiceClient) as client,
        pytest.raises(ClientRequestError) as info,
    ):
        client.refund_payment("pay_1", 500, idempotency_key="ref-key-over")
    assert type(info.value) is ClientRequestError
    assert [p.field for p in info.value.problems] == ["amount"]


def test_refund_unknown_payment(payments_pact: Pact) -> None:
    (
        payments_pact.upon_receiving("a request to refund a payment that does not exist")
        .given("no payment with id pay_404 exists")
        .with_request("POST", "/payments/pay_404/refunds")
        .with_header("Idempotency-Key", idempotency_key("ref-key-404"))
        .with_body({"amount": 100}, content_type=JSON)
        .will_respond_with(404)
        .with_body(error("not_found"), content_type=JSON)
    )
    with client_for(payments_pact, PaymentServiceClient) as client, pytest.raises(NotFoundError):
        client.refund_payment("pay_404", 100, idempotency_key="ref-key-404")


def test_refund_replayed(payments_pact: Pact) -> None:
    (
        payments_pact.upon_receiving("a repeated request to refund with the same key")
        .given(
            "a refund was created with idempotency key ref-key-1",
            payment_id="pay_1",
            amount=300,
        )
        .with_request("POST", "/payments/pay_1/refunds")
        .with_header("Idempotency-Key", "ref-key-1")
        .with_body({"amount": 300}, content_type=JSON)
        .will_respond_with(201)
        .with_header("Idempotent-Replayed", "true")
        .with_body(refund(payment_id="pay_1", amount=300), content_type=JSON)
    )
    with client_for(payments_pact, PaymentServiceClient) as client:
        made = client.refund_payment("pay_1", 300, idempotency_key="ref-key-1")
    assert made.amount == 300


def test_refund_unavailable(payments_pact: Pact) -> None:
    (
        payments_pact.upon_receiving("a request to refund while the service is unavailable")
        .given("a payment with id pay_1 exists", amount=1000)
        .given("the service is unavailable", retry_after="1")
        .with_request("POST", "/payments/pay_1/refunds")
        .with_header("Idempotency-Key", idempotency_key("ref-key-503"))
        .with_body({"amount": 100}, content_type=JSON)
        .will_respond_with(503)
        .with_header("Retry-After", "1")
        .with_body(error("unavailable"), content_type=JSON)
    )
    with (
        client_for(payments_pact, PaymentServiceClient) as client,
        pytest.raises(PaymentOutcomeUnknownError) as info,
    ):
        client.refund_payment("pay_1", 100, idempotency_key="ref-key-503")
    # Repeating with the same key is safe: the service replays instead of refunding twice.
    assert info.value.idempotency_key == "ref-key-503"
    assert isinstance(info.value.cause, ServiceUnavailableError)
