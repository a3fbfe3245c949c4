"""Client robustness: arbitrary answers end in a success or a ServiceError, never leak a secret.

Hypothesis feeds every operation of the three clients a sequence of answers (one per attempt):
any status, any headers (Retry-After garbage, wrong or missing content types, bogus
Content-Length and Content-Encoding), bodies of random bytes, JSON of the wrong shape, huge
bodies, bodies cut short, and transport failures. Service text is salted with the call's
secrets. The instant runtime makes backoff and Retry-After waits take no real time.

``STORMPROOF_FUZZ_EXAMPLES=5000 pytest --timeout 0 tests/reliability/test_client_fuzz.py`` runs
a larger, randomised campaign (the suite's run is derandomised: the same on every machine).
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
import responses
import urllib3.exceptions
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from stormproof.clients import (
    LOGGER_NAME,
    BreakerPolicy,
    ClientEvent,
    NotificationServiceClient,
    PaymentServiceClient,
    ResiliencePolicy,
    RetryPolicy,
    ServiceError,
    UserServiceClient,
)
from stormproof.clients.testing import instant_runtime
from tests.reliability._figures import count

BASE = "http://svc.test"
ANY_URL = re.compile(r"http://svc\.test/.*")
BEARER = "fuzz-bearer-7f3a9c1e5b"
CARD = "tok_fuzz_4000056655665556"
ALWAYS_SECRET = (BEARER, f"Bearer {BEARER}")
CARD_SECRETS = (CARD, "4000056655665556")  # secrets of the calls that carry the card token
TS = "2026-11-29T07:46:08Z"
EXAMPLES = int(os.environ.get("STORMPROOF_FUZZ_EXAMPLES", "0"))

USER = {"id": "u1", "email": "ada@example.com", "name": "Ada", "created_at": TS, "updated_at": TS}
GOOD_BODIES: dict[str, Any] = {
    "user": USER,
    "page": {"items": [USER], "page": 1, "page_size": 20, "total": 1},
    "notification": {
        "id": "n1",
        "channel": "email",
        "recipient": "ada@example.com",
        "status": "queued",
        "created_at": TS,
        "updated_at": TS,
    },
    "payment": {
        "id": "p1",
        "amount": 1250,
        "currency": "EUR",
        "user_id": "u1",
        "status": "captured",
        "refunded_amount": 0,
        "created_at": TS,
    },
    "refund": {
        "id": "r1",
        "payment_id": "p1",
        "amount": 250,
        "status": "succeeded",
        "created_at": TS,
    },
}

PAY = {"amount": 1250, "currency": "EUR", "user_id": "u1", "payment_method_token": CARD}


@dataclass(frozen=True)
class Op:
    """One client operation: how to call it and which good body it expects."""

    service: str
    name: str
    method: str
    body: str
    call: Callable[[Any], Any]


OPS = (
    Op("users", "get_user", "GET", "user", lambda c: c.get_user("usr_1")),
    Op("users", "find_user_by_email", "GET", "user", lambda c: c.find_user_by_email("a@b.io")),
    Op("users", "create_user", "POST", "user", lambda c: c.create_user(email="a@b.io", name="A")),
    Op("users", "update_user", "PATCH", "user", lambda c: c.update_user("usr_1", name="B")),
    Op("users", "list_users", "GET", "page", lambda c: c.list_users(page=2, page_size=5)),
    Op("users", "iter_users", "GET", "page", lambda c: list(c.iter_users(1, max_pages=3))),
    Op(
        "notifications",
        "send_notification",
        "POST",
        "notification",
        lambda c: c.send_notification(channel="sms", recipient="+33600000000", body="hi"),
    ),
    Op(
        "notifications",
        "get_notification",
        "GET",
        "notification",
        lambda c: c.get_notification("n1"),
    ),
    Op("payments", "create_payment", "POST", "payment", lambda c: c.create_payment(**PAY)),
    Op("payments", "get_payment", "GET", "payment", lambda c: c.get_payment("p1")),
    Op(
        "payments",
        "get_payment_by_idempotency_key",
        "GET",
        "payment",
        lambda c: c.get_payment_by_idempotency_key("key-1"),
    ),
    Op(
        "payments",
        "refund_payment",
        "POST",
        "refund",
        lambda c: c.refund_payment("p1", 100, idempotency_key="refund-key-1"),
    ),
)
CLIENTS = {
    "users": UserServiceClient,
    "notifications": NotificationServiceClient,
    "payments": PaymentServiceClient,
}
POLICY = ResiliencePolicy(
    connect_timeout_s=1.0,
    read_timeout_s=2.0,
    deadline_s=10.0,
    retry=RetryPolicy(max_attempts=3, initial_backoff_s=0.1, max_backoff_s=1.0),
    breaker=BreakerPolicy(failure_threshold=2, reset_timeout_s=5.0),
)

# -- strategies ---------------------------------------------------------------------------------
# Header values travel as latin-1 on the wire; CR/LF would end the header.
header_text = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=40
)
secret_text = st.sampled_from(
    [
        BEARER,
        CARD,
        f"Bearer {BEARER}",
        f"Authorization: Bearer {BEARER}",
        f"payment_method_token={CARD}",
        f'{{"payment_method_token": "{CARD}"}}',
        f"card {CARD[-16:]} declined",
        f"x{BEARER}y",
    ]
)
service_text = st.one_of(st.text(max_size=30), secret_text, st.just("é" * 600))
retry_after = st.one_of(
    st.none(),
    st.integers(-5, 10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(
        [
            "",
            " ",
            "1e400",
            "-1e400",
            "inf",
            "nan",
            "0x10",
            "Wed, 21 Oct 2015 07:28:00 GMT",
            "Sun, 29 Nov 2026 07:46:10 GMT",
            "Fri, 31 Dec 9999 23:59:59 GMT",
            "Mon, 99 Foo 2026 99:99:99 GMT",
            "Wed, 21 Oct 2015 07:28:00",
            "soon",
        ]
    ),
    header_text,
)
content_type = st.one_of(
    st.sampled_from(
        [
            "application/json",
            "application/json; charset=utf-8",
            "APPLICATION/JSON",
            "application/problem+json",
            "application/jsonx",
            "text/html",
            "text/plain",
            "",
            "application/json; charset=nonsense",
        ]
    ),
    st.none(),
    header_text,
    secret_text.map(lambda secret: f"text/{secret}"),  # a service echoing a credential
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | service_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(service_text, inner, max_size=4),
    max_leaves=12,
)


@st.composite
def error_bodies(draw: st.DrawFn) -> Any:
    error: Any = {
        "type": draw(
            st.one_of(
                st.sampled_from(["not_found", "idempotency_in_flight"]), service_text, json_values
            )
        ),
        "message": draw(st.one_of(service_text, json_values)),
    }
    if draw(st.booleans()):
        error["details"] = draw(
            st.one_of(
                st.lists(
                    st.fixed_dictionaries({"field": service_text, "message": service_text}),
                    max_size=3,
                ),
                json_values,
            )
        )
    return draw(st.sampled_from([{"error": error}, error, {"error": draw(json_values)}]))


@st.composite
def mutated(draw: st.DrawFn, good: dict[str, Any]) -> Any:
    """A good body with one field dropped, retyped or salted, or extra fields."""
    body = dict(good)
    key = draw(st.sampled_from(sorted(body)))
    change = draw(st.sampled_from(["drop", "retype", "extra", "keep"]))
    if change == "drop":
        del body[key]
    elif change == "retype":
        body[key] = draw(json_values)
    elif change == "extra":
        body[draw(service_text)] = draw(json_values)
    return body


def bodies(good: str) -> st.SearchStrategy[bytes | Huge]:
    as_json = st.one_of(
        st.just(GOOD_BODIES[good]),
        mutated(GOOD_BODIES[good]),
        error_bodies(),
        json_values,
    ).map(lambda value: json.dumps(value).encode())
    return st.one_of(
        as_json,
        as_json,
        st.binary(max_size=200),
        st.just(b""),
        st.sampled_from([b"null", b"[]", b"{}", b"<html>502</html>", b'{"id": 1', b"\xff\xfe{}"]),
        # Huge: a few MB of JSON or of bytes, built when registered (a small repr on failure).
        st.builds(Huge, st.sampled_from(["json", "zeros"]), st.integers(1, 4)),
    )


@dataclass(frozen=True)
class Huge:
    """A body of ``megabytes`` MB: a JSON array of that size, or NUL bytes."""

    kind: str
    megabytes: int

    def content(self) -> bytes:
        if self.kind == "json":
            return b'{"items": [' + b"1," * (self.megabytes * 500_000) + b"1]}"
        return b"\x00" * (self.megabytes * 1_000_000)


TRANSPORT_FAILURES = (
    requests.ConnectionError("connection refused"),
    requests.ConnectTimeout("connect timed out"),
    requests.ReadTimeout("read timed out"),
    requests.exceptions.ChunkedEncodingError("body cut"),
    requests.exceptions.ContentDecodingError("bad gzip"),
    requests.exceptions.SSLError("handshake"),
    requests.ConnectionError(
        urllib3.exceptions.ProtocolError("aborted", ConnectionResetError(104))
    ),
    requests.ConnectionError(urllib3.exceptions.NewConnectionError(None, "refused")),  # type: ignore[arg-type]
)


@dataclass(frozen=True)
class Answer:
    """One attempt's answer: a transport failure, or status + headers + body."""

    failure: int | None
    status: int
    headers: dict[str, str]
    content_type: str | None
    body: bytes | Huge
    length: str  # "auto", "none", "short", "long" or a literal header value


