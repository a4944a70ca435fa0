"""Review decisions: approve, reject and undo a rejection, one at a time or in bulk.

Every decision is first a `Decision` row (an intent). A worker claims it with a conditional UPDATE
(pending -> sending), sends it through the gateway, and records the outcome on the row, on the
mirrored assignment and in the audit log. A crash leaves a row in `sending`; claiming it again is
safe because MTurk refuses a second approval and the gateway confirms "already approved" with
GetAssignment instead of failing. So each assignment is approved, and paid, once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from dashboard.enums import AuditOutcome
from dashboard.models import Job, RequesterAccount
from dashboard.services import record_audit_event
from hits.enums import AssignmentStatus, DecisionAction, DecisionState
from hits.models import Assignment, Decision
from hits.rules import MAX_FEEDBACK, OVERRIDE_WINDOW
from mturk import records
from mturk.errors import MTurkError

logger = logging.getLogger(__name__)

# A decision that keeps meeting retryable errors (throttling, 5xx) is given up after this many tries.
MAX_ATTEMPTS = 6


class DecisionError(ValueError):
    """The decision cannot be requested (bad feedback, wrong status); the message says why."""


def override_deadline(assignment: Assignment) -> Any:
    return assignment.submit_time + OVERRIDE_WINDOW if assignment.submit_time else None


def refusal(assignment: Assignment, action: str, *, now: Any = None) -> str | None:
    """Why `action` is not possible on the assignment now, or None when it is."""
    now = now or timezone.now()
    if action in (DecisionAction.APPROVE, DecisionAction.REJECT):
        if assignment.status != AssignmentStatus.SUBMITTED:
            return f"it is already {assignment.status.lower()}"
        return None
    if action == DecisionAction.OVERRIDE:
        if assignment.status != AssignmentStatus.REJECTED:
            return "only a rejected assignment can have its rejection undone"
        deadline = override_deadline(assignment)
        if deadline is None or now > deadline:
            return "MTurk allows undoing a rejection only within 30 days of submission"
        return None
    return f"unknown action {action!r}"


def clean_feedback(action: str, feedback: str) -> str:
    feedback = (feedback or "").strip()
    if action == DecisionAction.REJECT and not feedback:
        raise DecisionError("A rejection needs a reason: MTurk shows it to the worker.")
    if len(feedback) > MAX_FEEDBACK:
        raise DecisionError(f"Feedback is limited to {MAX_FEEDBACK} characters.")
    return feedback


@dataclass
class RequestOutcome:
    decisions: list[Decision] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (assignment id, why)


def request_decisions(
    *,
    account: RequesterAccount,
    assignments: Iterable[Assignment],
    action: DecisionAction | str,
    feedback: str = "",
    requested_by: Any = None,
    job: Job | None = None,
) -> RequestOutcome:
    """Record decisions (intents) for the assignments that allow them; nothing is sent yet.

    Assignments with a decision already in flight, or whose status forbids the action, are skipped
    with the reason. Raises DecisionError for a bad request as a whole (e.g. reject without reason).
    """
    action = DecisionAction(action)
    feedback = clean_feedback(action, feedback)
    user = requested_by if getattr(requested_by, "is_authenticated", False) else None
    outcome = RequestOutcome()
    now = timezone.now()
    candidates = []
    for assignment in assignments:
        if assignment.account_id != account.pk:
            outcome.skipped.append((assignment.assignment_id, "it belongs to another account"))
            continue
        why = refusal(assignment, action, now=now)
        if why:
            outcome.skipped.append((assignment.assignment_id, why))
            continue
        candidates.append(assignment)
    with transaction.atomic():
        busy = (
            set(
                Decision.objects.open()
                .filter(assignment__in=[a.pk for a in candidates])
                .values_list("assignment_id", flat=True)
            )
            if len(candidates) <= 5000
            else _busy_in_chunks(candidates)
        )
        rows = []
        for assignment in candidates:
            if assignment.pk in busy:
                outcome.skipped.append(
                    (assignment.assignment_id, "a decision for it is already in progress")
                )
            else:
                rows.append(
                    Decision(
                        account=account,
                        assignment=assignment,
                        action=action,
                        feedback=feedback,
                        requested_by=user,
                        job=job,
                    )
                )
        try:
            with transaction.atomic():
                Decision.objects.bulk_create(rows, batch_size=500)
        except IntegrityError:
            # Another request recorded a decision for some of these meanwhile (the constraint
            # allows one open decision per assignment): keep the others, skip those.
            rows = _create_one_by_one(rows, outcome)
    outcome.decisions = rows
    return outcome


def _create_one_by_one(rows: list[Decision], outcome: RequestOutcome) -> list[Decision]:
    created = []
    for row in rows:
        try:
            with transaction.atomic():
                row.save()
            created.append(row)
        except IntegrityError:
            outcome.skipped.append(
                (row.assignment.assignment_id, "a decision for it is already in progress")
            )
    return created


def _busy_in_chunks(candidates: list[Assignment]) -> set[int]:
    busy: set[int] = set()
    for start in range(0, len(candidates), 5000):
        chunk = [a.pk for a in candidates[start : start + 5000]]
        busy.update(
            Decision.objects.open()
            .filter(assignment__in=chunk)
            .values_list("assignment_id", flat=True)
        )
    return busy


def _claim(decision_id: int, *, reclaim_sending: bool = False) -> Decision | None:
    """pending -> sending, or take over a `sending` row whose worker went silent (or, with
    `reclaim_sending`, any `sending` row: the caller owns the job whose earlier worker died)."""
    now = timezone.now()
    stale = now if reclaim_sending else now - timedelta(seconds=settings.JOB_STALE_AFTER_SECONDS)
    claimed = Decision.objects.filter(
        Q(state=DecisionState.PENDING) | Q(state=DecisionState.SENDING, claimed_at__lte=stale),
        pk=decision_id,
    ).update(state=DecisionState.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    if claimed != 1:
        return None
    return (
        Decision.objects.select_related(
            "assignment__hit", "assignment__worker", "account", "requested_by"
        )
        # Sending a decision needs ids and states, not the kilobytes of question and answers.
        .defer(
            "assignment__answer_xml",
            "assignment__answers",
            "assignment__hit__question",
            "assignment__hit__description",
            "assignment__hit__layout_parameters",
            "assignment__hit__qualification_requirements",
        )
        .get(pk=decision_id)
    )


def _apply_to_mirror(
    assignment: Assignment,
    record: records.Assignment | None,
    action: str,
    feedback: str,
    *,
    refresh_counts: bool,
) -> None:
    """Write what MTurk now says about the assignment (or, lacking a record, what it must say)."""
    from hits.sync import refresh_worker_counts

    now = timezone.now()
    if record is not None:
        assignment.status = record.status
        assignment.approval_time = record.approval_time
        assignment.rejection_time = record.rejection_time
        assignment.requester_feedback = record.requester_feedback or ""
    elif action == DecisionAction.REJECT:
        assignment.status, assignment.rejection_time, assignment.requester_feedback = (
            AssignmentStatus.REJECTED,
            now,
            feedback,
        )
    else:
        assignment.status, assignment.approval_time, assignment.requester_feedback = (
            AssignmentStatus.APPROVED,
            now,
            feedback,
        )
    assignment.synced_at = now
    assignment.save(
        update_fields=[
            "status",
            "approval_time",
            "rejection_time",
            "requester_feedback",
            "synced_at",
        ]
    )
    if refresh_counts:
        refresh_worker_counts(worker_pks=[assignment.worker_id])


def _finish(decision: Decision, **changes: Any) -> Decision:
    """Write the decision's new state, and keep the returned row in step without reading it back."""
    Decision.objects.filter(pk=decision.pk).update(**changes)
    for name, value in changes.items():
        setattr(decision, name, value)
    return decision


