"""Thin Celery wrappers over hits services."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone


@shared_task(bind=True, name="hits.execute_decision", max_retries=5)
def task_execute_decision(self, *, decision_id: int, **_legacy: object) -> str | None:
    """Send one inline decision; retried with backoff while MTurk throttles or fails."""
    from dashboard.mturk_access import CallStatsRecorder, gateway_for
    from hits.enums import DecisionState
    from hits.models import Decision
    from hits.services import execute_decision

    decision = Decision.objects.select_related("account").filter(pk=decision_id).first()
    if decision is None:
        return None
    recorder = CallStatsRecorder(decision.account)
    try:
        result = execute_decision(
            decision_id=decision_id, gateway=gateway_for(decision.account, recorder=recorder)
        )
    finally:
        recorder.flush()
    if result is not None and result.state == DecisionState.PENDING:
        raise self.retry(countdown=5 * 2**self.request.retries)
    return result.state if result else None


@shared_task(name="hits.requeue_stale_decisions")
def task_requeue_stale_decisions() -> int:
    """Beat: inline decisions (no job) whose message was lost or whose worker died are sent again,
    and so are decisions left open by a job that ended without carrying them out (its handler
    crashed): nothing else would ever send them, and they would block new decisions forever."""
    from django.db.models import Q

    from dashboard.enums import JobState
    from hits.enums import DecisionState
    from hits.models import Decision
    from hits.services import MAX_ATTEMPTS, give_up

    now = timezone.now()
    stale = now - timedelta(seconds=settings.JOB_STALE_AFTER_SECONDS)
    # Decisions that keep failing with retryable errors are not sent forever.
    for decision in Decision.objects.filter(
        state__in=DecisionState.open(), attempts__gte=MAX_ATTEMPTS
    ).exclude(state=DecisionState.SENDING, claimed_at__gte=stale)[:1000]:
        give_up(decision)
    ids = list(
        Decision.objects.filter(Q(job__isnull=True) | Q(job__state__in=JobState.finished()))
        .filter(
            state__in=DecisionState.open(),
            created_at__lt=now - timedelta(seconds=60),
        )
        .exclude(state=DecisionState.SENDING, claimed_at__gte=stale)
        .values_list("pk", flat=True)[:1000]
    )
    for decision_id in ids:
        task_execute_decision.delay(decision_id=decision_id)
    return len(ids)
