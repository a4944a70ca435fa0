"""Jobs: a real Celery worker running a job through the configured broker, and the progress
fragment that the job page polls."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import connections
from django.urls import reverse
from django.utils import timezone

from dashboard.celery import app
from dashboard.enums import JobState
from dashboard.jobs import JobFailed, job_handler, requeue_stale_jobs, run_job, start_job
from dashboard.models import Job


@job_handler("tests.count")
def _count(job, progress):
    """Counts to parameters['n'], reporting each step, like a bulk action over n items."""
    n = job.parameters["n"]
    progress.set_total(n)
    for _ in range(n):
        progress.advance(message="counting")
    return {"counted": n}


@job_handler("tests.refuse")
def _refuse(job, progress):
    raise JobFailed("The account has no credentials.")


@job_handler("tests.crash")
def _crash(job, progress):
    raise RuntimeError("boom")


def _wait_for(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("timed out waiting for the worker")


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_a_job_through_the_configured_broker(account, admin_user):
    with start_worker(
        app, pool="solo", perform_ping_check=False, shutdown_timeout=10, loglevel="WARNING"
    ):
        job = start_job(
            account=account,
            kind="tests.count",
            title="Count to 25",
            parameters={"n": 25},
            created_by=admin_user,
        )
        _wait_for(lambda: Job.objects.get(pk=job.pk).is_finished)
    connections.close_all()

    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED
    assert (job.done, job.total, job.failed) == (25, 25, 0)
    assert job.result == {"counted": 25}
    assert job.attempts == 1
    assert job.created_by == admin_user
    assert job.finished_at is not None


@pytest.mark.django_db
def test_a_job_is_enqueued_only_after_commit(account, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        start_job(account=account, kind="tests.count", title="Count", parameters={"n": 1})

    assert len(callbacks) == 1


@pytest.mark.django_db
def test_a_finished_job_is_not_run_again(account):
    job = start_job(account=account, kind="tests.count", title="Count", parameters={"n": 3})

    assert run_job(job_id=job.pk) == JobState.SUCCEEDED
    assert run_job(job_id=job.pk) is None
    job.refresh_from_db()
    assert (job.done, job.attempts) == (3, 1)


@pytest.mark.django_db
def test_a_running_job_with_a_live_heartbeat_cannot_be_claimed_twice(account):
    job = start_job(account=account, kind="tests.count", title="Count", parameters={"n": 3})
    Job.objects.filter(pk=job.pk).update(state=JobState.RUNNING, heartbeat_at=timezone.now())

    assert run_job(job_id=job.pk) is None


@pytest.mark.django_db
def test_a_job_whose_worker_died_is_requeued_and_resumed(
    account, settings, django_capture_on_commit_callbacks
):
    job = start_job(account=account, kind="tests.count", title="Count", parameters={"n": 2})
    stale = timezone.now() - timedelta(seconds=settings.JOB_STALE_AFTER_SECONDS + 1)
    Job.objects.filter(pk=job.pk).update(state=JobState.RUNNING, heartbeat_at=stale, attempts=1)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert requeue_stale_jobs() == [job.pk]
    assert len(callbacks) == 1

    assert run_job(job_id=job.pk) == JobState.SUCCEEDED
    job.refresh_from_db()
    assert job.attempts == 2


@pytest.mark.django_db
def test_failures_are_recorded_with_their_reason(account):
    refused = start_job(account=account, kind="tests.refuse", title="Refuse")
    crashed = start_job(account=account, kind="tests.crash", title="Crash")

    assert run_job(job_id=refused.pk) == JobState.FAILED
    assert run_job(job_id=crashed.pk) == JobState.FAILED
    refused.refresh_from_db()
    crashed.refresh_from_db()
    assert refused.error == "The account has no credentials."
    assert "RuntimeError: boom" in crashed.error


@pytest.mark.django_db
def test_unknown_job_kind_is_refused(account):
    with pytest.raises(ValueError, match="No handler"):
        start_job(account=account, kind="no.such.kind", title="?")


@pytest.mark.django_db
def test_progress_fragment_polls_until_finished_then_stops(staff_client, account):
    job = start_job(account=account, kind="tests.count", title="Count to 4", parameters={"n": 4})
    url = reverse("job-detail", kwargs={"slug": account.slug, "pk": job.pk})

    page = staff_client.get(url)
    polling = staff_client.get(url, headers={"HX-Request": "true"})
    run_job(job_id=job.pk)
    finished = staff_client.get(url, headers={"HX-Request": "true"})

    assert page.status_code == 200
    assert b"<html" in page.content and b'id="job-progress"' in page.content
    assert polling.status_code == 200
    assert b"<html" not in polling.content
    assert b'hx-trigger="every 1s"' in polling.content
    assert finished.status_code == 286  # htmx stops polling
    assert b"hx-trigger" not in finished.content
    assert b"100%" in finished.content and b"4 done" in finished.content


@job_handler("tests.limited")
def _limited(job, progress):
    """Takes its turn at a Redis rate limiter, as every MTurk call does (fault drill: Redis gone)."""
    from mturk.ratelimit import RedisRateLimiter

    if job.parameters.get("redis_url"):
        RedisRateLimiter(job.parameters["redis_url"], "tests:limited", 10, 1).acquire()
    return {"ran": True}


@pytest.mark.django_db
def test_a_job_interrupted_by_redis_going_away_is_handed_back_not_failed(account):
    """bench/faults.py restart-redis: the broker's Redis (which also holds the rate limiter) went
    away mid-job and the job ended failed, its rows then sent one by one behind its back. It is now
    handed back to pending and resumed by the janitor once Redis is back."""
    job = start_job(
        account=account,
        kind="tests.limited",
        title="Limited",
        parameters={"redis_url": f"redis://127.0.0.1:{_free_port()}/0"},  # nothing listens there
    )
    assert run_job(job_id=job.pk) is None
    job.refresh_from_db()
    assert job.state == JobState.PENDING
    assert job.error == ""
    assert "ConnectionError" in job.message and "resumed" in job.message

    # Redis is back: the janitor sends the pending job again and it is resumed.
    Job.objects.filter(pk=job.pk).update(
        created_at=timezone.now() - timedelta(minutes=2), parameters={}
    )
    assert requeue_stale_jobs() == [job.pk]
    assert run_job(job_id=job.pk) == JobState.SUCCEEDED
    job.refresh_from_db()
    assert job.attempts == 2 and job.result == {"ran": True}


@pytest.mark.django_db
def test_a_job_interrupted_again_and_again_ends_failed(account, monkeypatch):
    from dashboard import jobs

    monkeypatch.setattr(jobs, "MAX_INTERRUPTED_ATTEMPTS", 1)
    job = start_job(
        account=account,
        kind="tests.limited",
        title="Limited",
        parameters={"redis_url": f"redis://127.0.0.1:{_free_port()}/0"},
    )
    assert run_job(job_id=job.pk) == JobState.FAILED
    job.refresh_from_db()
    assert "ConnectionError" in job.error


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
