"""A circuit breaker that never holds a lock across a request.

pybreaker's ``CircuitBreaker.call`` holds an RLock for the whole wrapped call, so threads
sharing one breaker would run one request at a time. Here pybreaker keeps the state (its
memory storage, its open/half_open/close transitions and its listeners), while admission and
outcome recording are two short critical sections around the request. Half-open admits at most
``half_open_max_calls`` trial calls in flight; ``success_threshold`` successes close it, any
failure reopens it. The reset timeout runs on the injectable runtime clock.
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Callable
from dataclasses import dataclass

import pybreaker

from stormproof.clients._events import BreakerEvent, BreakerState
from stormproof.clients._policy import BreakerPolicy

__all__ = ["Admission", "Breaker", "Verdict"]

_STATES = {
    pybreaker.STATE_CLOSED: BreakerState.CLOSED,
    pybreaker.STATE_OPEN: BreakerState.OPEN,
    pybreaker.STATE_HALF_OPEN: BreakerState.HALF_OPEN,
}


class Verdict(enum.Enum):
    """What an attempt's outcome means for the breaker."""

    SUCCESS = "success"
    FAILURE = "failure"
    NEUTRAL = "neutral"  # neither: rate limits, unusable responses


@dataclass(frozen=True, slots=True)
class Admission:
    """The breaker's answer to "may this attempt go out?".

    Attributes:
        allowed: Whether the attempt may be sent.
        probe: Whether it is a half-open trial call (it must be recorded to free its slot).
        generation: Breaker epoch it was admitted in; outcomes of older epochs are ignored.
        retry_after: When refused, seconds until trial calls are admitted.
    """

    allowed: bool
    probe: bool = False
    generation: int = 0
    retry_after: float = 0.0


class _Relay(pybreaker.CircuitBreakerListener):
    def __init__(self, breaker: Breaker) -> None:
        self._breaker = breaker

    def state_change(self, cb: object, old_state: object, new_state: object) -> None:
        old = _STATES.get(getattr(old_state, "name", ""), BreakerState.CLOSED)
        new = _STATES[getattr(new_state, "name", pybreaker.STATE_CLOSED)]
        self._breaker._changed(old, new)


class Breaker:
    """One service's breaker, shared by every thread using the client."""

    def __init__(
        self,
        service: str,
        policy: BreakerPolicy,
        clock: Callable[[], float],
        on_change: Callable[[BreakerEvent], None],
    ) -> None:
        """Create a closed breaker.

        Args:
            service: Service name, for events.
            policy: Thresholds and timeouts.
            clock: Runtime clock for the reset timeout.
            on_change: Called with each state change, outside the breaker's lock.
        """
        self._service = service
        self._policy = policy
        self._clock = clock
        self._on_change = on_change
        self._lock = threading.Lock()
        self._storage = pybreaker.CircuitMemoryStorage(pybreaker.STATE_CLOSED)
        self._cb = pybreaker.CircuitBreaker(
            fail_max=policy.failure_threshold,
            reset_timeout=policy.reset_timeout_s,
            success_threshold=policy.success_threshold,
            state_storage=self._storage,
            listeners=[_Relay(self)],
            name=service,
        )
        self._opened_at = 0.0
        self._probes = 0
        self._generation = 0
        self._pending: list[BreakerEvent] = []

    @property
    def state(self) -> BreakerState:
        """The current state (an open breaker past its reset timeout still reads OPEN)."""
        return _STATES[self._storage.state]

    def admit(self) -> Admission:
        """Decide whether an attempt may go out now.

        Returns:
            The admission; when ``probe`` is set, :meth:`record` must follow.
        """
        if not self._policy.enabled:
            return Admission(allowed=True)
        if self._storage.state == pybreaker.STATE_CLOSED:
            return Admission(allowed=True, generation=self._generation)
        with self._lock:
            admission = self._admit_locked()
        self._flush()
        return admission

    def _admit_locked(self) -> Admission:
        state = self._storage.state
        if state == pybreaker.STATE_CLOSED:
            return Admission(allowed=True, generation=self._generation)
        if state == pybreaker.STATE_OPEN:
            wait = self._opened_at + self._policy.reset_timeout_s - self._clock()
            if wait > 0:
                return Admission(allowed=False, retry_after=wait)
            self._transition(self._cb.half_open)
        if self._probes >= self._policy.half_open_max_calls:
            return Admission(allowed=False, retry_after=0.0)
        self._probes += 1
        return Admission(allowed=True, probe=True, generation=self._generation)

    def record(self, admission: Admission, verdict: Verdict) -> None:
        """Record the outcome of an admitted attempt.

        Args:
            admission: What :meth:`admit` returned for the attempt.
            verdict: What the outcome means for the breaker.
        """
        if not self._policy.enabled:
            return
        if (
            not admission.probe
            and verdict is not Verdict.FAILURE
            and (verdict is Verdict.NEUTRAL or self._storage.counter == 0)
        ):
            return  # the hot path: a success with no failures to forget takes no lock
        with self._lock:
            self._record_locked(admission, verdict)
        self._flush()

    def _record_locked(self, admission: Admission, verdict: Verdict) -> None:
        if admission.generation != self._generation:
            return  # admitted before the last state change: its news is stale
        if admission.probe:
            self._probes -= 1
            if verdict is Verdict.FAILURE:
                self._open()
            elif verdict is Verdict.SUCCESS:
                self._storage.increment_success_counter()
                if self._storage.success_counter >= self._policy.success_threshold:
                    self._transition(self._cb.close)
            return
        if verdict is Verdict.SUCCESS:
            self._storage.reset_counter()
        elif verdict is Verdict.FAILURE:
            self._storage.increment_counter()
            if self._storage.counter >= self._policy.failure_threshold:
                self._open()

    def _open(self) -> None:
        self._opened_at = self._clock()
        self._transition(self._cb.open)

    def _transition(self, change: Callable[[], object]) -> None:
        self._generation += 1
        self._probes = 0
        change()

    def _changed(self, old: BreakerState, new: BreakerState) -> None:
        # Called by pybreaker inside _transition, under self._lock: queue, emit after release.
        self._pending.append(BreakerEvent(self._service, old, new, self._clock()))

    def _flush(self) -> None:
        if not self._pending:
            return
        with self._lock:
            events, self._pending = self._pending, []
        for event in events:
            self._on_change(event)
