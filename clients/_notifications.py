"""The notification service client and its models (Notification service in the API doc)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from stormproof.clients._base import ServiceClient
from stormproof.clients._operation import (
    IdempotencyKey,
    Operation,
    RequestModel,
    ResourceId,
    ResponseModel,
)

__all__ = ["Notification", "NotificationServiceClient"]

Channel = Literal["email", "sms", "push"]


class Notification(ResponseModel):
    """A notification and its delivery status."""

    id: str
    channel: Channel
    recipient: str
    status: Literal["queued", "sent", "delivered", "failed"]
    created_at: datetime
    updated_at: datetime


class _Send(RequestModel):
    channel: Channel
    recipient: Annotated[str, Field(min_length=1, max_length=320)]
    subject: Annotated[str, Field(max_length=998)] | None = None
    body: Annotated[str, Field(min_length=1, max_length=10_000)]
    idempotency_key: IdempotencyKey


class _NotificationId(RequestModel):
    notification_id: ResourceId


_SEND = Operation("send_notification", "POST", "/notifications", _Send, Notification, keyed=True)
_GET = Operation(
    "get_notification", "GET", "/notifications/{notification_id}", _NotificationId, Notification
)


class NotificationServiceClient(ServiceClient):
    """Client of the notification service: send (idempotently) and read status."""

    service = "notifications"

    def send_notification(
        self,
        *,
        channel: str,
        recipient: str,
        body: str,
        subject: str | None = None,
        idempotency_key: str | None = None,
    ) -> Notification:
        """Queue a notification; every retry carries the same ``Idempotency-Key``.

        Args:
            channel: ``email``, ``sms`` or ``push``.
            recipient: Address, phone number or device token.
            body: Text, 1..10000 characters.
            subject: Subject line (email), at most 998 characters.
            idempotency_key: Key to reuse (to resend safely); a new one when None.

        Returns:
            The queued notification.

        Raises:
            ConflictError: The same key is still being processed, or conflicts.
            ServiceError: Another failure; ``error.idempotency_key`` is the key to reuse.
        """
        key = idempotency_key if idempotency_key is not None else str(uuid.uuid4())
        return self._call(
            _SEND,
            channel=channel,
            recipient=recipient,
            subject=subject,
            body=body,
            idempotency_key=key,
        )

    def get_notification(self, notification_id: str) -> Notification:
        """Fetch a notification and its delivery status.

        Args:
            notification_id: The notification's id.

        Returns:
            The notification.

        Raises:
            NotFoundError: No such notification.
            ServiceError: Another failure.
        """
        return self._call(_GET, notification_id=notification_id)
