"""The notification service over real HTTP, including Idempotency-Key under concurrency."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

EMAIL = {"channel": "email", "recipient": "ada@example.com", "subject": "Hi", "body": "Hello"}


def _send(api, key="key-1", body=EMAIL, **kwargs):
    headers = {"Idempotency-Key": key} if key is not None else {}
    return api.post("/notifications", json=body, headers=headers, **kwargs)


def test_send_is_accepted_queued_and_readable(notifications):
    response = _send(notifications)
    assert response.status_code == 202
    assert "Idempotent-Replayed" not in response.headers
    item = response.json()
    assert set(item) == {"id", "channel", "recipient", "status", "created_at", "updated_at"}
    assert (item["channel"], item["recipient"], item["status"]) == (
        "email",
        "ada@example.com",
        "queued",
    )
    assert notifications.get(f"/notifications/{item['id']}").json() == item


@pytest.mark.parametrize("channel", ["sms", "push"])
def test_other_channels_without_subject(notifications, channel):
    body = {"channel": channel, "recipient": "+3312345678", "body": "code 1234"}
    response = _send(notifications, key=f"k-{channel}", body=body)
    assert response.status_code == 202
    assert response.json()["channel"] == channel


def test_unknown_notification_is_404(notifications):
    response = notifications.get("/notifications/ntf_missing")
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "not_found"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**EMAIL, "channel": "fax"}, "channel"),
        ({**EMAIL, "body": ""}, "body"),
        ({**EMAIL, "body": "x" * 10_001}, "body"),
        ({k: v for k, v in EMAIL.items() if k != "recipient"}, "recipient"),
    ],
)
def test_invalid_body_is_422_and_sends_nothing(notifications, body, field):
    response = _send(notifications, body=body)
    assert response.status_code == 422
    assert field in [d["field"] for d in response.json()["error"]["details"]]
    assert notifications.get("/_test/sent").json()["count"] == 0


@pytest.mark.parametrize("key", [None, "", "x" * 256, "caf\u00e9"])
def test_missing_or_bad_idempotency_key_is_422(notifications, key):
    headers = {} if key is None else {"Idempotency-Key": key.encode("utf-8")}
    response = notifications.post("/notifications", json=EMAIL, headers=headers)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["type"] == "validation_error"
    assert error["details"][0]["field"] == "Idempotency-Key"


def test_same_key_same_body_replays_without_sending_again(notifications):
    first = _send(notifications)
    again = _send(notifications)
    assert again.status_code == 202
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    sent = notifications.get("/_test/sent").json()
    assert sent["count"] == 1
    assert sent["by_key"] == {"key-1": 1}
    assert sent["sent"][0]["notification_id"] == first.json()["id"]


def test_same_key_different_body_is_a_mismatch(notifications):
    _send(notifications)
    response = _send(notifications, body={**EMAIL, "body": "Other"})
    assert response.status_code == 422
    assert response.json()["error"]["type"] == "idempotency_mismatch"
    assert notifications.get("/_test/sent").json()["count"] == 1


def test_key_still_in_flight_is_409(notifications):
    # The slow rule applied "after" holds the first request after its send, key still in flight.
    notifications.fault(mode="slow", delay_ms=1500, apply="after", path="/notifications")
    results = {}
    first = threading.Thread(target=lambda: results.setdefault("first", _send(notifications)))
    first.start()
    deadline = time.monotonic() + 10
    while notifications.get("/_test/sent").json()["count"] == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    second = _send(notifications)
    first.join(10)
    assert second.status_code == 409
    assert second.json()["error"]["type"] == "idempotency_in_flight"
    assert results["first"].status_code == 202
    third = _send(notifications)
    assert third.headers["Idempotent-Replayed"] == "true"
    assert third.json() == results["first"].json()
    assert notifications.get("/_test/sent").json()["by_key"] == {"key-1": 1}


def test_concurrent_requests_with_one_key_send_once(notifications):
    # Each call opens its own connection: a requests.Session is not shared across threads.
    def fire(_):
        return requests.post(
            notifications.url + "/notifications",
            json=EMAIL,
            headers={"Idempotency-Key": "race"},
            timeout=10,
        )

    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(fire, range(16)))
    statuses = sorted({r.status_code for r in responses})
    assert set(statuses) <= {202, 409}
    originals = [
        r for r in responses if r.status_code == 202 and "Idempotent-Replayed" not in r.headers
    ]
    assert len(originals) == 1
    assert notifications.get("/_test/sent").json()["by_key"] == {"race": 1}


def test_distinct_keys_send_distinct_notifications(notifications):
    a = _send(notifications, key="a").json()
    b = _send(notifications, key="b").json()
    assert a["id"] != b["id"]
    assert notifications.get("/_test/sent").json()["by_key"] == {"a": 1, "b": 1}


def test_fault_after_the_send_then_retry_replays_the_original(notifications):
    notifications.fault(mode="status", status=503, apply="after")
    assert _send(notifications).status_code == 503
    sent = notifications.get("/_test/sent").json()
    assert sent["count"] == 1
    retry = _send(notifications)
    assert retry.status_code == 202
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json()["id"] == sent["sent"][0]["notification_id"]
    assert notifications.get("/_test/sent").json()["count"] == 1


def test_fault_before_the_handler_sends_nothing(notifications):
    notifications.fault(mode="status", status=503, apply="before")
    assert _send(notifications).status_code == 503
    assert notifications.get("/_test/sent").json()["count"] == 0
    retry = _send(notifications)
    assert retry.status_code == 202
    assert "Idempotent-Replayed" not in retry.headers
