"""A circuit breaker that never holds a lock across a request.

pybreaker's ``CircuitBreaker.call`` holds an RLock for the whole wrapped call, so threads
sharing one breaker would run one request at a time. Here pybreaker keeps the state (its
memory storage, its open/half_open/close transitions and its listeners), while admission and
outcome recording are two short critical sections around the request. Half-open admits at most
``half_open_max_calls`` trial calls in flight; ``success_threshold`` successes close it, any
failure reopens it. The reset timeout runs on the injectable runtime clock.

What opens it is the policy's window (``stormproof.clients._window``): pybreaker's failure
counter in consecutive mode, the failure and slow-call rates of a count or time window
otherwise. With fleet state on, the counts and the open/closed state live on Redis too
(``stormproof.clients._fleet``): the fleet's numbers decide while Redis answers, the local ones
(always kept) while it does not. Redis is never called under the breaker's lock.
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Callable
from dataclasses import dataclass

import pybreaker

from stormproof.clients._events import BreakerEvent, BreakerState
from stormproof.clients._fleet import FleetBreaker, FleetLink, Unavailable
from stormproof.clients._policy import BreakerPolicy
from stormproof.clients._window import CountWindow, Tally, TimeBuckets, code

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
        link: FleetLink | None = None,
    ) -> None:
        """Create a closed breaker.

        Args:
            service: Service name, for events.
            policy: Thresholds and timeouts.
            clock: Runtime clock for the reset timeout and the time window.
            on_change: Called with each state change, outside the breaker's lock.
            link: Redis link of the fleet, when fleet state is on.
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
        self._count = CountWindow(policy.window_size) if policy.window == "count" else None
        self._time = TimeBuckets(policy.window_s, 3) if policy.window == "time" else None
        self._fleet = (
            FleetBreaker(link, policy.window, policy.window_size, policy.window_s)
            if link is not None and policy.enabled
            else None
        )
        self._fleet_opened: int | None = None  # when the fleet's breaker opened, last we saw

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
        if self._fleet is not None:
            self._sync()
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

    def record(self, admission: Admission, verdict: Verdict, elapsed_s: float = 0.0) -> None:
        """Record the outcome of an admitted attempt.

        Args:
            admission: What :meth:`admit` returned for the attempt.
            verdict: What the outcome means for the breaker.
            elapsed_s: How long the attempt took (slow-call rate of the windows).
        """
        if not self._policy.enabled:
            return
        if verdict is Verdict.NEUTRAL and not admission.probe:
            return
        windowed = self._policy.window != "consecutive"
        if (
            not admission.probe
            and verdict is Verdict.SUCCESS
            and not windowed
            and self._fleet is None
            and self._storage.counter == 0
        ):
            return  # the hot path: a success with no failures to forget takes no lock
        fleet: Tally | int | Unavailable | None = None
        if self._fleet is not None and not admission.probe and verdict is not Verdict.NEUTRAL:
            fleet = self._fleet_record(verdict, elapsed_s)
        with self._lock:
            opened = self._record_locked(admission, verdict, elapsed_s, fleet)
        if opened is not None and self._fleet is not None:
            self._fleet_transition(opened)
        self._flush()

    def _fleet_record(self, verdict: Verdict, elapsed_s: float) -> Tally | int | Unavailable:
        assert self._fleet is not None
        failed = verdict is Verdict.FAILURE
        if self._policy.window == "consecutive":
            if failed:
                return self._fleet.fail()
            self._fleet.succeed()
            return 0
        slow = elapsed_s >= self._policy.slow_call_duration_s
        return self._fleet.add(code(failed=failed, slow=slow))

    def _record_locked(
        self,
        admission: Admission,
        verdict: Verdict,
        elapsed_s: float,
        fleet: Tally | int | Unavailable | None,
    ) -> bool | None:
        """Apply the outcome; return True/False when the breaker opened/closed, else None."""
        if admission.generation != self._generation:
            return None  # admitted before the last state change: its news is stale
        if admission.probe:
            self._probes -= 1
            if verdict is Verdict.FAILURE:
                self._open()
                return True
            if verdict is Verdict.SUCCESS:
                self._storage.increment_success_counter()
                if self._storage.success_counter >= self._policy.success_threshold:
                    self._close()
                    return False
            return None
        failed = verdict is Verdict.FAILURE
        if self._policy.window == "consecutive":
            if failed:
                self._storage.increment_counter()
            else:
                self._storage.reset_counter()
            run = fleet if isinstance(fleet, int) else self._storage.counter
            if failed and run >= self._policy.failure_threshold:
                self._open()
                return True
            return None
        slow = elapsed_s >= self._policy.slow_call_duration_s
        local = self._add_local(code(failed=failed, slow=slow))
        # Every outcome is checked: a success can bring the window up to minimum_calls.
        if self._trips(fleet if isinstance(fleet, Tally) else local):
            self._open()
            return True
        return None

    def _add_local(self, outcome: int) -> Tally:
        if self._count is not None:
            return self._count.add(outcome)
        assert self._time is not None
        now = self._clock()
        self._time.add(now, (1, (outcome >> 1) & 1, (outcome >> 2) & 1))
        total, failures, slow = self._time.sums(now)
        return Tally(total, failures, slow)

    def _trips(self, tally: Tally) -> bool:
        policy = self._policy
        if tally.total < policy.minimum_calls:
            return False
        return (
            tally.failures >= policy.failure_rate_threshold * tally.total
            or tally.slow >= policy.slow_call_rate_threshold * tally.total
        )

    def _reset_window(self) -> None:
        self._storage.reset_counter()
        if self._count is not None:
            self._count.reset()
        if self._time is not None:
            self._time.reset()

    def _close(self) -> None:
        self._reset_window()
        self._transition(self._cb.close)

    # ----------------------------------------------------------------- the fleet's view

    def _fleet_transition(self, opened: bool) -> None:
        assert self._fleet is not None
        if opened:
            when = self._fleet.open()
            # Unknown to the fleet if Redis is away: then a "closed" read must not close it here.
            self._fleet_opened = None if isinstance(when, Unavailable) else when
        else:
            self._fleet.close()
            self._fleet_opened = None

    def _sync(self) -> None:
        """Follow the fleet: open when another process opened it, close when one closed it."""
        assert self._fleet is not None
        seen = self._fleet.read()
        if isinstance(seen, Unavailable):
            return
        last = self._fleet_opened
        self._fleet_opened = None if seen is None else seen[0]
        state = self._storage.state
        if seen is None:
            if state == pybreaker.STATE_CLOSED or last is None:
                return  # closed here too, or opened here while Redis was away: keep it
            with self._lock:
                if self._storage.state != pybreaker.STATE_CLOSED:
                    self._close()
        else:
            opened, age = seen
            if state == pybreaker.STATE_CLOSED or opened != last:  # opened (again) elsewhere
                with self._lock:
                    self._opened_at = self._clock() - age
                    if self._storage.state != pybreaker.STATE_OPEN:
                        self._reset_window()
                        self._transition(self._cb.open)
        self._flush()

    def _open(self) -> None:
        self._opened_at = self._clock()
        self._reset_window()
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
