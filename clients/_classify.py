"""Turn what happened to one attempt into an error and a retry decision.

Retry rules (docs in ``README.md``, design notes): a failure before the request was sent is
always retryable; one after it may have been sent (read timeout, reset, a body cut short by the
connection, 5xx) only when the call is retry-safe (idempotent method or an ``Idempotency-Key``);
429 always, after ``Retry-After``; 409 ``idempotency_in_flight`` when keyed (the first attempt is
still running); other 4xx and unusable answers (not JSON, wrong schema) never. Whether a wait is
short enough to retry at all is the retry strategies' call (``stormproof.clients._retry``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import requests
import urllib3.exceptions

from stormproof.clients._breaker import Verdict
from stormproof.clients._errors import (
    ClientRequestError,
    ConflictError,
    ConnectTimeoutError,
    DeadlineExceededError,
    FieldProblem,
    NotFoundError,
    RateLimitedError,
    ReadTimeoutError,
    ResponseTruncatedError,
    ResponseValidationError,
    ServerError,
    ServiceError,
    ServiceUnavailableError,
)
from stormproof.clients._redact import redact
from stormproof.clients._retry import parse_retry_after

__all__ = [
    "AttemptInfo",
    "Outcome",
    "classify_exception",
    "classify_status",
    "truncated_outcome",
]


@dataclass(slots=True)
class AttemptInfo:
    """What the classifier needs to know about the attempt.

    Attributes:
        service: Service name.
        operation: Operation name.
        method: HTTP method.
        path: Request path.
        request_id: The attempt's ``X-Request-Id``.
        idempotency_key: The call's key, if any.
        retry_safe: Idempotent method or keyed request.
        connect_capped: The connect timeout was cut to the time left before the deadline.
        read_capped: The read timeout was cut to the time left before the deadline.
        secrets: Secret values of the call, scrubbed from the service's text.
    """

    service: str
    operation: str
    method: str
    path: str
    request_id: str
    idempotency_key: str | None
    retry_safe: bool
    connect_capped: bool
    read_capped: bool
    secrets: Sequence[str] = ()

    def error_kwargs(self, cause: BaseException | None = None) -> dict[str, Any]:
        """Keyword arguments every error of this attempt carries."""
        return {
            "service": self.service,
            "operation": self.operation,
            "request_id": self.request_id,
            "idempotency_key": self.idempotency_key,
            "cause": cause,
        }


@dataclass(frozen=True, slots=True)
class Outcome:
    """A failed attempt, classified.

    Attributes:
        error: The error to raise if no retry follows.
        retryable: Whether another attempt may be made.
        ambiguous: Whether the request may have been processed by the service.
        verdict: What it means for the circuit breaker.
        retry_after: Seconds the service asked to wait, if it said.
    """

    error: ServiceError
    retryable: bool
    ambiguous: bool
    verdict: Verdict
    retry_after: float | None = None


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """Yield ``exc`` and what it wraps (args, ``reason``, cause, context), bounded."""
    seen: set[int] = set()
    stack = [exc]
    while stack and len(seen) < 32:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        nested = [a for a in current.args if isinstance(a, BaseException)]
        nested += [
            v
            for v in (getattr(current, "reason", None), current.__cause__, current.__context__)
            if isinstance(v, BaseException)
        ]
        stack.extend(nested)


def _has(exc: BaseException, *kinds: type[BaseException]) -> bool:
    return any(isinstance(e, kinds) for e in _chain(exc))


def classify_exception(exc: BaseException, info: AttemptInfo, expired: bool) -> Outcome:
    """Classify a transport failure of an attempt.

    Args:
        exc: What ``requests`` raised.
        info: The attempt.
        expired: Whether the deadline watchdog cut the attempt off.

    Returns:
        The classified outcome.
    """
    kw = info.error_kwargs(exc)
    where = f"{info.method} {info.path}"
    safe = info.retry_safe
    if expired or (isinstance(exc, requests.ConnectTimeout) and info.connect_capped):
        error: ServiceError = DeadlineExceededError(
            f"{where} was cut off at the call's deadline", **kw
        )
        return Outcome(error, retryable=False, ambiguous=True, verdict=Verdict.FAILURE)
    if isinstance(exc, requests.ConnectTimeout):
        error = ConnectTimeoutError(f"{where}: no connection within the connect timeout", **kw)
        return Outcome(error, retryable=True, ambiguous=False, verdict=Verdict.FAILURE)
    if isinstance(exc, requests.ReadTimeout):
        if info.read_capped:
            error = DeadlineExceededError(f"{where}: no answer before the call's deadline", **kw)
            return Outcome(error, retryable=False, ambiguous=True, verdict=Verdict.FAILURE)
        error = ReadTimeoutError(f"{where}: no answer within the read timeout", **kw)
        return Outcome(error, retryable=safe, ambiguous=True, verdict=Verdict.FAILURE)
    if _has(exc, urllib3.exceptions.NameResolutionError):  # a NewConnectionError: test it first
        error = ServiceUnavailableError(f"{where}: host name could not be resolved", **kw)
        return Outcome(error, retryable=True, ambiguous=False, verdict=Verdict.FAILURE)
    if _has(exc, urllib3.exceptions.NewConnectionError, ConnectionRefusedError):
        reason = "refused" if _has(exc, ConnectionRefusedError) else "could not be opened"
        error = ServiceUnavailableError(f"{where}: connection {reason}", **kw)
        return Outcome(error, retryable=True, ambiguous=False, verdict=Verdict.FAILURE)
    if isinstance(exc, requests.exceptions.ContentDecodingError):
        error = ResponseValidationError(f"{where}: response body could not be decoded", **kw)
        return Outcome(error, retryable=False, ambiguous=True, verdict=Verdict.NEUTRAL)
    if isinstance(exc, requests.exceptions.ChunkedEncodingError) and not _has(
        exc, ConnectionResetError
    ):
        # The connection closed before the whole body arrived: a network fault after the request
        # was sent, so a retry-safe call may try again (a payment keeps its key).
        return truncated_outcome(f"{where}: response body truncated", info, exc)
    error = ServiceUnavailableError(f"{where}: connection reset or closed mid-request", **kw)
    return Outcome(error, retryable=safe, ambiguous=True, verdict=Verdict.FAILURE)


def truncated_outcome(detail: str, info: AttemptInfo, cause: BaseException | None) -> Outcome:
    """A response cut short by the connection: retried when the call is retry-safe.

    Args:
        detail: What was cut, for the message.
        info: The attempt.
        cause: What the transport raised, if anything.

    Returns:
        The classified outcome.
    """
    error = ResponseTruncatedError(
        f"{detail} (the connection closed early)", **info.error_kwargs(cause)
    )
    return Outcome(error, retryable=info.retry_safe, ambiguous=True, verdict=Verdict.FAILURE)


def _error_body(
    content: bytes, secrets: Sequence[str]
) -> tuple[str | None, str, tuple[FieldProblem, ...]]:
    """Read the service's ``{"error": {...}}`` body: (type, message, field problems)."""
    try:
        body = json.loads(content)
        error = body["error"]
        # Every string the service sent is scrubbed: a buggy service may echo a credential
        # into any of them (found by tests/reliability/test_client_fuzz.py).
        raw_kind = error.get("type")
        kind = redact(str(raw_kind), secrets)[:100] if raw_kind is not None else None
        message = str(error.get("message") or "")
        problems = tuple(
            FieldProblem(
                redact(str(d.get("field", "")), secrets)[:200],
                redact(str(d.get("message", "")), secrets)[:500],
            )
            for d in (error.get("details") or [])
            if isinstance(d, dict)
        )
    except (ValueError, TypeError, KeyError, AttributeError):
        return None, "", ()
    return kind, redact(message, secrets)[:500], problems


def classify_status(response: requests.Response, info: AttemptInfo, now: float) -> Outcome:
    """Classify a non-2xx answer.

    Args:
        response: The response (body already read).
        info: The attempt.
        now: Wall-clock time, for HTTP-date ``Retry-After`` values.

    Returns:
        The classified outcome.
    """
    status = response.status_code
    kind, message, problems = _error_body(response.content, info.secrets)
    said = f" ({kind}: {message})" if kind else ""
    detail = f"{info.method} {info.path} answered {status}{said}"
    kw = info.error_kwargs()
    kw.update(status_code=status, error_type=kind, problems=problems)
    retry_after = parse_retry_after(response.headers.get("Retry-After"), now)
    safe = info.retry_safe
    if status == 429:
        error: ServiceError = RateLimitedError(detail, retry_after=retry_after, **kw)
        return Outcome(error, True, False, Verdict.NEUTRAL, retry_after)
    if status in (502, 503, 504):
        error = ServiceUnavailableError(detail, retry_after=retry_after, **kw)
        return Outcome(error, safe, True, Verdict.FAILURE, retry_after)
    if status >= 500:
        return Outcome(ServerError(detail, **kw), safe, True, Verdict.FAILURE)
    if status == 404:
        return Outcome(NotFoundError(detail, **kw), False, False, Verdict.SUCCESS)
    if status == 409:
        in_flight = kind == "idempotency_in_flight" and info.idempotency_key is not None
        error = ConflictError(detail, **kw)
        return Outcome(error, in_flight, in_flight, Verdict.SUCCESS, retry_after)
    if 400 <= status < 500:
        return Outcome(ClientRequestError(detail, **kw), False, False, Verdict.SUCCESS)
    error = ResponseValidationError(f"{detail}, which this client does not expect", **kw)
    return Outcome(error, False, True, Verdict.NEUTRAL)
