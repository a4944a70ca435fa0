"""Reads for the review workspace: the grid of a HIT type (filters, majority, per-worker
summaries) and a HIT's side-by-side view, each in a constant number of queries."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import (
    Count,
    DateTimeField,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce

from dashboard.models import RequesterAccount
from hits import charts
from hits.agreement import FieldAgreement, agreement, disagrees, field_names
from hits.enums import AssignmentStatus
from hits.file_uploads import is_uploaded_file
from hits.models import HIT, Assignment, Batch, GridPreference, HITType
from mturk.fees import assignment_cost, bonus_cost
from workers.models import BonusPayment


def _scalar(
    queryset: QuerySet, link: str, aggregate: Any, output_field: Any = None, default: Any = 0
) -> Any:
    """One aggregate over the rows of `queryset` whose `link` is the outer row, as a subquery
    (joining HITs and assignments into the outer query would multiply its rows)."""
    subquery = Subquery(
        queryset.filter(**{link: OuterRef("pk")}).values(link).annotate(v=aggregate).values("v"),
        output_field=output_field or IntegerField(),
    )
    return subquery if default is None else Coalesce(subquery, default)


def _progress(*, hit_link: str, assignment_link: str) -> dict[str, Any]:
    """The progress columns of a study or batch list: HITs, assignments by status, assignments
    working and open on HITs still at MTurk, the most assignments there can be, and when the last
    HIT expires. `hit_link` and `assignment_link` lead from a HIT and an assignment to the row."""
    at_mturk = HIT.objects.filter(disposed_at__isnull=True)

    def assignments(status: str) -> Any:
        return _scalar(Assignment.objects.filter(status=status), assignment_link, Count("pk"))

    return {
        "n_hits": _scalar(HIT.objects.all(), hit_link, Count("pk")),
        "n_submitted": assignments(AssignmentStatus.SUBMITTED),
        "n_approved": assignments(AssignmentStatus.APPROVED),
        "n_rejected": assignments(AssignmentStatus.REJECTED),
        "n_pending": _scalar(at_mturk, hit_link, Sum("assignments_pending")),
        "n_available": _scalar(at_mturk, hit_link, Sum("assignments_available")),
        "n_max": _scalar(HIT.objects.all(), hit_link, Sum("max_assignments")),
        "last_expiry": _scalar(
            HIT.objects.all(), hit_link, Max("expires_at"), DateTimeField(), default=None
        ),
    }


def studies(account: RequesterAccount) -> QuerySet[HITType]:
    """The account's HIT types with their progress (see `_progress`)."""
    return account.hit_types.annotate(**_progress(hit_link="hit_type", assignment_link="hit_type"))


def batches(account: RequesterAccount) -> QuerySet[Batch]:
    """The account's batches with their progress (see `_progress`)."""
    return account.batches.select_related("hit_type").annotate(
        **_progress(hit_link="batch", assignment_link="hit__batch")
    )


def spent(hits: QuerySet[HIT]) -> Decimal:
    """What these HITs cost so far: approved assignments and bonuses, with MTurk's fees."""
    return sum(spent_by(hits, "hit_type").values(), Decimal("0.00"))


def spent_by(hits: QuerySet[HIT], group: str) -> dict[Any, Decimal]:
    """What these HITs cost so far (approved assignments and bonuses, with MTurk's fees), by the
    value of the HIT's `group` field (e.g. "hit_type" or "batch"). Two queries; the reward's fee
    depends on each HIT's assignment count."""
    rows = hits.values(group, "max_assignments", "reward").annotate(
        approved=Count("assignments", filter=Q(assignments__status=AssignmentStatus.APPROVED))
    )
    totals: dict[Any, Decimal] = defaultdict(lambda: Decimal("0.00"))
    for r in rows:
        totals[r[group]] += assignment_cost(r["reward"], r["max_assignments"]) * r["approved"]
    for owner, bonuses in _bonuses_by(hits, group).items():
        totals[owner] += bonuses
    return dict(totals)


def _bonuses_by(hits: QuerySet[HIT], group: str) -> dict[Any, Decimal]:
    """Bonuses paid for the assignments of these HITs, fee included, by the HIT's `group` field:
    MTurk's record of them (workers.BonusPayment), which also holds the bonuses the dashboard has
    just paid. MTurk names a bonus's assignment, not its HIT, hence the lookup."""
    assignments = Assignment.objects.filter(hit__in=hits)
    owner = assignments.filter(
        account=OuterRef("account"), assignment_id=OuterRef("assignment_id")
    ).values(f"hit__{group}")[:1]
    rows = (
        BonusPayment.objects.filter(assignment_id__in=assignments.values("assignment_id"))
        .annotate(owner=Subquery(owner))
        .exclude(owner=None)
        .values("owner", "amount")
        .annotate(n=Count("pk"))
        .order_by()
    )
    totals: dict[Any, Decimal] = defaultdict(lambda: Decimal("0.00"))
    for r in rows:
        # MTurk's fee is per bonus (rounded, with a minimum), so per distinct amount, not per sum.
        totals[r["owner"]] += bonus_cost(r["amount"]) * r["n"]
    return totals


