"""The users service over real HTTP: every route, its success and its errors."""

from __future__ import annotations

import re

import pytest

TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def _create(users, email="ada@example.com", name="Ada"):
    response = users.post("/users", json={"email": email, "name": name})
    assert response.status_code == 201, response.text
    return response.json()


def _error(response, status, error_type):
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["error"]["type"] == error_type
    assert body["error"]["message"]
    assert "Traceback" not in response.text
    return body["error"]


def test_create_returns_the_user_with_id_and_timestamps(users):
    user = _create(users)
    assert set(user) == {"id", "email", "name", "created_at", "updated_at"}
    assert user["email"] == "ada@example.com"
    assert user["name"] == "Ada"
    assert isinstance(user["id"], str)
    assert user["id"]
    assert TS.match(user["created_at"])
    assert TS.match(user["updated_at"])


def test_duplicate_email_is_a_conflict_case_insensitively(users):
    _create(users)
    _error(users.post("/users", json={"email": "ADA@example.com", "name": "B"}), 409, "conflict")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email", "name": "Ada"}, "email"),
        ({"email": "ada@example.com", "name": ""}, "name"),
        ({"email": "ada@example.com", "name": "x" * 201}, "name"),
        ({"email": "ada@example.com"}, "name"),
        ({"email": "ada@example.com", "name": "Ada", "admin": True}, "admin"),
    ],
)
def test_invalid_create_is_422_with_field_details(users, body, field):
    error = _error(users.post("/users", json=body), 422, "validation_error")
    assert field in [d["field"] for d in error["details"]]


def test_body_that_is_not_json_is_422(users):
    response = users.post("/users", data="{nope", headers={"Content-Type": "application/json"})
    error = _error(response, 422, "validation_error")
    assert error["details"] == [{"field": "body", "message": "request body is not valid JSON"}]


def test_get_by_id_and_unknown_id(users):
    user = _create(users)
    assert users.get(f"/users/{user['id']}").json() == user
    _error(users.get("/users/usr_missing"), 404, "not_found")


def test_lookup_by_email(users):
    user = _create(users)
    assert users.get("/users/lookup", params={"email": "Ada@Example.com"}).json() == user
    _error(users.get("/users/lookup", params={"email": "bob@example.com"}), 404, "not_found")
    _error(users.get("/users/lookup", params={"email": "nope"}), 422, "validation_error")
    _error(users.get("/users/lookup"), 422, "validation_error")


def test_patch_updates_given_fields_only(users):
    user = _create(users)
    updated = users.patch(f"/users/{user['id']}", json={"name": "Ada L."}).json()
    assert updated["name"] == "Ada L."
    assert updated["email"] == user["email"]
    assert updated["created_at"] == user["created_at"]
    updated = users.patch(f"/users/{user['id']}", json={"email": "ada@lovelace.org"}).json()
    assert updated["email"] == "ada@lovelace.org"
    assert users.get(f"/users/{user['id']}").json() == updated


def test_patch_errors(users):
    ada = _create(users)
    _create(users, email="bob@example.com", name="Bob")
    path = f"/users/{ada['id']}"
    _error(users.patch(path, json={"email": "bob@example.com"}), 409, "conflict")
    _error(users.patch(path, json={}), 422, "validation_error")
    _error(users.patch(path, json={"name": None}), 422, "validation_error")
    _error(users.patch(path, json={"email": "nope"}), 422, "validation_error")
    _error(users.patch("/users/usr_missing", json={"name": "X"}), 404, "not_found")
    # Keeping one's own email is not a conflict.
    assert users.patch(path, json={"email": "ada@example.com"}).status_code == 200


def test_list_is_paginated_in_creation_order(users):
    ids = [_create(users, f"u{i}@example.com", f"U{i}")["id"] for i in range(5)]
    first = users.get("/users", params={"page_size": 2}).json()
    assert [u["id"] for u in first["items"]] == ids[:2]
    assert (first["page"], first["page_size"], first["total"]) == (1, 2, 5)
    last = users.get("/users", params={"page": 3, "page_size": 2}).json()
    assert [u["id"] for u in last["items"]] == ids[4:]
    beyond = users.get("/users", params={"page": 9, "page_size": 2}).json()
    assert beyond["items"] == []
    assert beyond["total"] == 5
    default = users.get("/users").json()
    assert (default["page"], default["page_size"]) == (1, 20)


@pytest.mark.parametrize(
    "params", [{"page": 0}, {"page_size": 0}, {"page_size": 101}, {"page": "x"}]
)
def test_list_rejects_bad_paging(users, params):
    _error(users.get("/users", params=params), 422, "validation_error")


def test_unknown_route_and_wrong_method_get_json_errors(users):
    _error(users.get("/nowhere"), 404, "not_found")
    response = users.delete("/users")
    assert response.status_code == 405
    assert response.json()["error"]["message"]


def test_request_id_is_echoed_or_generated(users):
    response = users.get("/users", headers={"X-Request-Id": "req-123"})
    assert response.headers["X-Request-Id"] == "req-123"
    assert users.get("/users/usr_missing").headers["X-Request-Id"]


def test_bearer_token_is_accepted(users):
    response = users.get("/users", headers={"Authorization": "Bearer anything"})
    assert response.status_code == 200


def test_healthz(users):
    assert users.get("/healthz").json() == {"status": "ok", "service": "users"}
