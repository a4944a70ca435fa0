"""Fault drills (issue 15): kill -9 a worker or beat mid-job, restart Redis or PostgreSQL, stop the
emulator for minutes, and post duplicated, reordered SNS webhooks at rate; then check that
everything converges: the database equals the emulator's truth, nothing is lost or applied twice,
and the sync-health panel's figures show what happened.

    .venv/bin/python bench/faults.py kill-worker [--timeout 300]
    .venv/bin/python bench/faults.py all [--outage-seconds 120]

Isolation: every drill starts its own PostgreSQL (initdb into a temporary folder, on a free port,
trust authentication; as the `postgres` user when run as root) and its own redis-server (no
persistence, a free port), so it can kill and restart them freely; the machine's PostgreSQL and
Redis are never touched. A throw-away database is migrated there; the emulator runs in its own
process with a --state file (so a restart keeps MTurk's truth); real `celery -A dashboard worker`
and `celery -A dashboard beat` processes (and, for the webhooks, gunicorn) run with
DJANGO_SETTINGS_MODULE=tests.settings, the private DATABASE_URL / CELERY_BROKER_URL, a fixed
queue, and short janitor, staleness and sync intervals so recovery fits in the time bound. Each
child runs in its own process group; the logs are kept in the drill's folder while it runs
(--keep leaves the folder behind).

The drills:
  kill-worker       a bulk approval job and a bulk bonus job; kill -9 the worker's process group
                    after some calls reached MTurk, start a new worker. Beat's janitor hands the
                    jobs out again; each assignment is approved once and each bonus paid once.
  kill-beat         kill -9 beat during a job and its scheduled syncs, start it again; the syncs
                    go on (the panel's last-sync times move past the restart), nothing doubled.
  restart-redis     kill -9 the broker during a job (messages in flight are lost: no persistence)
                    and start it again empty; the janitor re-enqueues what was lost.
  restart-postgres  stop PostgreSQL (immediate mode, as a crash) during a job and start it again;
                    workers reconnect and the job resumes.
  emulator-outage   stop the emulator for --outage-seconds (default 120) during a job and the
                    scheduled syncs; the panel records the sync errors; once it is back the job
                    ends and everything converges.
  webhook-chaos     --messages distinct signed SNS notifications (each naming a HIT the mirror has
                    not seen), every one posted two or three times, shuffled, at --rate per second
                    to gunicorn; each recorded once, all applied, and the mirror equals the truth
                    from the events alone (no sync runs).
  all               each of the above in turn, in its own process.

"Converges": after the fault the jobs end, a final full sync runs, and the mirror (HIT and
assignment statuses, the bonus ledger) is compared with the emulator's truth (GET
/_emulator/truth): every HIT and every submitted / approved / rejected assignment has MTurk's
status, no assignment was approved more than once, every ledger bonus was paid exactly once and
MTurk paid no bonus the ledger does not hold. Progress goes to stderr; each drill ends with one
JSON line {fault, passed, seconds, details...} on stdout and exits 1 when its check failed (2 when
it could not run, e.g. out of time).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import log  # noqa: E402
from bench.sync import control, free_port  # noqa: E402

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
QUEUE = "faults"
TOPIC = "arn:aws:sns:us-east-1:123456789012:faults-drill"
FAULTS = (
    "kill-worker",
    "kill-beat",
    "restart-redis",
    "restart-postgres",
    "emulator-outage",
    "webhook-chaos",
)


class OutOfTime(Exception):
    """The drill's --timeout passed."""


class Deadline:
    def __init__(self, seconds: float) -> None:
        self.at = time.monotonic() + seconds

    def left(self) -> float:
        return self.at - time.monotonic()

    def wait_until(
        self, what: str, condition: Callable[[], Any], *, every: float = 1.0, limit: float = 0
    ) -> Any:
        """Poll `condition` until it returns something true; OutOfTime at the deadline (or after
        `limit` seconds when given)."""
        until = min(self.at, time.monotonic() + limit) if limit else self.at
        while True:
            value = condition()
            if value:
                return value
            if time.monotonic() > until:
                raise OutOfTime(f"gave up waiting for {what}")
            time.sleep(every)


# --- private PostgreSQL, Redis, emulator and Celery processes -------------------------------------


