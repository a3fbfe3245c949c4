"""A deliberately weakened client makes the right scenarios fail, with the right category.

This is the proof that the matrix can fail: each weakening (test-only switch of the runner) is run
against scenarios that exist to catch it.
"""

import pytest

from stormproof.chaos.runner import ScenarioRunner
from stormproof.chaos.scenario import Scenario, default_scenario_dir, load_scenario


def _shipped(name: str) -> Scenario:
    return load_scenario(default_scenario_dir() / f"{name}.yaml")


@pytest.mark.parametrize(
    ("weaken", "scenario", "category"),
    [
        ("no-retries", "users-503-then-success", "Did not retry"),
        ("no-retries", "payments-create-503-after-charge", "Did not retry"),
        ("no-retries", "notifications-seeded-toxicity-retries-win", "Did not retry"),
        ("no-retries", "users-reset-request-direction", "Did not retry"),
        ("no-breaker", "payments-breaker-lifecycle", "Breaker did not open"),
        ("no-breaker", "users-breaker-lifecycle", "Breaker did not open"),
        ("no-window", "users-breaker-failure-rate-window", "Breaker did not open"),
        ("no-window", "users-breaker-slow-call-rate", "Breaker did not open"),
        ("no-budget", "users-retry-budget-outage", "Too many attempts"),
    ],
)
def test_weakened_client_fails_the_scenario_that_guards_against_it(
    chaos_environment, chaos_rollback, weaken, scenario, category
):
    healthy = ScenarioRunner(chaos_environment).run(_shipped(scenario))
    assert healthy.passed, healthy.failure_message()
    weakened = ScenarioRunner(chaos_environment, weaken=weaken).run(_shipped(scenario))
    assert not weakened.passed
    assert weakened.primary is not None
    assert weakened.primary.category == category, weakened.failure_message()


def test_a_client_without_a_deadline_is_caught_by_a_slow_drip(chaos_environment, chaos_rollback):
    scenario = Scenario.model_validate(
        {
            "name": "drip-without-deadline",
            "service": "users",
            "description": "10 ms per byte: about 2.5 s for one response, deadline 1 s",
            "profile": {"read_timeout_s": 0.5, "deadline_s": 1.0, "retry": {"max_attempts": 1}},
            "setup": [{"state": "a user with id usr_1 exists"}],
            "phases": [
                {
                    "name": "drip",
                    "faults": [
                        {
                            "toxic": "slicer",
                            "attributes": {"average_size": 1, "size_variation": 0, "delay": 10000},
                        }
                    ],
                    "calls": [
                        {
                            "op": "get_user",
                            "with": {"user_id": "usr_1"},
                            "expect": {"outcome": "DeadlineExceededError"},
                        }
                    ],
                }
            ],
        }
    )
    healthy = ScenarioRunner(chaos_environment).run(scenario)
    assert healthy.passed, healthy.failure_message()
    weakened = ScenarioRunner(chaos_environment, weaken="no-deadline").run(scenario)
    assert weakened.primary is not None
    assert weakened.primary.category == "Deadline exceeded", weakened.failure_message()
    assert weakened.calls[0].elapsed_s > 1.5
