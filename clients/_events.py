"""Events the clients emit to listeners: one per attempt, one per call, one per breaker change.

Listeners receive them synchronously on the calling thread (breaker changes: on the thread that
caused the change) and must be quick; an exception in a listener is logged and swallowed.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "AttemptEvent",
    "BreakerEvent",
    "BreakerState",
    "CallEvent",
    "ClientEvent",
    "EventListener",
]


class BreakerState(enum.StrEnum):
    """State of a client's circuit breaker."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True, slots=True)
class AttemptEvent:
    """One HTTP attempt of a logical call, emitted when its fate (retry or not) is known.

    Attributes:
        service: Service name.
        operation: Client method name.
        method: HTTP method.
        path: Request path, without the query string.
        attempt: 1-based attempt number.
        started_at: Runtime clock reading when the attempt started.
        elapsed_s: Seconds the attempt took.
        outcome: ``"ok"`` or the name of the exception class the attempt produced.
        status_code: HTTP status, if a status line arrived.
        breaker_state: Breaker state after the attempt was recorded.
        idempotency_key: The call's Idempotency-Key, if any.
        request_id: The attempt's ``X-Request-Id``.
        will_retry: Whether another attempt follows.
        backoff_s: Seconds slept before the next attempt, when ``will_retry``.
        not_retried: Why a retryable failure was not retried, if it was refused
            (``"retry budget exhausted"``).
        error: What went wrong with the attempt, if it failed (secrets scrubbed).
        retry_after_s: Seconds the service asked to wait (``Retry-After``), if it said.
    """

    service: str
    operation: str
    method: str
    path: str
    attempt: int
    started_at: float
    elapsed_s: float
    outcome: str
    status_code: int | None
    breaker_state: BreakerState
    idempotency_key: str | None
    request_id: str
    will_retry: bool
    backoff_s: float | None
    not_retried: str | None = None
    error: str | None = None
    retry_after_s: float | None = None


@dataclass(frozen=True, slots=True)
class CallEvent:
    """One logical call, emitted once when it returns or raises (``attempts`` 0: fast fail).

    Attributes:
        service: Service name.
        operation: Client method name.
        attempts: Attempts that reached the network.
        elapsed_s: Seconds the whole call took.
        outcome: ``"ok"`` or the name of the exception class raised to the caller.
        breaker_state: Breaker state when the call ended.
        idempotency_key: The call's Idempotency-Key, if any.
        error: The error message raised to the caller, if any (secrets scrubbed).
    """

    service: str
    operation: str
    attempts: int
    elapsed_s: float
    outcome: str
    breaker_state: BreakerState
    idempotency_key: str | None
    error: str | None


@dataclass(frozen=True, slots=True)
class BreakerEvent:
    """A circuit breaker changed state.

    Attributes:
        service: Service name.
        old_state: State before the change.
        new_state: State after the change.
        at: Runtime clock reading of the change.
    """

    service: str
    old_state: BreakerState
    new_state: BreakerState
    at: float


ClientEvent = AttemptEvent | CallEvent | BreakerEvent
"""Any event a client emits."""

EventListener = Callable[[ClientEvent], None]
"""A callable that receives client events."""
