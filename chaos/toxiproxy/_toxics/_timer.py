"""A one-shot timer on the monotonic clock that is at most 50 us early and rarely late."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from time import monotonic

# Loop timers have millisecond resolution: uvloop fires a timer once its millisecond clock,
# floor(monotonic ms) when armed, has advanced by round(delay ms). A `Timer` asks for the last
# whole millisecond before its due time (less the poll slack below), then yields to the loop
# once per iteration until due, so injected delays are never short by more than this margin
# and rarely more than 0.1 ms long. Anything due within the margin is released: one more loop
# iteration would cost more than it saves.
EARLY_MARGIN = 0.00005
# Linux lets a poll's timeout end up to 0.1 % of it late (select_estimate_accuracy): 0.5 ms on
# a 500 ms wait. A precise timer asks to wake that much earlier too, then waits out the rest in
# short steps whose slack is negligible.
POLL_SLACK = 0.001


class Timer:
    """A one-shot timer on the monotonic clock; never more than `EARLY_MARGIN` early.

    A precise timer is late by about 0.1 ms at most (it yields to the loop once per iteration
    for the last one or two milliseconds); a coarse one may be up to ~1 ms late but never
    busy-waits, which keeps a stream of chunks through a latency toxic cheap.
    """

    __slots__ = ("_callback", "_due", "_handle", "_loop", "_precise")

    def __init__(self, loop: asyncio.AbstractEventLoop, callback: Callable[[], None]) -> None:
        self._loop = loop
        self._callback = callback
        self._handle: asyncio.Handle | None = None
        self._due = 0.0
        self._precise = True

    @property
    def armed(self) -> bool:
        """Whether the timer is pending."""
        return self._handle is not None

    def arm(self, due: float, *, precise: bool = True) -> None:
        """Fire at monotonic time `due` (replacing any earlier arming)."""
        self.cancel()
        self._due = due
        self._precise = precise
        self._schedule(due - monotonic())

    def _schedule(self, delay: float) -> None:
        now = monotonic()
        whole_ms = math.ceil((now + delay) * 1000.0 - math.floor(now * 1000.0))
        if self._precise:
            whole_ms -= math.ceil(1.0 + delay * 1000.0 * POLL_SLACK)
        if whole_ms >= 1:
            self._handle = self._loop.call_later(whole_ms / 1000.0, self._fire)
        else:
            self._handle = self._loop.call_soon(self._fire)

    def _fire(self) -> None:
        remaining = self._due - monotonic()
        if remaining > EARLY_MARGIN:
            self._schedule(remaining)
            return
        self._handle = None
        self._callback()

    def cancel(self) -> None:
        """Disarm."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
