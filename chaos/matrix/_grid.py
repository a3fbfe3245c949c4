"""The matrix's coverage grid: interactions x fault classes, one verdict per cell."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table

from stormproof.chaos.matrix._rules import RULES

__all__ = ["VERDICT_MARKS", "MatrixCell", "grid_rows", "print_grid"]

#: How each verdict reads in the grid; a cell with no case is `·` (not applicable).
VERDICT_MARKS = {
    "passed": ("ok", "green"),
    "failed": ("FAIL", "bold red"),
    "inconclusive": ("?", "yellow"),
    "skipped": ("skip", "yellow"),
    "broken": ("ERR", "bold magenta"),
}
NOT_APPLICABLE = "·"


@dataclass(frozen=True)
class MatrixCell:
    """The verdict of one case: `passed`, `failed`, `inconclusive`, `skipped` or `broken`."""

    service: str
    interaction: str
    fault: str
    verdict: str


def grid_rows(cells: Sequence[MatrixCell]) -> list[tuple[str, str, dict[str, str]]]:
    """(service, interaction, fault -> verdict) per row, in the order the cases ran."""
    rows: dict[tuple[str, str], dict[str, str]] = {}
    for cell in cells:
        rows.setdefault((cell.service, cell.interaction), {})[cell.fault] = cell.verdict
    return [(service, interaction, found) for (service, interaction), found in rows.items()]


def print_grid(cells: Sequence[MatrixCell], console: Console | None = None) -> None:
    """Print the grid and a one-line count per verdict."""
    console = console or Console(width=200)
    table = Table(title="fault matrix (pact interactions x fault classes)", title_justify="left")
    table.add_column("service")
    table.add_column("interaction", overflow="fold")
    for rule in RULES:
        table.add_column(rule.short, justify="center")
    for service, interaction, found in grid_rows(cells):
        marks = []
        for rule in RULES:
            verdict = found.get(rule.name)
            if verdict is None:
                marks.append(NOT_APPLICABLE)
                continue
            mark, style = VERDICT_MARKS.get(verdict, (verdict, "bold magenta"))
            marks.append(f"[{style}]{mark}[/]")
        table.add_row(service, interaction, *marks)
    console.print(table)
    legend = ", ".join(f"{rule.short} = {rule.name}" for rule in RULES)
    console.print(f"columns: {legend}; {NOT_APPLICABLE} = not applicable", soft_wrap=True)
    counts: dict[str, int] = {}
    for cell in cells:
        counts[cell.verdict] = counts.get(cell.verdict, 0) + 1
    summary = ", ".join(f"{count} {verdict}" for verdict, count in sorted(counts.items()))
    console.print(f"{len(cells)} matrix cases: {summary}")
