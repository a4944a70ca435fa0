"""Rate limiters: spacing of calls in-process and through Redis (shared by several limiters, as by
several worker processes), timeouts, and the gateway taking a slot for every HTTP request."""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from mturk.errors import Throttled
from mturk.ratelimit import (
    InProcessRateLimiter,
    RateLimitTimeout,
    RedisRateLimiter,
    build_rate_limiter,
)
from tests.mturk.conftest import make_gateway
from tests.mturk.helpers import call_counts

REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture
def redis_client():
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as exc:
        pytest.skip(f"Redis is not reachable at {REDIS_URL}: {exc}")
    keys: list[str] = []
    client.test_keys = keys  # type: ignore[attr-defined]
    yield client
    if keys:
        client.delete(*keys)
    client.close()


def _key(redis_client) -> str:
    key = f"mturk-tests:{uuid.uuid4().hex}"
    redis_client.test_keys.append(key)
    return key


def test_in_process_spacing():
    limiter = InProcessRateLimiter(50, burst=1)
    start = time.monotonic()
    for _ in range(20):
        limiter.acquire()
    # 19 intervals of 20 ms at least; a loaded machine only oversleeps, and the limiter then
    # asks for shorter waits, so the individual waits are checked on a clock of our own below.
    assert time.monotonic() - start >= 0.35


def test_in_process_waits_on_a_still_clock():
    now = 100.0
    limiter = InProcessRateLimiter(50, burst=1, clock=lambda: now)

    waits = [limiter.reserve() for _ in range(5)]

    assert waits == pytest.approx([0.0, 0.02, 0.04, 0.06, 0.08])


def test_in_process_burst_then_rate_across_threads():
    limiter = InProcessRateLimiter(100, burst=5)
    granted: list[float] = []
    lock = threading.Lock()

    def worker():
        for _ in range(5):
            limiter.acquire()
            with lock:
                granted.append(time.monotonic())

    start = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # 20 slots: 5 at once, then 15 more at 10 ms each.
    assert len(granted) == 20
    assert time.monotonic() - start >= 0.14
    assert sorted(granted)[4] - start < 0.05  # the burst went straight through


def test_in_process_timeout_reserves_nothing():
    limiter = InProcessRateLimiter(1, burst=1)
    limiter.acquire()
    with pytest.raises(RateLimitTimeout) as excinfo:
        limiter.acquire(timeout=0.1)
    assert isinstance(excinfo.value, Throttled) and excinfo.value.retryable
    assert 0.8 < excinfo.value.wait <= 1.0
    with pytest.raises(RateLimitTimeout):  # still ~1 s away: the refused call took no slot
        limiter.acquire(timeout=0.1)


def test_invalid_settings():
    with pytest.raises(ValueError):
        InProcessRateLimiter(0)
    with pytest.raises(ValueError):
        InProcessRateLimiter(5, burst=0)


def test_gateway_calls_are_spaced_by_the_limiter(emulator, call_log):
    # 5 calls a second: each call takes far less than the 200 ms interval even on a loaded
    # machine, so every call after the first waits, and the wait is on its record.
    gateway = make_gateway(emulator, call_log, rate_limiter=InProcessRateLimiter(5, burst=1))
    start = time.monotonic()
    for _ in range(5):
        gateway.get_account_balance()
    assert time.monotonic() - start >= 0.8
    assert call_counts(emulator)["GetAccountBalance"] == 5
    assert sum(1 for r in call_log if r.waited_ms > 0) >= 3


def test_limiter_counts_retried_requests_too(emulator, call_log):
    limiter = InProcessRateLimiter(1000, burst=1)
    acquired = []
    original = limiter.acquire

    def counting(timeout=None):
        acquired.append(timeout)
        return original(timeout)

    limiter.acquire = counting  # observe, not replace: the real limiter still runs
    gateway = make_gateway(emulator, call_log, rate_limiter=limiter, max_attempts=2)
    emulator.control.set_faults(operations={"GetAccountBalance": {"throttle_rate": 1.0}})
    with pytest.raises(Throttled):
        gateway.get_account_balance()
    assert len(acquired) == call_counts(emulator)["GetAccountBalance"] == 2


def test_gateway_limiter_timeout_surfaces_as_throttled(emulator, call_log):
    limiter = InProcessRateLimiter(0.5, burst=1)
    gateway = make_gateway(
        emulator, call_log, rate_limiter=limiter, rate_limit_timeout=0.05, max_attempts=1
    )
    gateway.get_account_balance()
    with pytest.raises(RateLimitTimeout):
        gateway.get_account_balance()
    assert call_counts(emulator)["GetAccountBalance"] == 1  # the second never left the process


