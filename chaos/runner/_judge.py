"""Judging: compare what the client did with what the scenario expects, in a reviewer's words."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from stormproof.chaos.runner import _categories as category
from stormproof.chaos.runner._records import CallRecord, Finding, PhaseRecord
from stormproof.chaos.scenario import (
    OK,
    CallExpectation,
    PhaseExpectation,
    ScenarioExpectation,
)
from stormproof.chaos.services import ProviderAdapter
from stormproof.clients import ResiliencePolicy

_UNSAFE_METHODS = frozenset({"POST", "PATCH"})


def _seconds(value: float) -> str:
    return f"{value:.2f} s"


def _attempts(count: int) -> str:
    return f"{count} attempt" if count == 1 else f"{count} attempts"


def judge_call(
    expect: CallExpectation, record: CallRecord, policy: ResiliencePolicy, tolerance_s: float
) -> list[Finding]:
    """Findings for one call; empty when the call did what was expected."""
    findings: list[Finding] = []
    took = _seconds(record.elapsed_s)
    did = f"ended in {record.outcome} after {_attempts(record.attempts)} ({took})"
    if record.outcome not in expect.outcome:
        wanted = " or ".join(expect.outcome)
        detail = f": {record.error}" if record.error else ""
        findings.append(
            Finding(category.WRONG_OUTCOME, f"{record.label} {did}{detail}; expected {wanted}")
        )
    if expect.attempts is not None and not expect.attempts.contains(record.attempts):
        wanted = expect.attempts.describe()
        if expect.attempts.min is not None and record.attempts < expect.attempts.min:
            kind = category.DID_NOT_RETRY
        elif _retried_without_key(record):
            kind = category.RETRIED_NON_IDEMPOTENT
        else:
            kind = category.TOO_MANY_ATTEMPTS
        findings.append(
            Finding(kind, f"{record.label} made {_attempts(record.attempts)}; expected {wanted}")
        )
    limit = policy.deadline_s + tolerance_s
    if expect.within_deadline and record.elapsed_s > limit:
        findings.append(
            Finding(
                category.DEADLINE_EXCEEDED,
                f"{record.label} took {_seconds(record.elapsed_s)}; the deadline is "
                f"{_seconds(policy.deadline_s)} (+{_seconds(tolerance_s)} "
                "tolerance)",
            )
        )
    if expect.elapsed_s is not None and not expect.elapsed_s.contains(record.elapsed_s):
        findings.append(
            Finding(
                category.WRONG_TIMING,
                f"{record.label} took {_seconds(record.elapsed_s)}; expected "
                f"{expect.elapsed_s.describe()} s",
            )
        )
    if expect.breaker_after is not None and record.breaker_after != expect.breaker_after:
        findings.append(_breaker_finding(record.breaker_after, expect.breaker_after, record.label))
    return findings


def _retried_without_key(record: CallRecord) -> bool:
    return any(
        attempt.method.upper() in _UNSAFE_METHODS and attempt.idempotency_key is None
        for attempt in record.attempt_records[1:]
    )


def _breaker_finding(actual: str, wanted: str, where: str) -> Finding:
    if wanted == "OPEN":
        kind = category.BREAKER_DID_NOT_OPEN
    elif wanted == "CLOSED":
        kind = category.BREAKER_DID_NOT_CLOSE
    else:
        kind = category.WRONG_BREAKER_PATH
    return Finding(kind, f"breaker was {actual} after {where}; expected {wanted}")


def judge_phase(expect: PhaseExpectation, record: PhaseRecord) -> list[Finding]:
    """Findings for a phase's own expectations (breaker path, provider traffic)."""
    findings: list[Finding] = []
    if expect.breaker_path is not None and record.breaker_path != list(expect.breaker_path):
        actual = " → ".join(record.breaker_path)
        wanted = " → ".join(expect.breaker_path)
        failures = sum(1 for call in record.calls if call.outcome != OK)
        if "OPEN" in expect.breaker_path and "OPEN" not in record.breaker_path:
            kind = category.BREAKER_DID_NOT_OPEN
            message = (
                f"breaker stayed {record.breaker_path[-1]} after {failures} failed call(s) in "
                f"phase '{record.name}'; expected {wanted}"
            )
        else:
            closes = expect.breaker_path[-1] == "CLOSED"
            kind = (
                category.BREAKER_DID_NOT_CLOSE
                if closes and record.breaker_path[-1] != "CLOSED"
                else category.WRONG_BREAKER_PATH
            )
            message = f"breaker went {actual} in phase '{record.name}'; expected {wanted}"
        findings.append(Finding(kind, message))
    bounds = expect.provider_requests
    total = sum(call.attempts for call in record.calls)
    if expect.attempts is not None and not expect.attempts.contains(total):
        too_few = expect.attempts.min is not None and total < expect.attempts.min
        findings.append(
            Finding(
                category.DID_NOT_RETRY if too_few else category.TOO_MANY_ATTEMPTS,
                f"the calls of phase '{record.name}' made {_attempts(total)} in all; expected "
                f"{expect.attempts.describe()}",
            )
        )
    seen = record.provider_requests
    if bounds is not None and seen is not None and not bounds.contains(seen):
        open_phase = record.breaker_start == "OPEN" or any(
            call.outcome == "CircuitOpenError" for call in record.calls
        )
        findings.append(
            Finding(
                category.NETWORK_WHILE_OPEN if open_phase else category.UNEXPECTED_TRAFFIC,
                f"the provider saw {seen} request(s) during phase '{record.name}'; "
                f"expected {bounds.describe()}",
            )
        )
    return findings


def judge_side_effects(
    expect: ScenarioExpectation,
    adapter: ProviderAdapter,
    before: Mapping[str, int] | None = None,
) -> list[Finding]:
    """Findings for what the provider recorded: side effects above their bound per key or above
    the new ones allowed (`before`: the count of each once the setup was done), broken
    invariants, in the words and categories the provider's adapter declares."""
    findings: list[Finding] = []
    for name, bound in expect.side_effects.items():
        effect = adapter.SIDE_EFFECTS[name]
        counts = adapter.side_effects(name)
        if bound.max_per_key is not None:
            limit = bound.max_per_key
            findings += [
                Finding(
                    f"Duplicate {effect.noun}",
                    f"idempotency key {key} was {effect.verb} {count} times; expected at most "
                    f"{limit}",
                )
                for key, count in sorted(counts.items())
                if count > limit
            ]
        new = sum(counts.values()) - (before or {}).get(name, 0)
        if bound.max_new is not None and new > bound.max_new:
            findings.append(
                Finding(
                    f"Duplicate {effect.noun}",
                    f"{new} new {effect.noun} entries ({effect.verb}) during the scenario, under "
                    f"the keys {', '.join(sorted(counts))}; expected at most {bound.max_new}",
                )
            )
    for name in expect.invariants:
        invariant = adapter.INVARIANTS[name]
        findings += [
            Finding(invariant.category, violation)
            for violation in adapter.invariant_violations(name)
        ]
    return findings


def primary(findings: Sequence[Finding]) -> Finding | None:
    """The finding that names the failure: the most specific category comes first."""
    if not findings:
        return None
    order = {name: index for index, name in enumerate(category.ALL_CATEGORIES)}
    # A provider's own categories (Duplicate charge, ...) rank with the side effects.
    theirs = order[category.SIDE_EFFECTS_RANK]
    return min(findings, key=lambda f: order.get(f.category, theirs))
