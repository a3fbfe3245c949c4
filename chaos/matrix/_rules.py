"""How the matrix derives what a client must do under each fault class.

Every expectation follows from four things: the interaction (its method, whether the request
carries an Idempotency-Key, the answer the contract promises), the operation the client sends it
with, the client's policy (attempts, timeouts, deadline, Retry-After cap) and the fault class.
The client library's retry rules (``stormproof.clients._classify``) say which failures are
retried; these rules restate them as expectations, independently of the code that implements
them, so a client that breaks its own rules fails its cells.

Words used below:

- **retry-safe**: the method is idempotent, or the request is keyed (Idempotency-Key);
- **processed**: the fault let the provider handle the request, so repeating an unsafe request
  could do it twice; only a safe call, or one whose request never arrived, is called again in a
  *recovered* phase, which must then end as the contract says;
- **the contract's outcome**: `ok` for a 2xx answer, else the client's error for its status
  (404 `NotFoundError`, 409 `ConflictError`, other 4xx `ClientRequestError`);
- **unknown**: the operation's `OutcomeUnknownError` class, which a keyed call may end in once
  an attempt may have been processed and no retry settled it.

The table of rules is `RULES` (one `FaultClass` each); `docs/matrix.md` prints it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from stormproof.chaos.matrix._interactions import Interaction
from stormproof.clients import Operation, ResiliencePolicy

__all__ = ["RULES", "FaultClass", "Plan", "Subject", "contract_outcome", "transient_reason"]

#: Error types of an answer about the key itself, which settle even an ambiguous keyed call.
DEFINITIVE_ABOUT_KEY = frozenset({"idempotency_mismatch"})

#: Margin for one attempt's own work (connect, send, parse) when counting what fits in a deadline.
ATTEMPT_OVERHEAD_S = 0.05


@dataclass(frozen=True)
class Subject:
    """What a rule looks at: one interaction, its operation and the client's policy."""

    interaction: Interaction
    operation: Operation[Any, Any]
    policy: ResiliencePolicy

    @property
    def keyed(self) -> bool:
        """The request carries an Idempotency-Key."""
        return self.operation.keyed and self.interaction.header("Idempotency-Key") is not None

    @property
    def safe(self) -> bool:
        """Retry-safe: an idempotent method or a keyed request."""
        return self.operation.idempotent or self.keyed

    @property
    def unknown(self) -> str | None:
        """The outcome-unknown error a keyed call may end in, if the operation has one."""
        klass = self.operation.outcome_unknown
        return klass.__name__ if self.keyed and klass is not None else None

    @property
    def contract(self) -> str:
        """The contract's outcome."""
        return contract_outcome(self.interaction.status)

    def settled(self, outcome: str) -> str:
        """What a call that had an attempt that may have been processed ends in, when its last
        attempt ended in `outcome`: a keyed call with an outcome-unknown error ends in it unless
        it succeeded or the answer was about the key itself (`idempotency_mismatch`)."""
        definitive = self.interaction.error_type in DEFINITIVE_ABOUT_KEY
        if self.unknown is None or outcome == "ok" or definitive:
            return outcome
        return self.unknown

    def ambiguous(self, error: str) -> str:
        """`error`, or the outcome-unknown error where a keyed call may end in it instead."""
        return f"{error} | {self.unknown}" if self.unknown else error

    def attempts_within_deadline(self, per_attempt_s: float) -> int:
        """How many attempts of `per_attempt_s` each surely start and finish before the deadline
        (each attempt after the first waits at most its backoff ceiling), at most max_attempts."""
        retry, elapsed = self.policy.retry, 0.0
        for attempt in range(1, retry.max_attempts + 1):
            if attempt > 1:
                elapsed += min(
                    retry.max_backoff_s, retry.initial_backoff_s * retry.multiplier ** (attempt - 2)
                )
            elapsed += per_attempt_s + ATTEMPT_OVERHEAD_S
            if elapsed > self.policy.deadline_s:
                return attempt - 1
        return retry.max_attempts


