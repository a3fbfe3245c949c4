"""Secrets: unsendable tokens are refused unseen; known secrets are bounded by the live clients;
the loggers of urllib3 and requests are redacted while a client is in use."""

from __future__ import annotations

import gc
import logging

import pytest

from stormproof.clients import (
    ClientRequestError,
    PaymentServiceClient,
    ResponseValidationError,
    UserServiceClient,
)
from stormproof.clients._redact import REDACTED, known_secrets

from .conftest import BASE, BEARER, PAY_ARGS


@pytest.mark.parametrize(
    ("token", "problem"),
    [
        ("abc\r\nX-Evil: 1", "a line break"),
        ("abc\ndef", "a line break"),
        ("abc\x00def", "a control character"),
        ("abc\u20acdef", "a character outside Latin-1"),
    ],
)
def test_a_token_that_cannot_be_sent_is_refused_when_the_client_is_built(token, problem):
    with pytest.raises(ValueError, match=problem) as caught:
        UserServiceClient(BASE, token=token)
    assert token not in str(caught.value)
    assert "abc" not in str(caught.value)


def test_a_closed_clients_token_is_forgotten():
    before = known_secrets()
    client = UserServiceClient(BASE, token="first-live-token")
    other = UserServiceClient(BASE, token="first-live-token")
    assert "first-live-token" in known_secrets()
    client.close()
    assert "first-live-token" in known_secrets()  # the other client still holds it
    other.close()
    other.close()  # closing twice releases once
    assert known_secrets() == before


def test_known_secrets_do_not_grow_with_every_client_ever_made():
    before = len(known_secrets())
    for n in range(300):
        with UserServiceClient(BASE, token=f"short-lived-token-{n}"):
            pass
    for n in range(300):  # dropped without close(): released when collected
        UserServiceClient(BASE, token=f"dropped-token-{n}")
    gc.collect()
    assert len(known_secrets()) == before


def test_library_loggers_are_redacted_while_a_client_is_live(caplog):
    caplog.set_level(logging.DEBUG)
    library = logging.getLogger("urllib3.connectionpool")
    with UserServiceClient(BASE, token="library-log-token"):
        library.warning("sending Authorization: Bearer %s", "library-log-token")
        library.warning("echo %s", "library-log-token")
    live = [r.getMessage() for r in caplog.records]
    assert all("library-log-token" not in m for m in live), live
    assert sum(REDACTED in m for m in live) == 2
    caplog.clear()
    library.warning("echo %s", "library-log-token")  # no live client: the filter is off again
    assert "library-log-token" in caplog.records[0].getMessage()


def test_a_token_echoed_in_an_error_answer_is_scrubbed(payments, rsps):
    rsps.post(
        f"{BASE}/payments",
        status=400,
        json={"error": {"type": f"bad {BEARER}", "message": f"your token {BEARER} is wrong"}},
        headers={"X-Debug": BEARER},
    )
    with pytest.raises(ClientRequestError) as caught:
        payments.create_payment(**PAY_ARGS)
    for text in (str(caught.value), repr(caught.value), caught.value.error_type or ""):
        assert BEARER not in text
    assert isinstance(payments, PaymentServiceClient)


def test_a_token_echoed_in_the_content_type_is_scrubbed(payments, rsps, events):
    rsps.get(f"{BASE}/payments/pay_1", status=200, body=b"x", content_type=f"text/{BEARER}")
    with pytest.raises(ResponseValidationError) as caught:
        payments.get_payment("pay_1")
    texts = [str(caught.value), repr(caught.value), caught.value.detail]
    texts += [str(event) for event in events]
    assert "content type 'text/[REDACTED]'" in str(caught.value)
    assert all(BEARER not in text for text in texts)
