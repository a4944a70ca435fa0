"""ListAssignmentsForHIT for many HITs at once, for a sync: in threads of this process, or in worker
processes of their own.

A sync lists the assignments of every HIT it finds new or changed: two calls per HIT (MTurk ends
each listing with an empty page). Against MTurk the account's rate limit is the bound and threads
are plenty. Where calls are nearly free (the emulator, or an account allowed hundreds of calls per
second) the bound becomes the client's own CPU: botocore spends about as long preparing a request
and parsing its answer as the emulator spends serving it, all under this process's GIL, beside the
sync's database writes. Worker processes move that work onto other cores.

The workers are plain subprocesses (``python -m mturk.fetch_worker``), not ``multiprocessing``
ones: a Celery prefork worker is a daemonic process, and those may not start multiprocessing
children. Each gets the account's :class:`~mturk.gateway.GatewayConfig` on its stdin (never in its
arguments or environment), builds its own gateway, then answers pickled requests one at a time.
Its calls take slots from the same shared rate limiter, which must therefore be one processes can
share (Redis), and its call records come back with its answers, so the account's ``on_call`` hook
sees every call. A worker whose parent dies reads the end of its stdin and exits.
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import queue
import subprocess
import sys
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any, Protocol

from mturk.gateway import CallRecord, GatewayConfig, MTurkGateway
from mturk.records import Assignment

__all__ = [
    "AssignmentFetcher",
    "ProcessFetcher",
    "ThreadFetcher",
    "all_assignments",
    "processes_can_share",
]

# The folder holding the mturk package, for the workers' import path.
_CODE_ROOT = str(Path(__file__).resolve().parents[1])


def all_assignments(gateway: MTurkGateway, hit_id: str) -> list[Assignment]:
    """Every assignment of one HIT, every page."""
    return [record for page in gateway.iter_assignment_pages(hit_id=hit_id) for record in page]


class AssignmentFetcher(Protocol):
    def submit(self, hit_ids: Sequence[str]) -> list[Future[list[Assignment]]]:
        """Start listing the assignments of these HITs; the futures' results, in order, are
        the assignments of the HITs in the order given."""
        ...

    def close(self) -> None:
        """Stop: fetches not started yet are dropped, running ones are waited for."""
        ...


class ThreadFetcher:
    """One future per HIT, run by `threads` threads sharing the gateway (it is thread-safe)."""

    def __init__(self, gateway: MTurkGateway, threads: int) -> None:
        self._gateway = gateway
        self._pool = ThreadPoolExecutor(
            max_workers=max(1, threads), thread_name_prefix="sync-fetch"
        )

    def submit(self, hit_ids: Sequence[str]) -> list[Future[list[Assignment]]]:
        return [self._pool.submit(all_assignments, self._gateway, hit_id) for hit_id in hit_ids]

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def processes_can_share(config: GatewayConfig) -> bool:
    """Whether worker processes can make this gateway's calls: its rate limiter must be one they
    share (a Redis one; an in-process limiter would give each process the whole budget)."""
    try:
        pickle.dumps(_for_workers(config))
    except (pickle.PicklingError, TypeError, AttributeError):
        return False
    return True


def _for_workers(config: GatewayConfig) -> GatewayConfig:
    # The hook stays here (it is this process's recorder); the workers send their records back.
    return dataclasses.replace(config, on_call=None)


_STOP = None  # the queue's end marker, one per worker thread


class ProcessFetcher:
    """Futures per chunk of HITs (a few chunks per worker and call of submit, so every worker
    stays busy), served by `processes` worker processes, each driven by a thread of this process
    that takes the next chunk from one shared queue. The workers start with the first chunk."""

    def __init__(self, gateway: MTurkGateway, processes: int) -> None:
        config = gateway.config
        if not processes_can_share(config):
            raise ValueError("worker processes need a rate limiter they can share (Redis)")
        self._config = pickle.dumps(_for_workers(config))
        self._on_call = config.on_call
        self._processes = max(1, processes)
        self._queue: queue.SimpleQueue[tuple[tuple[str, ...], Future[list[Assignment]]] | None] = (
            queue.SimpleQueue()
        )
        self._threads: list[threading.Thread] = []

    def submit(self, hit_ids: Sequence[str]) -> list[Future[list[Assignment]]]:
        if not hit_ids:
            return []
        if not self._threads:
            self._threads = [
                threading.Thread(target=self._serve, name=f"sync-fetch-worker-{n}", daemon=True)
                for n in range(self._processes)
            ]
            for thread in self._threads:
                thread.start()
        size = max(1, -(-len(hit_ids) // (2 * self._processes)))
        futures = []
        for start in range(0, len(hit_ids), size):
            future: Future[list[Assignment]] = Future()
            self._queue.put((tuple(hit_ids[start : start + size]), future))
            futures.append(future)
        return futures

    def _serve(self) -> None:
        """One worker process: start it, feed it chunks until the end marker, stop it. If it
        cannot be started or stops answering, every chunk this thread takes afterwards fails with
        that error, so no caller waits forever."""
        worker: subprocess.Popen[bytes] | None = None
        broken: Exception | None = None
        try:
            while (item := self._queue.get()) is not _STOP:
                hit_ids, future = item
                if not future.set_running_or_notify_cancel():
                    continue
                if broken is not None:
                    future.set_exception(broken)
                    continue
                try:
                    if worker is None:
                        worker = _start_worker(self._config)
                    outcome, value, calls = _ask(worker, hit_ids)
                except Exception as exc:
                    broken = exc
                    future.set_exception(exc)
                    continue
                if self._on_call is not None:
                    for call in calls:  # made, whatever the outcome
                        self._on_call(call)
                if outcome == "error":
                    future.set_exception(value)  # the call's MTurk error; the worker is fine
                else:
                    future.set_result(value)
        finally:
            if worker is not None:
                _stop_worker(worker)

    def close(self) -> None:
        """Drop the chunks not started, let the running ones finish, stop the workers."""
        pending = []
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not _STOP:
                pending.append(item)
        for _hit_ids, future in pending:
            future.cancel()
        for _ in self._threads:
            self._queue.put(_STOP)
        for thread in self._threads:
            thread.join()
        self._threads = []


def _start_worker(config: bytes) -> subprocess.Popen[bytes]:
    path = os.pathsep.join(p for p in (_CODE_ROOT, os.environ.get("PYTHONPATH")) if p)
    worker = subprocess.Popen(
        [sys.executable, "-m", "mturk.fetch_worker"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": path},
    )
    stdin = _pipe(worker.stdin)
    stdin.write(config)
    stdin.flush()
    return worker


def _ask(worker: subprocess.Popen[bytes], hit_ids: tuple[str, ...]) -> tuple[str, Any, list]:
    """One request and its answer: ("ok", assignments, call records) or ("error", the MTurk
    error, call records)."""
    stdin, stdout = _pipe(worker.stdin), _pipe(worker.stdout)
    try:
        pickle.dump(hit_ids, stdin)
        stdin.flush()
        answer: tuple[str, Any, list] = pickle.load(stdout)
    except (EOFError, OSError, pickle.UnpicklingError) as exc:
        raise RuntimeError(f"a sync fetch worker stopped (exit code {worker.poll()})") from exc
    return answer


def _stop_worker(worker: subprocess.Popen[bytes]) -> None:
    try:
        _pipe(worker.stdin).close()  # the worker's end of input: it exits
        worker.wait(timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        worker.kill()
        worker.wait()
    finally:
        _pipe(worker.stdout).close()


def _pipe(stream: IO[bytes] | None) -> IO[bytes]:
    assert stream is not None, "the worker's stdin and stdout are pipes"
    return stream


def serve_requests(stdin: IO[bytes], stdout: IO[bytes]) -> None:
    """The worker's side (``python -m mturk.fetch_worker``): a GatewayConfig, then tuples of HIT
    ids until the end of input; for each, ("ok", assignments, call records) or ("error", the
    error, call records)."""
    config: GatewayConfig = pickle.load(stdin)
    calls: list[CallRecord] = []
    gateway = MTurkGateway(dataclasses.replace(config, on_call=calls.append))
    while True:
        try:
            hit_ids = pickle.load(stdin)
        except EOFError:
            return
        calls.clear()
        answer: tuple[str, Any, list[CallRecord]]
        try:
            records = [record for hit_id in hit_ids for record in all_assignments(gateway, hit_id)]
            answer = ("ok", records, list(calls))
        except Exception as exc:
            answer = ("error", _picklable(exc), list(calls))
        pickle.dump(answer, stdout)
        stdout.flush()


def _picklable(exc: Exception) -> Exception:
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc
