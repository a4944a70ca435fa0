"""The worker directory: read queries for the list of workers an account has met and for one
worker's page, plus the two writes lab members make there (notes and tags).

Every figure is read from our database (the mirror and our own rows), never from MTurk. A page of
the list costs a constant number of queries whatever its size: the columns that filter or sort are
annotations of one query, and the rest (median work time, bonuses, tags) are one grouped query
each for the page's workers.

Bonuses paid, the rule: MTurk's own record (`workers.BonusPayment`, after sync) and our ledger's
sent rows (`people.Bonus` in state done or already) describe the same payments at different times,
and MTurk gives a bonus no id to match them by. So payments are counted per (worker, assignment,
amount): each such key counts as many times as the larger of the two sources has it. A bonus we sent
that sync has not seen yet counts once (ledger only); after sync it still counts once (both); one
paid outside the dashboard counts once (mirror only); a deliberate "pay again" of the same amount
counts twice once both rows exist on either side.
"""

from __future__ import annotations

import re
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, F, FloatField, OuterRef, Q, QuerySet
from django.db.models.functions import Cast, NullIf
from django.http import Http404

from dashboard.enums import IntentState
from dashboard.models import RequesterAccount
from hits.agreement import agreement, disagrees, field_names
from hits.models import Assignment, HITType
from people.models import (
    OPEN_STATES,
    BlockChange,
    Bonus,
    MessageRecipient,
    WorkerNote,
    WorkerTag,
)
from qualifications.enums import LabPurpose
from qualifications.models import Qualification, QualificationGrant
from workers.models import BonusPayment, Worker, WorkerBlock

PAGE_SIZE = 50

# MTurk worker ids: "A" and upper-case letters and digits (the API allows up to 64 characters).
WORKER_ID = re.compile(r"A[A-Z0-9]{1,63}")

# Ledger states that mean MTurk holds the payment.
PAID_STATES = (IntentState.DONE, IntentState.ALREADY)

SORTS = {
    "worker_id": ("worker_id",),
    "-assignments": ("-assignments_submitted", "worker_id"),
    "approval_rate": (F("approval_rate").asc(nulls_last=True), "worker_id"),
    "-approval_rate": (F("approval_rate").desc(nulls_last=True), "worker_id"),
    "-last_submit": (F("last_submit_time").desc(nulls_last=True), "worker_id"),
}

BLOCK_FILTERS = ("hard", "soft", "any", "pending", "none")


def is_worker_id(value: str) -> bool:
    return WORKER_ID.fullmatch(value) is not None


# --- The list ------------------------------------------------------------------------------------


def _soft_blocks(account: RequesterAccount) -> QuerySet[Qualification]:
    """Granted scores of the account's soft-block type (the lab's exclusion list)."""
    return Qualification.objects.filter(
        account=account,
        qualification_type__lab_purpose=LabPurpose.SOFT_BLOCK,
        status="Granted",
    )


def workers(account: RequesterAccount) -> QuerySet[Worker]:
    """Every worker the account has met, annotated with what the list filters and sorts on:
    `approval_rate` (approved / decided, None when nothing is decided yet), `hard_blocked`,
    `soft_blocked` and `block_pending`."""
    decided = F("assignments_approved") + F("assignments_rejected")
    return Worker.objects.filter(account=account).annotate(
        approval_rate=Cast(F("assignments_approved"), FloatField())
        / Cast(NullIf(decided, 0), FloatField()),
        hard_blocked=Exists(
            WorkerBlock.objects.filter(account=account, worker_id=OuterRef("worker_id"))
        ),
        soft_blocked=Exists(_soft_blocks(account).filter(worker_id=OuterRef("worker_id"))),
        block_pending=Exists(
            BlockChange.objects.filter(
                account=account, worker_id=OuterRef("worker_id"), state__in=OPEN_STATES
            )
        )
        | Exists(
            QualificationGrant.objects.filter(
                account=account,
                worker_id=OuterRef("worker_id"),
                qualification_type__lab_purpose=LabPurpose.SOFT_BLOCK,
                state__in=OPEN_STATES,
            )
        ),
    )


