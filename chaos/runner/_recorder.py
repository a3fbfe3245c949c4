"""Turning a client's events into records, call by call, safely across threads."""

from __future__ import annotations

import threading
from collections import defaultdict

from stormproof.chaos.runner._records import AttemptRecord, BreakerTransition
from stormproof.clients import AttemptEvent, BreakerEvent, CallEvent, ClientEvent


class EventRecorder:
    """A client event listener that groups attempts by the thread that made them.

    Each logical call runs on one thread and ends with a `CallEvent` on that thread, so the attempts
    seen on a thread since its last `CallEvent` belong to that call.
    """

    def __init__(self, origin: float) -> None:
        self._origin = origin
        self._lock = threading.Lock()
        self._pending: dict[int, list[AttemptRecord]] = defaultdict(list)
        self._finished: dict[int, list[tuple[CallEvent, tuple[AttemptRecord, ...]]]] = defaultdict(
            list
        )
        self.transitions: list[BreakerTransition] = []

    def __call__(self, event: ClientEvent) -> None:
        thread = threading.get_ident()
        with self._lock:
            if isinstance(event, AttemptEvent):
                self._pending[thread].append(self._attempt(event))
            elif isinstance(event, CallEvent):
                self._finished[thread].append((event, tuple(self._pending.pop(thread, []))))
            elif isinstance(event, BreakerEvent):
                self.transitions.append(
                    BreakerTransition(
                        event.old_state.name, event.new_state.name, event.at - self._origin
                    )
                )

    def _attempt(self, event: AttemptEvent) -> AttemptRecord:
        return AttemptRecord(
            attempt=event.attempt,
            method=event.method,
            path=event.path,
            offset_s=event.started_at - self._origin,
            elapsed_s=event.elapsed_s,
            outcome=event.outcome,
            status_code=event.status_code,
            breaker_state=event.breaker_state.name,
            idempotency_key=event.idempotency_key,
            will_retry=event.will_retry,
            backoff_s=event.backoff_s,
            error=event.error,
            retry_after_s=event.retry_after_s,
            not_retried=event.not_retried,
        )

    def take_calls(self) -> list[tuple[CallEvent, tuple[AttemptRecord, ...]]]:
        """The logical calls finished on the current thread since the last take, in order.

        Usually one; an operation that walks pages (`iter_users`) makes one per page.
        """
        with self._lock:
            return self._finished.pop(threading.get_ident(), [])

    def take_transitions(self) -> list[BreakerTransition]:
        """Breaker transitions seen since the last take."""
        with self._lock:
            taken, self.transitions = self.transitions, []
        return taken
