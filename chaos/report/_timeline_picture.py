"""The attempt timeline as a PNG picture: a row per call, phases as bands, a breaker lane.

Drawn with matplotlib's Agg canvas (no pyplot, so no global backend is chosen for the user's
process), imported only when a picture is drawn so that importing stormproof stays fast. The layout
is computed in pixels from measured text, so that row labels are never cut and no two labels of a
lane overlap, however long the names or close the events.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

from stormproof.chaos.report._lanes import Placed, stack

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.backend_bases import RendererBase
    from matplotlib.figure import Figure

    from stormproof.chaos.runner import AttemptRecord, CallRecord, ScenarioResult

DPI = 100
FONT = 9.0
_PLOT_PX = 780
_ROW_PX = 24
_LEVEL_PX = 16
_PAD_PX = 12
_OK = "#3a9d5d"
_FAILED = "#d0493f"
_FAST_FAIL = "#8a8a8a"
_FAULT_BAND = "#f3b04b"
_STATES = {"CLOSED": "#3a9d5d", "OPEN": "#d0493f", "HALF_OPEN": "#e0a030"}
_HATCH = {"CLOSED": "", "OPEN": "xx", "HALF_OPEN": ".."}


@dataclass(frozen=True)
class Span:
    """A label on a lane: where its thing starts and ends (seconds) and its text."""

    start_s: float
    end_s: float
    text: str
    colour: str


def attempt_code(attempt: AttemptRecord) -> str:
    """A short name of an attempt's outcome: its HTTP status, else its error class."""
    if attempt.status_code is not None:
        return str(attempt.status_code)
    return attempt.outcome.removesuffix("Error")


def outcome_summary(call: CallRecord) -> str:
    """What a call did, attempt by attempt, e.g. `✗ ServiceUnavailable, ✓ 200 → ok`."""
    if not call.attempt_records:
        return f"no request sent → {call.outcome}"
    marks = [f"{'✓' if a.outcome == 'ok' else '✗'} {attempt_code(a)}" for a in call.attempt_records]
    return f"{', '.join(marks)} → {call.outcome}"


def _phase_spans(result: ScenarioResult) -> list[Span]:
    from stormproof.chaos.runner import describe_fault  # noqa: PLC0415 - the runner imports us

    faults = {phase.name: phase.faults for phase in result.scenario.phases}
    spans = []
    for record in result.phases:
        if not record.calls:
            continue
        start = min(c.offset_s for c in record.calls)
        end = max(c.offset_s + c.elapsed_s for c in record.calls)
        applied = faults.get(record.name, [])
        text = record.name
        if applied:
            text += ": " + "; ".join(describe_fault(f) for f in applied)
        spans.append(Span(start, end, text, _FAULT_BAND if applied else "#ffffff"))
    return spans


def _breaker_spans(result: ScenarioResult, end_s: float) -> list[Span]:
    if not result.phases:
        return []
    changes = [(0.0, result.phases[0].breaker_start)]
    for phase in result.phases:
        for transition in phase.transitions:
            if transition.new_state != changes[-1][1]:
                changes.append((transition.offset_s, transition.new_state))
    spans = []
    for (start, state), (end, _) in zip(changes, [*changes[1:], (end_s, "")], strict=True):
        spans.append(Span(start, end, f"{state} at {start:.3f} s", _STATES.get(state, "#888888")))
    return spans


class _Layout:
    """Pixel geometry of the picture, from the widths of its texts."""

    def __init__(self, figure: Figure, renderer: RendererBase, end_s: float) -> None:
        self.figure = figure
        self.renderer = renderer
        self.end_s = end_s
        self.left = 0.0

    def width(self, text: str, size: float = FONT) -> float:
        probe = self.figure.text(0, 0, text, fontsize=size)
        try:
            return float(probe.get_window_extent(self.renderer).width)
        finally:
            probe.remove()

    def x_px(self, seconds: float) -> float:
        return self.left + seconds / self.end_s * _PLOT_PX

    def levels(self, spans: list[Span]) -> tuple[list[int], list[Placed]]:
        """The level of each span's label, and where (pixels) its text starts and ends."""
        extents = []
        for span in spans:
            point = self.x_px(span.start_s)
            extents.append(Placed(point + 3, point + 3 + self.width(span.text), point))
        return stack(extents, gap=8.0), extents


