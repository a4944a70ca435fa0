"""Qualifications from a study's review: grant a type to the workers whose answers agree with the
majority often enough (derived qualifications), or to the workers of the review grid's ticked rows.

Who gets what is listed on a confirmation page before anything is sent; the grants are then
recorded as QualificationGrant intents (qualifications.services.request_grants) under one
QUALIFICATION_GRANT job, which sends them at the account's rate, each once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from dashboard.enums import JobKind
from dashboard.jobs import start_job
from dashboard.models import Job, RequesterAccount
from hits import review
from hits.models import Assignment, Batch, HITType
from qualifications.enums import LabPurpose
from qualifications.models import Qualification, QualificationType
from qualifications.services import GrantOutcome, request_grants

# The one-time token purposes of the two confirmation pages (dashboard.confirmations).
DERIVED_CONFIRMATION = "study.qualify"
SELECTED_CONFIRMATION = "study.qualify-selected"


@dataclass(frozen=True)
class Candidate:
    worker_id: str
    agreement: float | None  # share of compared answers equal to the majority
    compared: int  # answers compared with a majority
    assignments: int
    holds: int | None = None  # the value the worker holds now (by the mirror), if any


def grantable_types(account: RequesterAccount) -> QuerySet[QualificationType]:
    """The account's types a lab may grant from a review: its own active ones, but not those the
    dashboard made for its own bookkeeping (the soft-block list, study groups' exclusions), which
    their own pages grant with their own records."""
    return QualificationType.objects.filter(
        account=account, status="Active", lab_purpose=LabPurpose.NONE
    ).order_by("name")


def _held(
    qualification_type: QualificationType, worker_ids: Sequence[str]
) -> dict[str, int | None]:
    return dict(
        Qualification.objects.filter(
            qualification_type=qualification_type, worker_id__in=list(worker_ids), status="Granted"
        ).values_list("worker_id", "integer_value")
    )


def derived_candidates(
    *,
    hit_type: HITType,
    qualification_type: QualificationType,
    threshold: float,
    min_compared: int,
    batch: Batch | None = None,
) -> list[Candidate]:
    """The workers of the study (or of one batch) whose agreement with the majority is at least
    `threshold` (0-1) over at least `min_compared` compared answers, best first. A worker with no
    answer compared (every HIT answered alone, or ties) has no agreement and is never picked."""
    analysis = review.analyse(hit_type, batch)
    picked = [
        w
        for w in analysis.workers
        if w.compared_fields >= max(min_compared, 1)
        and w.agreement is not None
        and w.agreement >= threshold
    ]
    picked.sort(key=lambda w: (-(w.agreement or 0.0), -w.compared_fields, w.worker_id))
    held = _held(qualification_type, [w.worker_id for w in picked])
    return [
        Candidate(
            worker_id=w.worker_id,
            agreement=w.agreement,
            compared=w.compared_fields,
            assignments=w.count,
            holds=held.get(w.worker_id),
        )
        for w in picked
    ]


def workers_of_assignments(*, hit_type: HITType, assignment_ids: Sequence[str]) -> list[str]:
    """The workers of the ticked rows (ids of other studies or accounts count for nothing)."""
    return sorted(
        set(
            Assignment.objects.filter(
                hit_type=hit_type, assignment_id__in=list(assignment_ids)
            ).values_list("worker__worker_id", flat=True)
        )
    )


def holdings(qualification_type: QualificationType, worker_ids: Sequence[str]) -> list[Candidate]:
    """The ticked rows' workers with what they hold now, for the confirmation page."""
    held = _held(qualification_type, worker_ids)
    return [Candidate(w, None, 0, 0, held.get(w)) for w in worker_ids]


def grant_binding(
    *, qualification_type_id: str, worker_ids: Sequence[str], integer_value: int | None
) -> dict[str, Any]:
    """What a confirmation page showed, for its token: the type, the value and exactly the
    workers listed."""
    return {
        "type": qualification_type_id,
        "workers": sorted(set(worker_ids)),
        "value": integer_value,
    }


def start_grant_job(
    *,
    account: RequesterAccount,
    qualification_type: QualificationType,
    worker_ids: Sequence[str],
    integer_value: int | None,
    reason: str,
    title: str,
    requested_by: Any = None,
) -> tuple[Job | None, GrantOutcome]:
    """Record a grant for each worker under one QUALIFICATION_GRANT job. Workers with a change of
    the type already in flight are skipped (request_grants). No job when nothing is left."""
    with transaction.atomic():
        job = start_job(
            account=account,
            kind=JobKind.QUALIFICATION_GRANT,
            title=title,
            parameters={
                "qualification_type": qualification_type.qualification_type_id,
                "value": integer_value,
            },
            created_by=requested_by,
        )
        outcome = request_grants(
            qualification_type=qualification_type,
            worker_ids=worker_ids,
            integer_value=integer_value,
            reason=reason,
            requested_by=requested_by,
            job=job,
        )
        if not outcome.grants:
            # Nothing to send: the job goes too (it is enqueued only after commit).
            transaction.set_rollback(True)
            return None, outcome
        Job.objects.filter(pk=job.pk).update(total=len(outcome.grants))
    return job, outcome
