"""Each error class: raised for the right failure, carrying what the caller needs."""

from __future__ import annotations

import pickle
from dataclasses import replace

import pytest
import requests
import urllib3.exceptions

import stormproof.clients._errors as errors_module
from stormproof import clients
from stormproof.clients import (
    BreakerPolicy,
    CircuitOpenError,
    ClientRequestError,
    ConflictError,
    ConnectTimeoutError,
    DeadlineExceededError,
    NotFoundError,
    PaymentOutcomeUnknownError,
    RateLimitedError,
    ReadTimeoutError,
    RequestValidationError,
    ResponseTruncatedError,
    ResponseValidationError,
    ServerError,
    ServiceError,
    ServiceTimeoutError,
    ServiceUnavailableError,
    UserServiceClient,
)
from stormproof.clients.testing import instant_runtime

from .conftest import BASE, PAY_ARGS, POLICY, USER, error_body

ONE_TRY = replace(POLICY, retry=replace(POLICY.retry, max_attempts=1))


@pytest.fixture
def once(clock):
    with UserServiceClient(BASE, policy=ONE_TRY, runtime=instant_runtime(0, clock)) as client:
        yield client


def refused() -> requests.ConnectionError:
    reason = urllib3.exceptions.NewConnectionError(None, "Failed to establish a new connection")
    return requests.ConnectionError(urllib3.exceptions.MaxRetryError(None, "/", reason))


def unresolvable() -> requests.ConnectionError:
    reason = urllib3.exceptions.NameResolutionError("svc.test", None, OSError("no such host"))
    return requests.ConnectionError(urllib3.exceptions.MaxRetryError(None, "/", reason))


def reset() -> requests.ConnectionError:
    inner = urllib3.exceptions.ProtocolError("Connection aborted.", ConnectionResetError(104))
    return requests.ConnectionError(inner)


@pytest.mark.parametrize(
    ("status", "kind", "expected"),
    [
        (404, "not_found", NotFoundError),
        (409, "conflict", ConflictError),
        (422, "validation_error", ClientRequestError),
        (401, None, ClientRequestError),
        (429, "rate_limited", RateLimitedError),
        (500, "internal", ServerError),
        (502, None, ServiceUnavailableError),
        (503, "unavailable", ServiceUnavailableError),
        (504, None, ServiceUnavailableError),
    ],
)
def test_status_codes_map_to_error_classes(once, rsps, status, kind, expected):
    body = error_body(kind, "the service said no") if kind else {"detail": "x"}
    rsps.get(f"{BASE}/users/u1", json=body, status=status)
    with pytest.raises(expected) as caught:
        once.get_user("u1")
    error = caught.value
    assert type(error) is expected
    assert (error.service, error.operation, error.status_code) == ("users", "get_user", status)
    assert error.attempts == 1
    assert error.error_type == kind
    assert error.request_id == rsps.calls[0].request.headers["X-Request-Id"]
    text = str(error)
    assert f"GET /users/u1 answered {status}" in text
    assert error.hint in text
    if kind:
        assert "the service said no" in text


def test_validation_details_from_the_service_become_problems(once, rsps):
    body = {
        "error": {
            "type": "validation_error",
            "message": "bad",
            "details": [{"field": "email", "message": "not an email"}],
        }
    }
    rsps.post(f"{BASE}/users", json=body, status=422)
    with pytest.raises(ClientRequestError) as caught:
        once.create_user(email="ada@example.com", name="Ada")
    assert [(p.field, p.message) for p in caught.value.problems] == [("email", "not an email")]


@pytest.mark.parametrize(
    ("exc", "expected", "fragment"),
    [
        (requests.ConnectTimeout("connect timed out"), ConnectTimeoutError, "connect timeout"),
        (requests.ReadTimeout("read timed out"), ReadTimeoutError, "read timeout"),
        (refused(), ServiceUnavailableError, "connection could not be opened"),
        (reset(), ServiceUnavailableError, "reset"),
        (unresolvable(), ServiceUnavailableError, "host name could not be resolved"),
        (
            requests.exceptions.ContentDecodingError("gzip: bad header"),
            ResponseValidationError,
            "could not be decoded",
        ),
        (
            requests.exceptions.ChunkedEncodingError(
                urllib3.exceptions.ProtocolError("IncompleteRead(3 bytes read, 10 more expected)")
            ),
            ResponseTruncatedError,
            "truncated",
        ),
    ],
)
def test_transport_failures_map_to_error_classes(once, rsps, exc, expected, fragment):
    rsps.get(f"{BASE}/users/u1", body=exc)
    with pytest.raises(expected) as caught:
        once.get_user("u1")
    assert fragment in str(caught.value)
    assert caught.value.cause is exc
    assert caught.value.__cause__ is exc


