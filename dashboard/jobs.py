"""The one pattern for long operations: a Job row, a Celery task, a progress bar that polls.

1. A view calls `start_job(...)`: the row is created and the task is enqueued after commit.
2. The worker runs `run_job(job_id=...)`, which claims the row with a conditional UPDATE and calls
   the handler registered for the job's kind with a `Progress` to report through.
3. The job page polls a fragment (`dashboard/job_detail.html#job-progress`) until the job finishes.

Handlers must be resumable: if a worker dies, the janitor (`requeue_stale_jobs`) hands the job to
another worker, which calls the handler again from the start. Handlers that move money or change
MTurk state keep their own intent rows and skip what is already done.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import F, Q
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerUnavailable
from redis.exceptions import ConnectionError as RedisUnavailable
from redis.exceptions import TimeoutError as RedisTimeout

from dashboard.dispatch import enqueue_task
from dashboard.enums import JobKind, JobState
from dashboard.models import Job, RequesterAccount

logger = logging.getLogger(__name__)

# The Celery task that runs a job (dashboard.tasks.task_run_job), named rather than imported: the
# task module sits above this one.
RUN_JOB_TASK = "dashboard.run_job"


# Our own infrastructure going away under a job (Redis, which holds the broker and the rate limiter,
# or the database restarting): no fault of the job. It is handed back (pending) for the janitor to
# start again once they are back, rather than ended as failed; after this many claims it fails.
INFRASTRUCTURE_ERRORS = (
    RedisUnavailable,
    RedisTimeout,
    BrokerUnavailable,
    OperationalError,
    InterfaceError,
)
MAX_INTERRUPTED_ATTEMPTS = 20


class JobFailed(Exception):
    """Raised by a handler to end its job as failed with a message meant for the user."""


@dataclass
class Progress:
    """What a handler reports through. Writes are single UPDATEs keyed on the job id."""

    job: Job

    def set_total(self, total: int) -> None:
        Job.objects.filter(pk=self.job.pk).update(total=total, heartbeat_at=timezone.now())
        self.job.total = total

    def advance(self, done: int = 1, *, failed: int = 0, message: str | None = None) -> None:
        changes: dict[str, Any] = {
            "done": F("done") + done,
            "failed": F("failed") + failed,
            "heartbeat_at": timezone.now(),
        }
        if message is not None:
            changes["message"] = message[:300]
        Job.objects.filter(pk=self.job.pk).update(**changes)

    def reset_counts(self, *, done: int = 0, failed: int = 0) -> None:
        """For a resumed job: set counts to what is really done so far."""
        Job.objects.filter(pk=self.job.pk).update(
            done=done, failed=failed, heartbeat_at=timezone.now()
        )

    def note(self, message: str) -> None:
        Job.objects.filter(pk=self.job.pk).update(
            message=message[:300], heartbeat_at=timezone.now()
        )


JobHandler = Callable[[Job, Progress], Mapping[str, Any] | None]
_HANDLERS: dict[str, JobHandler] = {}


def register_job_handler(kind: JobKind | str, handler: JobHandler) -> None:
    """Make `handler` carry out jobs of `kind` (it returns the job's result dict). Apps call this
    from their AppConfig.ready(), so every process that loads the app knows its kinds."""
    if kind in _HANDLERS and _HANDLERS[kind] is not handler:
        raise ValueError(f"A handler for job kind {kind!r} is already registered.")
    _HANDLERS[str(kind)] = handler


def job_handler(kind: str) -> Callable[[JobHandler], JobHandler]:
    """Decorator form of `register_job_handler`, for tests' own throw-away kinds."""

    def register(func: JobHandler) -> JobHandler:
        register_job_handler(kind, func)
        return func

    return register


def start_job(
    *,
    account: RequesterAccount,
    kind: JobKind | str,
    title: str,
    parameters: Mapping[str, Any] | None = None,
    created_by: Any = None,
    total: int = 0,
) -> Job:
    """Create a job row and enqueue its task once the surrounding transaction commits."""
    if kind not in _HANDLERS:
        raise ValueError(f"No handler is registered for job kind {kind!r}.")
    user = created_by if getattr(created_by, "is_authenticated", False) else None
    job = Job.objects.create(
        account=account,
        kind=str(kind),
        title=title[:200],
        parameters=dict(parameters or {}),
        created_by=user,
        total=total,
    )
    _enqueue_after_commit(job.pk)
    return job


def _enqueue_after_commit(job_id: int) -> None:
    transaction.on_commit(lambda: enqueue_task(RUN_JOB_TASK, job_id=job_id))


def _claim(job_id: int) -> Job | None:
    """Take the job for this worker: pending, or running with a heartbeat older than the stale limit."""
    now = timezone.now()
    stale_before = now - timedelta(seconds=settings.JOB_STALE_AFTER_SECONDS)
    claimable = Q(state=JobState.PENDING) | Q(state=JobState.RUNNING, heartbeat_at__lt=stale_before)
    claimed = Job.objects.filter(claimable, pk=job_id).update(
        state=JobState.RUNNING, started_at=now, heartbeat_at=now, attempts=F("attempts") + 1
    )
    if claimed != 1:
        return None
    return Job.objects.select_related("account").get(pk=job_id)


def run_job(*, job_id: int) -> JobState | None:
    """Run one job to its end. Returns the final state, or None when another worker has it (or it
    was interrupted by the broker or the database going away, and handed back to be resumed)."""
    job = _claim(job_id)
    if job is None:
        logger.info("job %s is not claimable (finished, running elsewhere, or gone)", job_id)
        return None
    handler = _HANDLERS.get(job.kind)
    if handler is None:
        return _finish(
            job, JobState.FAILED, error=f"No handler is registered for job kind {job.kind!r}."
        )
    logger.info("job %s (%s) started, attempt %s", job.pk, job.kind, job.attempts)
    try:
        result = handler(job, Progress(job)) or {}
    except JobFailed as exc:
        return _finish(job, JobState.FAILED, error=str(exc))
    except INFRASTRUCTURE_ERRORS as exc:
        if job.attempts >= MAX_INTERRUPTED_ATTEMPTS:
            logger.exception("job %s (%s) crashed", job.pk, job.kind)
            return _finish(job, JobState.FAILED, error=traceback.format_exc(limit=5))
        _hand_back(job, exc)
        return None
    except Exception:
        logger.exception("job %s (%s) crashed", job.pk, job.kind)
        return _finish(job, JobState.FAILED, error=traceback.format_exc(limit=5))
    return _finish(job, JobState.SUCCEEDED, result=dict(result))


def _hand_back(job: Job, exc: BaseException) -> None:
    """Put an interrupted job back to pending, for `requeue_stale_jobs` to enqueue again (its
    handler resumes: handlers are resumable). When even that cannot be written (the database is
    away) the job stays running, and is requeued once its heartbeat is stale."""
    message = f"Interrupted ({type(exc).__name__}: {exc}); it will be resumed."
    try:
        Job.objects.filter(pk=job.pk, state=JobState.RUNNING).update(
            state=JobState.PENDING, message=message[:300], heartbeat_at=timezone.now()
        )
    except (OperationalError, InterfaceError):
        logger.warning("job %s (%s) interrupted and left running: %s", job.pk, job.kind, exc)
        return
    logger.warning("job %s (%s) interrupted, handed back: %s", job.pk, job.kind, exc)


def _finish(
    job: Job, state: JobState, *, error: str = "", result: dict[str, Any] | None = None
) -> JobState:
    Job.objects.filter(pk=job.pk, state=JobState.RUNNING).update(
        state=state,
        error=error,
        result=result or {},
        finished_at=timezone.now(),
        heartbeat_at=timezone.now(),
    )
    logger.info("job %s (%s) %s", job.pk, job.kind, state)
    return state


def requeue_stale_jobs() -> list[int]:
    """Enqueue again jobs whose enqueue was lost or whose worker died; returns their ids."""
    now = timezone.now()
    stale_before = now - timedelta(seconds=settings.JOB_STALE_AFTER_SECONDS)
    # A pending job normally starts within seconds; one minute old means its message was lost.
    lost_before = now - timedelta(seconds=60)
    job_ids = list(
        Job.objects.filter(
            Q(state=JobState.PENDING, created_at__lt=lost_before)
            | Q(state=JobState.RUNNING, heartbeat_at__lt=stale_before)
        ).values_list("pk", flat=True)
    )
    for job_id in job_ids:
        _enqueue_after_commit(job_id)
    if job_ids:
        logger.warning("requeued stale jobs %s", job_ids)
    return job_ids
