"""Review decisions: approve, reject and undo a rejection, one at a time or in bulk.

Every decision is first a `Decision` row (an intent). A worker claims it with a conditional UPDATE
(pending -> sending), sends it through the gateway, and records the outcome on the row, on the
mirrored assignment and in the audit log. A crash leaves a row in `sending`; claiming it again is
safe because MTurk refuses a second approval and the gateway confirms "already approved" with
GetAssignment instead of failing. So each assignment is approved, and paid, once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Model, QuerySet
from django.utils import timezone

from dashboard import intents
from dashboard.enums import JobKind
from dashboard.jobs import start_job
from dashboard.models import Job, RequesterAccount
from hits import review, upload_plan
from hits.enums import AssignmentStatus, BatchSource, DecisionAction, DecisionState
from hits.models import HIT, Assignment, Batch, Decision, HITType, RejectionReason, ResultsUpload
from hits.rules import (
    FROM_REQUESTER_WEBSITE,
    HIT_DELETED,
    MAX_FEEDBACK,
    OVERRIDE_WINDOW,
    from_requester_website,
)
from hits.sync import refresh_worker_counts
from mturk import records
from mturk.gateway import MTurkGateway, ReviewResult

logger = logging.getLogger(__name__)


class DecisionError(ValueError):
    """The decision cannot be requested (bad feedback, wrong status); the message says why."""


def override_deadline(assignment: Assignment) -> datetime | None:
    return assignment.submit_time + OVERRIDE_WINDOW if assignment.submit_time else None


def refusal(assignment: Assignment, action: str, *, now: Any = None) -> str | None:
    """Why `action` is not possible on the assignment now, or None when it is. Reads the
    assignment's HIT: load it with the assignment (select_related) when checking many."""
    now = now or timezone.now()
    if action not in (DecisionAction.APPROVE, DecisionAction.REJECT, DecisionAction.OVERRIDE):
        return f"unknown action {action!r}"
    wanted = (
        AssignmentStatus.REJECTED
        if action == DecisionAction.OVERRIDE
        else AssignmentStatus.SUBMITTED
    )
    if assignment.status != wanted:
        if action == DecisionAction.OVERRIDE:
            return "only a rejected assignment can have its rejection undone"
        return f"it is already {assignment.status.lower()}"
    # A HIT deleted at MTurk, or published from the Requester website (hits.rules); upload_plan
    # refuses the same rows.
    blocked = _blocked(assignment.hit)
    if blocked:
        return blocked
    if action == DecisionAction.OVERRIDE:
        deadline = override_deadline(assignment)
        if deadline is None or now > deadline:
            return "MTurk allows undoing a rejection only within 30 days of submission"
    return None


def clean_feedback(action: str, feedback: str) -> str:
    feedback = (feedback or "").strip()
    if action == DecisionAction.REJECT and not feedback:
        raise DecisionError("A rejection needs a reason: MTurk shows it to the worker.")
    if len(feedback) > MAX_FEEDBACK:
        raise DecisionError(f"Feedback is limited to {MAX_FEEDBACK} characters.")
    return feedback


@dataclass(frozen=True)
class DecisionStatus:
    """What the decision cell of one assignment shows: the decision in flight, the last finished
    one, and whether (and until when) a rejection can be undone."""

    open_decision: Decision | None
    last_decision: Decision | None
    deadline: datetime | None
    can_override: bool
    # Why no decision at all can be made here (the HIT was deleted at MTurk, or published from
    # the Requester website), or "".
    blocked: str = ""


def decision_statuses(assignments: Sequence[Assignment]) -> list[DecisionStatus]:
    """The decision status of each assignment, in order. Two queries for any number of rows."""
    pks = [a.pk for a in assignments]
    in_flight = {d.assignment_id: d for d in Decision.objects.open().filter(assignment__in=pks)}
    finished: dict[int, Decision] = {}
    for d in (
        Decision.objects.filter(assignment__in=pks)
        .exclude(state__in=DecisionState.open())
        .order_by("pk")
    ):
        finished[d.assignment_id] = d
    now = timezone.now()
    return [
        DecisionStatus(
            open_decision=in_flight.get(a.pk),
            last_decision=finished.get(a.pk),
            deadline=override_deadline(a),
            can_override=refusal(a, DecisionAction.OVERRIDE, now=now) is None,
            blocked=_blocked(a.hit),
        )
        for a in assignments
    ]