def test_timeouts_share_a_base_class():
    for cls in (ConnectTimeoutError, ReadTimeoutError, DeadlineExceededError):
        assert issubclass(cls, ServiceTimeoutError)
        assert issubclass(cls, ServiceError)
    assert issubclass(NotFoundError, ClientRequestError)
    assert issubclass(ConflictError, ClientRequestError)
    assert issubclass(RequestValidationError, ValueError)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"body": b"<html>oops</html>", "content_type": "text/html"}, "content type 'text/html'"),
        ({"body": b"{not json", "content_type": "application/json"}, "not valid JSON"),
        ({"json": {"id": "u1", "email": "x"}}, "does not match User: name: Field required"),
        ({"json": {**USER, "created_at": "yesterday"}}, "created_at"),
    ],
)
def test_unusable_responses_raise_response_validation_error(users, rsps, kwargs, fragment):
    rsps.get(f"{BASE}/users/u1", **kwargs)
    with pytest.raises(ResponseValidationError) as caught:
        users.get_user("u1")  # a safe read with 3 attempts allowed
    assert fragment in str(caught.value)
    assert caught.value.status_code == 200
    assert len(rsps.calls) == 1  # never retried
    assert caught.value.attempts == 1


def test_schema_mismatch_lists_the_fields(once, rsps):
    rsps.get(f"{BASE}/users/u1", json={"id": "u1"})
    with pytest.raises(ResponseValidationError) as caught:
        once.get_user("u1")
    assert {p.field for p in caught.value.problems} == {"email", "name", "created_at", "updated_at"}


def test_unexpected_redirect_is_not_followed(once, rsps):
    rsps.get(f"{BASE}/users/u1", status=302, headers={"Location": "http://elsewhere.test/"})
    with pytest.raises(ResponseValidationError, match="302"):
        once.get_user("u1")


@pytest.mark.parametrize(
    ("call", "fragments"),
    [
        (lambda c: c.get_user(""), ["user_id: String should have at least 1 character"]),
        (lambda c: c.find_user_by_email("not-an-email"), ["email: String should match pattern"]),
        (lambda c: c.create_user(email="a@b.co", name=""), ["name: String should have at least"]),
        (lambda c: c.update_user("u1"), ["give at least one of email or name"]),
        (lambda c: c.list_users(page=0), ["page: Input should be greater than or equal to 1"]),
        (lambda c: c.list_users(page_size=101), ["page_size: Input should be less than or equal"]),
        (lambda c: c.list_users(page="2"), ["page: Input should be a valid integer"]),
    ],
)
def test_request_validation_happens_before_any_network_call(once, rsps, call, fragments):
    with pytest.raises(RequestValidationError) as caught:
        call(once)
    assert len(rsps.calls) == 0
    assert caught.value.attempts == 0
    assert "nothing was sent" in str(caught.value)
    for fragment in fragments:
        assert fragment in str(caught.value)


def test_payment_request_validation_lists_every_bad_field(payments, rsps):
    with pytest.raises(RequestValidationError) as caught:
        payments.create_payment(
            amount=0, currency="eur", user_id="u1", payment_method_token="tok_1234567890"
        )
    fields = {p.field for p in caught.value.problems}
    assert fields == {"amount", "currency"}
    assert "tok_1234567890" not in str(caught.value)
    assert len(rsps.calls) == 0


def test_notification_channel_is_validated(notifications, rsps):
    with pytest.raises(RequestValidationError, match="channel: Input should be 'email'"):
        notifications.send_notification(channel="fax", recipient="x", body="y")
    assert len(rsps.calls) == 0


def test_bool_is_not_an_amount(payments, rsps):
    with pytest.raises(RequestValidationError, match="amount"):
        payments.create_payment(**{**PAY_ARGS, "amount": True})


def test_circuit_open_error_says_when_to_come_back(clock, rsps):
    policy = replace(ONE_TRY, breaker=BreakerPolicy(failure_threshold=1, reset_timeout_s=30.0))
    client = UserServiceClient(BASE, policy=policy, runtime=instant_runtime(0, clock))
    rsps.get(f"{BASE}/users/u1", status=503, json=error_body("unavailable"))
    with pytest.raises(ServiceUnavailableError):
        client.get_user("u1")
    clock.advance(10.0)
    with pytest.raises(CircuitOpenError) as caught:
        client.get_user("u1")
    assert caught.value.attempts == 0
    assert caught.value.retry_after == pytest.approx(20.0)
    assert "no request was sent" in str(caught.value)
    assert len(rsps.calls) == 1


def test_payment_outcome_unknown_carries_the_key_and_what_to_do(payments, rsps):
    rsps.post(f"{BASE}/payments", body=requests.ReadTimeout("read timed out"))
    with pytest.raises(PaymentOutcomeUnknownError) as caught:
        payments.create_payment(**PAY_ARGS, idempotency_key="pay-42")
    error = caught.value
    assert error.idempotency_key == "pay-42"
    assert error.attempts == 3
    assert isinstance(error.cause, ReadTimeoutError)
    assert "get_payment_by_idempotency_key" in str(error)
    assert "'pay-42'" in str(error)


