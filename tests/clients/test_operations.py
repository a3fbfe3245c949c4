"""Every operation sends what docs/service-api.md says and returns its model."""

from __future__ import annotations

import json
import uuid

import pytest
from responses import matchers

from stormproof.clients import Notification, Payment, Refund, User, UserPage

from .conftest import BASE, BEARER, CARD_TOKEN, NOTIFICATION, PAY_ARGS, PAYMENT, REFUND, USER


def sent(rsps, index: int = -1):
    return rsps.calls[index].request


def assert_common_headers(request) -> None:
    assert request.headers["Accept"] == "application/json"
    assert request.headers["User-Agent"].startswith("stormproof/")
    uuid.UUID(request.headers["X-Request-Id"])


def test_get_user(users, rsps):
    rsps.get(f"{BASE}/users/u1", json=USER)
    user = users.get_user("u1")
    assert isinstance(user, User)
    assert (user.id, user.email, user.name) == ("u1", "ada@example.com", "Ada")
    assert user.created_at.year == 2026
    assert_common_headers(sent(rsps))
    assert "Authorization" not in sent(rsps).headers


def test_get_user_quotes_the_id_into_one_path_segment(users, rsps):
    rsps.get(f"{BASE}/users/a%2Fb%3Fc", json=USER)
    users.get_user("a/b?c")
    assert sent(rsps).path_url == "/users/a%2Fb%3Fc"


def test_find_user_by_email(users, rsps):
    rsps.get(
        f"{BASE}/users/lookup",
        json=USER,
        match=[matchers.query_param_matcher({"email": "ada@example.com"})],
    )
    assert users.find_user_by_email("ada@example.com").id == "u1"


def test_create_user(users, rsps):
    rsps.post(f"{BASE}/users", json=USER, status=201)
    user = users.create_user(email="ada@example.com", name="Ada")
    assert user.id == "u1"
    request = sent(rsps)
    assert json.loads(request.body) == {"email": "ada@example.com", "name": "Ada"}
    assert request.headers["Content-Type"] == "application/json"
    assert "Idempotency-Key" not in request.headers


def test_update_user_sends_only_the_fields_given(users, rsps):
    rsps.patch(f"{BASE}/users/u1", json={**USER, "name": "Ada L."})
    assert users.update_user("u1", name="Ada L.").name == "Ada L."
    assert json.loads(sent(rsps).body) == {"name": "Ada L."}


def test_list_users_and_iterate_pages(users, rsps):
    page1 = {"items": [USER, {**USER, "id": "u2"}], "page": 1, "page_size": 2, "total": 3}
    page2 = {"items": [{**USER, "id": "u3"}], "page": 2, "page_size": 2, "total": 3}
    rsps.get(
        f"{BASE}/users",
        json=page1,
        match=[matchers.query_param_matcher({"page": "1", "page_size": "2"})],
    )
    rsps.get(
        f"{BASE}/users",
        json=page2,
        match=[matchers.query_param_matcher({"page": "2", "page_size": "2"})],
    )
    page = users.list_users(page=1, page_size=2)
    assert isinstance(page, UserPage)
    assert [u.id for u in page.items] == ["u1", "u2"]
    assert page.total == 3
    assert [u.id for u in users.iter_users(page_size=2)] == ["u1", "u2", "u3"]


def test_list_users_defaults(users, rsps):
    rsps.get(
        f"{BASE}/users",
        json={"items": [], "page": 1, "page_size": 20, "total": 0},
        match=[matchers.query_param_matcher({"page": "1", "page_size": "20"})],
    )
    assert users.list_users().items == ()


def test_send_notification_generates_a_key(notifications, rsps):
    rsps.post(f"{BASE}/notifications", json=NOTIFICATION, status=202)
    note = notifications.send_notification(
        channel="email", recipient="ada@example.com", subject="Hi", body="Hello"
    )
    assert isinstance(note, Notification)
    assert note.status == "queued"
    request = sent(rsps)
    assert json.loads(request.body) == {
        "channel": "email",
        "recipient": "ada@example.com",
        "subject": "Hi",
        "body": "Hello",
    }
    uuid.UUID(request.headers["Idempotency-Key"])


def test_send_notification_uses_the_given_key_and_null_subject(notifications, rsps):
    rsps.post(f"{BASE}/notifications", json=NOTIFICATION, status=202)
    notifications.send_notification(
        channel="sms", recipient="+3100000", body="code 1234", idempotency_key="k-1"
    )
    assert sent(rsps).headers["Idempotency-Key"] == "k-1"
    assert json.loads(sent(rsps).body)["subject"] is None


def test_get_notification(notifications, rsps):
    rsps.get(f"{BASE}/notifications/n1", json={**NOTIFICATION, "status": "delivered"})
    assert notifications.get_notification("n1").status == "delivered"


def test_create_payment_sends_the_real_token_and_bearer(payments, rsps):
    rsps.post(f"{BASE}/payments", json=PAYMENT, status=201)
    payment = payments.create_payment(**PAY_ARGS, idempotency_key="pay-1")
    assert isinstance(payment, Payment)
    assert payment.amount == 1250
    request = sent(rsps)
    assert json.loads(request.body) == {
        "amount": 1250,
        "currency": "EUR",
        "user_id": "u1",
        "payment_method_token": CARD_TOKEN,
    }
    assert request.headers["Idempotency-Key"] == "pay-1"
    assert request.headers["Authorization"] == f"Bearer {BEARER}"


def test_get_payment(payments, rsps):
    rsps.get(f"{BASE}/payments/p1", json=PAYMENT)
    assert payments.get_payment("p1").status == "captured"


def test_get_payment_by_idempotency_key(payments, rsps):
    rsps.get(f"{BASE}/payments/by-idempotency-key/pay-1", json=PAYMENT)
    assert payments.get_payment_by_idempotency_key("pay-1").id == "p1"


@pytest.mark.parametrize(("amount", "body"), [(250, {"amount": 250}), (None, {"amount": None})])
def test_refund_payment(payments, rsps, amount, body):
    rsps.post(f"{BASE}/payments/p1/refunds", json=REFUND, status=201)
    refund = payments.refund_payment("p1", amount=amount)
    assert isinstance(refund, Refund)
    assert json.loads(sent(rsps).body) == body
    uuid.UUID(sent(rsps).headers["Idempotency-Key"])


def test_operations_callable_by_name_with_plain_inputs(payments, rsps):
    rsps.post(f"{BASE}/payments", json=PAYMENT, status=201)
    operation, inputs = "create_payment", dict(PAY_ARGS)
    assert getattr(payments, operation)(**inputs).id == "p1"


def test_unknown_fields_in_responses_are_ignored(users, rsps):
    rsps.get(f"{BASE}/users/u1", json={**USER, "nickname": "ada"})
    assert users.get_user("u1").id == "u1"
