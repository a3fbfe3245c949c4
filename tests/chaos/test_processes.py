"""The embedded environment: proxy and providers in child processes (the default) or in threads of
this process (kept as an option); both run the same scenario to the same verdict."""

import os

import pytest

from stormproof.chaos.runner import ChaosEnvironmentError, ScenarioRunner, start_environment
from stormproof.chaos.scenario import default_scenario_dir, load_scenario
from stormproof.chaos.services import demo_config_path, load_config, parse_config

SCENARIO = load_scenario(default_scenario_dir() / "users-503-then-success.yaml")
DEMO_USERS_APP = load_config(demo_config_path()).services["users"].app


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
        # The proxy, and one process serving all three app providers.
        assert len(started) == 2
        assert len({e.provider_url for e in environment.services.values()}) == 3
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


def test_an_app_that_cannot_be_imported_is_reported_with_what_the_process_said(tmp_path):
    client = "stormproof.clients:UserServiceClient"
    services = {
        "users": {"client": client, "app": DEMO_USERS_APP},
        "orders": {"client": client, "app": "no_such_module:create"},
    }
    config = parse_config({"services": services}, tmp_path / "stormproof.toml", {})
    before = _children()
    with pytest.raises(ChaosEnvironmentError) as caught, start_environment(config=config, seed=1):
        pass
    message = str(caught.value)
    assert "the providers users, orders" in message
    assert "cannot import no_such_module" in message
    assert {pid for pid in _children() - before if _state(pid) != "Z"} == set()
