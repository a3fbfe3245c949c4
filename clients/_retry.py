"""Tenacity strategies of the pipeline: what to retry, how long to wait, when to stop.

Each strategy reads the call's state from the first positional argument of the retried
function (a :class:`RetryContext`), so one ``tenacity.Retrying`` serves every call and thread.
"""

from __future__ import annotations

import email.utils
import math
from collections.abc import Callable
from dataclasses import dataclass

import tenacity
from tenacity.retry import retry_base
from tenacity.stop import stop_base
from tenacity.wait import wait_base

from stormproof.clients._policy import RetryPolicy

__all__ = [
    "RetryContext",
    "build_retrying",
    "parse_retry_after",
    "retry_if_retryable",
    "stop_before_deadline",
    "stop_if_budget_exhausted",
    "stop_if_retry_after_above",
    "wait_full_jitter",
    "wait_retry_after",
]


@dataclass(slots=True)
class RetryContext:
    """What the strategies need to know about the call being retried.

    Attributes:
        deadline: Runtime-clock reading at which the call must be over.
        clock: The runtime clock.
        random: The runtime random source.
        retryable: Whether the last failure may be retried.
        retry_after: Seconds the service asked to wait after the last failure, if any.
        withdraw: Takes a retry from the retry budget (False: spent); None: no budget.
        budget_exhausted: Set when the budget refused a retry.
    """

    deadline: float
    clock: Callable[[], float]
    random: Callable[[], float]
    retryable: bool = False
    retry_after: float | None = None
    withdraw: Callable[[], bool] | None = None
    budget_exhausted: bool = False


def _context(retry_state: tenacity.RetryCallState) -> RetryContext:
    context = retry_state.args[0]
    assert isinstance(context, RetryContext)
    return context


class retry_if_retryable(retry_base):  # noqa: N801 - tenacity's naming style
    """Retry when the failed attempt was classified retryable."""

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        """Return whether to retry."""
        outcome = retry_state.outcome
        return bool(outcome is not None and outcome.failed and _context(retry_state).retryable)


class wait_full_jitter(wait_base):  # noqa: N801 - tenacity's naming style
    """Exponential backoff with full jitter: ``uniform(0, min(cap, initial * mult**(n-1)))``.

    Unlike ``tenacity.wait_random_exponential`` the random source is the runtime's, so tests
    get reproducible sleeps.
    """

    def __init__(self, policy: RetryPolicy) -> None:
        """Wait according to ``policy``'s backoff settings."""
        self._policy = policy

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        """Return the seconds to sleep before the next attempt."""
        ceiling = self._policy.backoff_ceiling(retry_state.attempt_number)
        return _context(retry_state).random() * ceiling


class wait_retry_after(wait_base):  # noqa: N801 - tenacity's naming style
    """Wait what the service asked (``Retry-After``), else fall back to ``fallback``."""

    def __init__(self, fallback: wait_base) -> None:
        """Combine a fallback wait with the service's ``Retry-After``.

        Args:
            fallback: The wait when the service gave no ``Retry-After``.
        """
        self._fallback = fallback

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        """Return the seconds to sleep before the next attempt."""
        retry_after = _context(retry_state).retry_after
        if retry_after is not None:
            return retry_after
        return float(self._fallback(retry_state))


class stop_if_retry_after_above(stop_base):  # noqa: N801 - tenacity's naming style
    """Stop when the service asks to wait longer than ``cap``.

    Retrying sooner than the service asked would only meet the same refusal, so a wait above the
    cap ends the call with the service's error (which carries ``retry_after``).
    """

    def __init__(self, cap: float) -> None:
        """Stop above ``cap`` seconds of ``Retry-After``."""
        self._cap = cap

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        """Return whether to stop retrying."""
        retry_after = _context(retry_state).retry_after
        return retry_after is not None and retry_after > self._cap


class stop_before_deadline(stop_base):  # noqa: N801 - tenacity's naming style
    """Stop when the next sleep would reach the deadline: no wait may run past it."""

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        """Return whether to stop retrying."""
        context = _context(retry_state)
        remaining = context.deadline - context.clock()
        return retry_state.upcoming_sleep >= remaining


class stop_if_budget_exhausted(stop_base):  # noqa: N801 - tenacity's naming style
    """Stop when the retry budget refuses the retry.

    It must be the last of the stop conditions: it spends a retry from the budget, which only
    a retry that is really going to happen may do (tenacity's ``|`` stops at the first true one).
    """

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        """Return whether to stop retrying."""
        context = _context(retry_state)
        if context.withdraw is None or context.withdraw():
            return False
        context.budget_exhausted = True
        return True


def build_retrying(
    policy: RetryPolicy,
    sleep: Callable[[float], None],
    before_sleep: Callable[[tenacity.RetryCallState], None],
) -> tenacity.Retrying:
    """Build the pipeline's retry controller.

    Args:
        policy: Attempts and backoff settings.
        sleep: The runtime's sleep.
        before_sleep: Called once a retry is decided, with ``upcoming_sleep`` set.

    Returns:
        A ``Retrying`` that re-raises the last attempt's error when it stops.
    """
    return tenacity.Retrying(
        sleep=sleep,
        stop=(
            tenacity.stop_after_attempt(policy.max_attempts)
            | stop_before_deadline()
            | stop_if_retry_after_above(policy.max_retry_after_s)
            | stop_if_budget_exhausted()  # last: it spends from the budget
        ),
        wait=wait_retry_after(wait_full_jitter(policy)),
        retry=retry_if_retryable(),
        before_sleep=before_sleep,
        reraise=True,
    )


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Read a ``Retry-After`` header: delta-seconds or an HTTP-date.

    Args:
        value: The header value, if present.
        now: Current wall-clock time (epoch seconds), to turn a date into seconds.

    Returns:
        Seconds to wait (>= 0), or None when absent or unreadable.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        seconds = when.timestamp() - now
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)
