"""Which client class drives each service a scenario names."""

from __future__ import annotations

from stormproof.clients import (
    NotificationServiceClient,
    PaymentServiceClient,
    ServiceClient,
    UserServiceClient,
)

CLIENT_CLASSES: dict[str, type[ServiceClient]] = {
    "users": UserServiceClient,
    "notifications": NotificationServiceClient,
    "payments": PaymentServiceClient,
}
