"""A per-account request budget shared by every caller of one MTurk account.

MTurk publishes no rate limit and answers ``ThrottlingException`` ("Rate exceeded") when a requester
goes too fast; botocore's retries then back off, but hammering the API wastes attempts and time. So
we pace ourselves: one limiter per requester account, shared by all threads (in-process) or by all
worker processes (Redis).

Both limiters implement GCRA (the "generic cell rate algorithm", a token bucket expressed as one
timestamp): ``rate_per_second`` is the sustained rate, ``burst`` how many calls may go back to back
after an idle period. ``acquire()`` *reserves* the caller's slot and then sleeps until it, so waiting
callers are served in arrival order and no slot is handed out twice. If the wait would exceed
``timeout`` nothing is reserved and :class:`RateLimitTimeout` (a retryable ``Throttled``) is raised.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from mturk.errors import Throttled

if TYPE_CHECKING:
    import redis

__all__ = [
    "InProcessRateLimiter",
    "RateLimitTimeout",
    "RateLimiter",
    "RedisRateLimiter",
    "build_rate_limiter",
]


class RateLimitTimeout(Throttled):
    """Our own limiter could not grant a slot within the timeout (nothing was sent to MTurk)."""

    def __init__(self, wait: float, timeout: float) -> None:
        super().__init__(
            f"rate limit: a slot is {wait:.3f}s away, more than the {timeout:.3f}s timeout",
            code="RateLimitTimeout",
        )
        self.wait = wait


class RateLimiter(Protocol):
    def acquire(self, timeout: float | None = None) -> float:
        """Block until a request may be sent; return the seconds waited."""
        ...


def _check(rate_per_second: float, burst: int) -> tuple[float, float]:
    if not rate_per_second > 0:
        raise ValueError("rate_per_second must be > 0")
    if burst < 1:
        raise ValueError("burst must be >= 1")
    interval = 1.0 / float(rate_per_second)
    return interval, (int(burst) - 1) * interval


class InProcessRateLimiter:
    """Thread-safe GCRA limiter for one process."""

    def __init__(
        self, rate_per_second: float, burst: int = 1, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate_per_second = float(rate_per_second)
        self.burst = int(burst)
        self._interval, self._tolerance = _check(rate_per_second, burst)
        self._clock = clock
        self._tat = 0.0  # theoretical arrival time of the next request
        self._lock = threading.Lock()

    def __reduce__(self) -> tuple:
        raise TypeError("an in-process rate limiter cannot be shared with another process")

    def reserve(self, timeout: float | None = None) -> float:
        """Reserve a slot without sleeping; return how long until it (raise if beyond timeout)."""
        with self._lock:
            now = self._clock()
            tat = max(self._tat, now)
            wait = max(0.0, tat - self._tolerance - now)
            if timeout is not None and wait > timeout:
                raise RateLimitTimeout(wait, timeout)
            self._tat = tat + self._interval
            return wait

    def acquire(self, timeout: float | None = None) -> float:
        wait = self.reserve(timeout)
        if wait > 0:
            time.sleep(wait)
        return wait


# The script runs atomically in Redis and uses Redis's own clock, so processes on machines with
# skewed clocks still share one schedule. Values travel as strings: Lua numbers returned to Redis
# are truncated to integers.
_GCRA_LUA = """
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local max_wait = tonumber(ARGV[3])
local count = tonumber(ARGV[4] or '1')
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local wait = tat - tolerance - now
if wait < 0 then wait = 0 end
if max_wait >= 0 and wait > max_wait then
  return {0, tostring(wait)}
end
local new_tat = tat + interval * count
redis.call('SET', KEYS[1], string.format('%.6f', new_tat), 'PX',
  math.ceil((new_tat - now + tolerance) * 1000) + 1000)
