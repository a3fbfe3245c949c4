"""The per-app log of requests a provider answered (test endpoints and `/healthz` excluded)."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

from stormproof.providers._clock import now_iso_ms

# Bounded so a provider left running outside tests cannot grow without limit.
MAX_LOGGED_REQUESTS = 10_000


@dataclass(frozen=True)
class LoggedRequest:
    """One answered request, as `GET /_test/requests` reports it."""

    method: str
    path: str
    idempotency_key: str | None
    status: int | None
    at: str


class RequestLog:
    """A thread-safe, bounded log of answered requests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: deque[LoggedRequest] = deque(maxlen=MAX_LOGGED_REQUESTS)

    def record(
        self, method: str, path: str, idempotency_key: str | None, status: int | None
    ) -> None:
        """Append one entry stamped with the current time."""
        entry = LoggedRequest(method, path, idempotency_key, status, now_iso_ms())
        with self._lock:
            self._entries.append(entry)

    def snapshot(self) -> dict[str, Any]:
        """The log as the `/_test/requests` JSON body."""
        with self._lock:
            entries = [asdict(e) for e in self._entries]
        return {"count": len(entries), "requests": entries}

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._entries.clear()