@st.composite
def answers(draw: st.DrawFn, good: str) -> Answer:
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return Answer(draw(st.integers(0, len(TRANSPORT_FAILURES) - 1)), 0, {}, None, b"", "auto")
    if kind <= 3:  # a well-formed answer, so successes and retry-then-success paths run too
        status = draw(st.sampled_from([200, 201, 202]))
        body = draw(st.one_of(st.just(GOOD_BODIES[good]), mutated(GOOD_BODIES[good])))
        return Answer(None, status, {}, "application/json", json.dumps(body).encode(), "auto")
    status = draw(
        st.one_of(
            st.sampled_from([200, 201, 202, 200, 201, 204, 404, 409, 422, 429, 500, 502, 503, 504]),
            st.integers(100, 599),
        )
    )
    headers = draw(
        st.dictionaries(st.from_regex(r"\AX-[A-Za-z0-9-]{1,12}\Z"), header_text, max_size=2)
    )
    after = draw(retry_after)
    if after is not None:
        headers["Retry-After"] = after
    encoding = draw(st.sampled_from([None, None, None, "gzip", "deflate", "identity", "br", "x"]))
    if encoding is not None:
        headers["Content-Encoding"] = encoding
    length = draw(
        st.one_of(
            st.sampled_from(["auto", "auto", "auto", "none", "short", "long"]),
            st.sampled_from(["abc", "-1", "", "1e3", " 5"]),
        )
    )
    return Answer(None, status, headers, draw(content_type), draw(bodies(good)), length)


