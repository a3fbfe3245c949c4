"""The fault matrix's coverage grid as a picture, and the Allure summary item that carries it.

Drawn with matplotlib's Agg canvas (imported only when drawn). Each cell is coloured by verdict
and carries its mark as text (`ok`, `FAIL`, ...), so it reads without colour; a cell with no
case is grey with `·`.
"""

from __future__ import annotations

import importlib
import io
import json
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

from stormproof.chaos.matrix import RULES, MatrixCell, grid_rows
from stormproof.chaos.matrix._grid import NOT_APPLICABLE, VERDICT_MARKS

__all__ = ["grid_png", "load_drawing", "write_matrix_summary"]

DPI = 100
FONT = 9.0
_COLOURS = {
    "passed": "#3a9d5d",
    "failed": "#d0493f",
    "inconclusive": "#e0a030",
    "skipped": "#e0a030",
    "broken": "#9b59b6",
}
_NOT_APPLICABLE = "#dddddd"
_CELL_PX, _ROW_PX, _PAD_PX = 44, 20, 10


def load_drawing() -> None:
    """Import what `grid_png` draws with (a second or more), ahead of the first grid."""
    for module in _DRAWING_MODULES:
        importlib.import_module(module)


_DRAWING_MODULES = (
    "matplotlib.backends.backend_agg",
    "matplotlib.collections",
    "matplotlib.figure",
    "matplotlib.patches",
)


def grid_png(cells: Sequence[MatrixCell]) -> bytes:
    """The grid: one row per interaction, one column per fault class, a verdict per cell."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415 - lazy: slow
    from matplotlib.collections import PatchCollection  # noqa: PLC0415
    from matplotlib.figure import Figure  # noqa: PLC0415
    from matplotlib.patches import Rectangle  # noqa: PLC0415

    rows = grid_rows(cells)
    labels = [f"{service}: {interaction}" for service, interaction, _ in rows]
    figure = Figure(dpi=DPI)
    FigureCanvasAgg(figure)
    renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]

    def width(text: str, size: float = FONT) -> float:
        probe = figure.text(0, 0, text, fontsize=size)
        extent: float = probe.get_window_extent(renderer).width
        probe.remove()
        return extent

    left = max((width(label) for label in labels), default=0.0) + 2 * _PAD_PX
    top = max(width(rule.name) for rule in RULES) + 3 * _PAD_PX + 20
    plot_w, plot_h = _CELL_PX * len(RULES), _ROW_PX * max(len(rows), 1)
    total_w, total_h = left + plot_w + _PAD_PX, top + plot_h + 3 * _PAD_PX
    figure.set_size_inches(total_w / DPI, total_h / DPI)
    axes = figure.add_axes(
        (left / total_w, 2 * _PAD_PX / total_h, plot_w / total_w, plot_h / total_h)
    )
    axes.set_xlim(0, len(RULES))
    axes.set_ylim(len(rows), 0)
    axes.set_xticks([i + 0.5 for i in range(len(RULES))])
    axes.set_xticklabels([rule.name for rule in RULES], rotation=90, fontsize=FONT)
    axes.xaxis.tick_top()
    axes.set_yticks([i + 0.5 for i in range(len(rows))])
    axes.set_yticklabels(labels, fontsize=FONT)
    axes.tick_params(length=0)
    for side in axes.spines.values():
        side.set_visible(False)
    squares: list[Rectangle] = []
    for y, (_, _, found) in enumerate(rows):
        for x, rule in enumerate(RULES):
            verdict = found.get(rule.name)
            colour = _COLOURS.get(verdict or "", _NOT_APPLICABLE)
            mark = VERDICT_MARKS.get(verdict, (verdict, ""))[0] if verdict else NOT_APPLICABLE
            squares.append(Rectangle((x, y), 1, 1, facecolor=colour, edgecolor="white"))
            axes.text(x + 0.5, y + 0.5, mark, ha="center", va="center", fontsize=FONT - 1,
                      color="white" if verdict else "#555555")  # fmt: skip
    # One collection, not a patch per cell: the axes' limits are fixed, and adding patches one by
    # one recomputes them every time.
    axes.add_collection(PatchCollection(squares, match_original=True, zorder=0))
    counts: dict[str, int] = {}
    for cell in cells:
        counts[cell.verdict] = counts.get(cell.verdict, 0) + 1
    summary = ", ".join(f"{n} {verdict}" for verdict, n in sorted(counts.items()))
    figure.text(_PAD_PX / total_w, 1 - _PAD_PX / total_h, f"fault matrix: {len(cells)} cases, "
                f"{summary}", fontsize=FONT + 1, va="top")  # fmt: skip
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def _table(cells: Sequence[MatrixCell]) -> str:
    head = ["service", "interaction", *(rule.name for rule in RULES)]
    lines = [",".join(head)]
    for service, interaction, found in grid_rows(cells):
        marks = [found.get(rule.name, "n/a") for rule in RULES]
        lines.append(",".join(json.dumps(v) for v in (service, interaction, *marks)))
    return "\n".join(lines) + "\n"


def write_matrix_summary(results_dir: Path, cells: Sequence[MatrixCell]) -> Path:
    """Write an Allure test result "fault matrix coverage" with the grid as a picture and a CSV.

    Its status is `passed` when every case passed, else `failed` naming how many did not.
    """
    results_dir.mkdir(parents=True, exist_ok=True)
    not_passed = [cell for cell in cells if cell.verdict != "passed"]
    attachments = []
    for name, body, mime, suffix in (
        ("coverage grid", grid_png(cells), "image/png", "png"),
        ("coverage grid (CSV)", _table(cells).encode(), "text/csv", "csv"),
    ):
        source = f"{uuid.uuid4()}-attachment.{suffix}"
        (results_dir / source).write_bytes(body)
        attachments.append({"name": name, "source": source, "type": mime})
    now = int(time.time() * 1000)
    test_uuid = str(uuid.uuid4())
    message = (
        f"{len(not_passed)} of {len(cells)} matrix cases did not pass"
        if not_passed
        else f"all {len(cells)} matrix cases passed"
    )
    result = {
        "uuid": test_uuid,
        "historyId": "stormproof-matrix-coverage",
        "name": "fault matrix coverage",
        "fullName": "stormproof.matrix.coverage",
        "status": "failed" if not_passed else "passed",
        "statusDetails": {"message": message},
        "stage": "finished",
        "start": now,
        "stop": now,
        "attachments": attachments,
        "labels": [
            {"name": "epic", "value": "fault matrix"},
            {"name": "framework", "value": "pytest"},
        ],
    }
    path = results_dir / f"{test_uuid}-result.json"
    path.write_text(json.dumps(result), encoding="utf-8")
    return path
