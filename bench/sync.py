"""Sync budget: a full sync of N HITs x K submitted assignments from the emulator into the configured
database, then an incremental full sync where nothing changed. For each: MTurk API calls made versus
the pagination minimum, SQL queries (total and per ListHITs page), wall time and rows per second.
Also the boto3 client-time floor measured in the same run (GetAccountBalance through a plain boto3
client), and the first sync's API-bound time as a ratio to calls x floor. Targets (DESIGN.md,
"Performance budgets"): 10,000 HITs x 3 assignments into PostgreSQL in under 60 s on the 2-core
machine, API calls within 2% of the pagination minimum, database queries per page constant.

    .venv/bin/python bench/sync.py [--hits 10000] [--assignments-per-hit 3] [--fetch-processes 2]
    DATABASE_URL=postgres://postgres:postgres@127.0.0.1:5432/dashboard_bench \\
        CELERY_BROKER_URL=redis://127.0.0.1:6379/15 .venv/bin/python bench/sync.py

Isolation: the script runs with DJANGO_SETTINGS_MODULE=tests.settings (safe defaults: a private
VAR_DIR, a fixed test CREDENTIALS_KEY) and never writes to the configured database itself. It uses
Django's test-database machinery to create a throw-away database next to it, migrates it, and
destroys it at the end (also on errors and Ctrl-C):
  - PostgreSQL (DATABASE_URL set): a new database `test_<name>_benchsync_<pid>` on the same server
    (the role must be allowed to CREATE DATABASE); the database named in DATABASE_URL is untouched.
  - SQLite (DATABASE_URL unset): a file in a new temporary folder, not Django's in-memory test
    database, so the figures include real file I/O like a developer's var/db.sqlite3.
setup_test_environment(debug=False) turns DEBUG off at runtime (no query log, as in production) and LOG_LEVEL defaults to WARNING (the gateway
logs one INFO line per call). The Celery broker only matters for the account's rate limiter, which
lives in Redis when CELERY_BROKER_URL is Redis; the account's limit is set to 1,000 calls/s so the
limiter is not what is measured.

The emulator runs as a separate process (`python -m emulator serve --crowd 0`) so its CPU does not
compete for this process's GIL (on 2 cores, client and server still share the machine). It is filled
with /_emulator/populate in chunks; API calls are counted by the emulator (GET /_emulator/calls,
before and after each sync). SQL queries are counted with a connection execute wrapper (no query
text kept). Progress goes to stderr; one JSON line of figures is printed last on stdout.

Figures: *_api_calls are counted by the emulator, *_api_minimum is the pagination minimum. MTurk
puts a NextToken on every page with results and ends each listing with an empty page, so a listing
of n items costs ceil(n/100) + 1 calls (1 when n is 0). The first sync lists the HITs and then the
assignments of every HIT (each new); the incremental one only lists the HITs, skipping HITs whose
status and counters did not move. queries_per_page = queries / ListHITs pages, with the per-page spread (the first page
also carries the lease and bookkeeping). rows_per_second = (HITs + assignments) / wall time.
*_api_seconds is the client time of the sync's calls as the gateway recorded it (MTurkCallStats),
including the rate limiter; api_bound_ratio = that / (calls x boto3_floor_ms) and
wall_to_floor_ratio = wall time / (calls x boto3_floor_ms). boto3_replay_seconds: the first
sync's calls made again, one after another, through a plain boto3 client with no database and
nothing kept (replay_to_floor_ratio = that / (calls x boto3_floor_ms)): the floor is a trivial call,
and this says what the client library alone spends on the sync's real, larger answers (three
assignments with their answers, parsed). *_db_seconds is time inside SQL
execution (including parameter adaptation). *_cpu_seconds: CPU used during the sync by this
process, its fetch worker processes (--fetch-processes, the SYNC_FETCH_PROCESSES setting; 0 = the
sync's threads make the calls), the emulator process and (PostgreSQL) the database backend: unlike wall time
they barely move when other work shares the machine. load_average_1min (before, after) says how busy the
machine was: on a shared 2-core machine every figure moves with it.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
os.environ.setdefault("LOG_LEVEL", "WARNING")

from bench._common import QueryCounter, log, setup_database, teardown_database  # noqa: E402

PAGE_SIZE = 100  # MaxResults of every paginated MTurk listing


def listing_calls(items: int) -> int:
    """Calls to list `items` things: a page per 100 results, then MTurk's empty last page."""
    return math.ceil(items / PAGE_SIZE) + 1 if items else 1


# --- the emulator, in its own process ------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def control(base_url: str, path: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"{base_url}/_emulator/{path}",
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json"},
        method="POST" if body is not None else "GET",
    )
    with urllib.request.urlopen(request, timeout=600) as response:
        return json.loads(response.read())


