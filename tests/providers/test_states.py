"""Pact provider states through `POST /_test/states`, and the state-name registry."""

from __future__ import annotations

import pytest

from stormproof import providers
from stormproof.providers import STATE_NAMES, find_state, missing_states


def _state(api, state, action="setup", **params):
    return api.post("/_test/states", json={"state": state, "params": params, "action": action})


def test_user_state_with_params_honours_the_id(users):
    response = _state(users, "a user with id {id} exists", id="usr_42", email="ada@example.com")
    assert response.status_code == 200
    assert response.json()["id"] == "usr_42"
    user = users.get("/users/usr_42").json()
    assert (user["email"], user["name"]) == ("ada@example.com", "Test User")
    assert users.get("/users/lookup", params={"email": "ada@example.com"}).json()["id"] == "usr_42"


def test_state_values_can_come_from_the_name(users):
    assert _state(users, "a user with id usr_7 exists").status_code == 200
    assert users.get("/users/usr_7").json()["email"] == "usr_7@example.com"
    assert _state(users, "no user with id usr_7 exists").status_code == 200
    assert users.get("/users/usr_7").status_code == 404


def test_email_states_and_counts(users):
    _state(users, "a user with email {email} exists", email="bob@example.com", id="usr_b")
    assert users.get("/users/lookup", params={"email": "bob@example.com"}).json()["id"] == "usr_b"
    _state(users, "no user with email bob@example.com exists")
    assert users.get("/users/lookup", params={"email": "bob@example.com"}).status_code == 404
    _state(users, "{count} users exist", count=25)
    page = users.get("/users", params={"page": 2}).json()
    assert page["total"] == 25
    assert page["items"][0]["id"] == "usr_21"
    _state(users, "no users exist")
    assert users.get("/users").json()["total"] == 0


def test_user_state_replaces_a_user_holding_the_email(users):
    users.post("/users", json={"email": "ada@example.com", "name": "Ada"})
    _state(users, "a user with id usr_1 exists", email="ada@example.com")
    assert users.get("/users").json()["total"] == 1
    conflict = users.post("/users", json={"email": "ada@example.com", "name": "Other"})
    assert conflict.status_code == 409


def test_unknown_state_and_missing_params_are_400(users):
    response = _state(users, "the moon is full")
    assert response.status_code == 400
    message = response.json()["error"]["message"]
    assert "unknown provider state 'the moon is full'" in message
    assert "a user with id {id} exists" in message
    missing = _state(users, "a user with id {id} exists")
    assert missing.status_code == 400
    assert "id" in missing.json()["error"]["message"]
    assert _state(users, "{count} users exist", count="many").status_code == 400


def test_teardown_and_empty_state(users):
    _state(users, "a user with id usr_1 exists")
    assert _state(users, "", action="setup").status_code == 200
    assert _state(users, "a user with id usr_1 exists", action="teardown").status_code == 200
    assert users.get("/users/usr_1").status_code == 404


def test_verifier_style_body_without_params(users):
    response = users.post("/_test/states", json={"state": "no users exist", "action": "setup"})
    assert response.status_code == 200


def test_rate_limiting_and_unavailable_states_install_faults(users):
    _state(users, "the service is rate limiting")
    limited = users.get("/users")
    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "1")
    assert users.get("/users").status_code == 200
    _state(users, "the service is unavailable", retry_after=3, count=2, path="/users")
    for _ in range(2):
        unavailable = users.get("/users")
        assert (unavailable.status_code, unavailable.headers["Retry-After"]) == (503, "3")
        assert unavailable.json()["error"]["type"] == "unavailable"
    assert users.get("/users").status_code == 200
    assert _state(users, "the service is healthy").status_code == 200


def test_payment_states(payments):
    _state(payments, "a payment with id {id} exists", id="pay_9", amount=5000, refunded_amount=1000)
    payment = payments.get("/payments/pay_9").json()
    assert (payment["amount"], payment["status"], payment["refunded_amount"]) == (
        5000,
        "partially_refunded",
        1000,
    )
    too_much = payments.post(
        "/payments/pay_9/refunds", json={"amount": 4001}, headers={"Idempotency-Key": "r"}
    )
    assert too_much.status_code == 422
    _state(payments, "no payment with id pay_9 exists")
    assert payments.get("/payments/pay_9").status_code == 404
    bad = _state(payments, "a payment with id pay_1 exists", amount=10, refunded_amount=11)
    assert bad.status_code == 400


