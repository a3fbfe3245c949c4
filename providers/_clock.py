"""Timestamps in the documented RFC 3339 UTC form."""

from __future__ import annotations

from datetime import UTC, datetime


def now_iso() -> str:
    """The current time, to the second, for resource timestamps (`2026-11-29T07:46:08Z`)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_iso_ms() -> str:
    """The current time, to the millisecond, for logs (`2026-11-29T07:46:08.123Z`)."""
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"
