"""The clock, sleep and random source the clients use, injectable for tests."""

from __future__ import annotations

import random as _random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["Runtime", "default_runtime", "set_default_runtime"]


@dataclass(frozen=True, slots=True)
class Runtime:
    """Where the clients get time and randomness from.

    Production code never passes one. Tests pass ``clients.testing.instant_runtime()`` (or
    build their own) so backoff sleeps take no real time and jitter is reproducible.

    Attributes:
        clock: Monotonic seconds; deadlines, backoff and the breaker's reset timeout use it.
        sleep: Sleeps the given seconds (backoff and Retry-After waits).
        random: Returns a float in [0, 1) (full-jitter backoff).
        wall_clock: Seconds since the epoch (only to read HTTP-date ``Retry-After`` values).
    """

    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    random: Callable[[], float] = field(default=_random.random)
    wall_clock: Callable[[], float] = time.time


_lock = threading.Lock()
_default = Runtime()


def default_runtime() -> Runtime:
    """Return the runtime clients use when they are built without ``runtime=``."""
    return _default


def set_default_runtime(runtime: Runtime | None) -> Runtime:
    """Replace the process-wide default runtime (``None``: the real one).

    Args:
        runtime: The runtime clients built from now on without ``runtime=`` use.

    Returns:
        The previous default, so callers can restore it.
    """
    global _default  # noqa: PLW0603 - the documented process-wide test switch, like stamina's
    with _lock:
        previous = _default
        _default = runtime if runtime is not None else Runtime()
    return previous