return {1, tostring(wait)}
"""


# How much of its own schedule one process takes from Redis at once: the slots of this many
# seconds (at least one). At MTurk's usual rates (a few calls a second) that is one slot, a round
# trip per call as before; at the hundreds a second of a sync against the emulator it saves the
# round trip that cost as much CPU as the call itself.
SLOTS_AHEAD_SECONDS = 0.02


class RedisRateLimiter:
    """GCRA limiter whose state is one Redis key, so several worker processes share one budget.

    ``redis_client_or_url``: a ``redis.Redis`` client or a ``redis://`` URL. The key expires on its
    own once idle, so abandoned accounts leave nothing behind.

    At high rates a process reserves the slots of SLOTS_AHEAD_SECONDS in one round trip and hands
    them out itself, each at its time. Every slot is still reserved once in the shared schedule, so
    processes together never exceed the rate; a slot not used within one such span is dropped
    (never used late, where it could add to other processes' burst).
    """

    def __init__(
        self,
        redis_client_or_url: redis.Redis | str,
        key: str,
        rate_per_second: float,
        burst: int = 1,
    ) -> None:
        self._url = redis_client_or_url if isinstance(redis_client_or_url, str) else None
        if isinstance(redis_client_or_url, str):
            import redis

            redis_client_or_url = redis.Redis.from_url(redis_client_or_url)
        self.redis = redis_client_or_url
        self.key = key
        self.rate_per_second = float(rate_per_second)
        self.burst = int(burst)
        self._interval, self._tolerance = _check(rate_per_second, burst)
        self._script = self.redis.register_script(_GCRA_LUA)
        self.slots_per_reservation = max(1, int(self.rate_per_second * SLOTS_AHEAD_SECONDS))
        self._lock = threading.Lock()
        self._next_slot = 0.0  # time.monotonic() of the next slot this process holds
        self._slots_left = 0

    def __reduce__(self) -> tuple:
        """Another process (a sync's fetch worker) gets a limiter on the same key: the same shared
        budget, with its own connection and its own held slots."""
        if self._url is None:
            raise TypeError("a RedisRateLimiter built from a client cannot be sent to a process")
        return (RedisRateLimiter, (self._url, self.key, self.rate_per_second, self.burst))

    def reserve(self, timeout: float | None = None, count: int = 1) -> float:
        """Reserve `count` consecutive slots; return how long until the first."""
        granted, wait = self._script(
            keys=[self.key],
            args=[
                repr(self._interval),
                repr(self._tolerance),
                "-1" if timeout is None else repr(float(timeout)),
                str(count),
            ],
        )
        wait_s = float(wait)
        if not int(granted):
            raise RateLimitTimeout(wait_s, float(timeout or 0.0))
        return wait_s

    def _take_slot(self, timeout: float | None) -> float:
        """The time.monotonic() of this caller's slot: one held, or the first of a new batch."""
        with self._lock:
            now = time.monotonic()
            stale_after = self._interval * self.slots_per_reservation
            if self._slots_left and now - self._next_slot > stale_after:
                self._slots_left = 0  # held too long: drop rather than send them late
            if not self._slots_left:
                wait = self.reserve(timeout, count=self.slots_per_reservation)
                self._next_slot, self._slots_left = now + wait, self.slots_per_reservation
            slot = self._next_slot
            self._next_slot += self._interval
            self._slots_left -= 1
            return slot

    def acquire(self, timeout: float | None = None) -> float:
        wait = max(0.0, self._take_slot(timeout) - time.monotonic())
        if wait > 0:
            time.sleep(wait)
        return wait


_in_process: dict[str, InProcessRateLimiter] = {}
_in_process_lock = threading.Lock()


def build_rate_limiter(
    *,
    key: str,
    rate_per_second: float,
    burst: int = 1,
    redis_url: str | None = None,
) -> InProcessRateLimiter | RedisRateLimiter:
    """The account's limiter: Redis-backed when ``redis_url`` is a redis:// / rediss:// / unix://
    URL (the broker), otherwise one in-process limiter per ``key`` (the same object is returned for
    the same key and settings, so every gateway of an account in this process shares it)."""
    if redis_url and redis_url.split(":", 1)[0] in ("redis", "rediss", "unix"):
        return RedisRateLimiter(redis_url, f"mturk:ratelimit:{key}", rate_per_second, burst)
    with _in_process_lock:
        limiter = _in_process.get(key)
        if (
            limiter is None
            or not math.isclose(limiter.rate_per_second, rate_per_second)
            or limiter.burst != burst
        ):
            limiter = InProcessRateLimiter(rate_per_second, burst)
            _in_process[key] = limiter
        return limiter
