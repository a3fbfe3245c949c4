"""What a run proved: its tests' outcomes, counted for the last line `run` and `matrix` print.

pytest exits 0 when every test passed or was skipped, so its exit status alone cannot tell a run
that proved everything from one that proved nothing (every scenario skipped by the backend, or
inconclusive and allowed).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from stormproof.chaos._cli_errors import cli_error
from stormproof.chaos.runner import INCONCLUSIVE

if TYPE_CHECKING:
    import pytest

# The reason a skip for an allowed inconclusive verdict gives (the plugin's `pytest.skip`).
_INCONCLUSIVE_SKIP = f"Skipped: {INCONCLUSIVE}"


class RunTally:
    """A pytest plugin object counting outcomes (with xdist, the workers' reports too)."""

    def __init__(self) -> None:
        self.passed = self.skipped = self.inconclusive = 0

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Count a test passed in its call, or skipped where it was (the CLI reads these only
        when nothing failed)."""
        if report.skipped:
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else ""
            if reason.startswith(_INCONCLUSIVE_SKIP):
                self.inconclusive += 1
            else:
                self.skipped += 1
        elif report.passed and report.when == "call":
            self.passed += 1

    def conclude(self, noun: str, total: int | None = None) -> None:
        """Print the last line of a run that failed nothing, or raise when it proved nothing.

        Raises:
            typer.Exit: 1 when no test passed (all skipped or inconclusive).
        """
        unproved = []
        if self.inconclusive:
            unproved.append(f"{self.inconclusive} inconclusive (allowed)")
        if self.skipped:
            unproved.append(f"{self.skipped} skipped")
        if not self.passed:
            listed = ", ".join(unproved) or "no test ran"
            raise cli_error(f"no {noun} passed ({listed}): the run proved nothing", 1)
        if unproved:
            typer.secho(
                f"stormproof: {self.passed} {noun} passed, {', '.join(unproved)}: nothing failed, "
                "but those not passed proved nothing",
                fg=typer.colors.YELLOW,
            )
        else:
            every = f"all {total}" if total is not None else "all"
            typer.secho(f"stormproof: {every} {noun} passed", fg=typer.colors.GREEN)


__all__ = ["RunTally"]
