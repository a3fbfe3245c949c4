"""Capturing the clients' structured log of one scenario as JSON lines (already redacted)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from pythonjsonlogger.json import JsonFormatter

CLIENT_LOGGER = "stormproof.clients"


class _ListHandler(logging.Handler):
    def __init__(self, service: str, lines: list[str]) -> None:
        super().__init__(logging.DEBUG)
        self._service = service
        self._lines = lines
        self._lock_lines = threading.Lock()
        self.setFormatter(JsonFormatter(timestamp=True))

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(record, "service", self._service) != self._service:
            return
        line = self.format(record)
        with self._lock_lines:
            self._lines.append(line)


@contextmanager
def capture_client_log(service: str) -> Iterator[list[str]]:
    """Collect the `stormproof.clients` records of `service` while the block runs.

    The clients' logger scrubs secrets before any handler sees a record, so the lines are safe to
    attach to reports.
    """
    lines: list[str] = []
    target = logging.getLogger(CLIENT_LOGGER)
    handler = _ListHandler(service, lines)
    previous = target.level
    if target.getEffectiveLevel() > logging.INFO:
        target.setLevel(logging.INFO)
    target.addHandler(handler)
    try:
        yield lines
    finally:
        target.removeHandler(handler)
        target.setLevel(previous)
