"""The declarative scenario model: what a chaos scenario file may say, validated by pydantic.

A scenario drives one service's client through a sequence of phases. Each phase applies faults
(Toxiproxy toxics, a proxy outage, provider HTTP faults), makes calls, then lifts the faults and
judges what the client did against the expectations.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

ServiceName = Literal["users", "notifications", "payments"]
StreamName = Literal["upstream", "downstream"]
ToxicType = Literal[
    "latency", "bandwidth", "slow_close", "timeout", "reset_peer", "slicer", "limit_data", "noop"
]
BreakerStateName = Literal["CLOSED", "OPEN", "HALF_OPEN"]
Severity = Literal["blocker", "critical", "normal", "minor", "trivial"]

#: The outcome of a successful call; every other outcome is a client exception class name.
OK = "ok"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ToxicFault(_Frozen):
    """A Toxiproxy toxic on the proxy, e.g. `{toxic: latency, attributes: {latency: 500}}`."""

    toxic: ToxicType
    stream: StreamName = "downstream"
    toxicity: float = Field(default=1.0, ge=0.0, le=1.0)
    attributes: dict[str, int] = Field(default_factory=dict)
    name: str | None = None

    @property
    def toxic_name(self) -> str:
        """The toxic's name on the proxy (Toxiproxy's default: `<type>_<stream>`)."""
        return self.name or f"{self.toxic}_{self.stream}"

    @property
    def kind(self) -> str:
        return self.toxic


class ProxyFault(_Frozen):
    """The service's proxy is disabled (`proxy: down`): connects are refused."""

    proxy: Literal["down"]

    @property
    def kind(self) -> str:
        return "outage"


class HttpFaultSpec(_Frozen):
    """A provider fault rule (see docs/service-api.md, "Fault rule body")."""

    mode: Literal["status", "slow", "malformed", "truncated"] = "status"
    count: int = Field(default=1, ge=1)
    method: str | None = None
    path: str | None = None
    status: int = Field(default=503, ge=100, le=599)
    retry_after: str | None = None
    body: Any = None
    delay_ms: int = Field(default=0, ge=0)
    apply: Literal["before", "after"] = "before"


class HttpFault(_Frozen):
    """An HTTP-level fault made by the provider itself, e.g. `{http: {status: 503, count: 2}}`."""

    http: HttpFaultSpec

    @property
    def kind(self) -> str:
        if self.http.mode == "status":
            return f"http_{self.http.status}"
        return f"http_{self.http.mode}"


def _fault_tag(value: Any) -> str | None:
    if isinstance(value, dict):
        keys = [key for key in ("toxic", "proxy", "http") if key in value]
        return keys[0] if len(keys) == 1 else None
    if isinstance(value, ToxicFault | ProxyFault | HttpFault):
        return {ToxicFault: "toxic", ProxyFault: "proxy", HttpFault: "http"}[type(value)]
    return None


Fault = Annotated[
    Annotated[ToxicFault, Tag("toxic")]
    | Annotated[ProxyFault, Tag("proxy")]
    | Annotated[HttpFault, Tag("http")],
    Discriminator(
        _fault_tag,
        custom_error_type="fault_kind",
        custom_error_message="a fault needs exactly one of the keys 'toxic', 'proxy' or 'http'",
    ),
]


class Bounds(_Frozen):
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


class CallExpectation(_Frozen):
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


class Call(_Frozen):
    """One client operation, made `times` times in a row (or `concurrently` at once)."""

    op: str
    inputs: dict[str, Any] = Field(default_factory=dict, alias="with")
    times: int = Field(default=1, ge=1, le=100)
    concurrently: bool = False
    save_as: str | None = None
    expect: CallExpectation = Field(default_factory=CallExpectation)

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class PhaseExpectation(_Frozen):
    """What must hold over a whole phase."""

    breaker_path: list[BreakerStateName] | None = None
    provider_requests: Bounds | None = None
    #: Attempts of all the phase's calls together (e.g. "at least one retry happened").
    attempts: Bounds | None = None


class Phase(_Frozen):
    """Faults on, calls, faults off, then an optional pause (e.g. for a breaker's reset timeout)."""

    name: str
    faults: list[Fault] = Field(default_factory=list)
    calls: list[Call] = Field(default_factory=list)
    expect: PhaseExpectation = Field(default_factory=PhaseExpectation)
    wait_after_s: float = Field(default=0.0, ge=0.0, le=30.0)


class SetupState(_Frozen):
    """A provider state to establish before the phases (the same states Pact verification uses)."""

    state: str
    params: dict[str, Any] = Field(default_factory=dict)


class Profile(_Frozen):
    """The client's timing profile for this scenario: short, so the matrix stays fast."""

    connect_timeout_s: float = Field(default=0.3, gt=0)
    read_timeout_s: float = Field(default=0.4, gt=0)
    deadline_s: float = Field(default=1.5, gt=0)
    max_attempts: int = Field(default=3, ge=1, le=20)
    backoff_initial_s: float = Field(default=0.02, ge=0)
    backoff_max_s: float = Field(default=0.1, ge=0)
    retry_after_cap_s: float = Field(default=1.0, ge=0)
    breaker_failure_threshold: int = Field(default=5, ge=1)
    breaker_reset_timeout_s: float = Field(default=0.5, gt=0)
    breaker_success_threshold: int = Field(default=1, ge=1)
    breaker_half_open_max_calls: int = Field(default=1, ge=1)
    #: Slack allowed above the deadline for scheduling on a busy machine.
    deadline_tolerance_s: float = Field(default=0.15, ge=0)


class LedgerExpectation(_Frozen):
    """Provider-side effects, read from the provider's test-mode ledger."""

    max_charges_per_key: int | None = Field(default=None, ge=0)
    max_refunds_per_key: int | None = Field(default=None, ge=0)
    max_sent_per_key: int | None = Field(default=None, ge=0)
    refunds_within_captured: bool = False


class Scenario(_Frozen):
    """One chaos scenario file."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    service: ServiceName
    description: str
    tags: list[str] = Field(default_factory=list)
    severity: Severity | None = None
    profile: Profile = Field(default_factory=Profile)
    setup: list[SetupState] = Field(default_factory=list)
    phases: list[Phase] = Field(min_length=1)
    expect: LedgerExpectation = Field(default_factory=LedgerExpectation)

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
        """Payments are critical unless the file says otherwise."""
        if self.severity is not None:
            return self.severity
        return "critical" if self.service == "payments" else "normal"