@dataclass(frozen=True)
class Plan:
    """One case as derived: the faults, what the call must do, and whether it is called again.

    Attributes:
        faults: Scenario faults of the faulty phase (the file format).
        expect: The call's expectation under the faults (the file format).
        because: Why, in one sentence (shown in the scenario's description).
        phase_expect: Expectations of the faulty phase as a whole.
        recover: Call again without faults, expecting the contract's outcome in one attempt.
        profile: Profile settings the fault class needs (e.g. a read timeout past the deadline).
        then: Expectations of further calls in the faulty phase (the breaker, once open).
        wait_after_s: Pause after the faulty phase (an open breaker's reset timeout).
    """

    faults: list[dict[str, Any]]
    expect: dict[str, Any]
    because: str
    phase_expect: dict[str, Any] = field(default_factory=dict)
    recover: bool = True
    profile: dict[str, Any] = field(default_factory=dict)
    then: list[dict[str, Any]] = field(default_factory=list)
    wait_after_s: float = 0.0


Derive = Callable[[Subject], Plan | str]


@dataclass(frozen=True)
class FaultClass:
    """One column of the matrix: a fault and the rule that derives each cell's expectation.

    Attributes:
        name: Column name (`503-after-handler`), also a tag of its cases.
        short: Header of its column in the terminal grid.
        title: What the fault is, in words.
        rule: The expectation, in words (the docs' table).
        derive: The rule as code: a `Plan`, or why the class does not apply (a string).
    """

    name: str
    short: str
    title: str
    rule: str
    derive: Derive


def contract_outcome(status: int) -> str:
    """The outcome a call must end in when the provider answers `status`."""
    if 200 <= status < 300:
        return "ok"
    return {404: "NotFoundError", 409: "ConflictError"}.get(status, "ClientRequestError")


def transient_reason(interaction: Interaction, operation: Operation[Any, Any]) -> str | None:
    """Why an interaction's promised answer is itself a fault the client retries (so the
    matrix does not fault it again), or None."""
    status = interaction.status
    if status == 429 or status >= 500:
        return f"the contract's answer ({status}) is itself a transient fault"
    in_flight = interaction.error_type == "idempotency_in_flight"
    if status == 409 and in_flight and operation.keyed:
        return "the contract's answer (409 idempotency_in_flight) is retried by the client"
    if not 200 <= status < 500:
        return f"the contract's answer ({status}) has no outcome rule"
    return None


def _http(subject: Subject, **fields: Any) -> dict[str, Any]:
    interaction = subject.interaction
    return {"http": {"method": interaction.method, "path": interaction.path, **fields}}


def _toxic(kind: str, stream: str, **attributes: int) -> dict[str, Any]:
    return {"toxic": kind, "stream": stream, "attributes": attributes}


def _outage(s: Subject) -> Plan:
    attempts = s.policy.retry.max_attempts
    reset_s = s.policy.breaker.reset_timeout_s
    return Plan(
        faults=[{"proxy": "down"}],
        expect={
            "outcome": "ServiceUnavailableError",
            "attempts": attempts,
            "breaker_after": "OPEN",
        },
        because=f"nothing was sent, so the call is retried until its {attempts} attempts run "
        f"out; with the breaker's threshold at {attempts} failures it opens, the next call "
        "fails fast without the network, and after its reset timeout a probe closes it",
        phase_expect={"provider_requests": 0, "breaker_path": ["CLOSED", "OPEN"]},
        # One call's failed attempts open the breaker, so one more call shows it open.
        profile={"breaker": {"failure_threshold": attempts, "success_threshold": 1}},
        then=[{"outcome": "CircuitOpenError", "attempts": 0, "breaker_after": "OPEN"}],
        wait_after_s=round(reset_s + 0.1, 3),
    )


def _reset_before_send(s: Subject) -> Plan:
    if s.safe:
        return Plan(
            faults=[_toxic("reset_peer", "upstream", timeout=0)],
            expect={
                "outcome": s.ambiguous("ServiceUnavailableError"),
                "attempts": s.policy.retry.max_attempts,
            },
            because="the reset comes after the request left the client, which cannot tell "
            "whether it arrived, so only a retry-safe call is retried",
            phase_expect={"provider_requests": 0},
        )
    return Plan(
        faults=[_toxic("reset_peer", "upstream", timeout=0)],
        expect={"outcome": "ServiceUnavailableError", "attempts": 1},
        because="the client cannot tell whether the request arrived: an unsafe call is not retried",
        phase_expect={"provider_requests": 0},
    )


