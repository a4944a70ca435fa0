"""The one machinery that carries out intents (dashboard.models.Intent): every change we make at
MTurk goes through these functions, whatever its kind.

1. A service records intent rows (state `pending`), in a bulk job or on their own.
2. A worker `claim`s one with a conditional UPDATE (pending -> sending), so two workers never send
   the same row; a `sending` row whose worker went silent may be claimed again.
3. `audited_call` makes the one gateway call and records the outcome: done (or "already", when MTurk
   says it was done before: a retry after a crash), back to pending after a retryable error, or
   failed; with an audit event.
4. Beat's `requeue_stale_intents` sends again the intents nobody is carrying out, and `give_up`s the
   ones that keep meeting retryable errors.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import timedelta
from functools import partial
from typing import Protocol, TypeVar

from django.apps import apps
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from dashboard.dispatch import enqueue_task
from dashboard.enums import AuditOutcome, IntentState, JobState
from dashboard.models import Intent
from dashboard.services import record_audit_event
from mturk.errors import MTurkError

logger = logging.getLogger(__name__)

# An intent that keeps meeting retryable errors (throttling, 5xx) is given up after this many tries.
MAX_ATTEMPTS = 6
# A pending intent normally starts within seconds; one this old with no job has lost its message.
LOST_AFTER = timedelta(seconds=60)

IntentT = TypeVar("IntentT", bound=Intent)


class CallResult(Protocol):
    """What the gateway returns for a write: its request id, and whether MTurk had already done it
    (confirmed by reading back), e.g. mturk.gateway.ReviewResult or BonusResult."""

    @property
    def request_id(self) -> str | None: ...

    @property
    def already(self) -> bool: ...


ResultT = TypeVar("ResultT", bound=CallResult)


def save_new(rows: list[IntentT], *, refused: Callable[[IntentT], None]) -> list[IntentT]:
    """Insert new intent rows and return those saved. A row a constraint refuses (typically "one
    open intent per target": another request recorded one for the same target meanwhile) is
    handed to `refused` and left out; the others are kept."""
    if not rows:
        return rows
    manager = type(rows[0])._default_manager
    try:
        with transaction.atomic():
            manager.bulk_create(rows, batch_size=500)
        return rows
    except IntegrityError:
        pass
    saved = []
    for row in rows:
        row.pk = None
        try:
            with transaction.atomic():
                row.save()
            saved.append(row)
        except IntegrityError:
            refused(row)
    return saved


def send_after_commit(intents: Iterable[Intent]) -> None:
    """Enqueue the task that sends each (single) intent once the transaction recording it commits."""
    for intent in intents:
        transaction.on_commit(partial(enqueue_task, intent.execute_task, intent_id=intent.pk))


def claim(
    model: type[IntentT],
    pk: int,
    *,
    reclaim_sending: bool = False,
    select_related: Sequence[str] = (),
    defer: Sequence[str] = (),
) -> IntentT | None:
    """pending -> sending, or take over a `sending` row whose worker went silent (or, with
    `reclaim_sending`, any `sending` row: the caller owns the job whose earlier worker died).
    Returns the row as now claimed, or None when someone else has it or it is finished."""
    now = timezone.now()
    stale = now if reclaim_sending else now - timedelta(seconds=settings.JOB_STALE_AFTER_SECONDS)
    claimed = model._default_manager.filter(
        Q(state=IntentState.PENDING) | Q(state=IntentState.SENDING, claimed_at__lte=stale), pk=pk
    ).update(state=IntentState.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    if claimed != 1:
        return None
    return (
        model._default_manager.select_related("account", "requested_by", *select_related)
        .defer(*defer)
        .get(pk=pk)
    )


def finish(intent: IntentT, **changes: object) -> IntentT:
    """Write the intent's new state, and keep the row in hand in step without reading it back."""
    type(intent)._default_manager.filter(pk=intent.pk).update(**changes)
    for name, value in changes.items():
        setattr(intent, name, value)
    return intent


def _audit(
    intent: Intent,
    outcome: AuditOutcome,
    *,
    error: str = "",
    request_id: str = "",
    **extra_parameters: object,
) -> None:
    record_audit_event(
        action=intent.audit_action(),
        outcome=outcome,
        actor=intent.requested_by,
        account=intent.account,
        target_ids=intent.audit_targets(),
        parameters={**intent.audit_parameters(), **extra_parameters},
        error=error,
        mturk_request_id=request_id,
    )


def fail(
    intent: IntentT, *, error: str, request_id: str = "", **extra_parameters: object
) -> IntentT:
    """End a claimed intent as failed for good, with a failed audit event: every permanent failure
    is in the audit log, whether the intent's own call failed or a step before it (e.g. the HIT
    type a HIT needs). `extra_parameters` say where it failed."""
    finish(
        intent,
        state=IntentState.FAILED,
        error=error[:2000],
        mturk_request_id=request_id,
        finished_at=timezone.now(),
    )
    _audit(intent, AuditOutcome.FAILED, error=error, request_id=request_id, **extra_parameters)
    return intent


def audited_call(
    intent: IntentT,
    call: Callable[[], ResultT],
    *,
    on_success: Callable[[ResultT], None] | None = None,
) -> IntentT:
    """Make the one gateway call of a claimed intent and record what came of it.

    - Success: `on_success(result)` (e.g. write MTurk's answer into the mirror), the state (done, or
      already when MTurk had done it before), and a succeeded audit event, in one transaction.
    - A retryable MTurk error (throttling, 5xx): back to pending with the error, for a later try.
    - Any other MTurk error: failed, with a failed audit event.
    """
    try:
        result = call()
    except MTurkError as exc:
        request_id = exc.request_id or ""
        if exc.retryable:
            return finish(
                intent,
                state=IntentState.PENDING,
                error=str(exc)[:2000],
                mturk_request_id=request_id,
                finished_at=None,
            )
        return fail(intent, error=str(exc), request_id=request_id)
    request_id = result.request_id or ""
    with transaction.atomic():
        if on_success is not None:
            on_success(result)
        finish(
            intent,
            state=IntentState.ALREADY if result.already else IntentState.DONE,
            error="",
            mturk_request_id=request_id,
            finished_at=timezone.now(),
        )
        _audit(intent, AuditOutcome.SUCCEEDED, request_id=request_id, already=result.already)
    return intent


def give_up(intent: Intent) -> bool:
    """End an open intent after repeated retryable errors, with a failed audit event. False when
    another worker finished it first."""
    error = f"Gave up after {intent.attempts} attempts met throttling or service errors: {intent.error}"[
        :2000
    ]
    ended = (
        type(intent)
        ._default_manager.filter(pk=intent.pk, state__in=IntentState.open())
        .update(state=IntentState.GAVE_UP, error=error, finished_at=timezone.now())
    )
    if ended:
        intent.state, intent.error = IntentState.GAVE_UP, error
        _audit(intent, AuditOutcome.FAILED, error=error)
    return bool(ended)


def intent_models() -> list[type[Intent]]:
    """Every concrete intent model of the installed apps."""
    return [model for model in apps.get_models() if issubclass(model, Intent)]


def requeue_stale(model: type[Intent], *, limit: int = 1000) -> int:
    """Send again the intents of `model` that nobody is carrying out: single ones (no job) whose
    message was lost or whose worker died, and those left open by a job that has ended (its handler
    crashed: nothing else would ever send them, and they would block new intents). Intents that
    keep failing are given up instead. Returns how many were enqueued."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.JOB_STALE_AFTER_SECONDS)
    manager = model._default_manager
    being_sent = Q(state=IntentState.SENDING, claimed_at__gte=stale)
    for worn in (
        manager.filter(state__in=IntentState.open(), attempts__gte=MAX_ATTEMPTS)
        .exclude(being_sent)
        .select_related("account", "requested_by")[:limit]
    ):
        give_up(worn)
    ids = list(
        manager.filter(Q(job__isnull=True) | Q(job__state__in=JobState.finished()))
        .filter(state__in=IntentState.open(), created_at__lt=now - LOST_AFTER)
        .exclude(being_sent)
        .values_list("pk", flat=True)[:limit]
    )
    for intent_id in ids:
        enqueue_task(model.execute_task, intent_id=intent_id)
    if ids:
        logger.warning("requeued %s stale %s rows", len(ids), model._meta.verbose_name)
    return len(ids)


def requeue_stale_intents() -> dict[str, int]:
    """Beat: `requeue_stale` for every kind of intent."""
    return {model._meta.label: requeue_stale(model) for model in intent_models()}
