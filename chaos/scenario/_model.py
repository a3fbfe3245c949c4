"""The declarative scenario model: what a chaos scenario file may say, validated by pydantic.

A scenario drives one service's client through a sequence of phases. Each phase applies faults
(Toxiproxy toxics, a proxy outage, provider HTTP faults), makes calls, then lifts the faults and
judges what the client did against the expectations.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, ConfigDict, Field, field_validator, model_validator

from stormproof.chaos.scenario._base import Frozen
from stormproof.chaos.scenario._faults import Fault, did_you_mean
from stormproof.clients import BreakerPolicy, BreakerState, ResiliencePolicy, RetryPolicy

Severity = Literal["blocker", "critical", "normal", "minor", "trivial"]

#: The outcome of a successful call; every other outcome is a client exception class name.
OK = "ok"

#: A scenario's client policy before its `profile:` applies: timeouts short enough for a fast
#: matrix (production defaults are seconds long), otherwise the client's own defaults.
SCENARIO_POLICY = ResiliencePolicy(
    connect_timeout_s=0.3,
    read_timeout_s=0.4,
    deadline_s=1.5,
    retry=RetryPolicy(
        max_attempts=3, initial_backoff_s=0.02, max_backoff_s=0.1, max_retry_after_s=1.0
    ),
    breaker=BreakerPolicy(failure_threshold=5, reset_timeout_s=0.5, success_threshold=1),
)


def _breaker_state_name(value: str) -> str:
    names = list(BreakerState.__members__)
    if value not in names:
        hint = did_you_mean(value, names)
        raise ValueError(f"unknown breaker state {value!r}{hint}; known: {', '.join(names)}")
    return value


BreakerStateName = Annotated[str, AfterValidator(_breaker_state_name)]
"""A breaker state as the client's `BreakerState` names it: CLOSED, OPEN, HALF_OPEN."""


class Bounds(Frozen):
    """An inclusive numeric range; `exactly` is shorthand for min == max."""

    min: float | None = None
    max: float | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_number(cls, value: Any) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return {"min": value, "max": value}
        return value

    @model_validator(mode="after")
    def _ordered(self) -> Bounds:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        return self

    def contains(self, value: float) -> bool:
        """Whether `value` lies within the bounds."""
        return (self.min is None or value >= self.min) and (self.max is None or value <= self.max)

    def describe(self) -> str:
        """Human words for the bounds, e.g. `exactly 3`, `between 1 and 3`, `at most 2`."""
        if self.min is not None and self.min == self.max:
            return f"exactly {_fmt(self.min)}"
        if self.min is not None and self.max is not None:
            return f"between {_fmt(self.min)} and {_fmt(self.max)}"
        if self.min is not None:
            return f"at least {_fmt(self.min)}"
        if self.max is not None:
            return f"at most {_fmt(self.max)}"
        return "any value"


def _fmt(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else f"{number:g}"


class CallExpectation(Frozen):
    """What one call must do."""

    outcome: list[str] = Field(default_factory=lambda: [OK])
    attempts: Bounds | None = None
    elapsed_s: Bounds | None = None
    within_deadline: bool = True
    breaker_after: BreakerStateName | None = None

    @model_validator(mode="before")
    @classmethod
    def _outcome_list(cls, value: Any) -> Any:
        if isinstance(value, dict) and isinstance(value.get("outcome"), str):
            value = {**value, "outcome": [part.strip() for part in value["outcome"].split("|")]}
        return value


class Call(Frozen):
    """One client operation, made `times` times in a row (or `concurrently` at once)."""

    op: str
    inputs: dict[str, Any] = Field(default_factory=dict, alias="with")
    times: int = Field(default=1, ge=1, le=100)
    concurrently: bool = False
    save_as: str | None = None
    expect: CallExpectation = Field(default_factory=CallExpectation)

    model_config = ConfigDict(
        frozen=True, extra="forbid", populate_by_name=True, allow_inf_nan=False
    )


class PhaseExpectation(Frozen):
    """What must hold over a whole phase."""

    breaker_path: list[BreakerStateName] | None = None
    provider_requests: Bounds | None = None
    #: Attempts of all the phase's calls together (e.g. "at least one retry happened").
    attempts: Bounds | None = None


class Phase(Frozen):
    """Faults on, calls, faults off, then an optional pause (e.g. for a breaker's reset timeout)."""

    name: str
    faults: list[Fault] = Field(default_factory=list)
    calls: list[Call] = Field(default_factory=list)
    expect: PhaseExpectation = Field(default_factory=PhaseExpectation)
    wait_after_s: float = Field(default=0.0, ge=0.0, le=30.0)


class SetupState(Frozen):
    """A provider state to establish before the phases (the same states Pact verification uses)."""

    state: str
    params: dict[str, Any] = Field(default_factory=dict)


def merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """`base` with `changes` laid over it, nested tables merged (a profile over a policy)."""
    merged = dict(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


class PerKey(Frozen):
    """Bounds on a side effect: per idempotency key, and new ones during the scenario (whatever
    their keys: a client that sends a new key on a retry makes a second one under another key)."""

    max_per_key: int | None = Field(default=None, ge=0)
    max_new: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _some_bound(self) -> PerKey:
        if self.max_per_key is None and self.max_new is None:
            raise ValueError("give max_per_key, max_new or both")
        return self


class ScenarioExpectation(Frozen):
    """What must hold on the provider after the whole scenario, read through its adapter.

    The names are those the service's provider adapter declares (`SIDE_EFFECTS`, `INVARIANTS`),
    e.g. `side_effects: {charges: {max_per_key: 1}}`, `invariants: [refunds_within_captured]`.
    """

    side_effects: dict[str, PerKey] = Field(default_factory=dict)
    invariants: list[str] = Field(default_factory=list)


class Scenario(Frozen):
    """One chaos scenario file."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    #: A service the project declares (its client, provider and adapter).
    service: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    description: str
    tags: list[str] = Field(default_factory=list)
    severity: Severity | None = None
    #: The client's `ResiliencePolicy` for this scenario: its fields (`retry:` and `breaker:`
    #: nested), over `SCENARIO_POLICY`.
    profile: ResiliencePolicy = SCENARIO_POLICY
    #: How far past the deadline a call may end: the time it takes to stop, on a busy machine.
    deadline_tolerance_s: float = Field(default=0.15, ge=0, le=60)
    setup: list[SetupState] = Field(default_factory=list)
    phases: list[Phase] = Field(min_length=1)
    expect: ScenarioExpectation = Field(default_factory=ScenarioExpectation)

    @field_validator("profile", mode="before")
    @classmethod
    def _over_scenario_policy(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return merge(dataclasses.asdict(SCENARIO_POLICY), value)
        return value

    @property
    def fault_kinds(self) -> list[str]:
        """The distinct fault kinds the scenario injects, in order of first use."""
        kinds: list[str] = []
        for phase in self.phases:
            for fault in phase.faults:
                if fault.kind not in kinds:
                    kinds.append(fault.kind)
        return kinds or ["none"]

    @property
    def effective_severity(self) -> Severity:
        """The file's severity, `normal` when it says none."""
        return self.severity or "normal"


def matches_selection(scenario: Scenario, text: str) -> bool:
    """Whether `text` selects `scenario`: any comma-separated part found, case-insensitively, in
    its name, service, a tag or a fault kind."""
    needles = [part.strip().lower() for part in text.split(",") if part.strip()]
    haystack = [scenario.name, scenario.service, *scenario.tags, *scenario.fault_kinds]
    return any(needle in value.lower() for needle in needles for value in haystack)
