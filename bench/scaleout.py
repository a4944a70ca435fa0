"""Scale-out (issue 15, item 5): real Celery worker processes and one beat on Redis, several
requester accounts each syncing and running a bulk decision job and a bulk bonus job at once.
Targets: no duplicate effect at MTurk (the emulators' truth), each account's rate limit held across
processes (its calls per second at the emulator within 10% of its limit), and the speed-up of three
worker processes over one where the rate limits allow it.

    .venv/bin/python bench/scaleout.py [--assignments-per-account 300] [--rate 10] [--burst 5]
    DATABASE_URL=postgres://postgres:postgres@127.0.0.1:5432/dashboard_scaleout \\
        CELERY_BROKER_URL=redis://127.0.0.1:6379/12 .venv/bin/python bench/scaleout.py

Redis is required (the workers share the broker and the account limiters in it); the filesystem
broker is refused. Like the other benchmarks (helpers from bench/sync.py, bench/decide.py and
bench/bonus.py): tests.settings and a throw-away database beside the configured one (on SQLite a
file the worker processes open too), destroyed at the end. Every process started here (emulators,
workers, beat) is stopped at the end, also on errors, Ctrl-C and SIGTERM.

The scenario runs twice, on fresh data: with one worker process, then with three (each
`celery -A dashboard worker --concurrency 2`), both times beside one `celery -A dashboard beat`
(its schedule file in a temporary folder; its periodic syncs and janitors run as in production).
Every process gets the same DATABASE_URL (the throw-away database), CELERY_BROKER_URL,
CELERY_TASK_DEFAULT_QUEUE (a private one; tests/settings.py would pick a random one per process)
and MTURK_RATE_LIMIT_BURST (--burst, small, so the steady rate is what is measured).

One emulator process per account (an emulator holds one requester's state), each filled with
/_emulator/populate (HITs of --per-hit submitted assignments) and mirrored by one full sync in this
process; then --new-hits more HITs appear at MTurk, for the account's sync to bring in. The account
gets its limit (--rate calls/s), and in one transaction this process records, per account, a bulk
decision job (approve every mirrored submitted assignment, as bench/decide.py) and a bulk bonus job
(one bonus per such assignment, as bench/bonus.py), and enqueues a full sync task
(`mirror.sync_account`, as the beat does); the messages go out when it commits, syncs first. The
workers do the rest. The run ends when every job has finished and every account's full sync is
recorded.

Measured: each emulator's call counts (GET /_emulator/calls) every --poll seconds. An account's
rate is all its calls (syncs, approvals, bonuses, the beat's syncs: everything its limiter paces)
per second over its steady window: from the first poll that shows an ApproveAssignment or SendBonus
call (the burst the limiter allows after idling is spent by then) to the last poll before its last
one (the account is busy throughout). rate_ratio = that / --rate; the target is 0.9-1.1.
jobs_overlap_seconds: how long an account's two jobs ran at once, in two processes, held to one
rate by the limiter they share in Redis (with one limiter per process they would go twice as fast).
wall seconds = from the commit to the last job's finish or sync's record (database timestamps);
speed_up = one worker's wall time / three workers'. Each account's work is paced by its own
limit, so more workers help only while accounts wait for a worker slot: with --concurrency 2 one
worker serves two accounts at a time and three serve all three, and speed_up_allowed (accounts
served at once with three workers / with one, here 3 / 2) is what the limits allow. duplicates: approvals MTurk made more than once (ApproveCount > 1)
plus ledger rows it paid more than once; missing: ledger rows it did not pay; not_approved: decided
assignments it did not approve (totals over both runs; per run in workers_runs). Progress goes to
stderr; one JSON line of figures is printed last on stdout.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
os.environ.setdefault("LOG_LEVEL", "WARNING")

from bench._common import log, setup_database, teardown_database  # noqa: E402
from bench.bonus import bonus_file  # noqa: E402
from bench.decide import record_decisions  # noqa: E402
from bench.sync import api_calls, control, free_port, populate, start_emulator  # noqa: E402

WORK_OPERATIONS = ("ApproveAssignment", "SendBonus")
RUN_WORKERS = (1, 3)


def database_url() -> str:
    """The URL of the throw-away database this process uses, for the worker processes."""
    from django.db import connection

    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}?timeout=20&transaction_mode=IMMEDIATE"
    auth = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"], safe="")
    host = db["HOST"] or "127.0.0.1"
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{auth}@{host}{port}/{db['NAME']}"


# --- processes -----------------------------------------------------------------------------------


class Service:
    """A celery worker or beat process in its own session (so its pool children go with it), its
    output in a log file."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            command,
            cwd=log_dir,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        """SIGTERM (a warm shutdown), then SIGKILL to its whole process group (also when a
        second Ctrl-C interrupts the wait)."""
        try:
            if self.alive():
                self.process.terminate()
                self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
        finally:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)  # pool children left, if any
            except (ProcessLookupError, PermissionError):
                pass
            self.process.wait(timeout=10)
            self._log.close()

    def log_tail(self, lines: int = 30) -> str:
        text = self.log_path.read_text(errors="replace").splitlines()
        return f"--- {self.log_path.name} ---\n" + "\n".join(text[-lines:])