def _lane(figure: Figure, rect: tuple[float, float, float, float], end_s: float) -> Axes:
    axes = figure.add_axes(rect)
    axes.set_xlim(0, end_s)
    axes.set_yticks([])
    for side in ("top", "right", "left"):
        axes.spines[side].set_visible(False)
    axes.tick_params(axis="x", labelbottom=False, length=0)
    return axes


def timeline_png(result: ScenarioResult) -> bytes:
    """The scenario's calls over time as a PNG picture.

    One row per call with one bar per attempt (green and a circle when it succeeded, red, hatched
    and a cross when it failed, a grey diamond for a call that failed fast without a request);
    each row ends with its outcome attempt by attempt. Phases with faults are shaded bands, named
    on a lane above the calls; the breaker's states are a lane below them.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415 - lazy: slow
    from matplotlib.figure import Figure  # noqa: PLC0415
    from matplotlib.lines import Line2D  # noqa: PLC0415
    from matplotlib.patches import Patch  # noqa: PLC0415
    from matplotlib.ticker import MaxNLocator  # noqa: PLC0415

    calls = result.calls
    ends = [c.offset_s + c.elapsed_s for c in calls]
    ends += [t.offset_s for p in result.phases for t in p.transitions]
    end_s = max([*ends, 0.001]) * 1.04
    figure = Figure(dpi=DPI)
    FigureCanvasAgg(figure)
    layout = _Layout(figure, figure.canvas.get_renderer(), end_s)  # type: ignore[attr-defined]
    rows = [call.label for call in calls] or ["(no calls)"]
    summaries = [outcome_summary(call) for call in calls]
    layout.left = max(layout.width(text) for text in rows) + 2 * _PAD_PX
    right = max([layout.width(text) for text in summaries] + [0.0]) + 2 * _PAD_PX
    title = (
        f"{result.scenario.name}: {len(calls)} call(s), "
        f"{sum(c.attempts for c in calls)} attempt(s), {result.verdict}"
    )
    phases = _phase_spans(result)
    breaker = _breaker_spans(result, end_s)
    phase_levels, phase_extents = layout.levels(phases)
    breaker_levels, breaker_extents = layout.levels(breaker)
    # A label near the end of the time axis runs on into the right margin, widening it if need be.
    label_end = max((p.end for p in [*phase_extents, *breaker_extents]), default=0.0)
    width = max(
        layout.left + _PLOT_PX + right,
        label_end + _PAD_PX,
        layout.width(title, FONT + 2) + 2 * _PAD_PX,
    )
    phase_depth = max(phase_levels, default=-1) + 2  # levels plus the bar above them
    breaker_depth = max(breaker_levels, default=-1) + 2
    # From the top: title, legend, phase lane, calls, breaker lane, time axis.
    heights = [34.0, 28.0, phase_depth * _LEVEL_PX, len(rows) * _ROW_PX, breaker_depth * _LEVEL_PX]
    height = sum(heights) + 40  # the ticks and the axis' name
    figure.set_size_inches(width / DPI, height / DPI)

    def rect(top_px: float, px: float) -> tuple[float, float, float, float]:
        return (layout.left / width, 1 - (top_px + px) / height, _PLOT_PX / width, px / height)

    figure.text(_PAD_PX / width, 1 - 22 / height, title, fontsize=FONT + 2, weight="bold")
    legend = [
        Line2D([], [], color=_OK, marker="o", lw=6, mec="black", label="attempt ok"),
        Line2D([], [], color=_FAILED, marker="X", lw=6, mec="black", label="attempt failed"),
        Line2D([], [], color=_FAST_FAIL, marker="D", lw=0, mec="black", label="failed fast"),
        Patch(facecolor=_FAULT_BAND, alpha=0.35, label="phase with faults"),
    ]
    figure.legend(
        handles=legend, loc="upper left", ncol=len(legend), frameon=False, fontsize=FONT,
        bbox_to_anchor=(layout.left / width, 1 - 30 / height),
    )  # fmt: skip
    top = heights[0] + heights[1]
    lane = _lane(figure, rect(top, heights[2]), end_s)
    lane.set_ylim(phase_depth, 0)
    for span in phases:
        lane.barh(phase_depth - 0.5, span.end_s - span.start_s, left=span.start_s, height=0.5,
                  color=span.colour, edgecolor="#555555", lw=0.6)  # fmt: skip
    _lane_labels(
        lane, phases, phase_levels, bar=phase_depth - 0.75, first=phase_depth - 1.5, step=-1
    )
    lane.spines["bottom"].set_visible(False)
    top += heights[2]
    main = figure.add_axes(rect(top, heights[3]))
    main.set_xlim(0, end_s)
    main.set_ylim(len(rows) - 0.5, -0.5)
    main.set_yticks(range(len(rows)), rows, fontsize=FONT)
    main.tick_params(axis="x", labelbottom=False)
    main.xaxis.set_major_locator(MaxNLocator(nbins=10))
    main.grid(axis="x", color="#dddddd", lw=0.6)
    main.set_axisbelow(True)
    for span in phases:
        if span.colour == _FAULT_BAND:
            main.axvspan(span.start_s, span.end_s, color=_FAULT_BAND, alpha=0.25, lw=0)
    for row, call in enumerate(calls):
        _draw_call(main, row, call)
        main.annotate(
            summaries[row], xy=(1, row), xycoords=("axes fraction", "data"), xytext=(_PAD_PX, 0),
            textcoords="offset pixels", va="center", fontsize=FONT, annotation_clip=False,
        )  # fmt: skip
    top += heights[3]
    lane = _lane(figure, rect(top, heights[4]), end_s)
    lane.set_ylim(breaker_depth, 0)
    for span in breaker:
        lane.barh(0.5, span.end_s - span.start_s, left=span.start_s, height=0.6,
                  color=span.colour, hatch=_HATCH.get(span.text.split()[0], ""),
                  edgecolor="white", lw=0)  # fmt: skip
    _lane_labels(lane, breaker, breaker_levels, bar=0.8, first=1.5, step=1)
    lane.set_ylabel("breaker", rotation=0, ha="right", va="center", fontsize=FONT)
    lane.yaxis.set_label_coords(-_PAD_PX / _PLOT_PX, 1 - 0.5 / breaker_depth)
    lane.tick_params(axis="x", labelbottom=True, length=4, labelsize=FONT)
    lane.xaxis.set_major_locator(MaxNLocator(nbins=10))
    lane.set_xlabel("seconds since the scenario started", fontsize=FONT)
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=DPI)
    return out.getvalue()


def _lane_labels(
    axes: Axes, spans: list[Span], levels: list[int], *, bar: float, first: float, step: int
) -> None:
    """Each label on its level (`first` + `step` x level), with a leader line from the bar."""
    for span, level in zip(spans, levels, strict=True):
        y = first + step * level
        axes.plot([span.start_s, span.start_s], [bar, y], color="#555555", lw=0.6)
        axes.annotate(
            span.text, xy=(span.start_s, y), xytext=(3, 0), textcoords="offset pixels",
            va="center", ha="left", fontsize=FONT, annotation_clip=False,
        )  # fmt: skip


def _draw_call(axes: Axes, row: int, call: CallRecord) -> None:
    if not call.attempt_records:
        axes.plot([call.offset_s], [row], marker="D", color=_FAST_FAIL, mec="black", ms=6)
        return
    for attempt in call.attempt_records:
        ok = attempt.outcome == "ok"
        axes.barh(
            row, max(attempt.elapsed_s, 0.0), left=attempt.offset_s, height=0.5,
            color=_OK if ok else _FAILED, hatch="" if ok else "////", edgecolor="black", lw=0.4,
        )  # fmt: skip
        middle = attempt.offset_s + attempt.elapsed_s / 2
        axes.plot([middle], [row], marker="o" if ok else "X", color=_OK if ok else _FAILED,
                  mec="black", ms=7, lw=0)  # fmt: skip
