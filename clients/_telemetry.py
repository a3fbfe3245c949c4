"""Events to listeners and structured records to the ``stormproof.clients`` logger."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

from stormproof.clients._errors import ClientRequestError, RequestValidationError, ServiceError
from stormproof.clients._events import (
    AttemptEvent,
    BreakerEvent,
    BreakerState,
    CallEvent,
    ClientEvent,
    EventListener,
)
from stormproof.clients._redact import logger

__all__ = ["AttemptRecord", "CallRecord", "Telemetry"]


@dataclass(slots=True)
class AttemptRecord:
    """What is known of an attempt before the retry decision."""

    method: str
    path: str
    number: int
    started_at: float
    elapsed_s: float
    outcome: str
    status_code: int | None
    request_id: str
    error: str | None = None
    retry_after_s: float | None = None


@dataclass(frozen=True, slots=True)
class CallRecord:
    """What is known of a logical call when it ends."""

    operation: str
    method: str
    attempts: int
    elapsed_s: float
    idempotency_key: str | None
    last: AttemptRecord | None


class Telemetry:
    """One client's listeners and log records."""

    def __init__(self, service: str) -> None:
        """Create telemetry for ``service`` with no listeners."""
        self.service = service
        self._listeners: tuple[EventListener, ...] = ()
        self._lock = threading.Lock()

    def add_listener(self, listener: EventListener) -> None:
        """Register an event listener."""
        with self._lock:
            self._listeners = (*self._listeners, listener)

    def remove_listener(self, listener: EventListener) -> None:
        """Unregister an event listener (no error if it was not registered)."""
        with self._lock:
            self._listeners = tuple(item for item in self._listeners if item != listener)

    def emit(self, event: ClientEvent) -> None:
        """Give ``event`` to every listener; a failing listener is logged and skipped."""
        for listener in self._listeners:
            try:
                listener(event)
            except Exception:
                logger.exception("event listener %r failed; event dropped", listener)

    def attempt(
        self,
        call: CallRecord,
        attempt: AttemptRecord,
        state: BreakerState,
        *,
        will_retry: bool,
        backoff_s: float | None,
        not_retried: str | None = None,
    ) -> None:
        """Report an attempt once its retry decision is known (``not_retried``: why not)."""
        if self._listeners:
            self.emit(
                AttemptEvent(
                    service=self.service,
                    operation=call.operation,
                    method=attempt.method,
                    path=attempt.path,
                    attempt=attempt.number,
                    started_at=attempt.started_at,
                    elapsed_s=attempt.elapsed_s,
                    outcome=attempt.outcome,
                    status_code=attempt.status_code,
                    breaker_state=state,
                    idempotency_key=call.idempotency_key,
                    request_id=attempt.request_id,
                    will_retry=will_retry,
                    backoff_s=backoff_s,
                    not_retried=not_retried,
                    error=attempt.error,
                    retry_after_s=attempt.retry_after_s,
                )
            )
        level = logging.DEBUG if attempt.outcome == "ok" else logging.INFO
        if not_retried is not None:
            level = logging.WARNING
        if logger.isEnabledFor(level):
            then = ""
            if will_retry and backoff_s is not None:
                then = f"; retrying in {backoff_s:.3f} s"
            elif not_retried is not None:
                then = f"; not retried: {not_retried}"
            extra = self._fields(call, attempt, attempt.elapsed_s, state)
            logger.log(level, "attempt %d %s%s", attempt.number, attempt.outcome, then, extra=extra)

    def call(self, call: CallRecord, state: BreakerState, error: ServiceError | None) -> None:
        """Report the end of a logical call."""
        if self._listeners:
            self.emit(
                CallEvent(
                    service=self.service,
                    operation=call.operation,
                    attempts=call.attempts,
                    elapsed_s=call.elapsed_s,
                    outcome="ok" if error is None else type(error).__name__,
                    breaker_state=state,
                    idempotency_key=call.idempotency_key,
                    error=None if error is None else str(error),
                )
            )
        if error is None:
            level = logging.DEBUG
        elif isinstance(error, ClientRequestError | RequestValidationError):
            level = logging.INFO  # the service answered; the caller decides if it matters
        else:
            level = logging.WARNING
        if logger.isEnabledFor(level):
            text = "call ok" if error is None else f"call failed: {error}"
            extra = self._fields(call, call.last, call.elapsed_s, state)
            logger.log(level, "%s", text, extra=extra)

    def breaker(self, event: BreakerEvent) -> None:
        """Report a breaker state change."""
        level = logging.WARNING if event.new_state is BreakerState.OPEN else logging.INFO
        logger.log(
            level,
            "circuit breaker %s -> %s",
            event.old_state.value,
            event.new_state.value,
            extra={"service": self.service, "breaker_state": event.new_state.value},
        )
        self.emit(event)

    def _fields(
        self,
        call: CallRecord,
        attempt: AttemptRecord | None,
        elapsed_s: float,
        state: BreakerState,
    ) -> dict[str, Any]:
        return {
            "service": self.service,
            "operation": call.operation,
            "method": call.method,
            "path": attempt.path if attempt else None,
            "attempt": attempt.number if attempt else call.attempts,
            "status": attempt.status_code if attempt else None,
            "elapsed_ms": round(elapsed_s * 1000, 3),
            "breaker_state": state.value,
            "idempotency_key": call.idempotency_key,
            "request_id": attempt.request_id if attempt else None,
        }