def _answer_lost(s: Subject) -> Plan:
    fault = _toxic("reset_peer", "downstream", timeout=0)
    if s.safe:
        return Plan(
            faults=[fault],
            expect={
                "outcome": s.ambiguous("ServiceUnavailableError"),
                "attempts": s.policy.retry.max_attempts,
            },
            because="each answer is lost after the provider handled the request; a retry-safe "
            "call retries (a keyed one with its key, so the effect happens once)",
        )
    return Plan(
        faults=[fault],
        expect={"outcome": "ServiceUnavailableError", "attempts": 1},
        because="the provider handled the request and the answer was lost: an unsafe call "
        "must not be repeated",
        recover=False,
    )


def _latency_below(s: Subject) -> Plan:
    latency_ms = int(s.policy.read_timeout_s * 1000 / 2)
    return Plan(
        faults=[_toxic("latency", "downstream", latency=latency_ms)],
        expect={
            "outcome": s.contract,
            "attempts": 1,
            "elapsed_s": {"min": round(latency_ms / 1000 * 0.9, 3)},
        },
        because=f"{latency_ms} ms is half the read timeout: one slow attempt, no retry",
    )


def _latency_above(s: Subject) -> Plan:
    read = s.policy.read_timeout_s
    latency_ms = int(read * 2000)
    fault = _toxic("latency", "downstream", latency=latency_ms)
    if not s.safe:
        return Plan(
            faults=[fault],
            expect={"outcome": "ReadTimeoutError", "attempts": 1},
            because="the read timeout fires after the request was sent: an unsafe call is not "
            "retried",
            recover=False,
        )
    fit = max(1, s.attempts_within_deadline(read))
    attempts: dict[str, int] = {"min": fit, "max": s.policy.retry.max_attempts}
    return Plan(
        faults=[fault],
        expect={
            "outcome": s.ambiguous("ReadTimeoutError | DeadlineExceededError"),
            "attempts": attempts,
        },
        because=f"each attempt times out after {read} s; a retry-safe call retries as often as "
        f"its attempts and deadline allow ({fit} surely fit)",
    )


def _blackhole(s: Subject) -> Plan:
    deadline = s.policy.deadline_s
    return Plan(
        faults=[_toxic("timeout", "upstream", timeout=0)],
        expect={
            "outcome": s.ambiguous("DeadlineExceededError"),
            "attempts": 1,
            "elapsed_s": {"min": round(deadline * 0.9, 3)},
        },
        because=f"with a read timeout past the {deadline} s deadline, only the deadline ends "
        "the call, within its tolerance",
        phase_expect={"provider_requests": 0},
        profile={"read_timeout_s": deadline + 1.0},
    )


def _slow_drip(s: Subject) -> Plan:
    deadline = s.policy.deadline_s
    return Plan(
        faults=[_toxic("slicer", "downstream", average_size=1, size_variation=0, delay=50_000)],
        expect={
            "outcome": s.ambiguous("DeadlineExceededError"),
            "attempts": 1,
            "elapsed_s": {"min": round(deadline * 0.9, 3)},
        },
        because="a byte every 50 ms never trips the read timeout; the deadline must end the call",
        recover=s.safe,
    )


def _truncated(s: Subject) -> Plan:
    fault = _http(s, mode="truncated", count=1, apply="after")
    if s.safe:
        return Plan(
            faults=[fault],
            expect={"outcome": s.settled(s.contract), "attempts": 2},
            because="the first answer is cut short after the provider acted; a retry-safe call "
            "retries and ends as the contract says (a keyed error answer: outcome unknown)",
        )
    return Plan(
        faults=[fault],
        expect={"outcome": "ResponseTruncatedError", "attempts": 1},
        because="the answer was cut short after the provider acted: an unsafe call is not retried",
        recover=False,
    )


def _status_503(apply: str) -> Derive:
    def derive(s: Subject) -> Plan:
        fault = _http(s, status=503, count=1, apply=apply)
        if s.safe:
            return Plan(
                faults=[fault],
                expect={"outcome": s.settled(s.contract), "attempts": 2},
                because="one 503, then the provider answers: a retry-safe call retries and "
                "ends as the contract says (a keyed error answer: outcome unknown)",
            )
        return Plan(
            faults=[fault],
            expect={"outcome": "ServiceUnavailableError", "attempts": 1},
            because="a 503 may come after the work was done: an unsafe call is not retried",
            recover=apply == "before",
        )

    return derive


