"""The embedded environment: proxy and providers in child processes (the default) or in threads of
this process (kept as an option); both run the same scenario to the same verdict."""

import os

import pytest

from stormproof.chaos.runner import ScenarioRunner, start_environment
from stormproof.chaos.scenario import default_scenario_dir, load_scenario

SCENARIO = load_scenario(default_scenario_dir() / "users-503-then-success.yaml")


@pytest.mark.parametrize("in_process", [False, True], ids=["child-processes", "in-process"])
def test_both_modes_run_a_scenario_to_the_same_verdict(in_process):
    with start_environment(seed=1, in_process=in_process) as environment:
        result = ScenarioRunner(environment, seed=1).run(SCENARIO)
        url = environment.endpoint("users").provider_url
    assert result.passed, result.failure_message()
    assert url.startswith("http://127.0.0.1:")


def _children() -> set[int]:
    pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
    return {pid for pid in pids if _parent(pid) == os.getpid()}


def test_child_processes_are_gone_when_the_environment_closes():
    before = _children()  # a session environment of the suite may have its own
    with start_environment(seed=1) as environment:
        started = _children() - before
        assert len(started) >= 4  # the proxy and three providers
        assert environment.backend == "embedded"
    alive = {pid for pid in started if os.path.exists(f"/proc/{pid}") and _state(pid) != "Z"}
    assert alive == set()


def _parent(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return int(stat.read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def _state(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None
