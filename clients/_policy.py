"""Resilience policies: immutable, with production defaults, overridable from code and env."""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal, Self, get_args

__all__ = ["WINDOWS", "BreakerPolicy", "FleetPolicy", "ResiliencePolicy", "RetryPolicy", "Window"]

Window = Literal["consecutive", "count", "time"]
"""Breaker window kinds: consecutive failures (the default), the last N attempts, the last N s."""

WINDOWS: tuple[str, ...] = get_args(Window)

_ENV_PREFIX = "STORMPROOF_"


def _check(condition: bool, name: str, rule: str, value: object) -> None:
    if not condition:
        raise ValueError(f"{name} must be {rule}, got {value!r}")


def _positive(name: str, value: float) -> None:
    _check(math.isfinite(value) and value > 0, name, "a finite number > 0", value)


def _non_negative(name: str, value: float) -> None:
    _check(math.isfinite(value) and value >= 0, name, "a finite number >= 0", value)


def _fraction(name: str, value: float) -> None:
    _check(math.isfinite(value) and 0 < value <= 1, name, "a fraction in (0, 1]", value)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How failed attempts are retried.

    Attributes:
        max_attempts: Attempts per logical call, including the first (1 disables retries).
        initial_backoff_s: Backoff ceiling before the second attempt.
        max_backoff_s: Cap of the backoff ceiling.
        multiplier: Growth of the ceiling per attempt (exponential backoff).
        max_retry_after_s: Longest ``Retry-After`` the client waits; a longer one ends the call
            with the service's error (it carries ``retry_after``) instead of retrying early.
        budget_enabled: Limit retries with a retry budget shared by every thread of the client
            (and by the fleet, with fleet state on): a retry is made only while retries over the
            last ``budget_window_s`` stay within ``budget_ratio`` of the calls plus
            ``budget_min_per_s`` per second. A refused retry is not made: the call ends with
            the attempt's own error, and the log says "retry budget exhausted".
        budget_ratio: Retries allowed per call made in the window (Finagle's 20%).
        budget_min_per_s: Retries per second always allowed, so a quiet client can still retry.
        budget_window_s: The sliding period the budget counts calls and retries over.
    """

    max_attempts: int = 3
    initial_backoff_s: float = 0.1
    max_backoff_s: float = 2.0
    multiplier: float = 2.0
    max_retry_after_s: float = 10.0
    budget_enabled: bool = False
    budget_ratio: float = 0.2
    budget_min_per_s: float = 10.0
    budget_window_s: float = 10.0

    def __post_init__(self) -> None:
        _check(self.max_attempts >= 1, "max_attempts", "an integer >= 1", self.max_attempts)
        _non_negative("initial_backoff_s", self.initial_backoff_s)
        _non_negative("max_backoff_s", self.max_backoff_s)
        _check(self.multiplier >= 1, "multiplier", "a number >= 1", self.multiplier)
        _non_negative("max_retry_after_s", self.max_retry_after_s)
        _non_negative("budget_ratio", self.budget_ratio)
        _non_negative("budget_min_per_s", self.budget_min_per_s)
        _positive("budget_window_s", self.budget_window_s)

    def backoff_ceiling(self, attempt: int) -> float:
        """Return the full-jitter ceiling after failed attempt ``attempt`` (1-based).

        Args:
            attempt: The attempt that just failed.

        Returns:
            ``min(max_backoff_s, initial_backoff_s * multiplier ** (attempt - 1))``.
        """
        exponent = min(attempt - 1, 64)
        return min(self.max_backoff_s, self.initial_backoff_s * self.multiplier**exponent)


@dataclass(frozen=True, slots=True)
class BreakerPolicy:
    """Circuit breaker settings (one breaker per client instance, or per fleet).

    The breaker counts attempts. With ``window="consecutive"`` (the default) it opens after
    ``failure_threshold`` failed attempts in a row. With ``"count"`` (the last ``window_size``
    attempts) or ``"time"`` (the attempts of the last ``window_s`` seconds) it opens once the
    window holds at least ``minimum_calls`` attempts and either their failure rate reaches
    ``failure_rate_threshold`` or the share that took ``slow_call_duration_s`` or longer reaches
    ``slow_call_rate_threshold``. Rate limits and unusable answers count in neither.

    Attributes:
        enabled: False turns the breaker off (every call goes through).
        failure_threshold: Consecutive failed attempts that open the breaker (consecutive mode).
        reset_timeout_s: Seconds the breaker stays open before admitting trial calls.
        half_open_max_calls: Trial calls allowed in flight at once while half-open (per process).
        success_threshold: Successful trial calls that close the breaker again.
        window: ``"consecutive"``, ``"count"`` or ``"time"``.
        window_size: Attempts the count window holds.
        window_s: Seconds the time window spans.
        minimum_calls: Attempts the window must hold before its rates can open the breaker.
        failure_rate_threshold: Share of failed attempts that opens the breaker.
        slow_call_duration_s: An attempt this long or longer is slow (failed or not).
        slow_call_rate_threshold: Share of slow attempts that opens the breaker.
    """

    enabled: bool = True
    failure_threshold: int = 5
    reset_timeout_s: float = 30.0
    half_open_max_calls: int = 1
    success_threshold: int = 2
    window: Window = "consecutive"
    window_size: int = 100
    window_s: float = 60.0
    minimum_calls: int = 10
    failure_rate_threshold: float = 0.5
    slow_call_duration_s: float = 60.0
    slow_call_rate_threshold: float = 1.0

    def __post_init__(self) -> None:
        for name in (
            "failure_threshold",
            "half_open_max_calls",
            "success_threshold",
            "window_size",
            "minimum_calls",
        ):
            value = getattr(self, name)
            _check(value >= 1, name, "an integer >= 1", value)
        _non_negative("reset_timeout_s", self.reset_timeout_s)
        _check(self.window in WINDOWS, "window", " or ".join(map(repr, WINDOWS)), self.window)
        _positive("window_s", self.window_s)
        _positive("slow_call_duration_s", self.slow_call_duration_s)
        _fraction("failure_rate_threshold", self.failure_rate_threshold)
        _fraction("slow_call_rate_threshold", self.slow_call_rate_threshold)


@dataclass(frozen=True, slots=True)
class FleetPolicy:
    """Fleet-wide state: breaker and retry budget shared through Redis by every process.

    Off by default (``redis_url`` empty). When Redis cannot be reached or answers slower than
    ``timeout_s``, the client uses its own local state, logs it once, and tries Redis again
    after ``recheck_s``; a call never fails because Redis is away.

    Attributes:
        redis_url: ``redis://host:port/db``; empty keeps all state in the process.
        namespace: Prefix of the Redis keys; clients sharing it share state (the service name
            is appended).
        timeout_s: Connect and read timeout of each Redis command.
        recheck_s: Seconds on local state before Redis is tried again.
    """

    redis_url: str = field(default="", repr=False)  # may carry a password
    namespace: str = "stormproof"
    timeout_s: float = 0.05
    recheck_s: float = 5.0

    def __post_init__(self) -> None:
        _check(
            not self.redis_url or self.redis_url.startswith(("redis://", "rediss://", "unix://")),
            "redis_url",
            "empty or a redis://, rediss:// or unix:// URL",
            "(hidden)",
        )
        _check(bool(self.namespace), "namespace", "a non-empty string", self.namespace)
        _positive("timeout_s", self.timeout_s)
        _positive("recheck_s", self.recheck_s)


@dataclass(frozen=True, slots=True)
class ResiliencePolicy:
    """Everything that decides how a client behaves under faults.

    Build variations with ``dataclasses.replace``::

        fast = replace(ResiliencePolicy(), deadline_s=2.0, retry=RetryPolicy(max_attempts=1))

    Attributes:
        connect_timeout_s: Connect timeout of each attempt.
        read_timeout_s: Timeout of each socket read of each attempt.
        deadline_s: Wall-clock bound of a whole logical call, retries and waits included.
        pool_maxsize: Connections kept per host (set it to the number of sharing threads).
        retry: Retry settings.
        breaker: Circuit breaker settings.
        fleet: Fleet-wide state on Redis (off by default).
    """

    connect_timeout_s: float = 2.0
    read_timeout_s: float = 5.0
    deadline_s: float = 10.0
    pool_maxsize: int = 32
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    breaker: BreakerPolicy = field(default_factory=BreakerPolicy)
    fleet: FleetPolicy = field(default_factory=FleetPolicy)

    def __post_init__(self) -> None:
        _positive("connect_timeout_s", self.connect_timeout_s)
        _positive("read_timeout_s", self.read_timeout_s)
        _positive("deadline_s", self.deadline_s)
        _check(self.pool_maxsize >= 1, "pool_maxsize", "an integer >= 1", self.pool_maxsize)

    @classmethod
    def from_env(
        cls,
        service: str,
        base: ResiliencePolicy | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> Self:
        """Read a policy from environment variables.

        Each field is read from ``STORMPROOF_<SERVICE>_<FIELD>``, else ``STORMPROOF_<FIELD>``,
        else taken from ``base``. Nested fields are prefixed: ``STORMPROOF_RETRY_MAX_ATTEMPTS``,
        ``STORMPROOF_PAYMENTS_BREAKER_RESET_TIMEOUT_S``, ``STORMPROOF_USERS_DEADLINE_S``,
        ``STORMPROOF_FLEET_REDIS_URL``.

        Args:
            service: Service name (``users``, ``notifications``, ``payments``).
            base: Values for unset variables (production defaults when None).
            environ: Variables to read (``os.environ`` when None).

        Returns:
            The policy.

        Raises:
            ValueError: A variable is not a valid value; the message names the variable.
        """
        env = os.environ if environ is None else environ
        start = base if base is not None else cls()
        scoped = f"{_ENV_PREFIX}{service.upper()}_"
        changes = _read_fields(start, "", env, scoped)
        return replace(start, **changes)  # type: ignore[return-value]


def _read_fields(obj: Any, prefix: str, env: Mapping[str, str], scoped: str) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for f in fields(obj):
        value = getattr(obj, f.name)
        name = f"{prefix}{f.name}".upper()
        if dataclasses.is_dataclass(value):
            nested = _read_fields(value, f"{name}_", env, scoped)
            if nested:
                changes[f.name] = replace(value, **nested)  # type: ignore[type-var]
            continue
        for var in (f"{scoped}{name}", f"{_ENV_PREFIX}{name}"):
            if var in env:
                parsed = _parse(var, env[var], type(value))
                try:  # every rule is per field, so checking one field alone is exact
                    replace(obj, **{f.name: parsed})
                except ValueError as exc:
                    raise ValueError(f"environment variable {var}: {exc}") from None
                changes[f.name] = parsed
                break
    return changes


def _parse(var: str, raw: str, kind: type) -> Any:
    text = raw.strip()
    if kind is str:
        return text
    try:
        if kind is bool:
            lowered = text.lower()
            if lowered in {"1", "true", "yes", "on"}:
                return True
            if lowered in {"0", "false", "no", "off"}:
                return False
            raise ValueError(text)
        if kind is int:
            return int(text)
        number = float(text)
    except ValueError:
        expected = {bool: "true or false", int: "an integer"}.get(kind, "a number")
        raise ValueError(f"environment variable {var} must be {expected}, got {raw!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"environment variable {var} must be a finite number, got {raw!r}")
    return number
