"""Fleet-wide state on Redis: the breaker and the retry budget shared by every process.

Each update is one Lua script, so processes racing on a key see atomic changes, and the time
windows read Redis's own clock (``TIME``), so hosts with skewed clocks agree on what "the last
60 seconds" means. Redis is a helper, never a dependency of a call: every command runs under a
short timeout without retries; on an error the link reports :data:`UNAVAILABLE`, logs once, and
stays on local state for ``recheck_s`` before trying Redis again.

pybreaker's ``CircuitRedisStorage`` does not fit here (checked on 1.4.1): it catches every
``RedisError`` itself and logs it with a traceback each time, so a client could neither fall back
to its local state nor log an outage once; its constructor talks to Redis (an unreachable Redis
fails the client's construction); ``opened_at`` has a resolution of one second; and a count
or time window has no place in it. pybreaker keeps each process's own state machine.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Final, TypeVar

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from stormproof.clients._policy import FleetPolicy
from stormproof.clients._redact import logger
from stormproof.clients._window import BUCKETS, Tally

__all__ = ["UNAVAILABLE", "FleetBreaker", "FleetBudget", "FleetLink", "Unavailable"]

T = TypeVar("T")


class Unavailable:
    """The type of :data:`UNAVAILABLE`."""

    def __repr__(self) -> str:
        return "UNAVAILABLE"


UNAVAILABLE: Final = Unavailable()
"""What a fleet operation returns when Redis could not answer in time."""

# Time buckets in one hash: e<i> is bucket i's epoch, c<i>:<j> its j-th counter. ARGV: bucket
# width in ms, the budget ratio (< 0: add unconditionally), the budget floor, then the deltas.
# Returns {added (0/1), sums...} over the buckets of the last BUCKETS widths, after the add.
_BUCKETS_LUA = f"""
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local width = tonumber(ARGV[1])
local ratio = tonumber(ARGV[2])
local floor_ = tonumber(ARGV[3])
local k = #ARGV - 3
local n = {BUCKETS}
local epoch = math.floor(now / width)
local slot = epoch % n
local key = KEYS[1]
local flat = redis.call('HGETALL', key)
local h = {{}}
for i = 1, #flat, 2 do h[flat[i]] = tonumber(flat[i + 1]) end
if h['e' .. slot] ~= epoch then
  redis.call('HSET', key, 'e' .. slot, epoch)
  h['e' .. slot] = epoch
  for j = 1, k do
    redis.call('HSET', key, 'c' .. slot .. ':' .. j, 0)
    h['c' .. slot .. ':' .. j] = 0
  end
end
local sums = {{}}
for j = 1, k do sums[j] = 0 end
for i = 0, n - 1 do
  local e = h['e' .. i]
  if e ~= nil and epoch - e < n then
    for j = 1, k do sums[j] = sums[j] + (h['c' .. i .. ':' .. j] or 0) end
  end
end
local added = 1
if ratio >= 0 and sums[2] >= ratio * sums[1] + floor_ then added = 0 end
if added == 1 then
  for j = 1, k do
    local d = tonumber(ARGV[3 + j])
    if d ~= 0 then
      redis.call('HINCRBY', key, 'c' .. slot .. ':' .. j, d)
      sums[j] = sums[j] + d
    end
  end
end
redis.call('PEXPIRE', key, width * n * 2)
local out = {{added}}
for j = 1, k do out[j + 1] = sums[j] end
return out
"""

# The last N outcome codes in one hash (s<i> slots, a seq number and running totals).
_COUNT_LUA = """
local size = tonumber(ARGV[1])
local code = tonumber(ARGV[2])
local key = KEYS[1]
local seq = redis.call('HINCRBY', key, 'seq', 1)
local slot = 's' .. ((seq - 1) % size)
local old = tonumber(redis.call('HGET', key, slot) or '0')
redis.call('HSET', key, slot, code)
local function bit(v, b) return math.floor(v / b) % 2 end
local function adj(field, delta)
  if delta ~= 0 then redis.call('HINCRBY', key, field, delta) end
end
adj('total', 1 - bit(old, 1))
adj('fail', bit(code, 2) - bit(old, 2))
adj('slow', bit(code, 4) - bit(old, 4))
local r = redis.call('HMGET', key, 'total', 'fail', 'slow')
return {tonumber(r[1] or '0'), tonumber(r[2] or '0'), tonumber(r[3] or '0')}
"""

# The breaker: opened_at (Redis ms) when open, absent when closed. Returns {opened_at|-1, now}.
_READ_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local opened = redis.call('HGET', KEYS[1], 'opened_at')
return {tonumber(opened or '-1'), now}
"""