def filter_workers(
    queryset: QuerySet[Worker],
    *,
    q: str = "",
    blocked: str = "",
    tag: str = "",
    approval_below: Decimal | None = None,
    study: HITType | None = None,
    sort: str = "",
) -> QuerySet[Worker]:
    """The directory's search, filters and order (`q` matches any part of the worker id;
    `approval_below` is a percentage and leaves out workers with nothing decided)."""
    if q:
        queryset = queryset.filter(worker_id__contains=q.strip().upper())
    # The annotations are filtered through Q objects: django-stubs checks filter keywords against
    # the model's fields only.
    if blocked == "hard":
        queryset = queryset.filter(Q(hard_blocked=True))
    elif blocked == "soft":
        queryset = queryset.filter(Q(soft_blocked=True))
    elif blocked == "any":
        queryset = queryset.filter(Q(hard_blocked=True) | Q(soft_blocked=True))
    elif blocked == "pending":
        queryset = queryset.filter(Q(block_pending=True))
    elif blocked == "none":
        queryset = queryset.filter(Q(hard_blocked=False) & Q(soft_blocked=False))
    if tag:
        queryset = queryset.filter(
            Exists(
                WorkerTag.objects.filter(
                    account_id=OuterRef("account_id"), worker_id=OuterRef("worker_id"), tag=tag
                )
            )
        )
    if approval_below is not None:
        queryset = queryset.filter(Q(approval_rate__lt=float(approval_below) / 100))
    if study is not None:
        queryset = queryset.filter(
            Exists(Assignment.objects.filter(worker=OuterRef("pk"), hit_type=study))
        )
    return queryset.order_by(*SORTS.get(sort, SORTS["worker_id"]))


@dataclass
class BonusTotals:
    count: int = 0
    total: Decimal = Decimal("0.00")


@dataclass
class DirectoryRow:
    """One worker of a page of the directory."""

    worker: Worker
    median_work_time: float | None = None
    bonuses: BonusTotals = field(default_factory=BonusTotals)
    tags: list[str] = field(default_factory=list)


def directory_rows(account: RequesterAccount, page_workers: Sequence[Worker]) -> list[DirectoryRow]:
    """The page's workers with the columns that are not annotations: three queries in all."""
    rows = {w.worker_id: DirectoryRow(w) for w in page_workers}
    if not rows:
        return []
    ids = list(rows)
    times: dict[int, list[int]] = defaultdict(list)
    for worker_pk, seconds in Assignment.objects.filter(
        worker__in=[w.pk for w in page_workers], work_time_seconds__isnull=False
    ).values_list("worker_id", "work_time_seconds"):
        if seconds is not None:
            times[worker_pk].append(seconds)
    for row in rows.values():
        worked = times.get(row.worker.pk)
        row.median_work_time = statistics.median(worked) if worked else None
    for worker_id, totals in bonus_totals(account, ids).items():
        rows[worker_id].bonuses = totals
    for worker_id, tag in WorkerTag.objects.filter(account=account, worker_id__in=ids).values_list(
        "worker_id", "tag"
    ):
        rows[worker_id].tags.append(tag)
    return list(rows.values())


def bonus_totals(account: RequesterAccount, worker_ids: Iterable[str]) -> dict[str, BonusTotals]:
    """Bonuses paid per worker, by the module's rule (two queries)."""
    ids = list(worker_ids)
    ledger = Bonus.objects.filter(account=account, worker_id__in=ids, state__in=PAID_STATES)
    mirror = BonusPayment.objects.filter(account=account, worker_id__in=ids)
    return _merge_payments(
        ledger.values_list("worker_id", "assignment_id", "amount"),
        mirror.values_list("worker_id", "assignment_id", "amount"),
    )


