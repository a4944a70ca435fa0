"""Read-only questions other apps ask about HITs (the overview, the sync of bonuses): answered
here so that they need not know how HITs and assignments are stored."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from dashboard.models import RequesterAccount
from hits.enums import AssignmentStatus
from hits.models import HIT, Assignment, HITType
from qualifications.enums import LabPurpose
from qualifications.models import Qualification
from workers.models import WorkerBlock


def hit_ids_with_submitted_work(*, account: RequesterAccount) -> list[str]:
    """Live HITs with at least one submitted assignment: SendBonus takes any submitted assignment,
    approved, rejected (partial pay for rejected work is common) or still awaiting review, so the
    bonuses of all of them are worth reading."""
    return list(
        HIT.objects.filter(
            account=account,
            disposed_at__isnull=True,
            assignments__status__in=[
                AssignmentStatus.SUBMITTED,
                AssignmentStatus.APPROVED,
                AssignmentStatus.REJECTED,
            ],
        )
        .values_list("hit_id", flat=True)
        .distinct()
    )


def _count_per_hit_type(queryset: QuerySet[HIT] | QuerySet[Assignment]) -> Coalesce:
    counted = (
        queryset.filter(hit_type=OuterRef("pk"))
        .values("hit_type")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def recent_studies(*, account: RequesterAccount, limit: int = 8) -> list[HITType]:
    """HIT types with their progress (`n_hits`, `n_submitted`, `n_approved`, `n_rejected`), newest
    first. Counted with subqueries: joining HITs and assignments at once would multiply rows."""
    return list(
        account.hit_types.annotate(
            n_hits=_count_per_hit_type(HIT.objects.all()),
            n_submitted=_count_per_hit_type(
                Assignment.objects.filter(status=AssignmentStatus.SUBMITTED)
            ),
            n_approved=_count_per_hit_type(
                Assignment.objects.filter(status=AssignmentStatus.APPROVED)
            ),
            n_rejected=_count_per_hit_type(
                Assignment.objects.filter(status=AssignmentStatus.REJECTED)
            ),
        ).order_by("-first_seen_at")[:limit]
    )


def block_badges(*, account: RequesterAccount, worker_ids: Iterable[str]) -> dict[str, str]:
    """Worker id -> "blocked" (MTurk worker block) or "soft-blocked" (holds the lab's exclusion
    qualification), for the workers of a page: two queries whatever the page size."""
    ids = list(set(worker_ids))
    if not ids:
        return {}
    badges = dict.fromkeys(
        Qualification.objects.filter(
            account=account,
            qualification_type__lab_purpose=LabPurpose.SOFT_BLOCK,
            status="Granted",
            worker_id__in=ids,
        ).values_list("worker_id", flat=True),
        "soft-blocked",
    )
    badges.update(
        dict.fromkeys(
            WorkerBlock.objects.filter(account=account, worker_id__in=ids).values_list(
                "worker_id", flat=True
            ),
            "blocked",
        )
    )
    return badges
