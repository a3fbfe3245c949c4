"""Figures of the reliability tests, printed at the end of the run (cases, runs, outcomes)."""

from __future__ import annotations

from typing import Any

from tests.reliability._figures import FIGURES


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print what the reliability tests counted (only when some of them ran)."""
    if not FIGURES:
        return
    terminalreporter.section("stormproof reliability figures")
    for name, counts in sorted(FIGURES.items()):
        listed = ", ".join(f"{key}={value}" for key, value in sorted(counts.items()))
        terminalreporter.write_line(f"{name}: {listed}")
