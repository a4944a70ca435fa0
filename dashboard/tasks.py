"""Thin Celery wrappers over the core's services: running jobs."""

from __future__ import annotations

from celery import shared_task

from dashboard import intents, jobs


@shared_task(name=jobs.RUN_JOB_TASK)
def task_run_job(*, job_id: int, **_legacy: object) -> str | None:
    """Run a Job row to its end (see dashboard.jobs); a no-op if another worker has it."""
    state = jobs.run_job(job_id=job_id)
    return str(state) if state else None


@shared_task(name="dashboard.requeue_stale_jobs")
def task_requeue_stale_jobs() -> list[int]:
    """Beat: hand out again jobs whose message was lost or whose worker died."""
    return jobs.requeue_stale_jobs()


@shared_task(name="dashboard.requeue_stale_intents")
def task_requeue_stale_intents() -> dict[str, int]:
    """Beat: send again the intents (of every kind) that nobody is carrying out."""
    return intents.requeue_stale_intents()