_OPEN_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', KEYS[1], 'opened_at', now)
redis.call('DEL', KEYS[2], KEYS[3])
return now
"""


class FleetLink:
    """One client's connection to Redis, with the fall-back-to-local bookkeeping."""

    def __init__(self, policy: FleetPolicy, service: str) -> None:
        """Connect lazily to ``policy.redis_url`` (nothing is sent until the first command).

        Args:
            policy: Where Redis is, the key namespace and the timeouts.
            service: Service name, appended to the namespace.
        """
        self.prefix = f"{policy.namespace}:{service}"
        self._policy = policy
        self._redis = redis.Redis.from_url(
            policy.redis_url,
            socket_timeout=policy.timeout_s,
            socket_connect_timeout=policy.timeout_s,
            retry=Retry(NoBackoff(), 0),  # one bounded try: the fallback is local state
            health_check_interval=0,
        )
        self._lock = threading.Lock()
        self._down_until = float("-inf")
        self._healthy = True
        self.failures = 0  # commands that failed (tests and benchmarks read it)

    @property
    def redis(self) -> redis.Redis:
        """The redis-py client."""
        return self._redis

    def script(self, source: str) -> Callable[..., Any]:
        """Register a Lua script (sent with EVALSHA, loaded on first use)."""
        return self._redis.register_script(source)

    def run(self, command: Callable[[], T]) -> T | Unavailable:
        """Run ``command`` against Redis, unless Redis failed less than ``recheck_s`` ago.

        Args:
            command: Sends one request to Redis and returns the decoded answer.

        Returns:
            The answer, or :data:`UNAVAILABLE` when Redis failed now or recently.
        """
        # Real time, not the runtime clock: Redis outages and timeouts happen in real time.
        now = time.monotonic()
        if now < self._down_until:
            return UNAVAILABLE
        try:
            result = command()
        except (redis.RedisError, OSError) as exc:
            with self._lock:
                self.failures += 1
                was_healthy, self._healthy = self._healthy, False
                self._down_until = time.monotonic() + self._policy.recheck_s
            if was_healthy:
                logger.warning(
                    "fleet state on Redis unavailable (%s); using local state, next try in %.1f s",
                    type(exc).__name__,
                    self._policy.recheck_s,
                    extra={"fleet": self.prefix},
                )
            return UNAVAILABLE
        if not self._healthy:
            with self._lock:
                was_down, self._healthy = not self._healthy, True
            if was_down:
                logger.info("fleet state on Redis is back", extra={"fleet": self.prefix})
        return result

    def close(self) -> None:
        """Close the connections to Redis."""
        self._redis.close()


class FleetBreaker:
    """The breaker's shared part: open since when, consecutive failures, the window."""

    def __init__(self, link: FleetLink, window: str, window_size: int, window_s: float) -> None:
        """Bind to ``link``'s keys.

        Args:
            link: The Redis link.
            window: The breaker's window kind (``consecutive``, ``count`` or ``time``).
            window_size: Attempts in a count window.
            window_s: Seconds of a time window.
        """
        self._link = link
        self._state_key = f"{link.prefix}:breaker"
        self._fails_key = f"{link.prefix}:breaker:fails"
        self._window_key = f"{link.prefix}:breaker:window"
        self._window = window
        self._size = window_size
        self._width_ms = max(1, round(window_s * 1000 / BUCKETS))
        self._read = link.script(_READ_LUA)
        self._open = link.script(_OPEN_LUA)
        self._count = link.script(_COUNT_LUA)
        self._buckets = link.script(_BUCKETS_LUA)

    def read(self) -> tuple[int, float] | Unavailable | None:
        """Return when the fleet's breaker opened (Redis ms) and seconds since; None: closed."""

        def read() -> tuple[int, float] | None:
            opened, now = (int(v) for v in self._read(keys=[self._state_key]))
            return None if opened < 0 else (opened, (now - opened) / 1000)

        return self._link.run(read)

    def open(self) -> int | Unavailable:
        """Open the fleet's breaker now and clear its counts; return when (Redis ms)."""
        keys = [self._state_key, self._fails_key, self._window_key]
        return self._link.run(lambda: int(self._open(keys=keys)))

    def close(self) -> None:
        """Close the fleet's breaker and clear its counts."""
        keys = (self._state_key, self._fails_key, self._window_key)
        self._link.run(lambda: self._link.redis.delete(*keys))

    def fail(self) -> int | Unavailable:
        """Count a failed attempt (consecutive mode); return the fleet's run of failures."""
        return self._link.run(lambda: int(self._link.redis.incr(self._fails_key)))

    def succeed(self) -> None:
        """End the fleet's run of failures (consecutive mode)."""
        self._link.run(lambda: self._link.redis.set(self._fails_key, 0))

    def add(self, outcome: int) -> Tally | Unavailable:
        """Record an attempt's outcome code in the fleet's window; return the window."""
        result = self._link.run(lambda: self._add(outcome))
        if isinstance(result, Unavailable):
            return result
        total, failures, slow = (int(v) for v in result)
        return Tally(total, failures, slow)

    def _add(self, outcome: int) -> list[int]:
        keys = [self._window_key]
        if self._window == "count":
            return list(self._count(keys=keys, args=[self._size, outcome]))
        deltas = [1, (outcome >> 1) & 1, (outcome >> 2) & 1]
        return list(self._buckets(keys=keys, args=[self._width_ms, -1, 0, *deltas]))[1:]


class FleetBudget:
    """The retry budget's shared counters: calls and retries of the fleet's last window."""

    def __init__(self, link: FleetLink, window_s: float, ratio: float, floor: float) -> None:
        """Bind to ``link``'s keys.

        Args:
            link: The Redis link.
            window_s: The budget's sliding period.
            ratio: Retries allowed per call.
            floor: Retries always allowed in a window (``min_per_s * window_s``).
        """
        self._link = link
        self._key = f"{link.prefix}:budget"
        self._width_ms = max(1, round(window_s * 1000 / BUCKETS))
        self._ratio = ratio
        self._floor = floor
        self._script = link.script(_BUCKETS_LUA)

    def deposit(self) -> None:
        """Count a call."""
        self._link.run(lambda: self._script(keys=[self._key], args=[self._width_ms, -1, 0, 1, 0]))

    def withdraw(self) -> bool | Unavailable:
        """Take a retry from the fleet's budget; False when it is spent."""
        args = [self._width_ms, self._ratio, self._floor, 0, 1]
        result = self._link.run(lambda: self._script(keys=[self._key], args=args))
        if isinstance(result, Unavailable):
            return result
        return bool(int(result[0]))