def with_spent(rows: list[Any], group: str) -> list[Any]:
    """Set `spent` on a page of studies (group "hit_type") or batches (group "batch")."""
    totals = spent_by(HIT.objects.filter(**{f"{group}__in": [row.pk for row in rows]}), group)
    for row in rows:
        row.spent = totals.get(row.pk, Decimal("0.00"))
    return rows


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
    workers_table: str = ""  # the rendered summaries, kept with the analysis (hits.views)
    # Some HIT was published with review policies: the grid shows their outcome column.
    has_review_policies: bool = False


def analyse(hit_type: HITType, batch: Batch | None = None) -> HITTypeAnalysis:
    """The analysis of the HIT type's assignments (or of one batch of it), cached until any of
    them changes.

    The cache key carries a cheap fingerprint of the rows (`_fingerprint`), so three small
    aggregate queries decide whether the whole analysis must be redone."""
    assignments, hits = _scope(hit_type, batch)
    key = (
        hit_type.pk,
        batch.pk if batch else None,
        *_fingerprint(assignments, hits),
        *_bonus_stamp(hit_type.account_id),
    )
    analysis = _ANALYSES.get(key)
    if analysis is None:
        analysis = _analyse(assignments, hits)
        _ANALYSES[key] = analysis
        while len(_ANALYSES) > _ANALYSES_KEPT:
            _ANALYSES.pop(next(iter(_ANALYSES)), None)
    return analysis


def _scope(hit_type: HITType, batch: Batch | None) -> tuple[QuerySet[Assignment], QuerySet[HIT]]:
    assignments = Assignment.objects.filter(hit_type=hit_type)
    hits = HIT.objects.filter(hit_type=hit_type)
    if batch is not None:
        assignments, hits = assignments.filter(hit__batch=batch), hits.filter(batch=batch)
    return assignments, hits


def _fingerprint(assignments: QuerySet[Assignment], hits: QuerySet[HIT]) -> tuple:
    """Count and newest `synced_at` of the assignments and of their HITs (the cost so far reads
    the HITs' rewards and assignment counts). Every write by sync or by a decision sets
    `synced_at`, so an unchanged fingerprint means unchanged data."""
    stamp = {"n": Count("pk"), "synced": Max("synced_at")}
    of_assignments, of_hits = assignments.aggregate(**stamp), hits.aggregate(**stamp)
    return (of_assignments["n"], of_assignments["synced"], of_hits["n"], of_hits["synced"])


def _bonus_stamp(account_id: int) -> tuple:
    """Count and newest row of the account's bonus mirror: the cost so far includes bonuses, and
    a bonus paid (or synced) adds a row. Per account, not per study: bonuses are rare next to page
    views, and a per-study stamp would need the join the cost itself makes."""
    stamp = BonusPayment.objects.filter(account_id=account_id).aggregate(
        n=Count("pk"), last=Max("pk")
    )
    return (stamp["n"], stamp["last"])


# Analyses kept in this process, newest last. Not Django's cache: it would pickle and unpickle
# thousands of rows on every page view.
_ANALYSES: dict[tuple, HITTypeAnalysis] = {}
_ANALYSES_KEPT = 32


def forget_analyses() -> None:
    """Drop every cached analysis (tests: a rolled-back test database reuses row ids, so a new
    study could match an old one's fingerprint)."""
    _ANALYSES.clear()


def _analyse(assignments: QuerySet[Assignment], hits: QuerySet[HIT]) -> HITTypeAnalysis:
    rows = list(
        assignments.values_list(
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
        has_review_policies=hits.filter(review_policy_results__isnull=False).exists(),
    )
    analysis.spent = spent(hits)
    # Drawn once per change of the data, with the rest of the analysis (and cached with it).
    analysis.charts = [
        charts.submissions_over_time(analysis.submit_times),
        charts.work_time_distribution(analysis.work_times),
        charts.agreement_per_field(analysis.per_field_agreement),
    ]
    return analysis


def filtered_assignments(
    hit_type: HITType, filters: dict[str, Any], analysis: HITTypeAnalysis | None
) -> QuerySet[Assignment]:
    """The HIT type's assignments that pass the grid's filters (GridFilterForm), in its order.
    `analysis` (of the same HIT type and batch) is needed only for the disagreement filter."""
    queryset = Assignment.objects.filter(hit_type=hit_type)
    if filters.get("batch"):
        queryset = queryset.filter(hit__batch=filters["batch"])
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
        analysis = analysis or analyse(hit_type, filters.get("batch"))
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
    # field, agreement, [(value, disagrees, the assignment id when the value is an uploaded file)]
    rows: list[tuple[str, FieldAgreement, list[tuple[Any, bool, str]]]]

    @property
    def has_uploads(self) -> bool:
        return any(upload for _name, _fa, cells in self.rows for _v, _d, upload in cells)


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
            # A worker's uploaded file is offered as a download in its cell.
            upload = a.assignment_id if is_uploaded_file(value) else ""
            cells.append((value, differs, upload))
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