def _merge_payments(
    ledger: Iterable[tuple[str, str, Decimal]], mirror: Iterable[tuple[str, str, Decimal]]
) -> dict[str, BonusTotals]:
    counts: dict[tuple[str, str, Decimal], list[int]] = defaultdict(lambda: [0, 0])
    for key in ledger:
        counts[key][0] += 1
    for key in mirror:
        counts[key][1] += 1
    totals: dict[str, BonusTotals] = defaultdict(BonusTotals)
    for (worker_id, _, amount), (in_ledger, in_mirror) in counts.items():
        n = max(in_ledger, in_mirror)
        totals[worker_id].count += n
        totals[worker_id].total += amount * n
    return dict(totals)


def account_tags(account: RequesterAccount) -> list[str]:
    """The tags in use on the account (for the filter's choices)."""
    return list(
        WorkerTag.objects.filter(account=account)
        .order_by("tag")
        .values_list("tag", flat=True)
        .distinct()
    )


# --- One worker ----------------------------------------------------------------------------------


def get_worker(account: RequesterAccount, worker_id: str) -> Worker:
    """The account's worker with this id; 404 for a malformed id or one the account never met."""
    if not is_worker_id(worker_id):
        raise Http404("Not a worker id.")
    try:
        return workers(account).get(worker_id=worker_id)
    except Worker.DoesNotExist:
        raise Http404("This account has not met this worker.") from None


@dataclass
class Agreement:
    """How often the worker's answers matched the majority of the others on the same HIT, counted
    over answer fields where a majority exists (hits.agreement)."""

    agreeing: int = 0
    compared: int = 0

    @property
    def share(self) -> float | None:
        return self.agreeing / self.compared if self.compared else None


@dataclass
class StudyRow:
    hit_type: HITType
    assignments: int = 0
    agreement: Agreement = field(default_factory=Agreement)


@dataclass
class BlockStatus:
    hard: WorkerBlock | None
    soft: Qualification | None
    pending: list[Any]  # open BlockChange and soft-block QualificationGrant rows

    @property
    def blocked(self) -> bool:
        return self.hard is not None or self.soft is not None


@dataclass
class WorkerProfile:
    worker: Worker
    studies: list[StudyRow]
    agreement: Agreement
    median_work_time: float | None
    bonuses: list[Bonus]
    payments: list[BonusPayment]
    bonus_totals: BonusTotals
    qualifications: list[Qualification]
    block: BlockStatus
    messages: list[MessageRecipient]
    notes: list[WorkerNote]
    tags: list[WorkerTag]

    @property
    def assignment_count(self) -> int:
        return sum(study.assignments for study in self.studies)


def worker_assignments(worker: Worker) -> QuerySet[Assignment]:
    """The worker's assignments across all studies, newest submission first (paginate this)."""
    return (
        Assignment.objects.filter(worker=worker)
        .select_related("hit", "hit_type")
        .order_by(F("submit_time").desc(nulls_last=True), "-pk")
    )