def start_emulator(port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "emulator",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--crowd",
            "0",
            "--seed",
            "1",
            "--log-level",
            "WARNING",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            control(base_url, "health")
            return server
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                raise RuntimeError("the emulator did not come up") from None
            time.sleep(0.05)


@contextmanager
def emulator_and_database(label: str) -> Iterator[tuple[str, subprocess.Popen]]:
    """The emulator in its own process and a throw-away database beside the configured one,
    yielded as (the emulator's base URL, its process); both are gone afterwards, also on errors
    and Ctrl-C."""
    from django.db import connection

    tmpdir = tempfile.mkdtemp(prefix=f"bench-{label}-")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    log(f"starting the emulator on {base_url}")
    server = start_emulator(port)
    old_db_name = connection.settings_dict["NAME"]
    created = False
    try:
        log(f"creating a throw-away {connection.vendor} database")
        started = time.perf_counter()
        created = True  # a failed creation may still leave a database behind
        test_db = setup_database(tmpdir, f"bench{label}")
        log(f"database {test_db} ready in {time.perf_counter() - started:.1f} s")
        yield base_url, server
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        if created:
            try:
                teardown_database(old_db_name)
                log("throw-away database destroyed")
            except Exception as exc:  # never hide the error that got us here
                log(f"could not destroy the throw-away database: {exc!r}")
        shutil.rmtree(tmpdir, ignore_errors=True)


def populate(base_url: str, hits: int, per_hit: int, chunk: int = 2000) -> tuple[float, str]:
    started = time.perf_counter()
    done, first_hit_id = 0, ""
    while done < hits:
        n = min(chunk, hits - done)
        result = control(
            base_url,
            "populate",
            {"HITs": n, "AssignmentsPerHIT": per_hit, "MaxAssignments": per_hit, "Submit": True},
        )
        if result.get("count") != n:
            raise RuntimeError(f"populate made {result.get('count')} HITs, not {n}: {result}")
        done += n
        first_hit_id = first_hit_id or result["first"][0]
        log(f"populated {done}/{hits} HITs ({time.perf_counter() - started:.1f} s)")
    return time.perf_counter() - started, first_hit_id


def api_calls(base_url: str) -> Counter:
    return Counter(control(base_url, "calls")["call_counts"])


def plain_client(base_url: str):
    """A boto3 client with botocore's defaults (one attempt): what the floors are measured with."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "mturk",
        region_name="us-east-1",
        endpoint_url=base_url,
        aws_access_key_id="AKIAEMULATOR00000000",
        aws_secret_access_key="emulator-secret-key",
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )


def boto3_floor_ms(base_url: str, calls: int, hit_id: str | None = None) -> float:
    """Client time of a trivial call through a plain boto3 client (the floor DESIGN.md names):
    GetAccountBalance, or GetHIT when a HIT id is given. The emulator's GetAccountBalance scans
    every HIT (it sums the on-hold balance), so it is only trivial on an empty emulator; GetHIT is
    a dictionary lookup at any size."""
    client = plain_client(base_url)

    def call() -> None:
        if hit_id:
            client.get_hit(HITId=hit_id)
        else:
            client.get_account_balance()

    for _ in range(20):  # warm botocore's caches and the keep-alive connection
        call()
    started = time.perf_counter()
    for _ in range(calls):
        call()
    elapsed = time.perf_counter() - started
    client.close()
    return elapsed * 1000 / calls


def boto3_replay(base_url: str) -> tuple[float, int, float]:
    """The first sync's calls (every ListHITs page, then every ListAssignmentsForHIT page of each
    HIT) through a plain boto3 client, one after another, with no database and nothing kept: what
    the client library alone spends on exactly these calls, beside the trivial-call floor.
    Returns (wall seconds, calls, this process's CPU seconds)."""
    client = plain_client(base_url)
    pages = {"PageSize": PAGE_SIZE}
    client.get_account_balance()  # load the service model before the clock starts
    calls = 0
    started, cpu_started = time.perf_counter(), time.process_time()
    hit_ids = []
    for page in client.get_paginator("list_hits").paginate(PaginationConfig=pages):
        calls += 1
        hit_ids.extend(hit["HITId"] for hit in page["HITs"])
    listing = client.get_paginator("list_assignments_for_hit")
    for hit_id in hit_ids:
        for _page in listing.paginate(HITId=hit_id, PaginationConfig=pages):
            calls += 1
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    client.close()
    return elapsed, calls, cpu


def proc_cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU seconds of a process on this machine (Linux /proc), else None."""
    if not pid:
        return None
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def database_server_pid() -> int | None:
    """The PostgreSQL backend serving this connection (it runs on this machine in the bench)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


# --- the syncs -----------------------------------------------------------------------------------


def make_account(base_url: str):
    from dashboard.enums import Environment
    from dashboard.models import RequesterAccount
    from dashboard.services import save_account

    account = RequesterAccount(
        name="Sync benchmark",
        slug="bench-sync",
        environment=Environment.EMULATOR,
        endpoint_url=base_url + "/",
        aws_access_key_id="AKIAEMULATOR00000000",
        rate_limit_per_second=1000,
    )
    return save_account(
        account=account, secret_access_key="emulator-secret-key", actor_name="bench"
    )


def timed_sync(account, base_url: str, label: str, expected_pages: int, emulator_pid: int) -> dict:
    """One run_sync(kind="full") with its API calls, queries and client-side API time."""
    from django.db import connection
    from django.db.models import Sum

    from dashboard.models import MTurkCallStats
    from mirror.sync import run_sync

    last_stats_pk = MTurkCallStats.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    calls_before = api_calls(base_url)
    counter = QueryCounter()
    page_queries: list[int] = []
    marks = {"queries": 0, "time": time.perf_counter()}

    def on_page(total) -> None:
        page_queries.append(counter.total - marks["queries"])
        marks["queries"] = counter.total
        if total.pages % 10 == 0 or total.pages == expected_pages:
            now = time.perf_counter()
            log(
                f"{label}: page {total.pages}/{expected_pages}, {total.hits_seen} HITs, "
                f"{total.assignments_seen} assignments, {counter.total} queries, "
                f"{now - started:.1f} s"
            )

    db_pid = database_server_pid()
    pids = {"bench": os.getpid(), "emulator": emulator_pid, "database_server": db_pid}
    cpu_before = {name: proc_cpu_seconds(pid) for name, pid in pids.items()}
    children_before = os.times()
    started = time.perf_counter()
    with connection.execute_wrapper(counter):
        outcome = run_sync(account=account, kind="full", on_page=on_page)
    seconds = time.perf_counter() - started
    children = os.times()
    cpu = {
        name: round(proc_cpu_seconds(pid) - cpu_before[name], 2)
        for name, pid in pids.items()
        if cpu_before[name] is not None
    }
    # Fetch worker processes (SYNC_FETCH_PROCESSES) are this process's children, reaped when the
    # sync ends; the emulator, the other child, is still running and not counted here.
    cpu["fetch_workers"] = round(
        children.children_user
        + children.children_system
        - children_before.children_user
        - children_before.children_system,
        2,
    )
    if database_server_pid() != db_pid:
        cpu.pop("database_server", None)  # reconnected: the figure would be wrong
    if not outcome.ok:
        raise RuntimeError(f"{label} failed: {outcome.error}")
    calls = api_calls(base_url) - calls_before
    stats = MTurkCallStats.objects.filter(account=account, pk__gt=last_stats_pk).aggregate(
        calls=Sum("calls"), total_ms=Sum("total_ms")
    )
    return {
        "seconds": seconds,
        "details": outcome.details,
        "calls": calls,
        "queries": counter.total,
        "query_kinds": dict(counter.kinds),
        "db_seconds": counter.seconds,
        "page_queries": page_queries,
        "client_calls": stats["calls"] or 0,
        "api_seconds": (stats["total_ms"] or 0) / 1000,
        "cpu_seconds": cpu,
    }


def page_spread(page_queries: list[int]) -> dict:
    # The first page also carries the lease and sync-state bookkeeping; the rest must be constant.
    body = page_queries[1:-1] or page_queries
    return {
        "min": min(body),
        "median": statistics.median(body),
        "max": max(body),
        "first": page_queries[0],
        "last": page_queries[-1],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hits", type=int, default=10_000)
    parser.add_argument("--assignments-per-hit", type=int, default=3)
    parser.add_argument("--floor-calls", type=int, default=200, help="calls per floor measurement")
    parser.add_argument("--populate-chunk", type=int, default=2000)
    parser.add_argument(
        "--fetch-processes",
        type=int,
        default=None,
        help="SYNC_FETCH_PROCESSES for the syncs (default: the setting's own value)",
    )
    args = parser.parse_args()
    hits, per_hit = args.hits, args.assignments_per_hit

    import django

    django.setup()
    from django.conf import settings

    if args.fetch_processes is not None:
        settings.SYNC_FETCH_PROCESSES = args.fetch_processes
    from django.db import connection

    from hits.models import HIT, Assignment
    from workers.models import Worker

    load_before = os.getloadavg()[0]  # other work on the machine skews every figure
    with emulator_and_database("sync") as (base_url, server):
        floor_ms = boto3_floor_ms(base_url, args.floor_calls)
        log(f"boto3 floor: {floor_ms:.2f} ms per GetAccountBalance, empty emulator")
        populated = populate(base_url, hits, per_hit, args.populate_chunk)
        populate_s, some_hit_id = populated
        account = make_account(base_url)

        # Pages with results (what the sync sees; the empty last page is read but not yielded).
        pages = max(math.ceil(hits / PAGE_SIZE), 1)
        first_minimum = listing_calls(hits) + hits * listing_calls(per_hit)
        incremental_minimum = listing_calls(hits)

        first = timed_sync(account, base_url, "first sync", pages, server.pid)
        mirrored = (
            HIT.objects.filter(account=account).count(),
            Assignment.objects.filter(account=account).count(),
        )
        if mirrored != (hits, hits * per_hit):
            raise RuntimeError(
                f"mirror holds {mirrored} (HITs, assignments), not {hits, hits * per_hit}"
            )
        workers = Worker.objects.filter(account=account).count()
        log(f"first sync done in {first['seconds']:.1f} s: {first['details']}")

        second = timed_sync(account, base_url, "incremental sync", pages, server.pid)
        log(f"incremental sync done in {second['seconds']:.1f} s: {second['details']}")
        floor_ms_after = boto3_floor_ms(base_url, args.floor_calls, hit_id=some_hit_id)
        log(f"boto3 floor after the syncs: {floor_ms_after:.2f} ms per GetHIT")
        replay_s, replay_calls, replay_cpu_s = boto3_replay(base_url)
        log(f"the first sync's {replay_calls} calls through plain boto3 alone: {replay_s:.1f} s")

    rows = hits + hits * per_hit
    first_calls, second_calls = sum(first["calls"].values()), sum(second["calls"].values())
    first_pages = first["details"].get("pages") or pages
    second_pages = second["details"].get("pages") or pages
    api_floor_s = first_calls * floor_ms / 1000
    figures = {
        "bench": "sync",
        "database": connection.vendor,
        "cpus": os.cpu_count(),
        "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "hits": hits,
        "assignments": hits * per_hit,
        "fetch_threads": settings.SYNC_FETCH_THREADS,
        "fetch_processes": settings.SYNC_FETCH_PROCESSES,
        "workers": workers,
        "populate_seconds": round(populate_s, 2),
        "boto3_floor_ms": round(floor_ms, 3),
        "boto3_floor_gethit_ms_after": round(floor_ms_after, 3),
        "first_sync_seconds": round(first["seconds"], 2),
        "first_sync_api_calls": first_calls,
        "first_sync_api_calls_by_operation": dict(first["calls"]),
        "first_sync_api_minimum": first_minimum,
        "first_sync_api_overhead_pct": round(
            100 * (first_calls - first_minimum) / first_minimum, 2
        ),
        "first_sync_queries": first["queries"],
        "first_sync_queries_by_kind": first["query_kinds"],
        "first_sync_pages": first_pages,
        "queries_per_page": round(first["queries"] / first_pages, 2),
        "queries_per_page_spread": page_spread(first["page_queries"]),
        "rows_per_second": round(rows / first["seconds"], 1),
        "first_sync_db_seconds": round(first["db_seconds"], 2),
        "first_sync_api_seconds": round(first["api_seconds"], 2),
        "first_sync_client_recorded_calls": first["client_calls"],
        "first_sync_cpu_seconds": first["cpu_seconds"],
        "first_sync_api_floor_seconds": round(api_floor_s, 2),
        "api_bound_ratio": round(first["api_seconds"] / api_floor_s, 2) if api_floor_s else None,
        "wall_to_floor_ratio": round(first["seconds"] / api_floor_s, 2) if api_floor_s else None,
        "boto3_replay_seconds": round(replay_s, 2),
        "boto3_replay_calls": replay_calls,
        "boto3_replay_cpu_seconds": round(replay_cpu_s, 2),
        "replay_to_floor_ratio": round(replay_s / api_floor_s, 2) if api_floor_s else None,
        "incremental_seconds": round(second["seconds"], 2),
        "incremental_api_calls": second_calls,
        "incremental_api_calls_by_operation": dict(second["calls"]),
        "incremental_api_minimum": incremental_minimum,
        "incremental_api_overhead_pct": round(
            100 * (second_calls - incremental_minimum) / incremental_minimum, 2
        ),
        "incremental_queries": second["queries"],
        "incremental_queries_by_kind": second["query_kinds"],
        "incremental_queries_per_page": round(second["queries"] / second_pages, 2),
        "incremental_rows_per_second": round(rows / second["seconds"], 1),
        "incremental_db_seconds": round(second["db_seconds"], 2),
        "incremental_api_seconds": round(second["api_seconds"], 2),
        "incremental_cpu_seconds": second["cpu_seconds"],
        "incremental_details": second["details"],
        "target_first_sync_under_60s": first["seconds"] < 60,
        "target_api_within_2pct": first_calls <= first_minimum * 1.02
        and second_calls <= incremental_minimum * 1.02,
    }
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
