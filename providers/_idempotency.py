"""Idempotency-Key handling shared by the notification and payment services.

A key is scoped to the whole service (not to one route): the request's method, path and
validated body form its fingerprint. Only successful (2xx) responses are stored; a request that
fails leaves no trace of its key, so the client may simply try again.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from stormproof.providers._errors import ApiError, validation_error

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
# Set by the fault middleware for a `slow` rule applied `after`: the handler sleeps this long
# after its side effect but before its key completes, so the key stays in flight meanwhile.
HOLD_STATE_KEY = "stormproof.hold_after_s"
HOLD_DONE_STATE_KEY = "stormproof.hold_done"


@dataclass
class _Record:
    fingerprint: str | None
    status: int = 0
    body: Any = None
    done: bool = False


def check_key(key: str | None) -> str:
    """Validate an `Idempotency-Key` header value (1..255 printable ASCII characters).

    Raises:
        ApiError: 422 `validation_error` when the key is missing or malformed.
    """
    if key is None or key == "":
        raise validation_error(IDEMPOTENCY_HEADER, "header is required")
    if len(key) > 255 or not all(0x20 <= ord(c) <= 0x7E for c in key):
        raise validation_error(IDEMPOTENCY_HEADER, "must be 1..255 printable ASCII characters")
    return key


def fingerprint(method: str, path: str, body: Any) -> str:
    """A stable digest of what a request asks for."""
    canonical = json.dumps(
        {"method": method.upper(), "path": path, "body": body},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


class IdempotencyStore:
    """Thread-safe records of idempotency keys: in flight, or done with a stored response."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: dict[str, _Record] = {}

    def begin(self, key: str, print_: str) -> tuple[int, Any] | None:
        """Claim a key, or return the stored `(status, body)` to replay.

        Raises:
            ApiError: 409 `idempotency_in_flight` while another request holds the key; 422
                `idempotency_mismatch` when the key was used for a different request.
        """
        with self._lock:
            record = self._records.get(key)
            if record is None:
                self._records[key] = _Record(print_)
                return None
            if not record.done:
                raise ApiError(
                    409,
                    "idempotency_in_flight",
                    "a request with this Idempotency-Key is still being processed",
                )
            if record.fingerprint != print_:
                raise ApiError(
                    422,
                    "idempotency_mismatch",
                    "this Idempotency-Key was already used with a different request",
                )
            return record.status, record.body

    def complete(self, key: str, status: int, body: Any) -> None:
        """Store the response of the request that held the key."""
        with self._lock:
            record = self._records.get(key)
            if record is None:  # a reset happened while the request ran: keep it forgotten
                return
            record.status, record.body, record.done = status, body, True

    def abandon(self, key: str) -> None:
        """Release a key whose request failed."""
        with self._lock:
            self._records.pop(key, None)

    def seed(self, key: str, print_: str | None, status: int, body: Any, *, done: bool) -> None:
        """Install a record directly (provider states)."""
        with self._lock:
            self._records[key] = _Record(print_, status, body, done)

    def clear(self) -> None:
        """Forget every key."""
        with self._lock:
            self._records.clear()


def run_idempotent(
    request: Request,
    store: IdempotencyStore,
    key: str | None,
    body: Any,
    operation: Callable[[str], tuple[int, Any]],
) -> JSONResponse:
    """Run `operation(key)` at most once per key, replaying its response afterwards.

    Args:
        request: The request being served (its method and path join the fingerprint).
        store: The service's key records.
        key: The raw `Idempotency-Key` header value.
        body: The validated request body, as JSON-compatible data.
        operation: Does the work and returns `(status, json_body)`; may raise `ApiError`.

    Returns:
        The response, with `Idempotent-Replayed: true` when it is a replay.
    """
    key = check_key(key)
    stored = store.begin(key, fingerprint(request.method, request.url.path, body))
    if stored is not None:
        status, payload = stored
        return JSONResponse(payload, status_code=status, headers={REPLAYED_HEADER: "true"})
    try:
        status, payload = operation(key)
        hold = request.scope.get("state", {}).get(HOLD_STATE_KEY)
        if hold:
            request.scope["state"][HOLD_DONE_STATE_KEY] = True
            time.sleep(float(hold))
    except BaseException:
        store.abandon(key)
        raise
    store.complete(key, status, payload)
    return JSONResponse(payload, status_code=status)
