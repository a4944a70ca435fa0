"""Reads for the review workspace: the grid of a HIT type (filters, majority, per-worker
summaries) and a HIT's side-by-side view, each in a constant number of queries."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, IntegerField, Max, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from dashboard.models import RequesterAccount
from hits import charts
from hits.agreement import FieldAgreement, agreement, disagrees, field_names
from hits.enums import AssignmentStatus
from hits.models import HIT, Assignment, GridPreference, HITType
from mturk.fees import assignment_cost


def studies(account: RequesterAccount) -> QuerySet[HITType]:
    """HIT types with counts and spend, by subqueries (joining HITs and assignments would multiply rows)."""

    def count(queryset: QuerySet, column: str = "pk") -> Coalesce:
        counted = (
            queryset.filter(hit_type=OuterRef("pk"))
            .values("hit_type")
            .annotate(n=Count(column))
            .values("n")
        )
        return Coalesce(Subquery(counted, output_field=IntegerField()), 0)

    def total(column: str, queryset: QuerySet) -> Coalesce:
        summed = (
            queryset.filter(hit_type=OuterRef("pk"))
            .values("hit_type")
            .annotate(n=Sum(column))
            .values("n")
        )
        return Coalesce(Subquery(summed, output_field=IntegerField()), 0)

    return account.hit_types.annotate(
        n_hits=count(HIT.objects.all()),
        n_submitted=count(Assignment.objects.filter(status=AssignmentStatus.SUBMITTED)),
        n_approved=count(Assignment.objects.filter(status=AssignmentStatus.APPROVED)),
        n_rejected=count(Assignment.objects.filter(status=AssignmentStatus.REJECTED)),
        n_pending=total("assignments_pending", HIT.objects.filter(disposed_at__isnull=True)),
        n_available=total("assignments_available", HIT.objects.filter(disposed_at__isnull=True)),
        n_max=total("max_assignments", HIT.objects.all()),
        last_expiry=Subquery(
            HIT.objects.filter(hit_type=OuterRef("pk"))
            .order_by("-expires_at")
            .values("expires_at")[:1]
        ),
    )


def spent(hit_type: HITType) -> Decimal:
    """What the approved assignments of the HIT type cost (reward plus MTurk's fee)."""
    rows = (
        HIT.objects.filter(hit_type=hit_type)
        .values("max_assignments", "reward")
        .annotate(
            approved=Count("assignments", filter=Q(assignments__status=AssignmentStatus.APPROVED))
        )
    )
    return sum(
        (assignment_cost(r["reward"], r["max_assignments"]) * r["approved"] for r in rows),
        Decimal("0.00"),
    )


@dataclass
class WorkerSummary:
    worker_id: str
    count: int = 0
    approved: int = 0
    rejected: int = 0
    work_times: list[int] = field(default_factory=list, repr=False)
    agreeing_fields: int = 0
    compared_fields: int = 0

    @property
    def approval_rate(self) -> float | None:
        decided = self.approved + self.rejected
        return self.approved / decided if decided else None

    @property
    def median_work_time(self) -> float | None:
        return statistics.median(self.work_times) if self.work_times else None

    @property
    def agreement(self) -> float | None:
        return self.agreeing_fields / self.compared_fields if self.compared_fields else None


@dataclass
class HITTypeAnalysis:
    """Everything the grid needs that spans all assignments of the HIT type (one query)."""

    fields: list[str]
    per_hit: dict[int, dict[str, FieldAgreement]]
    disagreeing: dict[int, list[str]]  # assignment pk -> fields where it departs from the majority
    workers: list[WorkerSummary]
    per_field_agreement: dict[str, float]
    submit_times: list[Any]
    work_times: list[int]
    charts: list[Any] = field(default_factory=list)
    spent: Decimal = Decimal("0.00")  # what the approved assignments cost, rewards and fees


def analyse(hit_type: HITType) -> HITTypeAnalysis:
    """The analysis of the HIT type's assignments, cached until any of them changes.

    The cache key carries a cheap fingerprint of the rows (`_fingerprint`), so two small aggregate
    queries decide whether the whole analysis must be redone."""
    key = (hit_type.pk, *_fingerprint(hit_type))
    analysis = _ANALYSES.get(key)
    if analysis is None:
        analysis = _analyse(hit_type)
        _ANALYSES[key] = analysis
        while len(_ANALYSES) > _ANALYSES_KEPT:
            _ANALYSES.pop(next(iter(_ANALYSES)), None)
    return analysis


def _fingerprint(hit_type: HITType) -> tuple:
    """Count and newest `synced_at` of the HIT type's assignments and of its HITs (the cost so far
    reads the HITs' rewards and assignment counts). Every write by sync or by a decision sets
    `synced_at`, so an unchanged fingerprint means unchanged data."""
    stamp = {"n": Count("pk"), "synced": Max("synced_at")}
    assignments = Assignment.objects.filter(hit_type=hit_type).aggregate(**stamp)
    hits = HIT.objects.filter(hit_type=hit_type).aggregate(**stamp)
    return (assignments["n"], assignments["synced"], hits["n"], hits["synced"])


# Analyses kept in this process, newest last. Not Django's cache: it would pickle and unpickle
# thousands of rows on every page view.
_ANALYSES: dict[tuple, HITTypeAnalysis] = {}
_ANALYSES_KEPT = 32


def _analyse(hit_type: HITType) -> HITTypeAnalysis:
    rows = list(
        Assignment.objects.filter(hit_type=hit_type).values_list(
            "pk",
            "hit_id",
            "answers",
            "status",
            "work_time_seconds",
            "submit_time",
            "worker__worker_id",
        )
    )
    by_hit: dict[int, list[tuple]] = defaultdict(list)
    for row in rows:
        by_hit[row[1]].append(row)
    fields = field_names(row[2] for row in rows)
    per_hit = {hit_pk: agreement([r[2] for r in group], fields) for hit_pk, group in by_hit.items()}
    disagreeing: dict[int, list[str]] = {}
    workers: dict[str, WorkerSummary] = {}
    field_support: dict[str, list[float]] = defaultdict(list)
    for hit_pk, group in by_hit.items():
        for name, fa in per_hit[hit_pk].items():
            if fa.answered > 1:
                field_support[name].append(fa.share)
        for pk, _, answers, status, work_time, _, worker_id in group:
            summary = workers.setdefault(worker_id, WorkerSummary(worker_id))
            summary.count += 1
            summary.approved += status == AssignmentStatus.APPROVED
            summary.rejected += status == AssignmentStatus.REJECTED
            if work_time is not None:
                summary.work_times.append(work_time)
            differs = disagrees(answers, per_hit[hit_pk])
            if differs:
                disagreeing[pk] = differs
            compared = [
                n for n, fa in per_hit[hit_pk].items() if fa.majority is not None and n in answers
            ]
            summary.compared_fields += len(compared)
            summary.agreeing_fields += len(compared) - len(differs)
    analysis = HITTypeAnalysis(
        fields=fields,
        per_hit=per_hit,
        disagreeing=disagreeing,
        workers=sorted(workers.values(), key=lambda w: (-w.count, w.worker_id)),
        per_field_agreement={name: sum(v) / len(v) for name, v in field_support.items() if v},
        submit_times=[row[5] for row in rows if row[5]],
        work_times=[row[4] for row in rows if row[4] is not None],
    )
    analysis.spent = spent(hit_type)
    # Drawn once per change of the data, with the rest of the analysis (and cached with it).
    analysis.charts = [
        charts.submissions_over_time(analysis.submit_times),
        charts.work_time_distribution(analysis.work_times),
        charts.agreement_per_field(analysis.per_field_agreement),
    ]
    return analysis


def filtered_assignments(
    hit_type: HITType, filters: dict[str, Any], analysis: HITTypeAnalysis
) -> QuerySet[Assignment]:
    queryset = Assignment.objects.filter(hit_type=hit_type)
    if filters.get("status"):
        queryset = queryset.filter(status__in=filters["status"])
    if filters.get("worker"):
        queryset = queryset.filter(worker__worker_id=filters["worker"].strip())
    if filters.get("submitted_after"):
        queryset = queryset.filter(submit_time__gte=filters["submitted_after"])
    if filters.get("submitted_before"):
        queryset = queryset.filter(submit_time__lte=filters["submitted_before"])
    if filters.get("work_time_min") is not None:
        queryset = queryset.filter(work_time_seconds__gte=filters["work_time_min"])
    if filters.get("work_time_max") is not None:
        queryset = queryset.filter(work_time_seconds__lte=filters["work_time_max"])
    if filters.get("contains"):
        # The raw answer XML holds every value; MTurk escapes & < > there, so do the same.
        needle = filters["contains"].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        queryset = queryset.filter(answer_xml__icontains=needle)
    if filters.get("disagrees"):
        analysis = analysis or analyse(hit_type)
        queryset = queryset.filter(pk__in=list(analysis.disagreeing))
    return queryset.order_by(filters.get("sort") or "-submit_time", "pk")


def grid_columns(user: Any, hit_type: HITType, fields: list[str]) -> list[str]:
    preference = GridPreference.objects.filter(user=user, hit_type=hit_type).first()
    if preference is None:
        return fields
    chosen = [name for name in preference.columns if name in fields]
    return chosen or fields


def save_grid_columns(user: Any, hit_type: HITType, columns: list[str]) -> None:
    GridPreference.objects.update_or_create(
        user=user, hit_type=hit_type, defaults={"columns": columns}
    )


@dataclass
class SideBySide:
    assignments: list[Assignment]
    fields: list[str]
    rows: list[
        tuple[str, FieldAgreement, list[tuple[Any, bool]]]
    ]  # field, agreement, [(value, disagrees)]


def side_by_side(hit: HIT) -> SideBySide:
    assignments = list(hit.assignments.select_related("worker").order_by("submit_time", "pk"))
    answer_sets = [a.answers for a in assignments]
    fields = field_names(answer_sets)
    per_field = agreement(answer_sets, fields)
    rows = []
    for name in fields:
        fa = per_field[name]
        cells = []
        for a in assignments:
            value = a.answers.get(name)
            differs = name in disagrees(a.answers, {name: fa}) if value is not None else False
            cells.append((value, differs))
        rows.append((name, fa, cells))
    return SideBySide(assignments, fields, rows)


def bulk_cost(assignments: QuerySet[Assignment], action: str) -> Decimal:
    """Rewards plus fees of approving these assignments (rejections cost nothing)."""
    if action == "reject":
        return Decimal("0.00")
    rows = assignments.values("hit__reward", "hit__max_assignments").annotate(n=Count("pk"))
    return sum(
        (assignment_cost(r["hit__reward"], r["hit__max_assignments"]) * r["n"] for r in rows),
        Decimal("0.00"),
    )
