"""The retry budget: retries stay within a share of the calls, so an outage is not amplified.

Over the last ``budget_window_s`` seconds, a retry is allowed while
``retries < budget_ratio * calls + budget_min_per_s * budget_window_s`` (Finagle's budget:
20% of requests plus 10 retries per second). One budget serves every thread of a client; with
fleet state on, every process of the fleet shares one on Redis, and the local one takes over
while Redis is away.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from stormproof.clients._fleet import FleetBudget, FleetLink, Unavailable
from stormproof.clients._policy import RetryPolicy
from stormproof.clients._window import TimeBuckets

__all__ = ["RetryBudget"]

_CALL, _RETRY = (1, 0), (0, 1)


class RetryBudget:
    """One client's retry budget (thread-safe)."""

    def __init__(
        self, policy: RetryPolicy, clock: Callable[[], float], link: FleetLink | None = None
    ) -> None:
        """Create an empty budget.

        Args:
            policy: The budget settings (``budget_*``).
            clock: The runtime clock (windows move with it).
            link: Redis link of the fleet, when fleet state is on.
        """
        self.enabled = policy.budget_enabled
        self._ratio = policy.budget_ratio
        self._floor = policy.budget_min_per_s * policy.budget_window_s
        self._clock = clock
        self._lock = threading.Lock()
        self._local = TimeBuckets(policy.budget_window_s, 2)
        self._fleet = (
            FleetBudget(link, policy.budget_window_s, self._ratio, self._floor)
            if link is not None and self.enabled
            else None
        )

    def deposit(self) -> None:
        """Count a logical call."""
        if not self.enabled:
            return
        with self._lock:  # the local count is kept in fleet mode too: it takes over if Redis goes
            self._local.add(self._clock(), _CALL)
        if self._fleet is not None:
            self._fleet.deposit()

    def withdraw(self) -> bool:
        """Take one retry from the budget.

        Returns:
            Whether the retry may be made (it is counted if so).
        """
        if not self.enabled:
            return True
        allowed: bool | Unavailable = True
        if self._fleet is not None:
            allowed = self._fleet.withdraw()
        with self._lock:
            now = self._clock()
            if isinstance(allowed, Unavailable) or self._fleet is None:
                calls, retries = self._local.sums(now)
                allowed = retries < self._ratio * calls + self._floor
            if allowed:
                self._local.add(now, _RETRY)
        return allowed
