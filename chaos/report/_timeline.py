"""The attempt timeline of a scenario run, as JSON and as an SVG picture for the report."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

if TYPE_CHECKING:
    from stormproof.chaos.runner import ScenarioResult

_ROW = 22
_LEFT = 250
_WIDTH = 900
_COLOURS = {"ok": "#3a9d5d", "CircuitOpenError": "#8a8a8a"}
_FAILED = "#d0493f"


def timeline_json(result: ScenarioResult) -> str:
    """Every phase, call and attempt with offsets from the start of the run, as JSON."""
    phases = []
    for phase in result.phases:
        phases.append(
            {
                "phase": phase.name,
                "breaker_path": phase.breaker_path,
                "provider_requests": phase.provider_requests,
                "breaker_transitions": [
                    {"from": t.old_state, "to": t.new_state, "at_s": round(t.offset_s, 4)}
                    for t in phase.transitions
                ],
                "calls": [
                    {
                        "call": call.label,
                        "outcome": call.outcome,
                        "attempts": call.attempts,
                        "at_s": round(call.offset_s, 4),
                        "elapsed_s": round(call.elapsed_s, 4),
                        "breaker_after": call.breaker_after,
                        "idempotency_key": call.idempotency_key,
                        "error": call.error,
                        "attempt_log": [
                            {
                                "attempt": a.attempt,
                                "at_s": round(a.offset_s, 4),
                                "elapsed_s": round(a.elapsed_s, 4),
                                "outcome": a.outcome,
                                "status": a.status_code,
                                "breaker": a.breaker_state,
                                "will_retry": a.will_retry,
                                "backoff_s": a.backoff_s,
                            }
                            for a in call.attempt_records
                        ],
                    }
                    for call in phase.calls
                ],
            }
        )
    return json.dumps({"scenario": result.scenario.name, "phases": phases}, indent=2)


def timeline_svg(result: ScenarioResult) -> str:
    """A Gantt-like picture: one row per call, one bar per attempt, coloured by outcome."""
    calls = result.calls
    end = max([c.offset_s + c.elapsed_s for c in calls] + [0.001])
    scale = (_WIDTH - _LEFT - 20) / end
    height = _ROW * (len(calls) + 2) + 10
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" height="{height}" '
        'font-family="sans-serif" font-size="11">',
        f'<text x="4" y="14" font-weight="bold">{escape(result.scenario.name)}: attempts over '
        f"time (0 to {end:.2f} s)</text>",
    ]
    for row, call in enumerate(calls, start=1):
        y = row * _ROW + 6
        label = f"{call.label} → {call.outcome}"
        parts.append(f'<text x="4" y="{y + 13}">{escape(label[:40])}</text>')
        if not call.attempt_records:
            x = _LEFT + call.offset_s * scale
            parts.append(
                f'<rect x="{x:.1f}" y="{y + 3}" width="3" height="12" fill="#8a8a8a">'
                f"<title>{escape(label)}: no attempt (fast fail)</title></rect>"
            )
        for attempt in call.attempt_records:
            x = _LEFT + attempt.offset_s * scale
            width = max(attempt.elapsed_s * scale, 2.0)
            colour = _COLOURS.get(attempt.outcome, _FAILED)
            tip = (
                f"attempt {attempt.attempt}: {attempt.outcome} status={attempt.status_code} "
                f"{attempt.elapsed_s * 1000:.0f} ms breaker={attempt.breaker_state}"
            )
            parts.append(
                f'<rect x="{x:.1f}" y="{y + 3}" width="{width:.1f}" height="12" '
                f'fill="{colour}"><title>{escape(tip)}</title></rect>'
            )
    for phase in result.phases:
        for transition in phase.transitions:
            x = _LEFT + transition.offset_s * scale
            parts.append(
                f'<line x1="{x:.1f}" y1="{_ROW}" x2="{x:.1f}" y2="{height - 4}" '
                'stroke="#2f6fd0" stroke-dasharray="4 3"/>'
                f'<text x="{x + 2:.1f}" y="{height - 6}" fill="#2f6fd0">'
                f"{escape(transition.new_state)}</text>"
            )
    parts.append("</svg>")
    return "\n".join(parts)