def test_payment_rejection_is_not_outcome_unknown(payments, rsps):
    rsps.post(f"{BASE}/payments", status=422, json=error_body("idempotency_mismatch"))
    with pytest.raises(ClientRequestError) as caught:
        payments.create_payment(**PAY_ARGS)
    assert caught.value.error_type == "idempotency_mismatch"
    assert len(rsps.calls) == 1


def test_payment_refused_connection_is_not_outcome_unknown(payments, rsps):
    rsps.post(f"{BASE}/payments", body=refused())
    with pytest.raises(ServiceUnavailableError) as caught:
        payments.create_payment(**PAY_ARGS)
    assert caught.value.attempts == 3


def test_malformed_success_of_a_payment_is_outcome_unknown(payments, rsps):
    rsps.post(f"{BASE}/payments", body=b"{oops", status=201, content_type="application/json")
    with pytest.raises(PaymentOutcomeUnknownError) as caught:
        payments.create_payment(**PAY_ARGS)
    assert isinstance(caught.value.cause, ResponseValidationError)
    assert len(rsps.calls) == 1


def test_errors_survive_pickling():
    error = PaymentOutcomeUnknownError(
        "boom", idempotency_key="k", service="payments", operation="create_payment", attempts=2
    )
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is PaymentOutcomeUnknownError
    assert (copy.idempotency_key, copy.attempts, str(copy)) == ("k", 2, str(error))


def test_error_repr_is_short_and_named():
    error = NotFoundError("GET /users/x answered 404", service="users", operation="get_user")
    assert repr(error).startswith("NotFoundError(service='users', operation='get_user'")


def test_error_tree_docstring_names_every_error_class():
    doc = errors_module.__doc__ or ""
    classes = {
        name
        for name in clients.__all__
        if isinstance(getattr(clients, name), type)
        and issubclass(getattr(clients, name), ServiceError)
    }
    drawn = {
        line.split("──", 1)[1].split()[0]
        for line in doc.splitlines()
        if "├──" in line or "└──" in line
    }
    drawn.add("ServiceError")
    assert drawn == classes


def test_payment_lookup_not_found(payments, rsps):
    rsps.get(f"{BASE}/payments/by-idempotency-key/nope", status=404, json=error_body("not_found"))
    with pytest.raises(NotFoundError):
        payments.get_payment_by_idempotency_key("nope")


def test_refund_of_unknown_payment_is_not_found(payments, rsps):
    rsps.post(f"{BASE}/payments/p9/refunds", status=404, json=error_body("not_found"))
    with pytest.raises(NotFoundError) as caught:
        payments.refund_payment("p9")
    assert caught.value.attempts == 1


def test_a_404_after_an_ambiguous_refund_attempt_is_outcome_unknown(payments, rsps):
    # The 404 may come from a gateway in front of the service: it says nothing about the
    # first attempt, which may have refunded.
    rsps.post(f"{BASE}/payments/p9/refunds", status=503, json=error_body("unavailable"))
    rsps.post(f"{BASE}/payments/p9/refunds", status=404, json=error_body("not_found"))
    with pytest.raises(PaymentOutcomeUnknownError) as caught:
        payments.refund_payment("p9")
    assert caught.value.attempts == 2
    assert isinstance(caught.value.cause, NotFoundError)


def test_a_connect_timeout_cut_to_the_deadline_is_deadline_exceeded(rsps, clock):
    policy = replace(POLICY, connect_timeout_s=5.0, deadline_s=1.0)
    client = UserServiceClient(BASE, policy=policy, runtime=instant_runtime(0, clock))
    rsps.get(f"{BASE}/users/u1", body=requests.ConnectTimeout("connect timed out"))
    with pytest.raises(DeadlineExceededError) as caught:
        client.get_user("u1")
    assert caught.value.attempts == 1  # no time was left to try again


def test_a_read_timeout_cut_to_the_deadline_is_deadline_exceeded(rsps, clock):
    policy = replace(POLICY, read_timeout_s=5.0, deadline_s=1.0)
    client = UserServiceClient(BASE, policy=policy, runtime=instant_runtime(0, clock))
    rsps.get(f"{BASE}/users/u1", body=requests.ReadTimeout("read timed out"))
    with pytest.raises(DeadlineExceededError, match="before the call's deadline"):
        client.get_user("u1")


def test_an_unusable_answer_after_a_retry_does_not_claim_the_call_was_not_retried(users, rsps):
    rsps.get(f"{BASE}/users/u1", status=503, json=error_body("unavailable"))
    rsps.get(f"{BASE}/users/u1", status=200, body="not json", content_type="application/json")
    with pytest.raises(ResponseValidationError) as caught:
        users.get_user("u1")
    assert caught.value.attempts == 2
    assert "not retried" not in str(caught.value)
    assert "never retried" in str(caught.value)  # it speaks of the answer, which is true
