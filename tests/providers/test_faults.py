"""The fault API: status, slow, malformed and truncated answers, before or after the handler."""

from __future__ import annotations

import json
import socket
import time

import pytest
import requests

from stormproof.providers import create_app, serve

USER = {"email": "ada@example.com", "name": "Ada"}


def _user_count(api):
    return api.get("/users").json()["total"]


def test_status_fault_with_retry_after_for_the_next_n_requests(users):
    rule = users.fault(mode="status", status=429, retry_after="2", count=2)
    assert rule["remaining"] == 2
    assert rule["id"]
    for _ in range(2):
        response = users.get("/users")
        assert response.status_code == 429
        assert response.headers["Retry-After"] == "2"
        assert response.json()["error"]["type"] == "rate_limited"
        assert response.headers["X-Request-Id"]
    assert users.get("/users").status_code == 200
    assert users.get("/_test/faults").json() == {"count": 0, "rules": []}


def test_remaining_count_is_listed(users):
    users.fault(mode="status", count=3)
    users.get("/users")
    rules = users.get("/_test/faults").json()["rules"]
    assert [(r["mode"], r["status"], r["remaining"]) for r in rules] == [("status", 503, 2)]


def test_custom_body_and_http_date_retry_after(users):
    when = "Wed, 21 Oct 2026 07:28:00 GMT"
    users.fault(mode="status", status=503, retry_after=when, body={"custom": [1, 2]})
    response = users.get("/users")
    assert (response.status_code, response.headers["Retry-After"]) == (503, when)
    assert response.json() == {"custom": [1, 2]}


def test_path_and_method_filters(users):
    users.fault(mode="status", status=500, path="/users/lookup", count=5)
    users.fault(mode="status", status=502, method="post", path="/users*", count=5)
    assert users.get("/users").status_code == 200
    assert users.get("/users/lookup", params={"email": "a@b.co"}).status_code == 500
    assert users.post("/users", json=USER).status_code == 502
    assert users.get("/users/usr_1").status_code == 404


def test_apply_before_skips_the_handler_and_after_runs_it(users):
    users.fault(mode="status", status=503, apply="before", method="POST")
    assert users.post("/users", json=USER).status_code == 503
    assert _user_count(users) == 0
    users.fault(mode="status", status=503, apply="after", method="POST")
    assert users.post("/users", json=USER).status_code == 503
    assert _user_count(users) == 1
    assert users.get("/users/lookup", params={"email": USER["email"]}).status_code == 200


def test_slow_before_delays_the_real_answer(users):
    users.fault(mode="slow", delay_ms=600)
    started = time.monotonic()
    response = users.get("/users")
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert 0.55 <= elapsed < 5
    assert users.get("/users").elapsed.total_seconds() < 0.5


def test_slow_after_creates_before_delaying(users):
    users.fault(mode="slow", delay_ms=3000, apply="after", method="POST")
    with pytest.raises(requests.Timeout):
        users.post("/users", json=USER, timeout=0.5)
    # The client gave up, but the user exists: the side effect preceded the delay.
    assert _user_count(users) == 1


def test_slow_after_holds_a_payment_key_in_flight(payments):
    payments.fault(mode="slow", delay_ms=3000, apply="after", path="/payments")
    body = {"amount": 10, "currency": "EUR", "user_id": "u", "payment_method_token": "t"}
    headers = {"Idempotency-Key": "held"}
    with pytest.raises(requests.Timeout):
        payments.post("/payments", json=body, headers=headers, timeout=0.5)
    retry = payments.post("/payments", json=body, headers=headers)
    assert retry.status_code == 409
    assert retry.json()["error"]["type"] == "idempotency_in_flight"
    assert len(payments.get("/_test/ledger").json()["charges"]) == 1


@pytest.mark.parametrize("apply", ["before", "after"])
def test_malformed_is_a_200_that_is_not_json(users, apply):
    users.fault(mode="malformed", apply=apply, method="POST")
    response = users.post("/users", json=USER)
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.text)
    assert _user_count(users) == (1 if apply == "after" else 0)


def _raw_get(url, path, method="GET", body=b""):
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        sock.sendall(head.encode() + body)
        data = b""
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    return data


@pytest.mark.parametrize("apply", ["before", "after"])
def test_truncated_declares_more_than_it_sends_then_closes(users, apply):
    users.fault(mode="truncated", apply=apply, method="POST")
    raw = _raw_get(users.url, "/users", "POST", json.dumps(USER).encode())
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 20")
    declared = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length")
    )
    assert 0 < len(body) < declared
    assert _user_count(users) == (1 if apply == "after" else 0)