def test_payment_created_with_key_replays(payments):
    body = {"amount": 700, "currency": "EUR", "user_id": "usr_3", "payment_method_token": "tok"}
    created = _state(
        payments,
        "a payment was created with idempotency key {key}",
        key="k-1",
        id="pay_k",
        amount=700,
        user_id="usr_3",
        payment_method_token="tok",
    )
    assert created.json()["id"] == "pay_k"
    replay = payments.post("/payments", json=body, headers={"Idempotency-Key": "k-1"})
    assert replay.status_code == 201
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json()["id"] == "pay_k"
    assert payments.get("/payments/by-idempotency-key/k-1").json()["id"] == "pay_k"
    mismatch = payments.post(
        "/payments", json={**body, "amount": 1}, headers={"Idempotency-Key": "k-1"}
    )
    assert mismatch.json()["error"]["type"] == "idempotency_mismatch"
    _state(payments, "no payment was created with idempotency key k-1")
    assert payments.get("/payments/by-idempotency-key/k-1").status_code == 404


def test_refund_created_with_key_and_key_in_flight(payments):
    _state(payments, "a payment with id pay_1 exists", amount=1000)
    _state(payments, "a refund was created with idempotency key rk", payment_id="pay_1", amount=300)
    replay = payments.post(
        "/payments/pay_1/refunds", json={"amount": 300}, headers={"Idempotency-Key": "rk"}
    )
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert payments.get("/payments/pay_1").json()["refunded_amount"] == 300
    _state(payments, "a request with idempotency key {key} is in flight", key="busy")
    body = {"amount": 1, "currency": "EUR", "user_id": "u", "payment_method_token": "t"}
    busy = payments.post("/payments", json=body, headers={"Idempotency-Key": "busy"})
    assert busy.status_code == 409
    assert busy.json()["error"]["type"] == "idempotency_in_flight"


def test_notification_states(notifications):
    _state(notifications, "a notification with id ntf_1 exists", channel="sms", status="delivered")
    item = notifications.get("/notifications/ntf_1").json()
    assert (item["channel"], item["status"]) == ("sms", "delivered")
    _state(notifications, "no notification with id ntf_1 exists")
    assert notifications.get("/notifications/ntf_1").status_code == 404
    assert (
        _state(notifications, "a notification with id x exists", status="lost").status_code == 400
    )
    body = {"channel": "email", "recipient": "ada@example.com", "subject": None, "body": "Hi"}
    _state(notifications, "a notification was sent with idempotency key nk", id="ntf_2", body="Hi")
    replay = notifications.post("/notifications", json=body, headers={"Idempotency-Key": "nk"})
    assert replay.status_code == 202
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json()["id"] == "ntf_2"
    _state(notifications, "a request with idempotency key k2 is in flight")
    assert (
        notifications.post(
            "/notifications", json=body, headers={"Idempotency-Key": "k2"}
        ).status_code
        == 409
    )


def test_state_registry_lists_every_state_per_service():
    assert set(STATE_NAMES) == {"users", "notifications", "payments"}
    for names in STATE_NAMES.values():
        assert "the service is rate limiting" in names
        assert "the service is unavailable" in names
    assert "a payment with id {id} exists" in STATE_NAMES["payments"]
    assert "a user with id {id} exists" not in STATE_NAMES["payments"]


@pytest.mark.parametrize(
    ("service", "state", "template"),
    [
        ("users", "a user with id {id} exists", "a user with id {id} exists"),
        ("users", "a user with id 123 exists", "a user with id {id} exists"),
        ("users", "a user with email a@b.co exists", "a user with email {email} exists"),
        ("payments", "a payment with id pay_1 exists", "a payment with id {id} exists"),
        ("notifications", "the service is unavailable", "the service is unavailable"),
        ("payments", "a user with id 1 exists", None),
    ],
)
def test_find_state(service, state, template):
    assert find_state(service, state) == template


def test_missing_states_for_a_pre_verification_check():
    states = ["a user with id 1 exists", "", "unknown thing", "unknown thing", "no users exist"]
    assert missing_states("users", states) == ["unknown thing"]
    with pytest.raises(ValueError, match="unknown service"):
        missing_states("orders", [])  # type: ignore[arg-type]


def test_every_registered_state_has_a_handler_in_the_app(users, notifications, payments):
    for api, service in [
        (users, "users"),
        (notifications, "notifications"),
        (payments, "payments"),
    ]:
        app_names = api.server.app.state.provider.states.names
        assert app_names == STATE_NAMES[service]


def test_public_exports_are_sorted_and_importable():
    # isort-style order, as ruff's RUF022 keeps it: CONSTANTS, then Classes, then functions.
    def kind(name):
        return (not name.isupper(), not name[0].isupper(), name)

    assert providers.__all__ == sorted(providers.__all__, key=kind)
    for name in providers.__all__:
        assert hasattr(providers, name)