def _register(mock: responses.RequestsMock, method: str, answer: Answer) -> None:
    if answer.failure is not None:
        mock.add(method, ANY_URL, body=TRANSPORT_FAILURES[answer.failure])
        return
    headers = dict(answer.headers)
    body = answer.body.content() if isinstance(answer.body, Huge) else answer.body
    if answer.length == "auto":
        headers["Content-Length"] = str(len(body))
    elif answer.length == "long":  # declared longer than sent: the connection closed early
        headers["Content-Length"] = str(len(body) + 17)
    elif answer.length == "short" and body:
        headers["Content-Length"] = str(len(body) // 2)
    elif answer.length != "none":
        headers["Content-Length"] = answer.length
    mock.add(
        method,
        ANY_URL,
        body=body,
        status=answer.status,
        headers=headers,
        content_type=answer.content_type,
    )


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.texts.append(record.getMessage())
        self.texts.extend(str(value) for value in record.__dict__.values())


def _assert_no_secret(texts: list[str], where: str, secrets: tuple[str, ...]) -> None:
    for text in texts:
        for secret in secrets:
            assert secret not in text, f"secret {secret!r} leaked in {where}: {text[:300]!r}"


def _texts_of(error: BaseException) -> list[str]:
    texts = [str(error), repr(error)]
    if isinstance(error, ServiceError):
        texts += [error.detail, *(f"{p.field} {p.message}" for p in error.problems)]
        if isinstance(error.cause, ServiceError):
            texts += _texts_of(error.cause)
    return texts


def _one_case(op: Op, sequence: list[Answer]) -> str:
    secrets = ALWAYS_SECRET + (CARD_SECRETS if op.name == "create_payment" else ())
    events: list[ClientEvent] = []
    collect = _Collect()
    logger = logging.getLogger(LOGGER_NAME)
    level = logger.level
    logger.addHandler(collect)
    logger.setLevel(logging.DEBUG)
    client = CLIENTS[op.service](
        BASE, policy=POLICY, token=BEARER, runtime=instant_runtime(7), on_event=events.append
    )
    try:
        with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
            for answer in sequence:
                _register(mock, op.method, answer)
            try:
                result = op.call(client)
            except ServiceError as error:
                outcome = type(error).__name__
                _assert_no_secret(_texts_of(error), f"{op.name}'s {outcome}", secrets)
            else:
                outcome = "ok"
                results = result if isinstance(result, list) else [result]
                assert all(isinstance(item, BaseModel) for item in results)
                # A result holds what the service sent (even a field equal to a secret); only
                # the client's own text (errors, logs, events) must never carry one.
            # Every attempt that went out carried the configured credentials.
            for call in mock.calls:
                assert call.request.headers.get("Authorization") == f"Bearer {BEARER}"
    finally:
        client.close()
        logger.removeHandler(collect)
        logger.setLevel(level)
    _assert_no_secret(collect.texts, f"{op.name}'s log", secrets)
    _assert_no_secret([repr(e) for e in events], f"{op.name}'s events", secrets)
    return outcome


@st.composite
def cases(draw: st.DrawFn) -> tuple[Op, list[Answer]]:
    op = draw(st.sampled_from(OPS))
    return op, draw(st.lists(answers(op.body), min_size=1, max_size=4))


@settings(
    max_examples=EXAMPLES or 400,
    derandomize=not EXAMPLES,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(cases())
def test_any_answer_ends_in_success_or_service_error_without_leaking(
    case: tuple[Op, list[Answer]],
) -> None:
    op, sequence = case
    outcome = _one_case(op, sequence)
    event(outcome)
    count("client fuzz (cases)", "total")
    count("client fuzz (cases)", outcome)


def test_secrets_echoed_in_the_error_type_and_field_names_are_redacted() -> None:
    # Regression: found by the fuzz test above; the type and field names were not scrubbed.
    body = {
        "error": {
            "type": f"Authorization: Bearer {BEARER}",
            "message": f"echo {BEARER}",
            "details": [{"field": BEARER, "message": f"payment_method_token={CARD}"}],
        }
    }
    answer = Answer(None, 422, {}, "application/json", json.dumps(body).encode(), "auto")
    op = next(op for op in OPS if op.name == "create_payment")
    assert _one_case(op, [answer]) == "ClientRequestError"
