"""Sliding windows of attempt outcomes and of counts, in the process (the breaker, the budget).

A :class:`CountWindow` holds the last N attempts; a :class:`TimeBuckets` ring holds counters of the
last ``span_s`` seconds in ``BUCKETS`` buckets (Resilience4j's partial aggregations), so adding is
O(1) and summing is O(buckets), never O(calls). Neither is thread-safe: their owners lock.
``stormproof.clients._fleet`` keeps the same windows on Redis for a fleet.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["BUCKETS", "FAILED", "PRESENT", "SLOW", "CountWindow", "Tally", "TimeBuckets"]

BUCKETS = 20
"""Buckets of a time window: the window moves in steps of ``span_s / BUCKETS``."""

PRESENT, FAILED, SLOW = 1, 2, 4
"""Bits of an attempt's outcome code."""


@dataclass(frozen=True, slots=True)
class Tally:
    """What a window holds.

    Attributes:
        total: Attempts recorded.
        failures: Failed attempts among them.
        slow: Slow attempts among them (failed or not).
    """

    total: int
    failures: int
    slow: int


def code(*, failed: bool, slow: bool) -> int:
    """Return the outcome code of an attempt (``PRESENT | FAILED? | SLOW?``)."""
    return PRESENT | (FAILED if failed else 0) | (SLOW if slow else 0)


class CountWindow:
    """The last ``size`` attempts, with running totals."""

    def __init__(self, size: int) -> None:
        """Create an empty window of ``size`` attempts."""
        self._ring = bytearray(size)
        self._next = 0
        self._total = self._failures = self._slow = 0

    def add(self, outcome: int) -> Tally:
        """Record an attempt (its :func:`code`), dropping the oldest when full.

        Returns:
            The window after the change.
        """
        old = self._ring[self._next]
        self._ring[self._next] = outcome
        self._next = (self._next + 1) % len(self._ring)
        self._total += 1 - (old & PRESENT)
        self._failures += bool(outcome & FAILED) - bool(old & FAILED)
        self._slow += bool(outcome & SLOW) - bool(old & SLOW)
        return Tally(self._total, self._failures, self._slow)

    def reset(self) -> None:
        """Forget every attempt."""
        self._ring = bytearray(len(self._ring))
        self._next = 0
        self._total = self._failures = self._slow = 0


class TimeBuckets:
    """Counters over the last ``span_s`` seconds, in :data:`BUCKETS` time buckets."""

    def __init__(self, span_s: float, width: int) -> None:
        """Create empty counters.

        Args:
            span_s: Seconds the window spans.
            width: Counters per bucket.
        """
        self._step = span_s / BUCKETS
        self._epochs = [-1] * BUCKETS
        self._counts = [[0] * width for _ in range(BUCKETS)]
        self._width = width

    def add(self, now: float, deltas: tuple[int, ...]) -> None:
        """Add ``deltas`` to the counters of the bucket ``now`` falls in."""
        epoch = math.floor(now / self._step)
        slot = epoch % BUCKETS
        counts = self._counts[slot]
        if self._epochs[slot] != epoch:
            self._epochs[slot] = epoch
            counts[:] = deltas
            return
        for i, delta in enumerate(deltas):
            counts[i] += delta

    def sums(self, now: float) -> list[int]:
        """Return each counter summed over the buckets of the last ``span_s`` seconds."""
        epoch = math.floor(now / self._step)
        sums = [0] * self._width
        for slot in range(BUCKETS):
            if 0 <= epoch - self._epochs[slot] < BUCKETS:
                for i, count in enumerate(self._counts[slot]):
                    sums[i] += count
        return sums

    def reset(self) -> None:
        """Forget every count."""
        self._epochs = [-1] * BUCKETS
