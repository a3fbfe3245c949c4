"""The scorecard: one row per scenario, and a caption that explains a time past the deadline."""

from pathlib import Path

from rich.console import Console

from stormproof.chaos.report import scorecard_table
from stormproof.chaos.runner import CallRecord, PhaseRecord, ScenarioResult
from stormproof.chaos.scenario import load_scenario

SCENARIOS = Path(__file__).resolve().parents[2] / "chaos" / "scenarios"


def _result(name: str, elapsed_s: float) -> ScenarioResult:
    call = CallRecord(
        phase="slow drip", op="get_user", index=0, outcome="DeadlineExceededError", attempts=1,
        elapsed_s=elapsed_s, offset_s=0.0, breaker_after="CLOSED", idempotency_key=None,
        error=None,
    )  # fmt: skip
    phase = PhaseRecord(name="slow drip", breaker_start="CLOSED", calls=[call])
    return ScenarioResult(scenario=load_scenario(SCENARIOS / name), seed=1, phases=[phase])


def _render(results: list[ScenarioResult]) -> str:
    console = Console(width=200, record=True, color_system=None)
    console.print(scorecard_table(results))
    return console.export_text()


def test_rows_show_the_slowest_call_against_the_deadline():
    text = _render([_result("users-slow-drip-deadline.yaml", 0.98)])
    assert "users-slow-drip-deadline" in text
    assert "0.98 / 1.00 s" in text
    assert "1/1 scenarios passed" in text
    assert "deadline_tolerance_s" not in text


def test_a_pass_past_the_deadline_is_explained_by_the_tolerance():
    text = _render([_result("users-slow-drip-deadline.yaml", 1.01)])
    assert "1.01 / 1.00 s" in text
    assert "within the scenario's deadline_tolerance_s (up to 0.15 s)" in text
