"""Study groups: studies (HIT types) that exclude one another's workers. Whoever did any HIT type
of a group is granted the group's exclusion qualification (made at MTurk on first use) by a
STUDY_GROUP_EXCLUDE job, started after each sync that brings new assignments and by hand."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction

from dashboard.enums import JobKind, JobState
from dashboard.jobs import start_job
from dashboard.models import Job, RequesterAccount
from hits.models import Assignment, HITType
from mturk.gateway import MTurkGateway
from people.models import StudyGroup
from qualifications import services as qualification_services
from qualifications.enums import LabPurpose
from qualifications.models import Qualification, QualificationGrant, QualificationType


def save_study_group(
    *,
    group: StudyGroup,
    hit_types: Iterable[HITType],
    created_by: Any = None,
) -> StudyGroup:
    """Save the group and its HIT types (only the account's own are kept)."""
    if group.pk is None and getattr(created_by, "is_authenticated", False):
        group.created_by = created_by
    with transaction.atomic():
        group.save()
        group.hit_types.set([t for t in hit_types if t.account_id == group.account_id])
    return group


def group_type_name(group: StudyGroup) -> str:
    # Names are unique per requester at MTurk; the id keeps two labs' (or renamed) groups apart.
    return f"Did a study of group {group.pk}: {group.name}"[:255]


def group_type(
    *, group: StudyGroup, gateway: MTurkGateway, requested_by: Any = None
) -> QualificationType:
    """The group's exclusion qualification, made at MTurk on first use."""
    if group.qualification_type is not None:
        return group.qualification_type
    qtype = qualification_services.ensure_lab_qualification_type(
        account=group.account,
        purpose=LabPurpose.STUDY_GROUP,
        name=group_type_name(group),
        description=(
            f"Workers who already took part in a study of the group “{group.name[:100]}”: "
            "the group's next studies are for new participants."
        )[:2000],
        gateway=gateway,
        requested_by=requested_by,
    )
    StudyGroup.objects.filter(pk=group.pk).update(qualification_type=qtype)
    group.qualification_type = qtype
    return qtype


def workers_to_exclude(group: StudyGroup) -> dict[str, str]:
    """Worker id -> why, for every worker with an assignment on a HIT type of the group who does
    not hold the group's qualification yet and has no grant of it in flight."""
    rows = (
        Assignment.objects.filter(account=group.account, hit_type__in=group.hit_types.all())
        .values_list("worker__worker_id", "hit_type__hit_type_id", "hit_type__title")
        .order_by("worker__worker_id", "hit_type__hit_type_id")
        .distinct()
    )
    wanted: dict[str, str] = {}
    for worker_id, hit_type_id, title in rows:
        wanted.setdefault(worker_id, f"did {title or 'a study'} ({hit_type_id})")
    qtype = group.qualification_type
    if qtype is not None and wanted:
        done = qualification_services.holders(qtype) | qualification_services.open_grant_workers(
            qtype
        )
        wanted = {w: why for w, why in wanted.items() if w not in done}
    return wanted


def running_job(group: StudyGroup) -> Job | None:
    return (
        Job.objects.filter(
            account=group.account,
            kind=JobKind.STUDY_GROUP_EXCLUDE,
            parameters__group=group.pk,
        )
        .exclude(state__in=JobState.finished())
        .first()
    )


def exclude_group_workers(*, group: StudyGroup, requested_by: Any = None) -> Job | None:
    """Start the job that grants the group's qualification to the workers it should exclude. None
    when there is nothing to do; the running job when one is already at it for the group."""
    running = running_job(group)
    if running is not None:
        return running
    count = len(workers_to_exclude(group))
    if not count:
        return None
    return start_job(
        account=group.account,
        kind=JobKind.STUDY_GROUP_EXCLUDE,
        title=f"Exclude {count} worker{'s' if count != 1 else ''} of study group “{group.name[:80]}”",
        parameters={"group": group.pk},
        created_by=requested_by,
        total=count,
    )


def record_exclusions(*, group: StudyGroup, job: Job, gateway: MTurkGateway) -> int:
    """In the job: make the group's type if needed and record a grant for each worker to exclude
    (resumable: workers already granted or with a grant in flight are left out)."""
    qtype = group_type(group=group, gateway=gateway, requested_by=job.created_by)
    wanted = workers_to_exclude(group)
    outcome = qualification_services.request_grants(
        qualification_type=qtype,
        worker_ids=list(wanted),
        reason=wanted,
        requested_by=job.created_by,
        job=job,
    )
    return len(outcome.grants)


def exclude_after_sync(*, account: RequesterAccount) -> list[Job]:
    """After a sync brought new assignments: a job for each active group with workers to exclude."""
    jobs = []
    for group in StudyGroup.objects.filter(account=account, is_active=True).select_related(
        "account", "qualification_type"
    ):
        job = exclude_group_workers(group=group)
        if job is not None:
            jobs.append(job)
    return jobs


def excluded_workers(group: StudyGroup) -> tuple[list[Qualification], list[QualificationGrant]]:
    """Who the group excludes (its qualification's holders, with the reason of the grant that made
    them) and the grants still on their way."""
    qtype = group.qualification_type
    if qtype is None:
        return [], []
    holders = list(
        Qualification.objects.filter(
            qualification_type=qtype, status=qualification_services.GRANTED
        ).order_by("worker_id")
    )
    reasons = dict(
        QualificationGrant.objects.filter(qualification_type=qtype, state__in=["done", "already"])
        .order_by("created_at")
        .values_list("worker_id", "reason")
    )
    for holder in holders:
        holder.reason = reasons.get(holder.worker_id, "")  # type: ignore[attr-defined]
    pending = list(
        QualificationGrant.objects.filter(
            qualification_type=qtype, state__in=["pending", "sending"]
        ).order_by("worker_id")
    )
    return holders, pending
