"""Resilient, typed HTTP clients for the user, notification and payment services.

Every call runs through one pipeline: request validation, a circuit breaker, retries with
exponential backoff and full jitter, per-attempt timeouts under a wall-clock deadline,
classified errors (``clients._errors`` draws the tree), response validation, events and
structured logs. ``clients.testing`` makes retries instant and deterministic in tests.
"""

from clients import testing
from clients._base import ServiceClient
from clients._errors import (
    CircuitOpenError,
    ClientRequestError,
    ConflictError,
    ConnectTimeoutError,
    DeadlineExceededError,
    FieldProblem,
    NotFoundError,
    PaymentOutcomeUnknownError,
    RateLimitedError,
    ReadTimeoutError,
    RequestValidationError,
    ResponseValidationError,
    ServerError,
    ServiceError,
    ServiceTimeoutError,
    ServiceUnavailableError,
)
from clients._events import (
    AttemptEvent,
    BreakerEvent,
    BreakerState,
    CallEvent,
    ClientEvent,
    EventListener,
)
from clients._notifications import Notification, NotificationServiceClient
from clients._payments import Payment, PaymentServiceClient, Refund
from clients._policy import BreakerPolicy, ResiliencePolicy, RetryPolicy
from clients._redact import LOGGER_NAME, RedactingFilter
from clients._runtime import Runtime
from clients._users import User, UserPage, UserServiceClient

__all__ = [
    "LOGGER_NAME",
    "AttemptEvent",
    "BreakerEvent",
    "BreakerPolicy",
    "BreakerState",
    "CallEvent",
    "CircuitOpenError",
    "ClientEvent",
    "ClientRequestError",
    "ConflictError",
    "ConnectTimeoutError",
    "DeadlineExceededError",
    "EventListener",
    "FieldProblem",
    "NotFoundError",
    "Notification",
    "NotificationServiceClient",
    "Payment",
    "PaymentOutcomeUnknownError",
    "PaymentServiceClient",
    "RateLimitedError",
    "ReadTimeoutError",
    "RedactingFilter",
    "Refund",
    "RequestValidationError",
    "ResiliencePolicy",
    "ResponseValidationError",
    "RetryPolicy",
    "Runtime",
    "ServerError",
    "ServiceClient",
    "ServiceError",
    "ServiceTimeoutError",
    "ServiceUnavailableError",
    "User",
    "UserPage",
    "UserServiceClient",
    "testing",
]
