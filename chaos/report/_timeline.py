"""The attempt timeline of a scenario run as JSON (the picture is in `_timeline_picture`)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stormproof.chaos.runner import ScenarioResult


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
                                "retry_after_s": a.retry_after_s,
                                "error": a.error,
                                "not_retried": a.not_retried,
                            }
                            for a in call.attempt_records
                        ],
                    }
                    for call in phase.calls
                ],
            }
        )
    return json.dumps({"scenario": result.scenario.name, "phases": phases}, indent=2)
