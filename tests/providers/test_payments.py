"""The payment service over real HTTP: charges, refunds, idempotency and the ledger."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

CHARGE = {
    "amount": 1250,
    "currency": "EUR",
    "user_id": "usr_1",
    "payment_method_token": "tok_secret",
}


def _pay(api, key="pay-key-1", body=CHARGE):
    headers = {} if key is None else {"Idempotency-Key": key}
    return api.post("/payments", json=body, headers=headers)


def _refund(api, payment_id, amount=None, key="refund-key-1", send_body=True):
    headers = {"Idempotency-Key": key}
    if not send_body:
        return api.post(f"/payments/{payment_id}/refunds", headers=headers)
    return api.post(f"/payments/{payment_id}/refunds", json={"amount": amount}, headers=headers)


def test_create_captures_and_never_echoes_the_token(payments):
    response = _pay(payments)
    assert response.status_code == 201
    payment = response.json()
    assert set(payment) == {
        "id",
        "amount",
        "currency",
        "user_id",
        "status",
        "refunded_amount",
        "created_at",
    }
    assert (payment["amount"], payment["currency"], payment["user_id"]) == (1250, "EUR", "usr_1")
    assert (payment["status"], payment["refunded_amount"]) == ("captured", 0)
    assert "tok_secret" not in response.text
    assert payments.get(f"/payments/{payment['id']}").json() == payment
    assert payments.get("/payments/by-idempotency-key/pay-key-1").json() == payment


def test_unknown_payment_and_unknown_key_are_404(payments):
    assert payments.get("/payments/pay_missing").json()["error"]["type"] == "not_found"
    response = payments.get("/payments/by-idempotency-key/never-used")
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "not_found"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": 0}, "amount"),
        ({"amount": -5}, "amount"),
        ({"amount": "100"}, "amount"),
        ({"amount": 10.5}, "amount"),
        ({"currency": "eur"}, "currency"),
        ({"currency": "EURO"}, "currency"),
        ({"user_id": ""}, "user_id"),
        ({"payment_method_token": None}, "payment_method_token"),
    ],
)
def test_invalid_payment_is_422_without_echoing_the_token(payments, change, field):
    response = _pay(payments, body={**CHARGE, **change})
    assert response.status_code == 422
    assert field in [d["field"] for d in response.json()["error"]["details"]]
    assert "tok_secret" not in response.text
    assert payments.get("/_test/ledger").json()["charges"] == []


def test_payment_without_idempotency_key_is_422(payments):
    response = _pay(payments, key=None)
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "Idempotency-Key"


def test_replay_mismatch_and_ledger(payments):
    first = _pay(payments)
    replay = _pay(payments)
    assert replay.status_code == 201
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json() == first.json()
    mismatch = _pay(payments, body={**CHARGE, "amount": 999})
    assert mismatch.status_code == 422
    assert mismatch.json()["error"]["type"] == "idempotency_mismatch"
    ledger = payments.get("/_test/ledger").json()
    assert ledger["charges"] == [
        {
            "idempotency_key": "pay-key-1",
            "payment_id": first.json()["id"],
            "amount": 1250,
            "currency": "EUR",
        }
    ]
    assert ledger["by_key"] == {"pay-key-1": {"charges": 1, "refunds": 0}}


def test_concurrent_payments_with_one_key_charge_once(payments):
    def fire(_):
        return requests.post(
            payments.url + "/payments", json=CHARGE, headers={"Idempotency-Key": "race"}, timeout=10
        )

    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(fire, range(16)))
    assert {r.status_code for r in responses} <= {201, 409}
    ids = {r.json()["id"] for r in responses if r.status_code == 201}
    assert len(ids) == 1
    for conflict in (r for r in responses if r.status_code == 409):
        assert conflict.json()["error"]["type"] == "idempotency_in_flight"
    assert payments.get("/_test/ledger").json()["by_key"] == {"race": {"charges": 1, "refunds": 0}}


def test_partial_then_full_refund(payments):
    payment = _pay(payments).json()
    first = _refund(payments, payment["id"], 250, key="r1")
    assert first.status_code == 201
    refund = first.json()
    assert set(refund) == {"id", "payment_id", "amount", "status", "created_at"}
    assert (refund["payment_id"], refund["amount"], refund["status"]) == (
        payment["id"],
        250,
        "succeeded",
    )
    after = payments.get(f"/payments/{payment['id']}").json()
    assert (after["status"], after["refunded_amount"]) == ("partially_refunded", 250)
    rest = _refund(payments, payment["id"], key="r2", send_body=False)
    assert rest.status_code == 201
    assert rest.json()["amount"] == 1000
    after = payments.get(f"/payments/{payment['id']}").json()
    assert (after["status"], after["refunded_amount"]) == ("refunded", 1250)
    ledger = payments.get("/_test/ledger").json()
    assert [r["amount"] for r in ledger["refunds"]] == [250, 1000]


def test_refund_never_exceeds_the_captured_amount(payments):
    payment = _pay(payments).json()
    too_much = _refund(payments, payment["id"], 1251, key="r1")
    assert too_much.status_code == 422
    assert too_much.json()["error"]["details"][0]["field"] == "amount"
    # The failed refund left no trace of its key: the same key may now ask for a valid amount.
    assert _refund(payments, payment["id"], 1250, key="r1").status_code == 201
    empty = _refund(payments, payment["id"], None, key="r2")
    assert empty.status_code == 422
    assert _refund(payments, payment["id"], 1, key="r3").status_code == 422
    assert payments.get(f"/payments/{payment['id']}").json()["refunded_amount"] == 1250


def test_concurrent_refunds_never_exceed_the_captured_amount(payments):
    payment = _pay(payments).json()

    def fire(i):
        return requests.post(
            f"{payments.url}/payments/{payment['id']}/refunds",
            json={"amount": 100},
            headers={"Idempotency-Key": f"refund-{i}"},
            timeout=10,
        )

    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(fire, range(20)))
    assert sum(r.status_code == 201 for r in responses) == 12
    assert sum(r.status_code == 422 for r in responses) == 8
    after = payments.get(f"/payments/{payment['id']}").json()
    assert after["refunded_amount"] == 1200
    assert sum(r["amount"] for r in payments.get("/_test/ledger").json()["refunds"]) == 1200


def test_refund_replay_mismatch_and_errors(payments):
    payment = _pay(payments).json()
    first = _refund(payments, payment["id"], 100, key="r1")
    replay = _refund(payments, payment["id"], 100, key="r1")
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json() == first.json()
    assert _refund(payments, payment["id"], 200, key="r1").json()["error"]["type"] == (
        "idempotency_mismatch"
    )
    # A key is scoped to the service: reusing a payment's key for a refund is a mismatch.
    assert _refund(payments, payment["id"], 100, key="pay-key-1").status_code == 422
    assert _refund(payments, "pay_missing", 100, key="r9").status_code == 404
    bad = _refund(payments, payment["id"], 0, key="r10")
    assert bad.status_code == 422
    assert bad.json()["error"]["type"] == "validation_error"
    ledger = payments.get("/_test/ledger").json()
    assert ledger["by_key"]["r1"] == {"charges": 0, "refunds": 1}
    assert payments.get(f"/payments/{payment['id']}").json()["refunded_amount"] == 100


def test_refund_without_key_is_422(payments):
    payment = _pay(payments).json()
    response = payments.post(f"/payments/{payment['id']}/refunds", json={"amount": 1})
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "Idempotency-Key"


def test_ambiguous_failure_then_retry_charges_once(payments):
    payments.fault(mode="status", status=503, retry_after="1", apply="after", path="/payments")
    failed = _pay(payments)
    assert failed.status_code == 503
    assert failed.headers["Retry-After"] == "1"
    ledger = payments.get("/_test/ledger").json()
    assert len(ledger["charges"]) == 1
    found = payments.get("/payments/by-idempotency-key/pay-key-1").json()
    retry = _pay(payments)
    assert retry.status_code == 201
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json() == found
    assert payments.get("/_test/ledger").json()["by_key"] == {
        "pay-key-1": {"charges": 1, "refunds": 0}
    }
