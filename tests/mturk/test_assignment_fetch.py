"""mturk.assignment_fetch: a sync's ListAssignmentsForHIT calls in threads or in worker processes,
against the emulator over HTTP (the workers are real processes reaching it through real boto3)."""

from __future__ import annotations

import pickle
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from mturk.assignment_fetch import ProcessFetcher, ThreadFetcher, processes_can_share
from mturk.errors import MTurkError, NotFound
from mturk.ratelimit import InProcessRateLimiter, RateLimitTimeout, RedisRateLimiter
from tests.mturk.conftest import make_gateway
from tests.mturk.helpers import call_counts, create_hit, work

ROOT = Path(__file__).resolve().parents[2]


def _hits_with_work(gateway, emulator, n: int) -> dict[str, list[str]]:
    """n HITs; HIT i has i % 3 submitted assignments. Returns assignment ids by HIT id."""
    done: dict[str, list[str]] = {}
    for i in range(n):
        hit = create_hit(gateway, token=f"fetch-{i}")
        done[hit.hit_id] = [
            work(emulator, hit.hit_id, f"AFETCHWORKER{i:03d}{k}") for k in range(i % 3)
        ]
    return done


def _fetched(futures) -> list[list[str]]:
    return [[record.assignment_id for record in future.result(timeout=60)] for future in futures]


def test_thread_fetcher_lists_every_hit_in_order(gateway, emulator):
    expected = _hits_with_work(gateway, emulator, 5)
    fetcher = ThreadFetcher(gateway, threads=3)
    try:
        got = _fetched(fetcher.submit(list(expected)))
    finally:
        fetcher.close()
    assert [sorted(ids) for ids in got] == [sorted(ids) for ids in expected.values()]


def test_process_fetcher_lists_every_hit_and_reports_every_call(emulator, call_log):
    gateway = make_gateway(emulator, call_log)
    expected = _hits_with_work(gateway, emulator, 7)
    hit_ids = list(expected)
    before = call_counts(emulator).get("ListAssignmentsForHIT", 0)
    call_log.clear()

    fetcher = ProcessFetcher(gateway, processes=2)
    try:
        futures = fetcher.submit(hit_ids)
        records = [record for future in futures for record in future.result(timeout=120)]
    finally:
        fetcher.close()

    assert len(futures) == 4  # chunks of ceil(7 / (2 x 2)) = 2 HITs
    assert sorted(r.assignment_id for r in records) == sorted(
        a for ids in expected.values() for a in ids
    )
    assert [r.hit_id for r in records] == sorted(
        (r.hit_id for r in records), key=hit_ids.index
    )  # in the order of the HITs given
    calls = call_counts(emulator)["ListAssignmentsForHIT"] - before
    # Every call made in a worker reached the account's hook here: 1 page + the empty last one
    # for each HIT with work, 1 for each without.
    assert calls == sum(2 if ids else 1 for ids in expected.values())
    assert [c.operation for c in call_log] == ["ListAssignmentsForHIT"] * calls
    assert all(c.outcome == "ok" and c.account == "test" for c in call_log)


def test_process_fetcher_raises_the_workers_mturk_error_whole(emulator):
    gateway = make_gateway(emulator)
    fetcher = ProcessFetcher(gateway, processes=1)
    try:
        (future,) = fetcher.submit(["3NOSUCHHIT00000000000000000000"])
        with pytest.raises(MTurkError) as raised:
            future.result(timeout=120)
    finally:
        fetcher.close()
    error = raised.value
    assert isinstance(error, NotFound)
    assert error.operation == "ListAssignmentsForHIT" and error.request_id


def test_only_limiters_processes_can_share_go_to_workers(emulator):
    assert processes_can_share(make_gateway(emulator).config)  # no limiter: nothing to share
    in_process = make_gateway(emulator, rate_limiter=InProcessRateLimiter(10))
    assert not processes_can_share(in_process.config)
    with pytest.raises(ValueError, match="Redis"):
        ProcessFetcher(in_process, processes=1)
    redis_limiter = RedisRateLimiter("redis://127.0.0.1:6379/15", "mturk:ratelimit:t", 10, 2)
    copy = pickle.loads(pickle.dumps(redis_limiter))  # no connection made for either
    assert (copy.key, copy.rate_per_second, copy.burst) == ("mturk:ratelimit:t", 10.0, 2)
    assert processes_can_share(make_gateway(emulator, rate_limiter=redis_limiter).config)


def test_mturk_errors_survive_pickling_with_their_details():
    error = NotFound("no such HIT", code="RequestError", operation="GetHIT", request_id="r-1")
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is NotFound and str(copy) == str(error)
    assert (copy.operation, copy.request_id, copy.retryable) == ("GetHIT", "r-1", False)
    timeout = pickle.loads(pickle.dumps(RateLimitTimeout(2.5, 1.0)))
    assert timeout.wait == 2.5 and timeout.retryable and "1.000s timeout" in str(timeout)


def test_workers_exit_when_their_parent_is_killed(emulator, tmp_path):
    """A parent killed with -9 (a Celery worker mid-sync) leaves no workers behind: they read the
    end of their input and exit."""
    script = tmp_path / "parent.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import sys, time
            sys.path.insert(0, {str(ROOT)!r})
            from mturk.assignment_fetch import ProcessFetcher
            from mturk.gateway import GatewayConfig, MTurkGateway

            gateway = MTurkGateway(GatewayConfig(
                endpoint_url={emulator.endpoint_url!r}, access_key_id="AKIDMTURKTESTS",
                secret_access_key="mturk-tests-secret"))
            fetcher = ProcessFetcher(gateway, processes=2)
            for future in fetcher.submit(["3NOSUCHHIT0", "3NOSUCHHIT1", "3NOSUCHHIT2"]):
                future.exception(timeout=120)
            print("ready", flush=True)
            time.sleep(600)
            """
        )
    )
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout.readline().strip() == "ready"
        workers = _children(parent.pid)
        assert len(workers) == 2
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(_alive(pid) for pid in workers)
    finally:
        parent.kill()
        parent.wait(timeout=10)


def test_workers_start_inside_a_daemonic_process_as_celery_runs_tasks(emulator):
    """Celery's prefork pool runs tasks in daemonic processes, which multiprocessing forbids to
    have children; the workers are plain subprocesses, so a sync in a task can use them."""
    import billiard

    pool = billiard.Pool(1)
    try:
        errors = pool.apply(_fetch_in_pool_worker, (emulator.endpoint_url,))
    finally:
        pool.terminate()
        pool.join()
    assert errors == ["NotFound", "NotFound"]


def _fetch_in_pool_worker(endpoint_url: str) -> list[str]:
    from mturk.gateway import GatewayConfig, MTurkGateway

    assert billiard_daemon()
    gateway = MTurkGateway(
        GatewayConfig(
            endpoint_url=endpoint_url,
            access_key_id="AKIDMTURKTESTS",
            secret_access_key="mturk-tests-secret",
        )
    )
    fetcher = ProcessFetcher(gateway, processes=2)
    try:
        futures = fetcher.submit(["3NOSUCHHIT0", "3NOSUCHHIT1"])
        return [type(future.exception(timeout=120)).__name__ for future in futures]
    finally:
        fetcher.close()


def billiard_daemon() -> bool:
    import multiprocessing

    return bool(multiprocessing.current_process().daemon)


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    """Running (an exited worker of a dead parent is reaped by init; a zombie counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
