"""What the runner saw: plain records of attempts, calls and phases, judged afterwards."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Strength = Literal["proxy counters", "provider hit count", "client evidence"]


@dataclass(frozen=True)
class Finding:
    """One failed expectation: a failure category (as shown in reports) and what differed."""

    category: str
    message: str


@dataclass(frozen=True)
class Witness:
    """What one fault of a phase left behind.

    Attributes:
        fault: The fault, in a reviewer's words.
        fired: Whether there is evidence that it acted during the phase.
        evidence: The evidence (or its absence), in a reviewer's words.
        strength: Where the evidence comes from.
    """

    fault: str
    fired: bool
    evidence: str
    strength: Strength


@dataclass(frozen=True)
class AttemptRecord:
    """One network attempt made by the client (from its `AttemptEvent`)."""

    attempt: int
    method: str
    path: str
    offset_s: float
    elapsed_s: float
    outcome: str
    status_code: int | None
    breaker_state: str
    idempotency_key: str | None
    will_retry: bool
    backoff_s: float | None
    error: str | None = None
    retry_after_s: float | None = None
    not_retried: str | None = None


@dataclass(frozen=True)
class CallRecord:
    """One logical client call and everything it did."""

    phase: str
    op: str
    index: int
    outcome: str
    attempts: int
    elapsed_s: float
    offset_s: float
    breaker_after: str
    idempotency_key: str | None
    error: str | None
    attempt_records: tuple[AttemptRecord, ...] = ()
    result: dict[str, Any] | None = None

    @property
    def label(self) -> str:
        """How a reviewer names this call, e.g. `outage: create_payment #2`."""
        return f"{self.phase}: {self.op} #{self.index + 1}"


@dataclass(frozen=True)
class BreakerTransition:
    """A breaker state change seen during a phase."""

    old_state: str
    new_state: str
    offset_s: float


@dataclass
class PhaseRecord:
    """One phase: its calls, its breaker transitions, how many requests the provider saw, and the
    evidence that each of its faults fired."""

    name: str
    breaker_start: str
    calls: list[CallRecord] = field(default_factory=list)
    transitions: list[BreakerTransition] = field(default_factory=list)
    provider_requests: int | None = None
    call_findings: list[Finding] = field(default_factory=list)
    witnesses: list[Witness] = field(default_factory=list)

    @property
    def breaker_path(self) -> list[str]:
        """The breaker states in order: the state at the start, then each new state."""
        path = [self.breaker_start]
        for transition in self.transitions:
            if transition.new_state != path[-1]:
                path.append(transition.new_state)
        return path
