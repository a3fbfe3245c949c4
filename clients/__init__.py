"""Resilient, typed HTTP clients for the user, notification and payment services.

Every call runs through one pipeline: request validation, a circuit breaker, retries with
exponential backoff and full jitter, per-attempt timeouts under a wall-clock deadline,
classified errors (``stormproof.clients._errors`` draws the tree), response validation, events and
structured logs. ``stormproof.clients.testing`` makes retries instant and deterministic in tests.
"""

from stormproof.clients import testing
from stormproof.clients._base import ServiceClient
from stormproof.clients._errors import (
    CircuitOpenError,
    ClientRequestError,
    ConflictError,
    ConnectTimeoutError,
    DeadlineExceededError,
    FieldProblem,
    NotFoundError,
    OutcomeUnknownError,
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
)
from stormproof.clients._events import (
    AttemptEvent,
    BreakerEvent,
    BreakerState,
    CallEvent,
    ClientEvent,
    EventListener,
)
from stormproof.clients._notifications import Notification, NotificationServiceClient
from stormproof.clients._operation import (
    Email,
    IdempotencyKey,
    Operation,
    RequestModel,
    ResourceId,
    ResponseModel,
)
from stormproof.clients._payments import Payment, PaymentServiceClient, Refund
from stormproof.clients._policy import BreakerPolicy, FleetPolicy, ResiliencePolicy, RetryPolicy
from stormproof.clients._redact import LOGGER_NAME, RedactingFilter
from stormproof.clients._runtime import Runtime
from stormproof.clients._users import User, UserPage, UserServiceClient

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
    "Email",
    "EventListener",
    "FieldProblem",
    "FleetPolicy",
    "IdempotencyKey",
    "NotFoundError",
    "Notification",
    "NotificationServiceClient",
    "Operation",
    "OutcomeUnknownError",
    "Payment",
    "PaymentOutcomeUnknownError",
    "PaymentServiceClient",
    "RateLimitedError",
    "ReadTimeoutError",
    "RedactingFilter",
    "Refund",
    "RequestModel",
    "RequestValidationError",
    "ResiliencePolicy",
    "ResourceId",
    "ResponseModel",
    "ResponseTruncatedError",
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
