"""The toxics' timer: never fires before its due time (less a 50 us margin), on either loop."""

import asyncio
from time import monotonic

import pytest
import uvloop

from stormproof.chaos.toxiproxy._toxics._timer import EARLY_MARGIN, Timer

# Delays around each boundary of the timer: under a millisecond (no loop timer at all), a few
# milliseconds (one step), and long enough that the kernel's poll slack matters (0.1 %).
DELAYS = (0.0, 0.0004, 0.0011, 0.0032, 0.017, 0.121, 0.503)


async def fire_times(precise: bool) -> list[tuple[float, float]]:
    loop = asyncio.get_running_loop()
    results: list[tuple[float, float]] = []
    done = asyncio.Event()

    def arm(delay: float) -> None:
        due = monotonic() + delay

        def fired() -> None:
            results.append((due, monotonic()))
            if len(results) == len(DELAYS):
                done.set()

        timers.append(Timer(loop, fired))
        timers[-1].arm(due, precise=precise)

    timers: list[Timer] = []
    for delay in DELAYS:
        arm(delay)
    await asyncio.wait_for(done.wait(), 5)
    return results


@pytest.mark.parametrize("precise", [True, False], ids=["precise", "coarse"])
@pytest.mark.parametrize("loop_factory", [uvloop.new_event_loop, asyncio.new_event_loop])
def test_a_timer_is_never_early(loop_factory, precise):
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        results = runner.run(fire_times(precise))
    assert len(results) == len(DELAYS)
    for due, fired in results:
        assert fired >= due - EARLY_MARGIN


def test_a_cancelled_or_rearmed_timer_fires_once_at_its_last_due_time():
    async def scenario() -> list[float]:
        loop = asyncio.get_running_loop()
        fired: list[float] = []
        timer = Timer(loop, lambda: fired.append(monotonic()))
        timer.arm(monotonic() + 0.01)
        timer.cancel()
        assert not timer.armed
        timer.arm(monotonic() + 0.2)
        last_due = monotonic() + 0.03
        timer.arm(last_due)
        await asyncio.sleep(0.3)
        assert not timer.armed
        return [t - last_due for t in fired]

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        lateness = runner.run(scenario())
    assert len(lateness) == 1
    assert lateness[0] >= -EARLY_MARGIN
