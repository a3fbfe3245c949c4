"""Public test mode: instant, deterministic retries for your own tests.

Backoff sleeps advance a fake clock instead of blocking, and jitter comes from a seeded random
source, so a test of "three attempts with backoff" runs in microseconds and always sleeps the
same amounts::

    from stormproof.clients import PaymentServiceClient
    from stormproof.clients.testing import FakeClock, instant_runtime

    clock = FakeClock()
    client = PaymentServiceClient(
        "http://payments.test", runtime=instant_runtime(seed=7, clock=clock)
    )
    ...                                 # calls that retry
    assert len(clock.sleeps) == 2       # the backoffs, taken instantly on the fake clock

Or switch it on for every client built inside a block (stamina's ``set_testing`` style)::

    with testing.use_instant_runtime(seed=7) as runtime:
        client = PaymentServiceClient("http://payments.test")

Real-socket timeouts (connect/read timeouts and the deadline watchdog) still run on real time:
the fake clock only replaces waiting that the client does on purpose.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from stormproof.clients._runtime import Runtime, set_default_runtime

__all__ = ["FakeClock", "instant_runtime", "use_instant_runtime"]


class FakeClock:
    """A clock that only moves when something sleeps on it (or :meth:`advance` is called).

    Attributes:
        sleeps: Every sleep requested, in order (seconds).
    """

    def __init__(self, start: float = 1_000.0, wall_start: float = 1_800_000_000.0) -> None:
        """Create a clock reading ``start`` (monotonic) and ``wall_start`` (epoch seconds).

        Args:
            start: Initial monotonic reading.
            wall_start: Initial wall-clock reading, in seconds since the epoch.
        """
        self._lock = threading.Lock()
        self._now = start
        self._wall_offset = wall_start - start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        """Return the current monotonic reading."""
        return self._now

    def wall(self) -> float:
        """Return the current wall-clock reading (epoch seconds)."""
        return self._now + self._wall_offset

    def sleep(self, seconds: float) -> None:
        """Record the sleep and advance the clock by it instantly."""
        with self._lock:
            self.sleeps.append(float(seconds))
            self._now += max(0.0, float(seconds))

    def advance(self, seconds: float) -> None:
        """Move the clock forward without recording a sleep."""
        with self._lock:
            self._now += seconds


def instant_runtime(seed: int = 0, clock: FakeClock | None = None) -> Runtime:
    """Build a runtime with a fake clock and a seeded random source.

    Args:
        seed: Seed of the jitter random source.
        clock: The fake clock to use (a new one by default); keep it to inspect ``sleeps``.

    Returns:
        A runtime whose ``clock`` is the fake clock (``runtime.clock.sleeps`` lists sleeps).
    """
    fake = clock if clock is not None else FakeClock()
    return Runtime(
        clock=fake, sleep=fake.sleep, random=random.Random(seed).random, wall_clock=fake.wall
    )


@contextmanager
def use_instant_runtime(seed: int = 0) -> Iterator[Runtime]:
    """Make clients built inside the block (without ``runtime=``) use an instant runtime.

    Args:
        seed: Seed of the jitter random source.

    Yields:
        The instant runtime in force inside the block.
    """
    runtime = instant_runtime(seed)
    previous = set_default_runtime(runtime)
    try:
        yield runtime
    finally:
        set_default_runtime(previous)