def worker_profile(account: RequesterAccount, worker: Worker) -> WorkerProfile:
    """Everything the worker's page shows but the assignments table, in a fixed number of
    queries whatever the worker's history."""
    worker_id = worker.worker_id
    assignments = list(
        Assignment.objects.filter(worker=worker).values_list(
            "hit_id", "hit_type_id", "answers", "work_time_seconds"
        )
    )
    studies, overall = _agreement(assignments)
    times = [seconds for *_, seconds in assignments if seconds is not None]
    bonuses = list(
        Bonus.objects.filter(account=account, worker_id=worker_id)
        .select_related("requested_by")
        .order_by("-created_at", "-pk")
    )
    payments = list(BonusPayment.objects.filter(account=account, worker_id=worker_id))
    totals = _merge_payments(
        [(b.worker_id, b.assignment_id, b.amount) for b in bonuses if b.state in PAID_STATES],
        [(p.worker_id, p.assignment_id, p.amount) for p in payments],
    ).get(worker_id, BonusTotals())
    qualifications = list(
        Qualification.objects.filter(account=account, worker_id=worker_id)
        .select_related("qualification_type")
        .order_by("qualification_type__name")
    )
    soft = next(
        (
            q
            for q in qualifications
            if q.qualification_type.lab_purpose == LabPurpose.SOFT_BLOCK and q.status == "Granted"
        ),
        None,
    )
    pending: list[Any] = list(
        BlockChange.objects.filter(account=account, worker_id=worker_id, state__in=OPEN_STATES)
    )
    pending += QualificationGrant.objects.filter(
        account=account,
        worker_id=worker_id,
        qualification_type__lab_purpose=LabPurpose.SOFT_BLOCK,
        state__in=OPEN_STATES,
    )
    return WorkerProfile(
        worker=worker,
        studies=studies,
        agreement=overall,
        median_work_time=statistics.median(times) if times else None,
        bonuses=bonuses,
        payments=payments,
        bonus_totals=totals,
        qualifications=qualifications,
        block=BlockStatus(
            hard=WorkerBlock.objects.filter(account=account, worker_id=worker_id).first(),
            soft=soft,
            pending=pending,
        ),
        messages=list(
            MessageRecipient.objects.filter(account=account, worker_id=worker_id)
            .select_related("message")
            .order_by("-message__created_at", "-pk")
        ),
        notes=list(
            WorkerNote.objects.filter(account=account, worker_id=worker_id).select_related("author")
        ),
        tags=list(WorkerTag.objects.filter(account=account, worker_id=worker_id)),
    )


def _agreement(
    assignments: Sequence[tuple[int, int, Any, int | None]],
) -> tuple[list[StudyRow], Agreement]:
    """Per study and overall, the worker's agreement with the majority of each HIT they answered
    (`assignments`: the worker's (HIT pk, HIT type pk, answers, work time)), in two queries: every
    assignment of those HITs, and the studies."""
    hit_pks = {hit_pk for hit_pk, *_ in assignments}
    answers_by_hit: dict[int, list[Mapping[str, Any]]] = defaultdict(list)
    for hit_pk, answers in Assignment.objects.filter(hit_id__in=hit_pks).values_list(
        "hit_id", "answers"
    ):
        answers_by_hit[hit_pk].append(answers or {})
    per_hit = {
        hit_pk: agreement(sets, field_names(sets)) for hit_pk, sets in answers_by_hit.items()
    }
    hit_types = HITType.objects.in_bulk({hit_type_pk for _, hit_type_pk, *_ in assignments})
    studies: dict[int, StudyRow] = {}
    overall = Agreement()
    for hit_pk, hit_type_pk, own_answers, _ in assignments:
        row = studies.setdefault(hit_type_pk, StudyRow(hit_types[hit_type_pk]))
        row.assignments += 1
        answers = own_answers or {}
        majority = per_hit.get(hit_pk, {})
        compared = [n for n, fa in majority.items() if fa.majority is not None and n in answers]
        agreeing = len(compared) - len(disagrees(answers, majority))
        for total in (row.agreement, overall):
            total.compared += len(compared)
            total.agreeing += agreeing
    return sorted(studies.values(), key=lambda s: s.hit_type.title), overall


# --- Notes and tags ------------------------------------------------------------------------------


def add_note(*, account: RequesterAccount, worker: Worker, text: str, author: Any) -> WorkerNote:
    return WorkerNote.objects.create(
        account=account, worker_id=worker.worker_id, text=text, author=author
    )


def add_tag(*, account: RequesterAccount, worker: Worker, tag: str, author: Any) -> WorkerTag:
    """Tag the worker; tagging twice with the same tag keeps the first (no error)."""
    try:
        with transaction.atomic():
            return WorkerTag.objects.create(
                account=account, worker_id=worker.worker_id, tag=tag, created_by=author
            )
    except IntegrityError:
        return WorkerTag.objects.get(account=account, worker_id=worker.worker_id, tag=tag)


def remove_tag(*, account: RequesterAccount, worker: Worker, tag: str) -> None:
    WorkerTag.objects.filter(account=account, worker_id=worker.worker_id, tag=tag).delete()
