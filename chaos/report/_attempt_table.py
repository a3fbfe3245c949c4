"""The timeline page: the picture with a table of every attempt beside it, and each phase's faults
with the evidence that they fired.

Allure shows an SVG or PNG attachment as an image, so tooltips in a picture are never seen: the
details a reviewer needs (status, error, backoff, Retry-After) are written out here instead. The
page is self-contained (the picture inlined, no script, no style sheet fetched) so that it makes
no request to any host.
"""

from __future__ import annotations

import base64
from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stormproof.chaos.runner import AttemptRecord, CallRecord, ScenarioResult

COLUMNS = (
    "call", "attempt", "start (s)", "took (ms)", "outcome", "status", "error", "breaker after",
    "next", "backoff (s)", "Retry-After (s)",
)  # fmt: skip

_STYLE = """
body { font: 13px sans-serif; margin: 8px; color: #222; }
.side { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
table { border-collapse: collapse; }
th, td { border: 1px solid #ccc; padding: 2px 6px; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
td.failed { color: #b0302a; }
td.error { max-width: 36em; }
h2 { font-size: 15px; margin: 12px 0 6px; }
"""


def _seconds(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"


def _next(attempt: AttemptRecord) -> str:
    if attempt.will_retry:
        return "retried"
    if attempt.not_retried is not None:
        return f"not retried: {attempt.not_retried}"
    return "last attempt"


def attempt_rows(call: CallRecord) -> list[list[str]]:
    """The table rows of one call: one per attempt, one for a call that sent no request."""
    if not call.attempt_records:
        return [
            [call.label, "-", _seconds(call.offset_s), f"{call.elapsed_s * 1000:.1f}",
             call.outcome, "", call.error or "", call.breaker_after, "failed fast, no request",
             "", ""]
        ]  # fmt: skip
    rows = []
    for attempt in call.attempt_records:
        rows.append(
            [call.label, str(attempt.attempt), _seconds(attempt.offset_s),
             f"{attempt.elapsed_s * 1000:.1f}", attempt.outcome,
             "" if attempt.status_code is None else str(attempt.status_code),
             attempt.error or "", attempt.breaker_state, _next(attempt),
             _seconds(attempt.backoff_s), _seconds(attempt.retry_after_s)]
        )  # fmt: skip
    return rows


def _table(header: tuple[str, ...], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{escape(name)}</th>" for name in header)
    body = []
    for row in rows:
        cells = []
        for name, value in zip(header, row, strict=True):
            classes = {"error": "error", "outcome": "failed" if value != "ok" else ""}
            css = classes.get(name, "")
            attribute = f' class="{css}"' if css else ""
            cells.append(f"<td{attribute}>{escape(value)}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _faults(result: ScenarioResult) -> str:
    from stormproof.chaos.runner import describe_fault  # noqa: PLC0415 - the runner imports us

    records = {record.name: record for record in result.phases}
    rows = []
    for phase in result.scenario.phases:
        witnesses = records[phase.name].witnesses if phase.name in records else []
        evidence = {w.fault: w for w in witnesses}
        for fault in phase.faults:
            described = describe_fault(fault)
            witness = evidence.get(described)
            if witness is None:
                fired, seen, source = "not judged", "", ""
            else:
                fired = "fired" if witness.fired else "never fired"
                seen, source = witness.evidence, witness.strength
            rows.append([phase.name, described, fired, seen, source])
    if not rows:
        return "<p>No faults.</p>"
    return _table(("phase", "fault", "verdict", "evidence", "evidence from"), rows)


def timeline_html(result: ScenarioResult, picture: bytes) -> str:
    """The timeline page of a scenario run: picture, attempts and fault evidence, self-contained."""
    rows = [row for call in result.calls for row in attempt_rows(call)]
    image = base64.b64encode(picture).decode("ascii")
    name = escape(result.scenario.name)
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{name}: timeline</title><style>{_STYLE}</style></head><body>"
        f'<div class="side"><img alt="attempt timeline of {name}" '
        f'src="data:image/png;base64,{image}">'
        f"<div><h2>Attempts</h2>{_table(COLUMNS, rows)}</div></div>"
        f"<h2>Faults by phase</h2>{_faults(result)}</body></html>\n"
    )