def _as_postgres(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its tools as the `postgres` user then."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


class Scenario:
    """Everything one drill runs, started in order and torn down in reverse (also on errors)."""

    def __init__(self, name: str, keep: bool = False) -> None:
        self.name = name
        self.keep = keep
        self.dir = Path(tempfile.mkdtemp(prefix=f"faults-{name}-"))
        if os.geteuid() == 0:
            shutil.chown(self.dir, user="postgres")
            self.dir.chmod(0o777)
        self.pg_port = free_port()
        self.redis_port = free_port()
        self.emulator_port = free_port()
        self.web_port = free_port()
        self.base_url = f"http://127.0.0.1:{self.emulator_port}"
        self.database_url = f"postgres://postgres@127.0.0.1:{self.pg_port}/faults"
        self.broker_url = f"redis://127.0.0.1:{self.redis_port}/0"
        self.processes: dict[str, subprocess.Popen] = {}
        # Celery and gunicorn run under a supervisor, as in production (docker compose's
        # `restart: unless-stopped`): one that exits on its own is started again and counted.
        self.supervised: dict[str, tuple[list[str], dict[str, str] | None]] = {}
        self.restarts: Counter = Counter()
        self.lock = threading.RLock()
        self.stopping = threading.Event()
        self.pg_started = False
        self.env = {
            **{
                k: v
                for k, v in os.environ.items()
                if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "VAR_DIR")
            },
            "PYTHONPATH": str(ROOT),
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DEBUG": "true",
            "DATABASE_URL": self.database_url,
            "CELERY_BROKER_URL": self.broker_url,
            "CELERY_TASK_DEFAULT_QUEUE": QUEUE,
            "VAR_DIR": str(self.dir / "var"),
            "LOG_LEVEL": "INFO",
            # Recovery within the drill's time bound: the janitor every 3 s, a silent job or
            # intent stale after 10 s (the least allowed), sync leases of 20 s.
            "JOB_JANITOR_INTERVAL_SECONDS": "3",
            "JOB_STALE_AFTER_SECONDS": "10",
            "SYNC_LOCK_SECONDS": "20",
            "SYNC_REVIEWABLE_INTERVAL_SECONDS": "5",
            "SYNC_ACTIVE_INTERVAL_SECONDS": "10",
            "SYNC_FULL_INTERVAL_SECONDS": "30",
            "SYNC_BALANCE_INTERVAL_SECONDS": "15",
            "SYNC_BONUSES_INTERVAL_SECONDS": "30",
            "SYNC_QUALIFICATIONS_INTERVAL_SECONDS": "600",
            "SYNC_BLOCKS_INTERVAL_SECONDS": "600",
            "NOTIFICATIONS_POLL_INTERVAL_SECONDS": "30",
            "MTURK_RATE_LIMIT_BURST": "5",
        }

    # PostgreSQL

    def start_postgres(self, *, init: bool = False) -> None:
        data = self.dir / "pg"
        if init:
            log(f"initdb a private PostgreSQL in {data}")
            subprocess.run(
                _as_postgres(
                    [str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"]
                    + ["-E", "UTF8", "--no-sync"]
                ),
                check=True,
                stdout=subprocess.DEVNULL,
            )
        options = (
            f"-p {self.pg_port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c full_page_writes=off -c max_connections=100"
        )
        subprocess.run(
            _as_postgres(
                [str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", options]
                + ["-l", str(self.dir / "postgres.log"), "-w", "-t", "60", "start"]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        self.pg_started = True
        log(f"PostgreSQL serving on 127.0.0.1:{self.pg_port}")

    def stop_postgres(self, mode: str = "fast") -> None:
        subprocess.run(
            _as_postgres(
                [str(PG_BIN / "pg_ctl"), "-D", str(self.dir / "pg"), "-m", mode, "-w", "stop"]
            ),
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.pg_started = False

    def create_database(self) -> None:
        subprocess.run(
            [str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(self.pg_port)]
            + ["-U", "postgres", "faults"],
            check=True,
        )
        log("migrating the throw-away database")
        started = time.monotonic()
        self.run_child(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], "migrate", timeout=600
        )
        log(f"migrated in {time.monotonic() - started:.0f} s")

    def run_child(self, command: list[str], name: str, timeout: float) -> None:
        with open(self.dir / f"{name}.log", "ab") as out:
            subprocess.run(
                command,
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                check=True,
                timeout=timeout,
            )

    # child processes, each in its own process group

    def spawn(
        self,
        name: str,
        command: list[str],
        env: dict[str, str] | None = None,
        *,
        supervised: bool = False,
    ) -> None:
        with self.lock:
            out = open(self.dir / f"{name}.log", "ab")  # noqa: SIM115 - lives as long as the child
            self.processes[name] = subprocess.Popen(
                command,
                cwd=ROOT,
                env=env or self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            out.close()
            if supervised:
                self.supervised[name] = (command, env)

    def supervise(self) -> None:
        while not self.stopping.wait(1.0):
            with self.lock:
                for name, (command, env) in list(self.supervised.items()):
                    process = self.processes.get(name)
                    if process is not None and process.poll() is not None:
                        log(
                            f"{name} exited with status {process.returncode}; the supervisor restarts it"
                        )
                        self.restarts[name] += 1
                        self.spawn(name, command, env, supervised=True)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        with self.lock:
            self.supervised.pop(name, None)
            process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)

    def start_redis(self) -> None:
        self.spawn(
            "redis",
            [REDIS_SERVER, "--port", str(self.redis_port), "--bind", "127.0.0.1"]
            + ["--save", "", "--appendonly", "no"],
        )
        Deadline(30).wait_until("Redis", self.redis_up, every=0.1)
        log(f"Redis serving on 127.0.0.1:{self.redis_port}")

    def redis_up(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(port=self.redis_port, socket_timeout=1).ping())
        except redis.RedisError:
            return False

    def start_emulator(self) -> None:
        self.spawn(
            "emulator",
            [sys.executable, "-m", "emulator", "serve", "--host", "127.0.0.1"]
            + ["--port", str(self.emulator_port), "--crowd", "0", "--seed", "1"]
            + ["--state", str(self.dir / "emulator-state.json"), "--log-level", "WARNING"],
        )
        Deadline(60).wait_until("the emulator", self.emulator_up, every=0.1)
        log(f"emulator serving on {self.base_url}")

    def emulator_up(self) -> bool:
        try:
            return bool(control(self.base_url, "health"))
        except OSError:
            return False

    def stop_emulator(self) -> None:
        """SIGTERM: the emulator saves its state to the --state file as it stops."""
        self.kill("emulator", signal.SIGTERM)

    def start_worker(self, name: str = "worker") -> None:
        self.spawn(
            name,
            [sys.executable, "-m", "celery", "-A", "dashboard", "worker", "-Q", QUEUE]
            + [
                "-c",
                "3",
                "--without-gossip",
                "--without-mingle",
                "-n",
                f"{name}-{uuid.uuid4().hex[:6]}@%h",
            ]
            + ["--loglevel", "INFO"],
            supervised=True,
        )
        log(f"{name} started (pid {self.processes[name].pid})")

    def start_beat(self) -> None:
        self.spawn(
            "beat",
            [sys.executable, "-m", "celery", "-A", "dashboard", "beat", "--loglevel", "INFO"]
            + ["-s", str(self.dir / "celerybeat-schedule")],
            supervised=True,
        )
        log(f"beat started (pid {self.processes['beat'].pid})")

    def start_gunicorn(self) -> None:
        self.spawn(
            "gunicorn",
            [sys.executable, "-m", "gunicorn", "dashboard.wsgi", "--bind"]
            + [f"127.0.0.1:{self.web_port}", "--workers", "3", "--threads", "4"]
            + ["--worker-class", "gthread", "--timeout", "60"],
            supervised=True,
        )
        url = f"http://127.0.0.1:{self.web_port}/healthz"

        def up() -> bool:
            try:
                with urllib.request.urlopen(url, timeout=5):
                    return True
            except urllib.error.HTTPError:
                return True
            except OSError:
                return False

        Deadline(90).wait_until("gunicorn", up, every=0.3)
        log(f"gunicorn serving on 127.0.0.1:{self.web_port}")

    def close(self) -> None:
        self.stopping.set()
        for name in list(self.processes)[::-1]:
            self.kill(name, signal.SIGTERM if name == "emulator" else signal.SIGKILL)
        if self.pg_started:
            try:
                from django.db import connections

                connections.close_all()
            except Exception:
                pass
            self.stop_postgres("immediate")
        if self.keep:
            log(f"kept {self.dir}")
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    def setup(self) -> None:
        """PostgreSQL, Redis, the migrated database, the emulator, and Django in this process."""
        self.start_postgres(init=True)
        self.start_redis()
        self.create_database()
        self.start_emulator()
        threading.Thread(target=self.supervise, name="supervisor", daemon=True).start()
        os.environ.update(self.env)
        os.environ["LOG_LEVEL"] = "WARNING"
        import django

        django.setup()


# --- the app's side: account, jobs, checks --------------------------------------------------------


def db(action: Callable[[], Any], deadline: Deadline) -> Any:
    """Run a database action, waiting through a restart of PostgreSQL."""
    from django.db import DatabaseError, InterfaceError, connections

    while True:
        try:
            return action()
        except (DatabaseError, InterfaceError) as exc:
            if deadline.left() <= 0:
                raise
            log(f"database unavailable ({type(exc).__name__}); retrying")
            connections.close_all()
            time.sleep(1)


def make_account(scenario: Scenario, rate: float):
    from dashboard.enums import Environment
    from dashboard.models import RequesterAccount
    from dashboard.services import save_account

    account = RequesterAccount(
        name="Fault drill",
        slug="faults",
        environment=Environment.EMULATOR,
        endpoint_url=scenario.base_url + "/",
        aws_access_key_id="AKIAEMULATOR00000000",
        rate_limit_per_second=rate,
    )
    return save_account(
        account=account, secret_access_key="emulator-secret-key", actor_name="faults"
    )


def populate(base_url: str, hits: int, per_hit: int) -> None:
    result = control(
        base_url,
        "populate",
        {"HITs": hits, "AssignmentsPerHIT": per_hit, "MaxAssignments": per_hit, "Submit": True},
    )
    if result.get("count") != hits:
        raise RuntimeError(f"populate made {result.get('count')} HITs, not {hits}")


def full_sync(account, deadline: Deadline) -> dict:
    from mirror.sync import AccountBusy, run_sync

    def attempt():
        try:
            outcome = run_sync(account=account, kind="full")
        except AccountBusy:
            return None
        return outcome if outcome.ok else None

    outcome = deadline.wait_until("a full sync", lambda: db(attempt, deadline), every=2)
    return outcome.details


def approval_job(account, n: int | None = None):
    """A bulk approval of the submitted assignments, as the review grid records it."""
    from bench.decide import record_decisions

    job, count = record_decisions(account, n or 0)
    log(f"approval job {job.pk}: {count} decisions recorded")
    return job, count


def bonus_job(account, n: int):
    from bench.bonus import bonus_file
    from people.services.bonus_upload import plan_bonus_file, save_run, start_run

    data = bonus_file(account, n)
    plan = plan_bonus_file(account=account, data=data)
    if not plan.ok:
        raise RuntimeError(f"the bonus file does not plan: {plan.errors} {plan.refusals}")
    run = save_run(account=account, filename="faults.csv", data=data, requested_by=None)
    job = start_run(account=account, run=run, requested_by=None)
    log(f"bonus job {job.pk}: {n} bonuses recorded")
    return job


def calls(base_url: str, operation: str) -> int:
    try:
        return control(base_url, "calls")["call_counts"].get(operation, 0)
    except OSError:
        return 0


def jobs_finished(job_ids: list[int], deadline: Deadline) -> dict[int, str]:
    from dashboard.enums import JobState
    from dashboard.models import Job

    def finished():
        states = dict(Job.objects.filter(pk__in=job_ids).values_list("pk", "state"))
        return states if all(s in JobState.finished() for s in states.values()) else None

    return deadline.wait_until("the jobs to finish", lambda: db(finished, deadline), every=1)


def open_intents_done(deadline: Deadline) -> None:
    from dashboard.enums import IntentState
    from dashboard.intents import intent_models

    def none_open():
        return not any(
            m._default_manager.filter(state__in=IntentState.open()).exists()
            for m in intent_models()
        )

    deadline.wait_until("every intent to end", lambda: db(none_open, deadline), every=1)


def convergence(account, base_url: str) -> dict[str, Any]:
    """The mirror against the emulator's truth (call after a final full sync)."""
    from dashboard.enums import IntentState, JobState
    from dashboard.intents import intent_models
    from dashboard.models import Job
    from hits.models import HIT, Assignment
    from people.models import Bonus

    truth = control(base_url, "truth?sections=hits,assignments,bonuses")
    true_hits = {h["HITId"]: h["HITStatus"] for h in truth["hits"]}
    mirror_hits = dict(HIT.objects.filter(account=account).values_list("hit_id", "status"))
    hit_mismatches = [
        (hit_id, status, mirror_hits.get(hit_id))
        for hit_id, status in true_hits.items()
        if mirror_hits.get(hit_id) != status
    ]
    true_assignments = {
        a["AssignmentId"]: a
        for a in truth["assignments"]
        if a["AssignmentStatus"] in ("Submitted", "Approved", "Rejected")
    }
    mirror_assignments = dict(
        Assignment.objects.filter(account=account).values_list("assignment_id", "status")
    )
    assignment_mismatches = [
        (a_id, a["AssignmentStatus"], mirror_assignments.get(a_id))
        for a_id, a in true_assignments.items()
        if mirror_assignments.get(a_id) != a["AssignmentStatus"]
    ] + [(a_id, None, s) for a_id, s in mirror_assignments.items() if a_id not in true_assignments]
    approved_twice = [a["AssignmentId"] for a in truth["assignments"] if a["ApproveCount"] > 1]
    paid = Counter((b["WorkerId"], b["AssignmentId"]) for b in truth["bonuses"])
    ledger = list(
        Bonus.objects.filter(account=account).values_list("worker_id", "assignment_id", "state")
    )
    ledger_paid = [(w, a) for w, a, s in ledger if s in (IntentState.DONE, IntentState.ALREADY)]
    bonus_problems = {
        "paid_twice": [key for key in ledger_paid if paid[key] > 1],
        "not_paid": [key for key in ledger_paid if paid[key] < 1],
        "paid_outside_ledger": [key for key in paid if key not in set(ledger_paid)],
    }
    intent_states: dict[str, dict[str, int]] = {}
    for model in intent_models():
        counts = Counter(model._default_manager.values_list("state", flat=True))
        if counts:
            intent_states[model._meta.label] = dict(counts)
    unfinished = [
        (label, state, n)
        for label, counts in intent_states.items()
        for state, n in counts.items()
        if state not in (IntentState.DONE, IntentState.ALREADY)
    ]
    job_states = dict(Counter(Job.objects.values_list("state", flat=True)))
    failed_jobs = list(
        Job.objects.exclude(state=JobState.SUCCEEDED).values_list("pk", "kind", "state", "error")
    )
    ok = not (
        hit_mismatches
        or assignment_mismatches
        or approved_twice
        or any(bonus_problems.values())
        or unfinished
        or failed_jobs
    )
    return {
        "converged": ok,
        "hits": len(true_hits),
        "assignments": len(true_assignments),
        "hit_mismatches": hit_mismatches[:10],
        "hit_mismatch_count": len(hit_mismatches),
        "assignment_mismatches": assignment_mismatches[:10],
        "assignment_mismatch_count": len(assignment_mismatches),
        "approved_more_than_once": len(approved_twice),
        "bonuses_paid": sum(paid.values()),
        "bonus_ledger_rows": len(ledger),
        "bonus_problems": {k: len(v) for k, v in bonus_problems.items()},
        "intent_states": intent_states,
        "job_states": job_states,
        "failed_jobs": [(pk, kind, state, error[:300]) for pk, kind, state, error in failed_jobs],
    }


def sync_health(account) -> dict[str, Any]:
    from mirror.health import account_sync_health

    health = account_sync_health(account)
    return {
        k: (
            v.isoformat()
            if hasattr(v, "isoformat")
            else v
            if not hasattr(v, "as_tuple")
            else str(v)
        )
        for k, v in health.items()
    }


def api_calls_total(base_url: str) -> dict[str, int]:
    data = control(base_url, "calls")
    return {
        op: n
        for op, n in data["call_counts"].items()
        if op in ("ApproveAssignment", "SendBonus", "ListHITs", "GetHIT")
    }


# --- the drills -----------------------------------------------------------------------------------


def standard_setup(scenario: Scenario, args, *, hits: int, per_hit: int = 9, rate: float = 20):
    """Setup, the emulator filled, the account synced once, worker and beat running."""
    scenario.setup()
    populate(scenario.base_url, hits, per_hit)
    account = make_account(scenario, rate)
    deadline = Deadline(120)
    full_sync(account, deadline)
    scenario.start_worker()
    scenario.start_beat()
    return account


def finish_and_check(scenario: Scenario, account, job_ids: list[int], deadline: Deadline) -> dict:
    states = jobs_finished(job_ids, deadline)
    log(f"jobs ended: {states}")
    open_intents_done(deadline)
    full_sync(account, deadline)
    result = db(lambda: convergence(account, scenario.base_url), deadline)
    log(f"converged: {result['converged']}")
    return result


def drill_kill_worker(scenario: Scenario, args, deadline: Deadline) -> dict:
    account = standard_setup(scenario, args, hits=args.hits)
    approvals, n = approval_job(account)
    bonuses = bonus_job(account, args.bonuses)
    Deadline(deadline.left()).wait_until(
        "calls at the emulator before the kill",
        lambda: (
            calls(scenario.base_url, "ApproveAssignment") >= min(40, n // 4)
            and calls(scenario.base_url, "SendBonus") >= min(20, args.bonuses // 4)
        ),
        every=0.2,
    )
    before = api_calls_total(scenario.base_url)
    log(f"kill -9 the worker's process group at {before}")
    scenario.kill("worker")
    time.sleep(2)
    scenario.start_worker("worker2")
    started = time.monotonic()
    result = finish_and_check(scenario, account, [approvals.pk, bonuses.pk], deadline)
    from dashboard.models import Job

    attempts = dict(
        Job.objects.filter(pk__in=[approvals.pk, bonuses.pk]).values_list("pk", "attempts")
    )
    result.update(
        calls_at_kill=before,
        recovery_seconds=round(time.monotonic() - started, 1),
        job_attempts=attempts,
    )
    # Both jobs were cut short: their calls at the kill were fewer than their rows.
    result["mid_job"] = before.get("ApproveAssignment", 0) < n and before.get("SendBonus", 0) < (
        args.bonuses
    )
    result["passed"] = result["converged"] and result["mid_job"]
    return result


def drill_kill_beat(scenario: Scenario, args, deadline: Deadline) -> dict:
    account = standard_setup(scenario, args, hits=args.hits)
    from django.utils import timezone

    from dashboard.models import SyncState

    approvals, n = approval_job(account)
    deadline.wait_until(
        "a scheduled sync",
        lambda: (
            SyncState.objects.filter(account=account, last_reviewable_sync_at__isnull=False)
            .exclude(last_reviewable_sync_at=None)
            .exists()
        ),
    )
    Deadline(deadline.left()).wait_until(
        "approvals under way",
        lambda: calls(scenario.base_url, "ApproveAssignment") >= n // 4,
        every=0.2,
    )
    log("kill -9 beat")
    scenario.kill("beat")
    time.sleep(3)
    restarted_at = timezone.now()
    scenario.start_beat()
    result = finish_and_check(scenario, account, [approvals.pk], deadline)

    def synced_after_restart():
        state = SyncState.objects.get(account=account)
        times = [state.last_reviewable_sync_at, state.last_active_sync_at]
        return all(t and t > restarted_at for t in times)

    deadline.wait_until("scheduled syncs after beat's restart", synced_after_restart, every=1)
    result["health"] = sync_health(account)
    result["passed"] = result["converged"]
    return result


def drill_restart_redis(scenario: Scenario, args, deadline: Deadline) -> dict:
    account = standard_setup(scenario, args, hits=args.hits)
    approvals, n = approval_job(account)
    bonuses = bonus_job(account, args.bonuses)
    Deadline(deadline.left()).wait_until(
        "calls at the emulator before the restart",
        lambda: calls(scenario.base_url, "ApproveAssignment") >= n // 4,
        every=0.2,
    )
    log("kill -9 Redis (no persistence: every queued message is lost)")
    scenario.kill("redis")
    time.sleep(5)
    scenario.start_redis()
    result = finish_and_check(scenario, account, [approvals.pk, bonuses.pk], deadline)
    result["health"] = sync_health(account)
    result["passed"] = result["converged"]
    return result


def drill_restart_postgres(scenario: Scenario, args, deadline: Deadline) -> dict:
    from django.db import connections

    account = standard_setup(scenario, args, hits=args.hits)
    approvals, n = approval_job(account)
    bonuses = bonus_job(account, args.bonuses)
    Deadline(deadline.left()).wait_until(
        "calls at the emulator before the restart",
        lambda: calls(scenario.base_url, "ApproveAssignment") >= n // 4,
        every=0.2,
    )
    log("stop PostgreSQL (immediate mode, as a crash)")
    connections.close_all()
    scenario.stop_postgres("immediate")
    time.sleep(5)
    scenario.start_postgres()
    result = finish_and_check(scenario, account, [approvals.pk, bonuses.pk], deadline)
    result["health"] = sync_health(account)
    result["passed"] = result["converged"]
    return result


def drill_emulator_outage(scenario: Scenario, args, deadline: Deadline) -> dict:
    account = standard_setup(scenario, args, hits=args.hits)
    from django.utils import timezone

    from dashboard.models import SyncState

    approvals, n = approval_job(account)
    Deadline(deadline.left()).wait_until(
        "calls at the emulator before the outage",
        lambda: calls(scenario.base_url, "ApproveAssignment") >= n // 4,
        every=0.2,
    )
    down_at = timezone.now()
    log(f"stopping the emulator for {args.outage_seconds} s")
    scenario.stop_emulator()
    time.sleep(args.outage_seconds)
    during = sync_health(account)
    log(f"sync health during the outage: {during}")
    scenario.start_emulator()
    result = finish_and_check(scenario, account, [approvals.pk], deadline)
    state = SyncState.objects.get(account=account)
    after = sync_health(account)
    result.update(health_during_outage=during, health_after=after)
    panel_saw_it = bool(
        state.last_error
        and state.last_error_at
        and state.last_error_at >= down_at
        and during["errors_last_hour"] > 0
    )
    result["panel_showed_outage"] = panel_saw_it
    result["passed"] = result["converged"] and panel_saw_it
    return result


def drill_webhook_chaos(scenario: Scenario, args, deadline: Deadline) -> dict:
    from emulator.sns_signing import Signer

    scenario.setup()
    populate(scenario.base_url, args.hits, 3)
    signer = Signer()
    account = make_account(scenario, 1000)
    account.sns_topic_arn = TOPIC
    account.sns_trusted_certificate = signer.cert_pem
    account.save()
    scenario.start_gunicorn()
    scenario.start_worker()
    hit_ids = [h["HITId"] for h in control(scenario.base_url, "truth?sections=hits")["hits"]]
    # Distinct messages: for each HIT several events in MTurk's order; then each message two or
    # three times, shuffled, so copies and older events arrive after newer ones.
    rng = random.Random(7)
    order = ["HITCreated", "AssignmentAccepted", "AssignmentSubmitted", "HITReviewable"]
    messages = []
    while len(messages) < args.messages:
        hit_id = hit_ids[len(messages) % len(hit_ids)]
        event_type = order[(len(messages) // len(hit_ids)) % len(order)]
        document = {
            "EventDocVersion": "2014-08-15",
            "EventDocId": uuid.uuid4().hex,
            "CustomerId": "A1REQUESTER",
            "Events": [
                {
                    "EventType": event_type,
                    "EventTimestamp": "2026-11-23T10:00:00Z",
                    "HITTypeId": "3HITTYPE",
                    "HITId": hit_id,
                }
            ],
        }
        message = {
            "Type": "Notification",
            "MessageId": str(uuid.uuid4()),
            "TopicArn": TOPIC,
            "Subject": "1700000000000",
            "Message": json.dumps(document),
            "Timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
        }
        messages.append(
            signer.sign(message, rng.choice("12"), f"{scenario.base_url}/_emulator/sns/cert.pem")
        )
    posts = [m for m in messages for _ in range(rng.choice((2, 2, 3)))]
    rng.shuffle(posts)
    url = f"http://127.0.0.1:{scenario.web_port}/notifications/sns/{account.slug}/"
    statuses: Counter = Counter()
    outcomes: Counter = Counter()
    lock = threading.Lock()

    def post(message: dict) -> None:
        request = urllib.request.Request(
            url,
            data=json.dumps(message).encode(),
            headers={
                "Content-Type": "text/plain; charset=UTF-8",
                "x-amz-sns-message-type": "Notification",
            },
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                status, body = response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            status, body = exc.code, {}
        except OSError as exc:
            status, body = type(exc).__name__, {}
        with lock:
            statuses[status] += 1
            outcomes[body.get("status", "?")] += 1

    log(f"posting {len(posts)} webhooks ({len(messages)} distinct) at {args.rate:g}/s")
    started = time.monotonic()
    threads: list[threading.Thread] = []
    for index, message in enumerate(posts):
        wait = started + index / args.rate - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        thread = threading.Thread(target=post, args=(message,), daemon=True)
        thread.start()
        threads.append(thread)
        threads = [t for t in threads if t.is_alive()]
    for thread in threads:
        thread.join(max(1.0, deadline.left()))
    post_seconds = time.monotonic() - started
    log(f"posted in {post_seconds:.1f} s: {dict(statuses)} {dict(outcomes)}")

    from dashboard.models import NotificationEvent

    def all_applied():
        events = NotificationEvent.objects.filter(account=account)
        return events.count() >= len(messages) and not events.filter(applied_at=None).exists()

    try:
        deadline.wait_until("every event applied", all_applied, every=1)
    except OutOfTime:
        log("not every event was applied in time")
    events = NotificationEvent.objects.filter(account=account)
    per_message = Counter(events.values_list("sns_message_id", flat=True))
    distinct_ids = {m["MessageId"] for m in messages}
    recorded = {
        "events": events.count(),
        "applied": events.exclude(applied_at=None).count(),
        "recorded_twice": sum(1 for n in per_message.values() if n > 1),
        "lost": len(distinct_ids - set(per_message)),
    }
    # The mirror from the events alone: nothing else ran (no beat, no sync).
    result = convergence(account, scenario.base_url)
    result.update(
        messages=len(messages),
        posts=len(posts),
        post_seconds=round(post_seconds, 1),
        posts_per_second=round(len(posts) / post_seconds, 1),
        http_statuses={str(k): v for k, v in statuses.items()},
        outcomes=dict(outcomes),
        recorded=recorded,
        health=sync_health(account),
    )
    result["passed"] = (
        result["converged"]
        and statuses == Counter({200: len(posts)})
        and outcomes["recorded"] == len(messages)
        and recorded["events"] == len(messages)
        and recorded["applied"] == len(messages)
        and recorded["recorded_twice"] == 0
        and recorded["lost"] == 0
    )
    return result


DRILLS = {
    "kill-worker": drill_kill_worker,
    "kill-beat": drill_kill_beat,
    "restart-redis": drill_restart_redis,
    "restart-postgres": drill_restart_postgres,
    "emulator-outage": drill_emulator_outage,
    "webhook-chaos": drill_webhook_chaos,
}


def run_one(args) -> int:
    started = time.monotonic()
    deadline = Deadline(args.timeout)
    scenario = Scenario(args.fault, keep=args.keep)

    def out_of_time(signum, frame):
        raise OutOfTime(f"the drill took longer than --timeout {args.timeout:g} s")

    # A hard bound even if something blocks outside the polling loops.
    signal.signal(signal.SIGALRM, out_of_time)
    signal.alarm(int(args.timeout) + 60)
    code = 2
    details: dict[str, Any] = {}
    try:
        details = DRILLS[args.fault](scenario, args, deadline)
        code = 0 if details.get("passed") else 1
    except Exception as exc:
        log(f"{args.fault} could not finish: {exc!r}")
        details = {"passed": False, "error": f"{type(exc).__name__}: {exc}"}
    finally:
        signal.alarm(0)
        try:
            scenario.close()
        except Exception as exc:
            log(f"teardown: {exc!r}")
    passed = details.pop("passed", False)
    print(
        json.dumps(
            {
                "fault": args.fault,
                "passed": passed,
                "seconds": round(time.monotonic() - started, 1),
                "supervisor_restarts": dict(scenario.restarts),
                **details,
            },
            default=str,
        ),
        flush=True,
    )
    return code


def run_all(args, extra: list[str]) -> int:
    results = []
    for fault in FAULTS:
        log(f"=== {fault}")
        started = time.monotonic()
        process = subprocess.run(
            [sys.executable, __file__, fault, *extra],
            stdout=subprocess.PIPE,
            text=True,
            timeout=max(args.timeout, args.outage_seconds + 240) + 180,
            check=False,
        )
        line = (process.stdout.strip().splitlines() or ["{}"])[-1]
        try:
            result = json.loads(line)
        except json.JSONDecodeError:
            result = {"fault": fault, "passed": False, "error": line[:500]}
        results.append(
            {
                "fault": fault,
                "passed": bool(result.get("passed")) and process.returncode == 0,
                "seconds": round(time.monotonic() - started, 1),
            }
        )
        log(f"=== {fault}: {'passed' if results[-1]['passed'] else 'FAILED'}")
    passed = all(r["passed"] for r in results)
    print(json.dumps({"fault": "all", "passed": passed, "drills": results}), flush=True)
    return 0 if passed else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("fault", choices=[*FAULTS, "all"])
    parser.add_argument("--timeout", type=float, default=300, help="seconds per drill")
    parser.add_argument("--outage-seconds", type=float, default=120)
    parser.add_argument("--hits", type=int, default=30, help="HITs in the emulator")
    parser.add_argument("--bonuses", type=int, default=150, help="bonuses in the bonus job")
    parser.add_argument("--messages", type=int, default=400, help="distinct webhook messages")
    parser.add_argument("--rate", type=float, default=100, help="webhook posts per second")
    parser.add_argument("--keep", action="store_true", help="keep the drill's folder and logs")
    args, _ = parser.parse_known_args()
    if args.fault == "all":
        extra = list(sys.argv[2:])
        return run_all(args, extra)
    if args.fault == "emulator-outage":
        # The outage itself counts against the bound only beyond what the rest needs.
        args.timeout = max(args.timeout, args.outage_seconds + 240)
    return run_one(args)


if __name__ == "__main__":
    sys.exit(main())