def _blocked(hit: HIT) -> str:
    """Why no decision can be made on any assignment of the HIT (see hits.rules), or ""."""
    if hit.disposed_at is not None:
        return HIT_DELETED
    return FROM_REQUESTER_WEBSITE if from_requester_website(hit.annotation) else ""


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
        # A constraint allows one open decision per assignment: one recorded meanwhile by
        # another request is skipped, the others kept.
        rows = intents.save_new(
            rows,
            refused=lambda row: outcome.skipped.append(
                (row.assignment.assignment_id, "a decision for it is already in progress")
            ),
        )
    outcome.decisions = rows
    return outcome


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
    return intents.claim(
        Decision,
        decision_id,
        reclaim_sending=reclaim_sending,
        select_related=("assignment__hit", "assignment__worker"),
        # Sending a decision needs ids and states, not the kilobytes of question and answers.
        defer=(
            "assignment__answer_xml",
            "assignment__answers",
            "assignment__hit__question",
            "assignment__hit__description",
            "assignment__hit__layout_parameters",
            "assignment__hit__inputs",
            "assignment__hit__qualification_requirements",
        ),
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


def execute_decision(
    *,
    decision_id: int,
    gateway: MTurkGateway,
    reclaim_sending: bool = False,
    refresh_counts: bool = True,
) -> Decision | None:
    """Send one decision to MTurk if nobody else has it; returns the row (None if not claimable).

    A bulk job passes `refresh_counts=False` and refreshes the counts of the workers it
    touched once per batch (`hits.sync.refresh_worker_counts`): recounting a worker's assignments
    after every single decision was the largest cost of a decision after the MTurk call itself."""
    decision = _claim(decision_id, reclaim_sending=reclaim_sending)
    if decision is None:
        return None
    assignment = decision.assignment

    def send() -> ReviewResult:
        if decision.action == DecisionAction.REJECT:
            return gateway.reject_assignment(
                assignment_id=assignment.assignment_id, feedback=decision.feedback
            )
        return gateway.approve_assignment(
            assignment_id=assignment.assignment_id,
            feedback=decision.feedback or None,
            override_rejection=decision.action == DecisionAction.OVERRIDE,
        )

    def apply(result: ReviewResult) -> None:
        _apply_to_mirror(
            assignment,
            result.assignment,
            decision.action,
            decision.feedback,
            refresh_counts=refresh_counts,
        )

    return intents.audited_call(decision, send, on_success=apply)


def open_decisions(queryset: QuerySet[Decision]) -> QuerySet[Decision]:
    return queryset.filter(state__in=DecisionState.open())


# --- What the review views ask for ----------------------------------------------------------------


def decide_one(
    *,
    account: RequesterAccount,
    assignment: Assignment,
    action: str,
    feedback: str,
    save_reason: bool = False,
    requested_by: Any,
) -> str:
    """An inline decision on one assignment: recorded, then sent by a task once committed (and the
    reason saved for later if asked). Returns why nothing was done, or "" when it is on its way."""
    try:
        with transaction.atomic():
            outcome = request_decisions(
                account=account,
                assignments=[assignment],
                action=action,
                feedback=feedback,
                requested_by=requested_by,
            )
            if save_reason and feedback.strip():
                RejectionReason.objects.get_or_create(
                    account=account, text=feedback.strip(), defaults={"created_by": requested_by}
                )
            intents.send_after_commit(outcome.decisions)
    except DecisionError as exc:
        return str(exc)
    return f"Not done: {outcome.skipped[0][1]}." if outcome.skipped else ""


@dataclass
class BulkPlan:
    """What a bulk decision would do: the assignments it applies to, how many of the chosen ones
    it skips (their status forbids the action), and what it costs."""

    actionable: QuerySet[Assignment]
    count: int
    skipped: int
    cost: Decimal
    batch: Batch | None


def plan_bulk_decision(
    *,
    hit_type: HITType,
    action: str,
    scope: str,
    selected: Iterable[str],
    filters: dict[str, Any],
) -> BulkPlan:
    """The ticked rows (`scope="selected"`), or every row matching the grid's filters."""
    if scope == "matching":
        targets = review.filtered_assignments(hit_type, filters, None)
    else:
        targets = Assignment.objects.filter(hit_type=hit_type, assignment_id__in=list(selected))
    actionable = (
        targets.filter(
            status=AssignmentStatus.REJECTED
            if action == DecisionAction.OVERRIDE
            else AssignmentStatus.SUBMITTED
        )
        # Nothing can be decided on a HIT deleted at MTurk or published from the Requester
        # website (see `refusal`): counted as skipped, and left out of the cost.
        .filter(hit__disposed_at__isnull=True)
        .exclude(hit__batch__source=BatchSource.REQUESTER_WEBSITE)
    )
    count = actionable.count()
    return BulkPlan(
        actionable=actionable,
        count=count,
        skipped=targets.count() - count,
        cost=review.bulk_cost(actionable, action),
        batch=filters.get("batch") if scope == "matching" else None,
    )


# What a bulk decision's confirmation token is issued for (dashboard.confirmations).
BULK_CONFIRMATION = "hits.bulk_decide"


def bulk_binding(
    *,
    hit_type: HITType,
    action: str,
    feedback: str,
    scope: str,
    selected: Iterable[str],
    filters: dict[str, Any],
) -> dict[str, Any]:
    """What the confirmation page of a bulk decision showed, for its one-time token: the study, the
    decision and its feedback, and exactly which rows: the ticked ones (as a set) or the filter of
    "every matching row" (the rows it matches are counted again when the decisions are recorded)."""
    binding: dict[str, Any] = {
        "hit_type": hit_type.pk,
        "action": action,
        # A hidden input posts its line breaks back as CRLF: the same feedback either way.
        "feedback": "\n".join(feedback.strip().splitlines()),
        "scope": scope,
    }
    if scope == "matching":
        binding["filters"] = {name: _canonical(value) for name, value in filters.items()}
    else:
        binding["rows"] = sorted(set(selected))
    return binding


def _canonical(value: Any) -> Any:
    """A filter value as JSON the same way whichever order or form it was posted in."""
    if isinstance(value, Model):
        return value.pk
    if isinstance(value, list | tuple | set):
        return sorted(str(item) for item in value)
    return value


def start_bulk_decision(
    *,
    account: RequesterAccount,
    hit_type: HITType,
    plan: BulkPlan,
    action: str,
    feedback: str,
    scope: str,
    requested_by: Any,
) -> Job:
    """Record the planned decisions and start the job that sends them at the account's rate."""
    label = DecisionAction(action).label
    title = f"{label} {plan.count} assignment{'s' if plan.count != 1 else ''} of “{hit_type.title[:80]}”"
    if plan.batch is not None:
        title += f", batch {plan.batch.name[:60]}"
    with transaction.atomic():
        job = start_job(
            account=account,
            kind=JobKind.REVIEW_DECIDE,
            title=title,
            parameters={"action": action, "hit_type": hit_type.hit_type_id, "scope": scope},
            created_by=requested_by,
            total=plan.count,
        )
        outcome = request_decisions(
            account=account,
            assignments=plan.actionable.select_related("hit", "worker").iterator(chunk_size=1000),
            action=action,
            feedback=feedback,
            requested_by=requested_by,
            job=job,
        )
        Job.objects.filter(pk=job.pk).update(total=len(outcome.decisions))
    return job


class UploadRefused(ValueError):
    """The uploaded file can no longer be carried out; the message says what to do."""


def _planned_action(row: upload_plan.PlannedDecision) -> str:
    if row.action == "reject":
        return DecisionAction.REJECT
    return DecisionAction.OVERRIDE if row.override else DecisionAction.APPROVE


def decide_from_upload(
    *, account: RequesterAccount, upload: ResultsUpload, requested_by: Any
) -> Job:
    """Carry out an uploaded decisions file, once: planned again now (the mirror may have moved
    since the preview), its decisions recorded under one job. A second call (a double click)
    returns the job of the first. Raises UploadRefused when nothing is left to do."""
    if upload.job is not None:
        return upload.job
    plan = upload_plan.parse_decisions_csv(
        account=account,
        data=bytes(upload.content),
        scope=Assignment.objects.filter(hit_type=upload.hit_type),
    )
    if not plan.ok or not plan.rows:
        raise UploadRefused("The file no longer plans any decision; upload it again to see why.")
    with transaction.atomic():
        job = start_job(
            account=account,
            kind=JobKind.REVIEW_DECIDE,
            title=f"Decisions from {upload.filename or 'an uploaded file'} ({len(plan.rows)} rows)",
            parameters={"upload": upload.pk},
            created_by=requested_by,
            total=len(plan.rows),
        )
        # Claim the upload so a double-clicked confirmation runs it once.
        if ResultsUpload.objects.filter(pk=upload.pk, job__isnull=True).update(job=job) != 1:
            transaction.set_rollback(True)
            first = ResultsUpload.objects.select_related("job").get(pk=upload.pk).job
            if first is None:  # the job that claimed it was deleted meanwhile
                raise UploadRefused("The file is being carried out already; see the jobs page.")
            return first
        # With their HITs: request_decisions checks each HIT (deleted? from the website?).
        by_pk = Assignment.objects.select_related("hit").in_bulk(
            [row.assignment_pk for row in plan.rows]
        )
        for action in (DecisionAction.APPROVE, DecisionAction.OVERRIDE, DecisionAction.REJECT):
            for feedback in sorted({row.feedback for row in plan.rows}):
                chosen = [
                    by_pk[row.assignment_pk]
                    for row in plan.rows
                    if row.feedback == feedback and _planned_action(row) == action
                ]
                if chosen:
                    request_decisions(
                        account=account,
                        assignments=chosen,
                        action=action,
                        feedback=feedback,
                        requested_by=requested_by,
                        job=job,
                    )
        Job.objects.filter(pk=job.pk).update(total=Decision.objects.filter(job=job).count())
    return job
