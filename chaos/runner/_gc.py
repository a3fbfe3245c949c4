"""Keeping the cyclic garbage collector's stop-the-world passes out of a scenario's timing."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run the block with the cyclic garbage collector off, as ``timeit`` does.

    With the embedded backend the client, the proxy and the providers share one process, so a
    full collection freezes all of them at once. In the whole test suite's process the collector
    paused up to 0.4 s (18 pauses above 20 ms in one run), as long as a profile's read timeout:
    a Retry-After scenario's second attempt timed out and the verdict flipped. Reference counting
    still frees everything that is not a cycle; cycles wait until the block ends, and the
    collector catches up between scenarios (a collection forced before each one cost 0.35 s
    there, so none is).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