def test_build_rate_limiter_shares_per_key_in_process(redis_client):
    a = build_rate_limiter(key="acct-a", rate_per_second=5, burst=2)
    assert build_rate_limiter(key="acct-a", rate_per_second=5, burst=2) is a
    assert build_rate_limiter(key="acct-b", rate_per_second=5, burst=2) is not a
    assert isinstance(a, InProcessRateLimiter)
    redis_backed = build_rate_limiter(
        key=_key(redis_client), rate_per_second=5, burst=2, redis_url=REDIS_URL
    )
    assert isinstance(redis_backed, RedisRateLimiter)
    redis_client.test_keys.append(redis_backed.key)
    assert redis_backed.key.startswith("mturk:ratelimit:")
    # A filesystem/other broker URL means in-process.
    assert isinstance(
        build_rate_limiter(key="acct-c", rate_per_second=5, redis_url="filesystem://"),
        InProcessRateLimiter,
    )


def test_redis_spacing(redis_client):
    limiter = RedisRateLimiter(redis_client, _key(redis_client), 50, burst=1)
    start = time.monotonic()
    for _ in range(20):
        limiter.acquire()
    assert time.monotonic() - start >= 0.35


def _acquire_in_threads(limiters, *, each: int) -> list[float]:
    """Each limiter acquires `each` slots in a thread of its own, all at once; the grant times."""
    granted: list[float] = []
    lock = threading.Lock()

    def worker(limiter):
        for _ in range(each):
            limiter.acquire()
            with lock:
                granted.append(time.monotonic())

    threads = [threading.Thread(target=worker, args=(limiter,)) for limiter in limiters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return granted


def test_redis_limiters_sharing_one_key_share_one_budget(redis_client):
    key = _key(redis_client)
    # Two limiters with their own connections, like two worker processes.
    first = RedisRateLimiter(REDIS_URL, key, 50, burst=1)
    second = RedisRateLimiter(REDIS_URL, key, 50, burst=1)
    start = time.monotonic()
    granted = _acquire_in_threads((first, second), each=10)
    assert len(granted) == 20
    assert time.monotonic() - start >= 0.35  # 20 slots at 50/s in total, not 50/s each
    # And a separate key is a separate budget.
    other = RedisRateLimiter(REDIS_URL, _key(redis_client), 50, burst=1)
    assert other.acquire() == 0.0


def test_redis_timeout_and_gateway(redis_client, emulator, call_log):
    key = _key(redis_client)
    slow = RedisRateLimiter(redis_client, key, 1, burst=1)
    slow.acquire()
    with pytest.raises(RateLimitTimeout):
        slow.acquire(timeout=0.1)
    limiter = RedisRateLimiter(redis_client, _key(redis_client), 50, burst=1)
    gateway = make_gateway(emulator, call_log, rate_limiter=limiter)
    start = time.monotonic()
    for _ in range(20):
        gateway.get_account_balance()
    assert time.monotonic() - start >= 0.35
    assert len(call_log) == 20


def test_redis_limiters_at_high_rates_take_slots_in_batches_and_still_share_one_budget(
    redis_client,
):
    key = _key(redis_client)
    # Two processes' limiters at 1,000 calls/s: each reserves 20 slots (20 ms) per round trip.
    first = RedisRateLimiter(REDIS_URL, key, 1000, burst=1)
    second = RedisRateLimiter(REDIS_URL, key, 1000, burst=1)
    assert first.slots_per_reservation == 20
    trips: list[int] = []
    for limiter in (first, second):
        script = limiter._script

        def counted(*args, script=script, **kwargs):
            trips.append(1)
            return script(*args, **kwargs)

        limiter._script = counted
    start = time.monotonic()
    granted = _acquire_in_threads((first, second), each=200)

    assert len(granted) == 400
    assert time.monotonic() - start >= 0.38  # 400 slots at 1,000/s in total, not each
    assert len(trips) <= 22  # 400 slots in batches of 20 (not 400 round trips)


def test_a_batch_slot_held_too_long_is_dropped_not_sent_late(redis_client):
    limiter = RedisRateLimiter(REDIS_URL, _key(redis_client), 1000, burst=1)
    limiter.acquire()  # takes a batch of 20 and uses one
    time.sleep(0.05)  # the other 19 are older than one batch's span now

    assert limiter.acquire() == 0.0
    assert limiter._slots_left == limiter.slots_per_reservation - 1  # a fresh batch


def test_redis_limiters_at_mturk_rates_take_one_slot_per_round_trip(redis_client):
    assert RedisRateLimiter(REDIS_URL, _key(redis_client), 5, burst=10).slots_per_reservation == 1
    assert RedisRateLimiter(REDIS_URL, _key(redis_client), 25, burst=10).slots_per_reservation == 1