def execute_decision(
    *,
    decision_id: int,
    gateway: Any,
    reclaim_sending: bool = False,
    refresh_worker_counts: bool = True,
) -> Decision | None:
    """Send one decision to MTurk if nobody else has it; returns the row (None if not claimable).

    A bulk job passes `refresh_worker_counts=False` and refreshes the counts of the workers it
    touched once per batch (`hits.sync.refresh_worker_counts`): recounting a worker's assignments
    after every single decision was the largest cost of a decision after the MTurk call itself."""
    decision = _claim(decision_id, reclaim_sending=reclaim_sending)
    if decision is None:
        return None
    assignment = decision.assignment
    audit_action = f"assignment.{decision.action}"
    targets = {
        "assignment": assignment.assignment_id,
        "hit": assignment.hit.hit_id,
        "worker": assignment.worker.worker_id,
    }
    try:
        if decision.action == DecisionAction.REJECT:
            result = gateway.reject_assignment(
                assignment_id=assignment.assignment_id, feedback=decision.feedback
            )
        else:
            result = gateway.approve_assignment(
                assignment_id=assignment.assignment_id,
                feedback=decision.feedback or None,
                override_rejection=decision.action == DecisionAction.OVERRIDE,
            )
    except MTurkError as exc:
        state = DecisionState.PENDING if exc.retryable else DecisionState.FAILED
        _finish(
            decision,
            state=state,
            error=str(exc)[:2000],
            mturk_request_id=exc.request_id or "",
            finished_at=None if exc.retryable else timezone.now(),
        )
        if not exc.retryable:
            record_audit_event(
                action=audit_action,
                outcome=AuditOutcome.FAILED,
                actor=decision.requested_by,
                account=decision.account,
                target_ids=targets,
                parameters={"feedback": decision.feedback},
                error=str(exc),
                mturk_request_id=exc.request_id or "",
            )
        return decision
    state = DecisionState.ALREADY if result.already else DecisionState.DONE
    with transaction.atomic():
        _apply_to_mirror(
            assignment,
            result.assignment,
            decision.action,
            decision.feedback,
            refresh_counts=refresh_worker_counts,
        )
        _finish(
            decision,
            state=state,
            error="",
            mturk_request_id=result.request_id or "",
            finished_at=timezone.now(),
        )
        record_audit_event(
            action=audit_action,
            outcome=AuditOutcome.SUCCEEDED,
            actor=decision.requested_by,
            account=decision.account,
            target_ids=targets,
            parameters={"feedback": decision.feedback, "already": result.already},
            mturk_request_id=result.request_id or "",
        )
    return decision


