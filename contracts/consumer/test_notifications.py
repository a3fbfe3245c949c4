"""Consumer contract of the notification service, through the real ``NotificationServiceClient``."""

from __future__ import annotations

from typing import Any

import pytest
from pact import Pact

from contracts.consumer._shapes import JSON, client_for, error, idempotency_key, notification
from stormproof.clients import (
    ClientRequestError,
    ConflictError,
    NotFoundError,
    NotificationServiceClient,
    RateLimitedError,
    ServiceUnavailableError,
)

WELCOME: dict[str, Any] = {
    "channel": "email",
    "recipient": "ada@example.com",
    "subject": "Welcome",
    "body": "Hello Ada",
}


def _send(client: NotificationServiceClient, key: str, **changes: Any) -> Any:
    fields = {**WELCOME, **changes}
    return client.send_notification(idempotency_key=key, **fields)


def test_send_notification(notifications_pact: Pact) -> None:
    (
        notifications_pact.upon_receiving("a request to send an email notification")
        .with_request("POST", "/notifications")
        .with_header("Idempotency-Key", idempotency_key("ntf-key-new"))
        .with_body(WELCOME, content_type=JSON)
        .will_respond_with(202)
        .with_body(notification(recipient="ada@example.com"), content_type=JSON)
    )
    with client_for(notifications_pact, NotificationServiceClient) as client:
        sent = _send(client, "ntf-key-new")
    assert (sent.channel, sent.recipient, sent.status) == ("email", "ada@example.com", "queued")


def test_send_sms_without_subject(notifications_pact: Pact) -> None:
    body = {"channel": "sms", "recipient": "+441234567890", "subject": None, "body": "Code 1234"}
    (
        notifications_pact.upon_receiving("a request to send an sms notification without subject")
        .with_request("POST", "/notifications")
        .with_header("Idempotency-Key", idempotency_key("ntf-key-sms"))
        .with_body(body, content_type=JSON)
        .will_respond_with(202)
        .with_body(notification(channel="sms", recipient="+441234567890"), content_type=JSON)
    )
    with client_for(notifications_pact, NotificationServiceClient) as client:
        sent = client.send_notification(
            channel="sms",
            recipient="+441234567890",
            body="Code 1234",
            idempotency_key="ntf-key-sms",
        )
    assert sent.channel == "sms"


def test_send_notification_replayed(notifications_pact: Pact) -> None:
    (
        notifications_pact.upon_receiving("a repeated request to send a notification")
        .given("a notification was sent with idempotency key ntf-key-1", WELCOME)
        .with_request("POST", "/notifications")
        .with_header("Idempotency-Key", "ntf-key-1")
        .with_body(WELCOME, content_type=JSON)
        .will_respond_with(202)
        .with_header("Idempotent-Replayed", "true")
        .with_body(notification(recipient="ada@example.com"), content_type=JSON)
    )
    with client_for(notifications_pact, NotificationServiceClient) as client:
        sent = _send(client, "ntf-key-1")
    assert sent.recipient == "ada@example.com"


def test_send_notification_key_reused_for_other_body(notifications_pact: Pact) -> None:
    (
        notifications_pact.upon_receiving("a request reusing an idempotency key for another body")
        .given("a notification was sent with idempotency key ntf-key-2", WELCOME)
        .with_request("POST", "/notifications")
        .with_header("Idempotency-Key", "ntf-key-2")
        .with_body({**WELCOME, "body": "Something else"}, content_type=JSON)
        .will_respond_with(422)
        .with_body(error("idempotency_mismatch"), content_type=JSON)
    )
    with (
        client_for(notifications_pact, NotificationServiceClient) as client,
        pytest.raises(ClientRequestError) as info,
    ):
        _send(client, "ntf-key-2", body="Something else")
    assert info.value.status_code == 422
    assert info.value.error_type == "idempotency_mismatch"
    assert info.value.idempotency_key == "ntf-key-2"


def test_send_notification_in_flight(notifications_pact: Pact) -> None:
    (
        notifications_pact.upon_receiving("a request whose idempotency key is still in flight")
        .given("a request with idempotency key ntf-key-3 is in flight")
        .with_request("POST", "/notifications")
        .with_header("Idempotency-Key", "ntf-key-3")
        .with_body(WELCOME, content_type=JSON)
        .will_respond_with(409)
        .with_body(error("idempotency_in_flight"), content_type=JSON)
    )
    with (
        client_for(notifications_pact, NotificationServiceClient) as client,
        pytest.raises(ConflictError) as info,
    ):
        _send(client, "ntf-key-3")
    assert info.value.error_type == "idempotency_in_flight"


def test_send_notification_rate_limited(notifications_pact: Pact) -> None:
    (
        notifications_pact.upon_receiving("a request to send while the service is rate limiting")
        .given("the service is rate limiting", retry_after="1")
        .with_request("POST", "/notifications")
        .with_header("Idempotency-Key", idempotency_key("ntf-key-429"))
        .with_body(WELCOME, content_type=JSON)
        .will_respond_with(429)
        .with_header("Retry-After", "1")
        .with_body(error("rate_limited"), content_type=JSON)
    )
    with (
        client_for(notifications_pact, NotificationServiceClient) as client,
        pytest.raises(RateLimitedError) as info,
    ):
        _send(client, "ntf-key-429")
    assert info.value.retry_after == 1.0
    assert info.value.idempotency_key == "ntf-key-429"


def test_send_notification_unavailable(notifications_pact: Pact) -> None:
    (
        notifications_pact.upon_receiving("a request to send while the service is unavailable")
        .given("the service is unavailable", retry_after="5")
        .with_request("POST", "/notifications")
        .with_header("Idempotency-Key", idempotency_key("ntf-key-503"))
        .with_body(WELCOME, content_type=JSON)
        .will_respond_with(503)
        .with_header("Retry-After", "5")
        .with_body(error("unavailable"), content_type=JSON)
    )
    with (
        client_for(notifications_pact, NotificationServiceClient) as client,
        pytest.raises(ServiceUnavailableError) as info,
    ):
        _send(client, "ntf-key-503")
    # The key is what a caller resends with: the service replays instead of sending twice.
    assert info.value.idempotency_key == "ntf-key-503"
    assert info.value.retry_after == 5.0


def test_get_notification(notifications_pact: Pact) -> None:
    (
        notifications_pact.upon_receiving("a request for notification ntf_1")
        .given("a notification with id ntf_1 exists", status="delivered")
        .with_request("GET", "/notifications/ntf_1")
        .will_respond_with(200)
        .with_body(notification(notification_id="ntf_1"), content_type=JSON)
    )
    with client_for(notifications_pact, NotificationServiceClient) as client:
        found = client.get_notification("ntf_1")
    assert found.id == "ntf_1"
    assert found.status in {"queued", "sent", "delivered", "failed"}


def test_get_notification_not_found(notifications_pact: Pact) -> None:
    (
        notifications_pact.upon_receiving("a request for a notification that does not exist")
        .given("no notification with id ntf_404 exists")
        .with_request("GET", "/notifications/ntf_404")
        .will_respond_with(404)
        .with_body(error("not_found"), content_type=JSON)
    )
    with (
        client_for(notifications_pact, NotificationServiceClient) as client,
        pytest.raises(NotFoundError),
    ):
        client.get_notification("ntf_404")