def test_truncated_breaks_a_requests_client(users):
    users.fault(mode="truncated")
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        users.get("/users")
    assert users.get("/users").status_code == 200


def test_test_endpoints_and_healthz_are_never_faulted_or_logged(users):
    users.fault(mode="status", status=503, count=10)
    assert users.get("/healthz").status_code == 200
    assert users.get("/_test/faults").status_code == 200
    assert users.logged() == []
    assert users.delete("/_test/faults").status_code == 204
    assert users.get("/users").status_code == 200


def test_an_empty_rule_is_the_default_503_for_the_next_request(users):
    rule = users.post("/_test/faults", json={}).json()
    assert (rule["mode"], rule["status"], rule["count"], rule["apply"]) == (
        "status", 503, 1, "before"
    )  # fmt: skip
    assert users.get("/users").status_code == 503
    assert users.get(f"/_test/faults/{rule['id']}").json()["hits"] == 1


def test_a_rule_keeps_its_hits_after_it_is_used_up_until_the_reset(users):
    rule = users.post("/_test/faults", json={"mode": "status", "count": 2}).json()
    assert rule["hits"] == 0
    assert [users.get("/users").status_code for _ in range(3)] == [503, 503, 200]
    used_up = users.get(f"/_test/faults/{rule['id']}").json()
    assert (used_up["hits"], used_up["remaining"]) == (2, 0)
    assert users.get("/_test/faults").json()["rules"] == []
    assert users.post("/_test/reset").status_code == 204
    assert users.get(f"/_test/faults/{rule['id']}").status_code == 404


@pytest.mark.parametrize(
    "rule",
    [
        {"mode": "explode"},
        {"mode": "status", "count": 0},
        {"mode": "status", "status": 700},
        {"mode": "status", "path": "users"},
        {"mode": "slow", "delay_ms": -1},
        {"mode": "status", "apply": "during"},
        {"mode": "status", "colour": "red"},
    ],
)
def test_invalid_rules_are_422(users, rule):
    response = users.post("/_test/faults", json=rule)
    assert response.status_code == 422
    assert response.json()["error"]["type"] == "validation_error"


def test_request_log_and_reset(payments):
    body = {"amount": 10, "currency": "EUR", "user_id": "u", "payment_method_token": "t"}
    payments.post("/payments", json=body, headers={"Idempotency-Key": "k1"})
    payments.get("/payments/nope")
    log = payments.get("/_test/requests").json()
    assert log["count"] == 2
    first, second = log["requests"]
    assert (first["method"], first["path"], first["idempotency_key"], first["status"]) == (
        "POST",
        "/payments",
        "k1",
        201,
    )
    assert (second["path"], second["idempotency_key"], second["status"]) == (
        "/payments/nope",
        None,
        404,
    )
    assert first["at"].endswith("Z")
    payments.fault(mode="status")
    assert payments.post("/_test/reset").status_code == 204
    assert payments.logged() == []
    assert payments.get("/_test/faults").json()["count"] == 0
    assert payments.get("/_test/ledger").json() == {"charges": [], "refunds": [], "by_key": {}}
    assert payments.get("/payments/by-idempotency-key/k1").status_code == 404


def test_test_endpoints_are_absent_outside_test_mode():
    with serve("payments", test_mode=False) as server:
        for method, path in [
            ("POST", "/_test/faults"),
            ("GET", "/_test/faults"),
            ("POST", "/_test/reset"),
            ("GET", "/_test/requests"),
            ("POST", "/_test/states"),
            ("GET", "/_test/ledger"),
        ]:
            response = requests.request(method, server.url + path, json={}, timeout=5)
            assert response.status_code == 404, path
            assert response.json()["error"]["type"] == "not_found"
        assert requests.get(server.url + "/healthz", timeout=5).json()["service"] == "payments"


def test_unexpected_exception_is_a_json_500_without_traceback():
    app = create_app("users")

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internals")

    with serve("users", app=app) as server:
        response = requests.get(server.url + "/boom", headers={"X-Request-Id": "r1"}, timeout=5)
        assert response.status_code == 500
        assert response.json() == {
            "error": {"type": "internal", "message": "internal server error"}
        }
        assert response.headers["X-Request-Id"] == "r1"
        assert "secret" not in response.text
        assert "Traceback" not in response.text
        assert requests.get(server.url + "/users", timeout=5).status_code == 200
