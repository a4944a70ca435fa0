"""A real Celery worker process is killed (SIGKILL) in the middle of a bulk approval: the job is
handed to a second worker by the janitor, and every approval is still made, and paid, once.

The workers are separate processes (`celery -A dashboard worker --pool=solo`) sharing this test's
broker and its database: a transactional test database, a file on SQLite (tests/settings.py), the
test_<name> database on PostgreSQL. The emulator runs in this process; its truth is the judge.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings as django_settings
from django.db import connection

from dashboard.enums import JobState
from dashboard.jobs import requeue_stale_jobs
from dashboard.models import Job
from hits.enums import DecisionState
from hits.models import Decision
from tests.hits.test_decisions import (
    assert_each_approved_and_paid_once,
    assert_job_done,
    balance,
    five_hundred,  # noqa: F401 - a fixture
    start_bulk_approval,
    truth_by_id,
)

# The smallest JOB_STALE_AFTER_SECONDS the settings accept: how long a dead worker's job waits.
STALE_SECONDS = 10
KILL_AFTER_DONE = 100


def database_url() -> str:
    """The URL of the database this test runs on (the test database), for the worker processes."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        name = str(db["NAME"])
        assert "memory" not in name, "the SQLite test database must be a file (tests/settings.py)"
        return f"sqlite:///{name}?timeout=20&transaction_mode=IMMEDIATE"
    assert connection.vendor == "postgresql", connection.vendor
    auth = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"], safe="")
    host = db["HOST"] or "127.0.0.1"
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{auth}@{host}{port}/{db['NAME']}"


class Worker:
    """One `celery worker` process with its output in a log file."""

    def __init__(self, name: str, log_dir: Path) -> None:
        self.log_path = log_dir / f"{name}.log"
        env = dict(os.environ)
        env.update(
            DJANGO_SETTINGS_MODULE="tests.settings",
            VAR_DIR=str(django_settings.VAR_DIR),
            CELERY_TASK_DEFAULT_QUEUE=django_settings.CELERY_TASK_DEFAULT_QUEUE,
            DATABASE_URL=database_url(),
            JOB_STALE_AFTER_SECONDS=str(STALE_SECONDS),
            # Slow enough that the job is still running when the test kills the worker.
            MTURK_RATE_LIMIT_PER_SECOND="100",
            MTURK_RATE_LIMIT_BURST="10",
        )
        if django_settings.CELERY_BROKER_IS_REDIS:
            env["CELERY_BROKER_URL"] = django_settings.CELERY_BROKER_URL
        else:
            env.pop("CELERY_BROKER_URL", None)  # the filesystem broker under VAR_DIR
        command = [
            str(Path(sys.executable).with_name("celery")),
            "-A",
            "dashboard",
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            "-Q",
            django_settings.CELERY_TASK_DEFAULT_QUEUE,
            "-n",
            f"{name}@%h",
            "--without-mingle",
            "--without-gossip",
        ]
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            command,
            cwd=django_settings.BASE_DIR,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no warm shutdown, nothing acknowledged or cleaned up."""
        if self.alive():
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.alive():
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace").splitlines()
        return f"--- {self.log_path.name} ---\n" + "\n".join(text[-lines:])


def wait_until(predicate, *, timeout: float, what: str, workers: list[Worker]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        dead = [w for w in workers if not w.alive()]
        assert not dead, f"a worker exited while waiting for {what}\n" + dead[0].log_tail()
        time.sleep(0.2)
    logs = "\n".join(w.log_tail() for w in workers)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}\n{logs}")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_bulk_approval_of_500_is_exactly_once_when_its_worker_is_killed_mid_job(
    emulator_account, fresh_emulator, admin_user, settings, tmp_path, request
):
    settings.JOB_STALE_AFTER_SECONDS = STALE_SECONDS
    control = fresh_emulator.control
    first = Worker("crash-first", tmp_path)  # boots while the assignments are set up
    workers = [first]
    try:
        assignments = request.getfixturevalue("five_hundred")
        before = balance(control)

        job = start_bulk_approval(emulator_account, assignments, admin_user)  # enqueued on commit
        wait_until(
            lambda: Job.objects.get(pk=job.pk).done >= KILL_AFTER_DONE,
            timeout=60,
            what=f"the first worker to approve {KILL_AFTER_DONE}",
            workers=workers,
        )
        first.kill()

        job.refresh_from_db()
        approved_at_kill = sum(
            truth_by_id(control)[a.assignment_id]["ApproveCount"] for a in assignments
        )
        sending_at_kill = Decision.objects.filter(job=job, state=DecisionState.SENDING).count()
        assert job.state == JobState.RUNNING and not job.is_finished
        assert KILL_AFTER_DONE <= job.done < 500 and job.attempts == 1
        assert KILL_AFTER_DONE <= approved_at_kill < 500

        second = Worker("crash-second", tmp_path)
        workers.append(second)
        # The janitor (beat's requeue_stale_jobs) hands the job out again once its heartbeat is
        # older than the stale limit. (The dead worker's message is not redelivered in time: the
        # filesystem broker took it off the queue, Redis holds it for its visibility timeout.)
        wait_until(
            lambda: job.pk in requeue_stale_jobs() or Job.objects.get(pk=job.pk).attempts > 1,
            timeout=STALE_SECONDS + 20,
            what="the janitor to find the job stale",
            workers=[second],
        )
        wait_until(
            lambda: Job.objects.get(pk=job.pk).is_finished,
            timeout=120,
            what="the second worker to finish the job",
            workers=[second],
        )

        assert_job_done(job, 500)
        assert job.attempts == 2
        assert_each_approved_and_paid_once(control, assignments, before)
        # Only a decision caught in flight by the kill can have found its approval already made.
        already = Decision.objects.filter(job=job, state=DecisionState.ALREADY).count()
        assert already <= sending_at_kill <= 1
        calls = control.get("calls")["call_counts"]
        assert 500 <= calls["ApproveAssignment"] <= 500 + sending_at_kill
    finally:
        for worker in workers:
            worker.stop()