def give_up(decision: Decision) -> bool:
    """End an open decision as failed after repeated retryable errors, with an audit event.
    False when another worker finished it first."""
    error = f"Gave up after {decision.attempts} attempts met throttling or service errors: {decision.error}"[
        :2000
    ]
    ended = Decision.objects.filter(pk=decision.pk, state__in=DecisionState.open()).update(
        state=DecisionState.FAILED, error=error, finished_at=timezone.now()
    )
    if ended:
        assignment = decision.assignment
        record_audit_event(
            action=f"assignment.{decision.action}",
            outcome=AuditOutcome.FAILED,
            actor=decision.requested_by,
            account=decision.account,
            error=error,
            parameters={"feedback": decision.feedback},
            target_ids={
                "assignment": assignment.assignment_id,
                "hit": assignment.hit.hit_id,
                "worker": assignment.worker.worker_id,
            },
        )
    return bool(ended)


def job_decision_counts(job: Job) -> dict[str, int]:
    from django.db.models import Count

    rows = Decision.objects.filter(job=job).values("state").annotate(n=Count("pk"))
    return {row["state"]: row["n"] for row in rows}


def open_decisions(queryset: QuerySet[Decision]) -> QuerySet[Decision]:
    return queryset.filter(state__in=DecisionState.open())
