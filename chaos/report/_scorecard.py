"""The scorecard printed at the end of a run: service x fault, verdict, attempts, time, breaker."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from stormproof.chaos.runner import ScenarioResult


def scorecard_table(results: Sequence[ScenarioResult], interrupted: int = 0) -> Table:
    """A rich table with one row per scenario that ended; `interrupted` counts those a Ctrl-C
    cut short or kept from running."""
    table = Table(title="stormproof chaos scorecard", show_lines=False, expand=False)
    for column in ("service", "fault", "scenario", "verdict", "attempts", "slowest / deadline"):
        table.add_column(column, no_wrap=column in ("service", "verdict"))
    table.add_column("breaker path")
    table.add_column("why not passed")
    for result in sorted(results, key=lambda r: (r.scenario.service, r.scenario.name)):
        calls = result.calls
        attempts = [c.attempts for c in calls]
        verdict = _VERDICTS[result.verdict]
        table.add_row(
            result.scenario.service,
            ", ".join(result.scenario.fault_kinds),
            result.scenario.name,
            verdict,
            f"{min(attempts)}-{max(attempts)}" if attempts and min(attempts) != max(attempts)
            else str(attempts[0] if attempts else 0),
            f"{_slowest(result):.2f} / {result.scenario.profile.deadline_s:.2f} s",
            " → ".join(result.breaker_path),
            _why(result),
        )  # fmt: skip
    passed = sum(1 for r in results if r.passed)
    table.caption = f"{passed}/{len(results) + interrupted} scenarios passed"
    if interrupted:
        table.caption += f", {interrupted} interrupted or not run"
    skipped = sum(1 for r in results if r.skip_reason is not None)
    if skipped:
        table.caption += f", {skipped} skipped"
    inconclusive = sum(1 for r in results if r.inconclusive)
    if inconclusive:
        table.caption += f", {inconclusive} inconclusive (a fault never fired: nothing proved)"
    overran = [r for r in results if r.passed and _slowest(r) > r.scenario.profile.deadline_s]
    if overran:
        tolerance = max(r.scenario.deadline_tolerance_s for r in overran)
        table.caption += (
            f"; a time past its deadline is within the scenario's deadline_tolerance_s "
            f"(up to {tolerance:.2f} s)"
        )
    return table


_VERDICTS = {
    "passed": "[green]PASS[/green]",
    "failed": "[red]FAIL[/red]",
    "inconclusive": "[yellow]INCONCLUSIVE[/yellow]",
    "skipped": "[yellow]SKIPPED[/yellow]",
}


def _why(result: ScenarioResult) -> str:
    lead = result.primary
    if lead is not None:
        return lead.category
    if result.skip_reason is not None:
        return result.skip_reason
    if result.inconclusive:
        phase, witness = result.unfired[0]
        return f"never fired in '{phase}': {witness.fault}"
    return ""


def _slowest(result: ScenarioResult) -> float:
    return max((c.elapsed_s for c in result.calls), default=0.0)


def print_scorecard(
    results: Sequence[ScenarioResult], console: Console | None = None, *, interrupted: int = 0
) -> None:
    """Print the scorecard to the terminal (or `console`); see `scorecard_table`."""
    if console is None:
        console = Console()
        # Rich falls back to 80 columns when not on a terminal (CI logs): too narrow for the table.
        console.width = max(console.width, 150)
    console.print(scorecard_table(results, interrupted))
