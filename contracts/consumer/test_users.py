"""Consumer contract of the users service, driven through the real ``UserServiceClient``."""

from __future__ import annotations

import pytest
from pact import Pact, match

from contracts.consumer._shapes import JSON, client_for, error, user
from stormproof.clients import (
    ClientRequestError,
    ConflictError,
    NotFoundError,
    RateLimitedError,
    ServiceUnavailableError,
    UserServiceClient,
)


def test_get_user(users_pact: Pact) -> None:
    (
        users_pact.upon_receiving("a request for user usr_1")
        .given("a user with id usr_1 exists")
        .with_request("GET", "/users/usr_1")
        .with_header("Accept", JSON)
        .will_respond_with(200)
        .with_body(user(user_id="usr_1"), content_type=JSON)
    )
    with client_for(users_pact, UserServiceClient) as client:
        found = client.get_user("usr_1")
    assert found.id == "usr_1"
    assert found.email == "ada@example.com"
    assert found.created_at.tzinfo is not None


def test_get_user_not_found(users_pact: Pact) -> None:
    (
        users_pact.upon_receiving("a request for a user that does not exist")
        .given("no user with id usr_404 exists")
        .with_request("GET", "/users/usr_404")
        .will_respond_with(404)
        .with_body(error("not_found"), content_type=JSON)
    )
    with client_for(users_pact, UserServiceClient) as client, pytest.raises(NotFoundError) as info:
        client.get_user("usr_404")
    assert info.value.status_code == 404
    assert info.value.error_type == "not_found"


def test_find_user_by_email(users_pact: Pact) -> None:
    (
        users_pact.upon_receiving("a lookup of a user by email")
        .given("a user with email ada@example.com exists")
        .with_request("GET", "/users/lookup")
        .with_query_parameter("email", "ada@example.com")
        .will_respond_with(200)
        .with_body(user(email="ada@example.com"), content_type=JSON)
    )
    with client_for(users_pact, UserServiceClient) as client:
        found = client.find_user_by_email("ada@example.com")
    assert found.email == "ada@example.com"


def test_find_user_by_email_not_found(users_pact: Pact) -> None:
    (
        users_pact.upon_receiving("a lookup of an email no user has")
        .given("no user with email nobody@example.com exists")
        .with_request("GET", "/users/lookup")
        .with_query_parameter("email", "nobody@example.com")
        .will_respond_with(404)
        .with_body(error("not_found"), content_type=JSON)
    )
    with client_for(users_pact, UserServiceClient) as client, pytest.raises(NotFoundError):
        client.find_user_by_email("nobody@example.com")


def test_create_user(users_pact: Pact) -> None:
    (
        users_pact.upon_receiving("a request to create a user")
        .given("no user with email grace@example.com exists")
        .with_request("POST", "/users")
        .with_body({"email": "grace@example.com", "name": "Grace Hopper"}, content_type=JSON)
        .will_respond_with(201)
        .with_body(user(email="grace@example.com", name="Grace Hopper"), content_type=JSON)
    )
    with client_for(users_pact, UserServiceClient) as client:
        created = client.create_user(email="grace@example.com", name="Grace Hopper")
    assert (created.email, created.name) == ("grace@example.com", "Grace Hopper")
    assert created.id


def test_create_user_conflict(users_pact: Pact) -> None:
    (
        users_pact.upon_receiving("a request to create a user with a taken email")
        .given("a user with email taken@example.com exists")
        .with_request("POST", "/users")
        .with_body({"email": "taken@example.com", "name": "Someone Else"}, content_type=JSON)
        .will_respond_with(409)
        .with_body(error("conflict"), content_type=JSON)
    )
    with client_for(users_pact, UserServiceClient) as client, pytest.raises(ConflictError) as info:
        client.create_user(email="taken@example.com", name="Someone Else")
    assert info.value.error_type == "conflict"


def test_create_user_invalid(users_pact: Pact) -> None:
    # The client accepts a trailing dot in the domain; the service does not (422 on `email`).
    (
        users_pact.upon_receiving("a request to create a user with an invalid email")
        .with_request("POST", "/users")
        .with_body({"email": "ada@example.com.", "name": "Ada"}, content_type=JSON)
        .will_respond_with(422)
        .with_body(error("validation_error", field="email"), content_type=JSON)
    )
    with (
        client_for(users_pact, UserServiceClient) as client,
        pytest.raises(ClientRequestError) as info,
    ):
        client.create_user(email="ada@example.com.", name="Ada")
    assert type(info.value) is ClientRequestError
    assert info.value.status_code == 422
    assert [p.field for p in info.value.problems] == ["email"]


