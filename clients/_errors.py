"""Every error a service client raises, in one tree.

Callers catch the class that matches what they can do about it::

    ServiceError                      base: service, operation, attempts, elapsed_s, cause, ...
    ├── ServiceTimeoutError           the service did not answer in time
    │   ├── ConnectTimeoutError       no connection within the connect timeout (never sent)
    │   ├── ReadTimeoutError         sent, but no answer within the read timeout
    │   └── DeadlineExceededError    the wall-clock deadline of the whole call ran out
    ├── ServiceUnavailableError       connection refused or reset, or HTTP 502/503/504
    │   └── ResponseTruncatedError    the connection closed before the whole answer arrived
    ├── ServerError                   any other HTTP 5xx (500, 501, 505, ...)
    ├── CircuitOpenError              failed fast: the breaker is open (see ``retry_after``)
    ├── RateLimitedError              HTTP 429 (see ``retry_after``)
    ├── ClientRequestError            HTTP 4xx the service refused (422, 401, ...)
    │   ├── NotFoundError             HTTP 404
    │   └── ConflictError             HTTP 409
    ├── RequestValidationError        bad arguments, caught before any network call
    ├── ResponseValidationError       a whole answer that is unusable: not JSON, wrong content
    │                                 type or schema (never retried)
    └── OutcomeUnknownError           a keyed call failed ambiguously: it may have happened
        └── PaymentOutcomeUnknownError    a payment (or refund) that may have happened

Messages say what happened and what to do next. They never contain tokens, card data or
``Authorization`` headers: the pipeline builds them from the operation, the status and the
service's own error text, scrubbed of the secrets of the call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

__all__ = [
    "CircuitOpenError",
    "ClientRequestError",
    "ConflictError",
    "ConnectTimeoutError",
    "DeadlineExceededError",
    "FieldProblem",
    "NotFoundError",
    "OutcomeUnknownError",
    "PaymentOutcomeUnknownError",
    "RateLimitedError",
    "ReadTimeoutError",
    "RequestValidationError",
    "ResponseTruncatedError",
    "ResponseValidationError",
    "ServerError",
    "ServiceError",
    "ServiceTimeoutError",
    "ServiceUnavailableError",
]


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """One invalid field of a request or response.

    Attributes:
        field: Dotted location of the field (``amount``, ``items.0.email``).
        message: What is wrong with it (never the value itself).
    """

    field: str
    message: str


class ServiceError(Exception):
    """Base class of every error raised by the service clients.

    Attributes:
        detail: What happened, in one sentence.
        service: Service name (``users``, ``notifications``, ``payments``).
        operation: Client method name (``create_payment``).
        attempts: Attempts that reached the network (0 for a fast failure).
        elapsed_s: Wall-clock seconds the logical call took.
        cause: The underlying exception of the last attempt, if any.
        request_id: ``X-Request-Id`` of the last attempt, if one was sent.
        status_code: HTTP status of the last response, if one arrived.
        idempotency_key: The call's ``Idempotency-Key``, if it had one.
        error_type: The service's error ``type`` (``not_found``, ...), if it sent one.
        problems: Field problems reported by validation or by the service.
    """

    hint: ClassVar[str] = "See the cause for details."

    def __init__(
        self,
        detail: str,
        *,
        service: str = "",
        operation: str = "",
        attempts: int = 0,
        elapsed_s: float = 0.0,
        cause: BaseException | None = None,
        request_id: str | None = None,
        status_code: int | None = None,
        idempotency_key: str | None = None,
        error_type: str | None = None,
        problems: tuple[FieldProblem, ...] = (),
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.service = service
        self.operation = operation
        self.attempts = attempts
        self.elapsed_s = elapsed_s
        self.cause = cause
        self.request_id = request_id
        self.status_code = status_code
        self.idempotency_key = idempotency_key
        self.error_type = error_type
        self.problems = problems

    def __str__(self) -> str:
        where = f"{self.service}.{self.operation}" if self.service else self.operation or "call"
        tries = "attempt" if self.attempts == 1 else "attempts"
        return (
            f"{where}: {self.detail} ({self.attempts} {tries}, {self.elapsed_s:.3f} s). {self.hint}"
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(service={self.service!r}, operation={self.operation!r}, "
            f"detail={self.detail!r}, attempts={self.attempts}, status_code={self.status_code})"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.detail, dict(self.__dict__)))


def _rebuild(cls: type[ServiceError], detail: str, state: dict[str, Any]) -> ServiceError:
    error = cls.__new__(cls)
    Exception.__init__(error, detail)
    error.__dict__.update(state)
    return error


class ServiceTimeoutError(ServiceError):
    """The service did not answer in time."""

    hint = "The service is slow or unreachable; retry later or raise the timeout in the policy."


class ConnectTimeoutError(ServiceTimeoutError):
    """No connection could be opened within the connect timeout; nothing was sent."""

    hint = "Nothing reached the service; it is safe to retry later."


class ReadTimeoutError(ServiceTimeoutError):
    """The request was sent but no answer came within the read timeout."""

    hint = (
        "The service may have processed the request; retry only if it is idempotent or "
        "carries an Idempotency-Key."
    )


class DeadlineExceededError(ServiceTimeoutError):
    """The wall-clock deadline of the logical call ran out (slow or dripping response)."""

    hint = "The call was cut off at its deadline; retry later or raise deadline_s in the policy."


class ServiceUnavailableError(ServiceError):
    """The service refused or reset the connection, or answered 502/503/504.

    Attributes:
        retry_after: Seconds the service asked to wait (``Retry-After``), if any.
    """

    hint = "The service is unavailable; retry later."

    def __init__(self, detail: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(detail, **kwargs)
        self.retry_after = retry_after


class ResponseTruncatedError(ServiceUnavailableError):
    """The connection closed before the whole answer (status line, headers or body) arrived.

    A network fault after the request was sent: retried when the call is safe to repeat
    (idempotent, or keyed), never confused with an answer that arrived whole but is unusable.
    """

    hint = (
        "The answer was cut off by the connection; the service may have processed the request. "
        "Retry later (repeating is safe for reads and for calls with an Idempotency-Key)."
    )


class ServerError(ServiceError):
    """The service answered with a 5xx status other than 502/503/504."""

    hint = "The service failed internally; retry later and report it if it persists."


class CircuitOpenError(ServiceError):
    """The circuit breaker is open: the call failed fast without touching the network.

    Attributes:
        retry_after: Seconds until the breaker admits trial calls again (0 when trial calls
            are already in flight).
    """

    hint = "The service has been failing; wait retry_after seconds before calling again."

    def __init__(self, detail: str, *, retry_after: float = 0.0, **kwargs: Any) -> None:
        super().__init__(detail, **kwargs)
        self.retry_after = retry_after


class RateLimitedError(ServiceError):
    """The service answered 429 Too Many Requests.

    Attributes:
        retry_after: Seconds the service asked to wait (``Retry-After``), if it said.
    """

    hint = "Slow down: wait retry_after seconds before calling again."

    def __init__(self, detail: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(detail, **kwargs)
        self.retry_after = retry_after


class ClientRequestError(ServiceError):
    """The service refused the request with a 4xx status (other than 429)."""

    hint = "Fix the request; sending it again unchanged will fail the same way."


class NotFoundError(ClientRequestError):
    """The service answered 404: the resource does not exist."""

    hint = "Check the id; the resource does not exist."


class ConflictError(ClientRequestError):
    """The service answered 409: the request conflicts with the current state."""

    hint = "Read the current state (or wait for the in-flight request) before trying again."


class RequestValidationError(ServiceError, ValueError):
    """The arguments are invalid; nothing was sent."""

    hint = "Fix the arguments listed above."


class ResponseValidationError(ServiceError):
    """The answer arrived whole but could not be used: not JSON, wrong content type or schema."""

    hint = (
        "The service sent a whole answer this client does not understand (such answers are "
        "never retried). Check the service version against docs/service-api.md."
    )


class OutcomeUnknownError(ServiceError):
    """A keyed call failed in a way that leaves its outcome unknown.

    The request may have reached the service and been processed before the failure. Reconcile
    with the ``idempotency_key``: look the result up by it, or repeat the call with the same key
    (the service replays the original result instead of acting twice). A client raises a
    subclass naming its own reconciliation (``Operation(outcome_unknown=...)``).

    Attributes:
        idempotency_key: The key every attempt carried (never None for this error).
    """

    def __init__(self, detail: str, *, idempotency_key: str, **kwargs: Any) -> None:
        super().__init__(detail, idempotency_key=idempotency_key, **kwargs)

    @property
    def hint(self) -> str:  # type: ignore[override]
        """What to do: reconcile with the idempotency key, never with a new key."""
        return (
            f"The call may or may not have taken effect. Reconcile with idempotency key "
            f"{self.idempotency_key!r}: look the result up by it, or retry with the same "
            "idempotency_key (never a new one, that could do it twice)."
        )


class PaymentOutcomeUnknownError(OutcomeUnknownError):
    """A payment call failed in a way that leaves its outcome unknown.

    The request may have reached the payment service and been processed before the failure.
    Reconcile with the ``idempotency_key``: look the payment up with
    ``get_payment_by_idempotency_key(key)`` or repeat the call with the same key (the service
    replays the original result instead of charging twice).

    Attributes:
        idempotency_key: The key every attempt carried (never None for this error).
    """

    @property
    def hint(self) -> str:  # type: ignore[override]
        """What to do: reconcile with the idempotency key, never with a new key."""
        return (
            f"The payment may or may not have happened. Reconcile with idempotency key "
            f"{self.idempotency_key!r}: call get_payment_by_idempotency_key with it, or retry "
            "with the same idempotency_key (never a new one, that could charge twice)."
        )