def celery_env(tmpdir: str) -> dict[str, str]:
    from django.conf import settings

    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "VAR_DIR": tmpdir,
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_TASK_DEFAULT_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE,
        "MTURK_RATE_LIMIT_BURST": str(settings.MTURK_RATE_LIMIT_BURST),
    }


def start_workers(count: int, concurrency: int, tmpdir: str, stack: ExitStack) -> list[Service]:
    """`count` worker processes and one beat, stopped when `stack` closes; returns once every
    worker answers a ping (their start-up is not part of the measured time)."""
    from django.conf import settings

    from dashboard.celery import app

    celery = str(Path(sys.executable).with_name("celery"))
    env = celery_env(tmpdir)
    log_dir = Path(tmpdir)
    tag = f"{os.getpid()}-{count}w"
    names = [f"scaleout{i + 1}-{tag}@{socket.gethostname()}" for i in range(count)]
    workers = []
    for i, name in enumerate(names):
        worker = Service(
            f"worker{i + 1}-{count}w",
            [
                celery,
                "-A",
                "dashboard",
                "worker",
                f"--concurrency={concurrency}",
                "--loglevel=WARNING",
                "-Q",
                settings.CELERY_TASK_DEFAULT_QUEUE,
                "-n",
                name,
                "--without-mingle",
                "--without-gossip",
            ],
            env,
            log_dir,
        )
        stack.callback(worker.stop)
        workers.append(worker)
    beat = Service(
        f"beat-{count}w",
        [
            celery,
            "-A",
            "dashboard",
            "beat",
            "--loglevel=WARNING",
            "-s",
            str(log_dir / f"beat-schedule-{count}w"),
        ],
        env,
        log_dir,
    )
    stack.callback(beat.stop)
    services = [*workers, beat]
    deadline = time.monotonic() + 120
    waiting = set(names)
    while waiting:
        dead = [s for s in services if not s.alive()]
        if dead:
            raise RuntimeError(f"{dead[0].name} exited at start\n{dead[0].log_tail()}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"workers {sorted(waiting)} did not answer a ping within 120 s")
        for reply in app.control.ping(destination=sorted(waiting), timeout=1.0):
            waiting -= set(reply)
    log(f"{count} worker process(es) × {concurrency} and a beat are up")
    return services


def stop_emulator(server: subprocess.Popen) -> None:
    try:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pass
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(timeout=10)


# --- one run -------------------------------------------------------------------------------------


def make_account(base_url: str, slug: str):
    from dashboard.enums import Environment
    from dashboard.models import RequesterAccount
    from dashboard.services import save_account

    account = RequesterAccount(
        name=f"Scale-out {slug}",
        slug=slug,
        environment=Environment.EMULATOR,
        endpoint_url=base_url + "/",
        aws_access_key_id="AKIAEMULATOR00000000",
        rate_limit_per_second=1000,  # the mirroring sync is set-up, not measured
    )
    return save_account(
        account=account, secret_access_key="emulator-secret-key", actor_name="bench"
    )


def prepare_account(index: int, workers: int, args, stack: ExitStack) -> dict[str, Any]:
    """An emulator of its own, filled and mirrored; then new HITs for the run's sync to bring in."""
    from hits.models import Assignment
    from mirror.sync import run_sync

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    server = start_emulator(port)
    stack.callback(stop_emulator, server)
    hits = math.ceil(args.assignments_per_account / args.per_hit)
    populate(base_url, hits, args.per_hit)
    account = make_account(base_url, f"scaleout-{workers}w-{index + 1}")
    outcome = run_sync(account=account, kind="full")
    if not outcome.ok:
        raise RuntimeError(f"mirroring {account.slug} failed: {outcome.error}")
    if args.new_hits:
        populate(base_url, args.new_hits, args.per_hit)
    account.rate_limit_per_second = args.rate
    account.save(update_fields=["rate_limit_per_second"])
    submitted = Assignment.objects.filter(account=account, status="Submitted").count()
    log(f"{account.slug}: emulator {base_url}, {submitted} submitted assignments mirrored")
    return {"account": account, "base_url": base_url, "submitted": submitted}


def record_work(accounts: list[dict[str, Any]]) -> dict[str, Any]:
    """In one transaction: a full sync task, a decision job and a bonus job per account, enqueued
    when it commits (syncs first, then the decisions, then the bonuses, accounts in turn). Returns
    when the commit happened (database time and monotonic), just before the first message."""
    from django.db import transaction
    from django.utils import timezone

    from dashboard.dispatch import enqueue_task
    from hits.models import Decision
    from people.models import Bonus
    from people.services.bonus_upload import plan_bonus_file, save_run, start_run

    committed: dict[str, Any] = {}
    with transaction.atomic():
        # on_commit callbacks run in order: this one first, before any message is sent.
        transaction.on_commit(
            lambda: committed.update(at=timezone.now(), monotonic=time.monotonic())
        )
        for entry in accounts:
            account_id = entry["account"].pk
            transaction.on_commit(
                lambda account_id=account_id: enqueue_task(
                    "mirror.sync_account", account_id=account_id, kind="full"
                )
            )
        for entry in accounts:
            account = entry["account"]
            job, n = record_decisions(account, entry["submitted"])
            entry["decide_job"] = job.pk
            entry["decided"] = list(
                Decision.objects.filter(job=job).values_list("assignment__assignment_id", flat=True)
            )
            log(f"{account.slug}: {n} approvals recorded")
        for entry in accounts:
            account = entry["account"]
            data = bonus_file(account, entry["submitted"])
            plan = plan_bonus_file(account=account, data=data)
            if not plan.ok:
                raise RuntimeError(f"bonus plan refused: {plan.errors} {plan.problems[:5]}")
            run = save_run(account=account, filename="scaleout.csv", data=data, requested_by=None)
            job = start_run(account=account, run=run, requested_by=None)
            entry["bonus_job"] = job.pk
            entry["bonus_rows"] = list(
                Bonus.objects.filter(job=job).values_list("worker_id", "assignment_id")
            )
            log(f"{account.slug}: {len(entry['bonus_rows'])} bonuses recorded")
    return committed


def sample_calls(accounts: list[dict[str, Any]], samples: dict[str, list]) -> None:
    for entry in accounts:
        counts = api_calls(entry["base_url"])
        samples[entry["account"].slug].append((time.monotonic(), counts))


def finished(accounts: list[dict[str, Any]], enqueued_at) -> tuple[bool, list[Any], str]:
    """Whether every job has finished and every account's full sync is recorded; the finish
    timestamps; a progress line."""
    from dashboard.enums import JobState
    from dashboard.models import Job, SyncState

    job_ids = [e[k] for e in accounts for k in ("decide_job", "bonus_job")]
    jobs = {job.pk: job for job in Job.objects.filter(pk__in=job_ids)}
    syncs = dict(
        SyncState.objects.filter(account__in=[e["account"] for e in accounts]).values_list(
            "account_id", "last_full_sync_at"
        )
    )
    stamps, parts, done = [], [], True
    for entry in accounts:
        account = entry["account"]
        synced = syncs.get(account.pk)
        if synced is not None and synced > enqueued_at:
            stamps.append(synced)
        else:
            done = False
        decide, bonus = jobs[entry["decide_job"]], jobs[entry["bonus_job"]]
        for job in (decide, bonus):
            if job.state in JobState.finished():
                stamps.append(job.finished_at)
            else:
                done = False
        parts.append(
            f"{account.slug}: sync {'done' if synced and synced > enqueued_at else '…'}, "
            f"approve {decide.done}/{decide.total} {decide.state}, "
            f"bonus {bonus.done}/{bonus.total} {bonus.state}"
        )
    return done, stamps, "; ".join(parts)


def steady_rate(series: list[tuple[float, Counter]], baseline: Counter) -> dict[str, Any]:
    """An account's calls per second over its steady window (see the module docstring)."""

    def work(counts: Counter) -> int:
        return sum(counts[op] - baseline[op] for op in WORK_OPERATIONS)

    def total(counts: Counter) -> int:
        return sum(counts.values()) - sum(baseline.values())

    final_work = work(series[-1][1])
    first = next((i for i, (_, c) in enumerate(series) if work(c) > 0), None)
    last_busy = next((i for i, (_, c) in enumerate(series) if work(c) >= final_work), None)
    out: dict[str, Any] = {"calls": total(series[-1][1]), "work_calls": final_work}
    if first is None or last_busy is None or last_busy - 1 <= first:
        return {**out, "window_seconds": None, "calls_per_second": None}
    end = last_busy - 1
    seconds = series[end][0] - series[first][0]
    calls = total(series[end][1]) - total(series[first][1])
    return {**out, "window_seconds": round(seconds, 1), "calls_per_second": calls / seconds}


def judge(entry: dict[str, Any]) -> dict[str, int]:
    """Duplicates, missing and not approved, from the account's emulator truth."""
    truth = control(entry["base_url"], "truth?sections=assignments,bonuses")
    approvals = {a["AssignmentId"]: a["ApproveCount"] for a in truth["assignments"]}
    paid = Counter((b["WorkerId"], b["AssignmentId"]) for b in truth["bonuses"])
    decided = entry["decided"]
    return {
        "approve_duplicates": sum(1 for a in decided if approvals.get(a, 0) > 1),
        "not_approved": sum(1 for a in decided if approvals.get(a, 0) < 1),
        "bonus_duplicates": sum(1 for row in entry["bonus_rows"] if paid[row] > 1),
        "missing": sum(1 for row in entry["bonus_rows"] if paid[row] < 1),
    }


def run_scenario(workers: int, args, tmpdir: str) -> dict[str, Any]:
    from django.db import connection

    from dashboard.enums import JobState
    from dashboard.models import Job

    log(f"=== {workers} worker process(es) ===")
    with ExitStack() as stack:
        accounts = [prepare_account(i, workers, args, stack) for i in range(args.accounts)]
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        services = start_workers(workers, args.concurrency, tmpdir, stack)
        baselines = {e["account"].slug: api_calls(e["base_url"]) for e in accounts}
        samples: dict[str, list] = {slug: [] for slug in baselines}
        recording = time.monotonic()
        committed = record_work(accounts)
        enqueued_at, started = committed["at"], committed["monotonic"]
        log(f"work recorded in {started - recording:.1f} s and enqueued; the workers have it")
        last_report = 0.0
        while True:
            sample_calls(accounts, samples)
            done, stamps, progress = finished(accounts, enqueued_at)
            now = time.monotonic()
            if done:
                break
            if now - last_report >= 10:
                log(f"{now - started:.0f} s: {progress}")
                last_report = now
            dead = [s for s in services if not s.alive()]
            if dead:
                raise RuntimeError(f"{dead[0].name} exited\n{dead[0].log_tail()}")
            if now - started > args.timeout:
                raise RuntimeError(f"not finished within {args.timeout} s: {progress}")
            time.sleep(max(0.0, args.poll - (time.monotonic() - now)))
        wall = (max(stamps) - enqueued_at).total_seconds()
        log(f"all done in {wall:.1f} s: {progress}")
        jobs = Job.objects.in_bulk([e[k] for e in accounts for k in ("decide_job", "bonus_job")])
        per_account = {}
        for entry in accounts:
            slug = entry["account"].slug
            rate = steady_rate(samples[slug], baselines[slug])
            cps = rate["calls_per_second"]
            decide, bonus = jobs[entry["decide_job"]], jobs[entry["bonus_job"]]
            # Two jobs of one account running at once run in two processes (pool children),
            # sharing the account's limiter through Redis.
            overlap = min(decide.finished_at, bonus.finished_at) - max(
                decide.started_at, bonus.started_at
            )
            per_account[slug] = {
                **rate,
                "calls_per_second": round(cps, 2) if cps is not None else None,
                "rate_ratio": round(cps / args.rate, 3) if cps is not None else None,
                "jobs_overlap_seconds": round(max(overlap.total_seconds(), 0.0), 1),
                "jobs_succeeded": all(j.state == JobState.SUCCEEDED for j in (decide, bonus)),
                **judge(entry),
            }
        total_calls = sum(a["calls"] for a in per_account.values())
        return {
            "workers": workers,
            "worker_slots": workers * args.concurrency,
            "seconds": round(wall, 2),
            "aggregate_calls_per_second": round(total_calls / wall, 2) if wall else None,
            "per_account": per_account,
        }


# --- the database and the broker -----------------------------------------------------------------


@contextmanager
def throwaway_database(tmpdir: str) -> Iterator[str]:
    from django.db import connection

    old_name = connection.settings_dict["NAME"]
    log(f"creating a throw-away {connection.vendor} database")
    try:
        name = setup_database(tmpdir, "benchscaleout")
        log(f"database {name} ready")
        yield name
    finally:
        connection.close()
        try:
            teardown_database(old_name)
            log("throw-away database destroyed")
        except Exception as exc:  # never hide the error that got us here
            log(f"could not destroy the throw-away database: {exc!r}")


def drop_queue() -> None:
    """Remove the private queue from Redis: its keys and the messages held unacknowledged."""
    import redis
    from django.conf import settings

    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    keys = list(client.scan_iter(match=f"*{queue}*"))
    if keys:
        client.delete(*keys)
    # Messages a stopped worker held unacknowledged (kombu's shared "unacked" hash, entries
    # [message, exchange, routing key]): left there, a later worker would restore them.
    for tag, entry in client.hscan_iter("unacked"):
        try:
            routing_key = json.loads(entry)[2]
        except (ValueError, IndexError, TypeError):
            continue
        if routing_key == queue:
            client.hdel("unacked", tag)
            client.zrem("unacked_index", tag)
    client.close()


def _terminate(signum, frame) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=3)
    parser.add_argument("--assignments-per-account", type=int, default=300)
    parser.add_argument("--per-hit", type=int, default=9, help="submitted assignments per HIT")
    parser.add_argument("--new-hits", type=int, default=10, help="HITs for the run's syncs")
    parser.add_argument("--rate", type=float, default=10.0, help="each account's calls per second")
    parser.add_argument("--burst", type=int, default=5, help="MTURK_RATE_LIMIT_BURST")
    parser.add_argument("--concurrency", type=int, default=2, help="per worker process")
    parser.add_argument("--poll", type=float, default=1.0, help="seconds between samples")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per run")
    args = parser.parse_args()

    tmpdir = tempfile.mkdtemp(prefix="bench-scaleout-")
    os.environ["VAR_DIR"] = tmpdir
    os.environ["MTURK_RATE_LIMIT_BURST"] = str(args.burst)
    os.environ["CELERY_TASK_DEFAULT_QUEUE"] = f"bench-scaleout-{os.getpid()}"
    signal.signal(signal.SIGTERM, _terminate)

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    if not settings.CELERY_BROKER_IS_REDIS:
        log(
            "bench/scaleout.py needs Redis: the worker processes share the broker and the "
            "accounts' rate limiters in it. Set CELERY_BROKER_URL=redis://127.0.0.1:6379/12."
        )
        shutil.rmtree(tmpdir, ignore_errors=True)
        return 2

    load_before = os.getloadavg()[0]
    runs: dict[int, dict[str, Any]] = {}
    try:
        with throwaway_database(tmpdir):
            for workers in RUN_WORKERS:
                runs[workers] = run_scenario(workers, args, tmpdir)
    finally:
        try:
            drop_queue()
        except Exception as exc:
            log(f"could not remove the private queue from Redis: {exc!r}")
        shutil.rmtree(tmpdir, ignore_errors=True)

    one, three = runs[1], runs[3]
    ratios = {s: a["rate_ratio"] for s, a in three["per_account"].items()}
    deviations = [abs(r - 1) for r in ratios.values() if r is not None]

    def total(key: str) -> int:
        return sum(a[key] for run in runs.values() for a in run["per_account"].values())

    figures = {
        "bench": "scaleout",
        "database": connection.vendor,
        "broker": "redis",
        "accounts": args.accounts,
        "assignments_per_account": args.assignments_per_account,
        "rate_limit_per_second": args.rate,
        "burst": settings.MTURK_RATE_LIMIT_BURST,
        "concurrency": args.concurrency,
        "one_worker_seconds": one["seconds"],
        "three_workers_seconds": three["seconds"],
        "speed_up": round(one["seconds"] / three["seconds"], 2) if three["seconds"] else None,
        # What the limits allow: accounts served at once (one per worker slot), each at its rate.
        "speed_up_allowed": round(
            min(args.accounts, 3 * args.concurrency) / min(args.accounts, args.concurrency), 2
        ),
        "per_account_rate_ratio": ratios,
        "one_worker_per_account_rate_ratio": {
            s: a["rate_ratio"] for s, a in one["per_account"].items()
        },
        "jobs_overlap_seconds": {
            s: a["jobs_overlap_seconds"] for s, a in three["per_account"].items()
        },
        "max_rate_deviation": (
            round(max(deviations), 3) if len(deviations) == len(ratios) else None
        ),
        "duplicates": total("approve_duplicates") + total("bonus_duplicates"),
        "missing": total("missing"),
        "not_approved": total("not_approved"),
        "jobs_succeeded": all(
            a["jobs_succeeded"] for run in runs.values() for a in run["per_account"].values()
        ),
        "workers_runs": {str(n): run for n, run in runs.items()},
        "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