def _rate_limited_within(s: Subject) -> Plan | str:
    wait = 1
    if wait > s.policy.retry.max_retry_after_s:
        return f"the client waits at most {s.policy.retry.max_retry_after_s} s for Retry-After"
    if wait + s.policy.read_timeout_s > s.policy.deadline_s:
        return f"a {wait} s Retry-After does not fit in the {s.policy.deadline_s} s deadline"
    return Plan(
        faults=[_http(s, status=429, count=1, retry_after=str(wait))],
        expect={"outcome": s.contract, "attempts": 2, "elapsed_s": {"min": wait * 0.95}},
        because=f"a 429 means nothing was done: every call waits the {wait} s Retry-After and "
        "retries",
    )


def _rate_limited_beyond(s: Subject) -> Plan:
    wait = math.ceil(s.policy.deadline_s) + 30
    return Plan(
        faults=[_http(s, status=429, count=s.policy.retry.max_attempts, retry_after=str(wait))],
        expect={"outcome": "RateLimitedError", "attempts": 1, "elapsed_s": {"max": 0.5}},
        because=f"a {wait} s Retry-After ends past the deadline: the call gives up at once",
    )


def _schema_mismatch(s: Subject) -> Plan | str:
    status = s.interaction.status
    if not 200 <= status < 300:
        return "the contract promises no body schema for an error answer"
    return Plan(
        faults=[_http(s, status=status, count=1, apply="after", body={"not": "the contract"})],
        expect={"outcome": s.ambiguous("ResponseValidationError"), "attempts": 1},
        because="an answer that does not match the contract's schema is never retried",
        recover=s.safe,
    )


RULES: tuple[FaultClass, ...] = (
    FaultClass(
        "outage",
        "down",
        "connection refused (proxy down)",
        "every call: all attempts, ServiceUnavailableError, the breaker opens (threshold = "
        "attempts), the next call fails fast, a probe after the reset timeout closes it",
        _outage,
    ),
    FaultClass(
        "reset-before-send",
        "rst>",
        "reset before the request reaches the provider",
        "retry-safe: all attempts, ServiceUnavailableError (or unknown); unsafe: 1 attempt",
        _reset_before_send,
    ),
    FaultClass(
        "answer-lost",
        "rst<",
        "reset after the request was sent (answer lost)",
        "retry-safe: all attempts, at most one effect per key; unsafe: 1 attempt, not called again",
        _answer_lost,
    ),
    FaultClass(
        "latency-below-read-timeout",
        "lat-",
        "latency of half the read timeout",
        "every call: 1 attempt, the contract's outcome",
        _latency_below,
    ),
    FaultClass(
        "latency-above-read-timeout",
        "lat+",
        "latency of twice the read timeout",
        "retry-safe: as many attempts as fit, read timeout or deadline; unsafe: 1 attempt, "
        "ReadTimeoutError",
        _latency_above,
    ),
    FaultClass(
        "blackhole-past-deadline",
        "hole",
        "request never delivered, read timeout past the deadline",
        "every call: DeadlineExceededError (or unknown) at the deadline, within its tolerance",
        _blackhole,
    ),
    FaultClass(
        "slow-drip-past-deadline",
        "drip",
        "answer dripped a byte per 50 ms",
        "every call: DeadlineExceededError (or unknown) at the deadline",
        _slow_drip,
    ),
    FaultClass(
        "truncated-answer",
        "cut",
        "answer cut short once, after the provider acted",
        "retry-safe: 2 attempts, the contract's outcome; unsafe: 1 attempt, ResponseTruncatedError",
        _truncated,
    ),
    FaultClass(
        "503-before-handler",
        "503b",
        "one 503 before the provider acts",
        "retry-safe: 2 attempts, the contract's outcome; unsafe: 1 attempt, "
        "ServiceUnavailableError",
        _status_503("before"),
    ),
    FaultClass(
        "503-after-handler",
        "503a",
        "one 503 after the provider acted",
        "retry-safe: 2 attempts, the contract's outcome, at most one effect per key; unsafe: 1 "
        "attempt",
        _status_503("after"),
    ),
    FaultClass(
        "429-within-deadline",
        "429-",
        "one 429 with Retry-After: 1",
        "every call: waits, 2 attempts, the contract's outcome",
        _rate_limited_within,
    ),
    FaultClass(
        "429-beyond-deadline",
        "429+",
        "429 with a Retry-After past the deadline",
        "every call: 1 attempt, RateLimitedError at once",
        _rate_limited_beyond,
    ),
    FaultClass(
        "schema-mismatch",
        "body",
        "a 2xx answer whose body is not the contract's",
        "every call with a 2xx contract: 1 attempt, ResponseValidationError (or unknown)",
        _schema_mismatch,
    ),
)