def test_update_user(users_pact: Pact) -> None:
    (
        users_pact.upon_receiving("a request to rename user usr_1")
        .given("a user with id usr_1 exists")
        .with_request("PATCH", "/users/usr_1")
        .with_body({"name": "Ada King"}, content_type=JSON)
        .will_respond_with(200)
        .with_body(user(user_id="usr_1", name="Ada King"), content_type=JSON)
    )
    with client_for(users_pact, UserServiceClient) as client:
        updated = client.update_user("usr_1", name="Ada King")
    assert (updated.id, updated.name) == ("usr_1", "Ada King")


def test_update_user_not_found(users_pact: Pact) -> None:
    (
        users_pact.upon_receiving("a request to rename a user that does not exist")
        .given("no user with id usr_404 exists")
        .with_request("PATCH", "/users/usr_404")
        .with_body({"name": "Nobody"}, content_type=JSON)
        .will_respond_with(404)
        .with_body(error("not_found"), content_type=JSON)
    )
    with client_for(users_pact, UserServiceClient) as client, pytest.raises(NotFoundError):
        client.update_user("usr_404", name="Nobody")


def test_update_user_conflict(users_pact: Pact) -> None:
    (
        users_pact.upon_receiving("a request to change a user's email to a taken one")
        .given("a user with id usr_1 exists")
        .given("a user with email taken@example.com exists")
        .with_request("PATCH", "/users/usr_1")
        .with_body({"email": "taken@example.com"}, content_type=JSON)
        .will_respond_with(409)
        .with_body(error("conflict"), content_type=JSON)
    )
    with client_for(users_pact, UserServiceClient) as client, pytest.raises(ConflictError):
        client.update_user("usr_1", email="taken@example.com")


def test_list_users(users_pact: Pact) -> None:
    (
        users_pact.upon_receiving("a request for the first page of users")
        .given("3 users exist")
        .with_request("GET", "/users")
        .with_query_parameter("page", "1")
        .with_query_parameter("page_size", "2")
        .will_respond_with(200)
        .with_body(
            {
                "items": match.each_like(user(), min=1),
                "page": 1,
                "page_size": 2,
                "total": match.int(3),
            },
            content_type=JSON,
        )
    )
    with client_for(users_pact, UserServiceClient) as client:
        page = client.list_users(page=1, page_size=2)
    assert (page.page, page.page_size) == (1, 2)
    assert page.items
    assert page.total >= len(page.items)


def test_get_user_rate_limited(users_pact: Pact) -> None:
    (
        users_pact.upon_receiving("a request for a user while the service is rate limiting")
        .given("the service is rate limiting", retry_after="2")
        .with_request("GET", "/users/usr_1")
        .will_respond_with(429)
        .with_header("Retry-After", "2")
        .with_body(error("rate_limited"), content_type=JSON)
    )
    with (
        client_for(users_pact, UserServiceClient) as client,
        pytest.raises(RateLimitedError) as info,
    ):
        client.get_user("usr_1")
    assert info.value.retry_after == 2.0


def test_list_users_unavailable(users_pact: Pact) -> None:
    (
        users_pact.upon_receiving("a request for users while the service is unavailable")
        .given("the service is unavailable", retry_after="3")
        .with_request("GET", "/users")
        .with_query_parameter("page", "1")
        .with_query_parameter("page_size", "20")
        .will_respond_with(503)
        .with_header("Retry-After", "3")
        .with_body(error("unavailable"), content_type=JSON)
    )
    with (
        client_for(users_pact, UserServiceClient) as client,
        pytest.raises(ServiceUnavailableError) as info,
    ):
        client.list_users()
    assert info.value.status_code == 503
    assert info.value.retry_after == 3.0


def test_update_user_invalid(users_pact: Pact) -> None:
    (
        users_pact.upon_receiving("a request to change a user's email to an invalid one")
        .given("a user with id usr_1 exists")
        .with_request("PATCH", "/users/usr_1")
        .with_body({"email": "ada@example.com."}, content_type=JSON)
        .will_respond_with(422)
        .with_body(error("validation_error", field="email"), content_type=JSON)
    )
    with (
        client_for(users_pact, UserServiceClient) as client,
        pytest.raises(ClientRequestError) as info,
    ):
        client.update_user("usr_1", email="ada@example.com.")
    assert type(info.value) is ClientRequestError
    assert info.value.error_type == "validation_error"
