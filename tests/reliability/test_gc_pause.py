"""No stop-the-world garbage collection while a scenario runs (the cause of a verdict flip).

In the whole suite's process the cyclic collector paused up to 0.4 s, as long as the profile's
read timeout, and notifications-429-retry-after made a third attempt. The runner now keeps the
collector off while a scenario runs.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

import pytest

from stormproof.chaos.runner import NullObserver, ScenarioRunner
from stormproof.chaos.scenario import Scenario

SCENARIO = Scenario.model_validate(
    {
        "name": "gc-paused",
        "service": "users",
        "description": "one call under a small latency",
        "setup": [{"state": "a user with id usr_1 exists"}],
        "phases": [
            {
                "name": "slow network",
                "faults": [{"toxic": "latency", "attributes": {"latency": 20}}],
                "calls": [{"op": "get_user", "with": {"user_id": "usr_1"}}],
            }
        ],
    }
)


class _GcProbe(NullObserver):
    """Records whether the collector was on at every step of the run."""

    def __init__(self) -> None:
        self.enabled: list[bool] = []

    def step(self, title: str) -> AbstractContextManager[None]:
        self.enabled.append(gc.isenabled())

        @contextmanager
        def step() -> Iterator[None]:
            yield

        return step()


@pytest.mark.parametrize("enabled_before", [True, False])
def test_the_collector_is_off_during_a_scenario_and_restored_after(
    chaos_rollback, enabled_before: bool
):
    probe = _GcProbe()
    if not enabled_before:
        gc.disable()
    try:
        result = ScenarioRunner(chaos_rollback, observer=probe).run(SCENARIO)
        assert gc.isenabled() is enabled_before
    finally:
        gc.enable()
    assert result.passed, result.failure_message()
    assert probe.enabled
    assert not any(probe.enabled)


def test_the_collector_comes_back_after_an_interrupt(chaos_rollback, monkeypatch):
    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("stormproof.chaos.runner._runner._call_once", interrupt)
    with pytest.raises(KeyboardInterrupt):
        ScenarioRunner(chaos_rollback).run(SCENARIO)
    assert gc.isenabled()
