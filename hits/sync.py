"""Sync services: make the mirror equal MTurk's truth for HITs, HIT types, assignments and workers.

All three doors (beat, SQS, SNS) end here. Every function is idempotent: it writes what MTurk says
now, so running it twice, late, or out of order converges to the same rows.

Query budget: rows arrive page by page (100 HITs, and the assignments of those HITs), and each page
is written with a constant number of queries, whatever its size: one read of the existing rows,
one bulk insert, one bulk update per table. Unchanged rows are not written at all.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Literal

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from dashboard.models import RequesterAccount
from hits.enums import AssignmentStatus, HITStatus
from hits.models import HIT, Assignment, Batch, HITType
from mturk import records
from mturk.answers import parse_answers, question_kind
from mturk.assignment_fetch import (
    AssignmentFetcher,
    ProcessFetcher,
    ThreadFetcher,
    all_assignments,
    processes_can_share,
)
from mturk.batches import BatchLabel, batch_of
from mturk.errors import NotFound
from mturk.gateway import MTurkGateway
from workers.models import Worker

logger = logging.getLogger(__name__)

HIT_FIELDS = [
    "hit_type",
    "hit_group_id",
    "hit_layout_id",
    "question",
    "question_kind",
    "title",
    "description",
    "keywords",
    "reward",
    "status",
    "review_status",
    "max_assignments",
    "assignments_pending",
    "assignments_available",
    "assignments_completed",
    "created_at_mturk",
    "expires_at",
    "assignment_duration_seconds",
    "auto_approval_delay_seconds",
    "annotation",
    "batch",
    "qualification_requirements",
    "disposed_at",
]
ASSIGNMENT_FIELDS = [
    "status",
    "accept_time",
    "submit_time",
    "auto_approval_time",
    "approval_time",
    "rejection_time",
    "deadline",
    "requester_feedback",
    "answer_xml",
    "answers",
    "answers_ok",
    "answers_error",
    "work_time_seconds",
]


@dataclass
class SyncCounts:
    """What a sync saw and changed; summed across pages."""

    hits_seen: int = 0
    hits_created: int = 0
    hits_updated: int = 0
    hits_disposed: int = 0
    assignments_seen: int = 0
    assignments_created: int = 0
    assignments_updated: int = 0
    pages: int = 0
    hit_ids_refreshed: list[str] = field(default_factory=list, repr=False)

    def add(self, other: SyncCounts) -> None:
        for name in (
            "hits_seen",
            "hits_created",
            "hits_updated",
            "hits_disposed",
            "assignments_seen",
            "assignments_created",
            "assignments_updated",
            "pages",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict[str, int]:
        return {key: value for key, value in self.__dict__.items() if isinstance(value, int)}


# --- Record -> row mapping -----------------------------------------------------------------------


def _hit_values(record: records.HIT, hit_type: HITType, batch: Batch | None) -> dict[str, Any]:
    return {
        "hit_type": hit_type,
        "batch": batch,
        "hit_group_id": record.hit_group_id or "",
        "hit_layout_id": record.hit_layout_id or "",
        "question": record.question or "",
        "question_kind": question_kind(record.question, record.hit_layout_id),
        "title": record.title or "",
        "description": record.description or "",
        "keywords": record.keywords or "",
        "reward": record.reward or 0,
        "status": record.status or HITStatus.ASSIGNABLE,
        "review_status": record.review_status or "NotReviewed",
        "max_assignments": record.max_assignments or 0,
        "assignments_pending": record.assignments_pending or 0,
        "assignments_available": record.assignments_available or 0,
        "assignments_completed": record.assignments_completed or 0,
        "created_at_mturk": record.creation_time,
        "expires_at": record.expiration,
        "assignment_duration_seconds": record.assignment_duration_seconds or 0,
        "auto_approval_delay_seconds": record.auto_approval_delay_seconds or 0,
        "annotation": record.requester_annotation or "",
        "qualification_requirements": list(record.qualification_requirements),
        "disposed_at": None,
    }


def _hit_type_values(record: records.HIT) -> dict[str, Any]:
    return {
        "title": record.title or "",
        "description": record.description or "",
        "keywords": record.keywords or "",
        "reward": record.reward or 0,
        "assignment_duration_seconds": record.assignment_duration_seconds or 0,
        "auto_approval_delay_seconds": record.auto_approval_delay_seconds or 0,
        "qualification_requirements": list(record.qualification_requirements),
    }


def _assignment_values(record: records.Assignment, existing: Assignment | None) -> dict[str, Any]:
    answer_xml = record.answer or ""
    if existing is not None and existing.answer_xml == answer_xml:
        # Parsing is the expensive part of a row; answers never change once submitted.
        answers, answers_ok, answers_error = (
            existing.answers,
            existing.answers_ok,
            existing.answers_error,
        )
    else:
        parsed = parse_answers(answer_xml) if answer_xml else None
        answers = parsed.fields if parsed else {}
        answers_ok = parsed.ok if parsed else True
        answers_error = (parsed.error if parsed else "")[:300]
    work_time = None
    if record.accept_time and record.submit_time:
        work_time = max(0, int((record.submit_time - record.accept_time).total_seconds()))
    return {
        "status": record.status,
        "accept_time": record.accept_time,
        "submit_time": record.submit_time,
        "auto_approval_time": record.auto_approval_time,
        "approval_time": record.approval_time,
        "rejection_time": record.rejection_time,
        "deadline": record.deadline,
        "requester_feedback": record.requester_feedback or "",
        "answer_xml": answer_xml,
        "answers": answers,
        "answers_ok": answers_ok,
        "answers_error": answers_error,
        "work_time_seconds": work_time,
    }


def _differs(row: Any, values: dict[str, Any]) -> bool:
    for name, value in values.items():
        if name in ("hit_type", "hit", "worker", "batch"):
            # Compare the keys: reading the relation itself would cost one query per row.
            if getattr(row, f"{name}_id") != (value.pk if value is not None else None):
                return True
        elif getattr(row, name) != value:
            return True
    return False


# --- Upserts -------------------------------------------------------------------------------------


def _ensure_hit_types(
    account: RequesterAccount, hit_records: Sequence[records.HIT]
) -> dict[str, HITType]:
    """HIT type rows for every HIT type in the page (created from the HIT's own fields if new).

    HIT types have no List/Get operation: a HIT carries its type's properties, so the newest HIT
    seen defines them. Two queries plus one write per changed type.
    """
    wanted: dict[str, records.HIT] = {}
    for record in hit_records:
        if record.hit_type_id:
            wanted[record.hit_type_id] = record
    existing = {
        ht.hit_type_id: ht for ht in HITType.objects.filter(account=account, hit_type_id__in=wanted)
    }
    new = [
        HITType(account=account, hit_type_id=type_id, **_hit_type_values(record))
        for type_id, record in wanted.items()
        if type_id not in existing
    ]
    if new:
        HITType.objects.bulk_create(new, ignore_conflicts=True)
        existing = {
            ht.hit_type_id: ht
            for ht in HITType.objects.filter(account=account, hit_type_id__in=wanted)
        }
    changed = []
    for type_id, record in wanted.items():
        values = _hit_type_values(record)
        hit_type = existing[type_id]
        if _differs(hit_type, values):
            for name, value in values.items():
                setattr(hit_type, name, value)
            changed.append(hit_type)
    if changed:
        HITType.objects.bulk_update(
            changed, list(_hit_type_values(hit_records[0]).keys()) + ["updated_at"]
        )
    return existing


def _ensure_batches(
    account: RequesterAccount, hit_records: Sequence[records.HIT], hit_types: dict[str, HITType]
) -> dict[tuple[int, str], Batch]:
    """Batch rows for every batch the page's HITs name in their annotations, by (HIT type pk,
    batch key). Two queries when a batch is new, one otherwise, none when no HIT names one."""
    wanted: dict[tuple[int, str], BatchLabel] = {}
    for record in hit_records:
        label = batch_of(record.requester_annotation)
        if label is not None and record.hit_type_id:
            wanted[(hit_types[record.hit_type_id].pk, label.key)] = label
    if not wanted:
        return {}

    def read() -> dict[tuple[int, str], Batch]:
        rows = Batch.objects.filter(
            account=account,
            hit_type__in={type_pk for type_pk, _ in wanted},
            key__in={key for _, key in wanted},
        )
        return {(b.hit_type_id, b.key): b for b in rows}

    existing = read()
    missing = [
        Batch(account=account, hit_type_id=type_pk, key=key, name=label.name, source=label.source)
        for (type_pk, key), label in wanted.items()
        if (type_pk, key) not in existing
    ]
    if missing:
        Batch.objects.bulk_create(missing, ignore_conflicts=True)
        existing = read()
    return existing


def upsert_hits(
    *, account: RequesterAccount, hit_records: Sequence[records.HIT]
) -> tuple[dict[str, HIT], SyncCounts, set[str]]:
    """Write a page of HITs. Returns the rows by HIT id, the counts, and the ids whose status or
    counters changed (their assignments need a fresh look)."""
    counts = SyncCounts(hits_seen=len(hit_records))
    if not hit_records:
        return {}, counts, set()
    now = timezone.now()
    hit_types = _ensure_hit_types(account, hit_records)
    batches = _ensure_batches(account, hit_records, hit_types)
    existing = {
        hit.hit_id: hit
        for hit in HIT.objects.filter(account=account, hit_id__in=[r.hit_id for r in hit_records])
    }
    to_create, to_update, changed_ids = [], [], set()
    for record in hit_records:
        if record.hit_type_id is None:
            raise ValueError(f"MTurk listed HIT {record.hit_id} without its HITTypeId.")
        hit_type = hit_types[record.hit_type_id]
        label = batch_of(record.requester_annotation)
        batch = batches.get((hit_type.pk, label.key)) if label else None
        values = _hit_values(record, hit_type, batch)
        row = existing.get(record.hit_id)
        if row is None:
            to_create.append(HIT(account=account, hit_id=record.hit_id, synced_at=now, **values))
            changed_ids.add(record.hit_id)
        elif _differs(row, values):
            if _counters(row) != _counters_of(values):
                changed_ids.add(record.hit_id)
            for name, value in values.items():
                setattr(row, name, value)
            row.synced_at = now
            to_update.append(row)
    if to_create:
        HIT.objects.bulk_create(to_create, ignore_conflicts=True)
        _adopt_keys(account, to_create)
        existing.update((hit.hit_id, hit) for hit in to_create)
    if to_update:
        HIT.objects.bulk_update(to_update, HIT_FIELDS + ["synced_at"])
    counts.hits_created, counts.hits_updated = len(to_create), len(to_update)
    return existing, counts, changed_ids


def _adopt_keys(account: RequesterAccount, created: list[HIT]) -> None:
    """Give HITs just written with ignore_conflicts (which returns no keys) their primary keys,
    reading only (hit_id, pk): reading the rows back whole would cost their question texts. A row
    a concurrent sync inserted first keeps its key; its values are the same MTurk truth."""
    keys = dict(
        HIT.objects.filter(account=account, hit_id__in=[hit.hit_id for hit in created]).values_list(
            "hit_id", "pk"
        )
    )
    for hit in created:
        hit.pk = keys[hit.hit_id]
        hit._state.adding = False
        hit._state.db = HIT.objects.db


def _counters(hit: HIT) -> tuple:
    return (
        hit.status,
        hit.max_assignments,
        hit.assignments_pending,
        hit.assignments_available,
        hit.assignments_completed,
    )


def _counters_of(values: dict[str, Any]) -> tuple:
    return (
        values["status"],
        values["max_assignments"],
        values["assignments_pending"],
        values["assignments_available"],
        values["assignments_completed"],
    )


def _ensure_workers(account: RequesterAccount, worker_ids: Iterable[str]) -> dict[str, Worker]:
    worker_ids = set(worker_ids)
    if not worker_ids:
        return {}
    existing = {
        w.worker_id: w for w in Worker.objects.filter(account=account, worker_id__in=worker_ids)
    }
    missing = worker_ids - existing.keys()
    if missing:
        Worker.objects.bulk_create(
            [Worker(account=account, worker_id=wid) for wid in missing], ignore_conflicts=True
        )
        existing = {
            w.worker_id: w for w in Worker.objects.filter(account=account, worker_id__in=worker_ids)
        }
    return existing


def upsert_assignments(
    *,
    account: RequesterAccount,
    hits: dict[str, HIT],
    assignment_records: Sequence[records.Assignment],
) -> SyncCounts:
    """Write the assignments of a page of HITs (their HIT rows must exist). Refreshes the
    denormalised counts of every worker whose assignments changed."""
    counts = SyncCounts(assignments_seen=len(assignment_records))
    if not assignment_records:
        return counts
    now = timezone.now()
    workers = _ensure_workers(account, (r.worker_id for r in assignment_records))
    ids = [r.assignment_id for r in assignment_records]
    existing = {
        a.assignment_id: a
        for a in Assignment.objects.filter(account=account, assignment_id__in=ids)
    }
    to_create, to_update, touched_workers = [], [], set()
    for record in assignment_records:
        hit = hits.get(record.hit_id)
        if hit is None:
            logger.warning(
                "assignment %s names HIT %s, which is not in this page; skipped",
                record.assignment_id,
                record.hit_id,
            )
            continue
        row = existing.get(record.assignment_id)
        values = _assignment_values(record, row)
        if row is None:
            to_create.append(
                Assignment(
                    account=account,
                    assignment_id=record.assignment_id,
                    hit=hit,
                    hit_type_id=hit.hit_type_id,
                    worker=workers[record.worker_id],
                    synced_at=now,
                    **values,
                )
            )
            touched_workers.add(workers[record.worker_id].pk)
        elif _differs(row, values):
            for name, value in values.items():
                setattr(row, name, value)
            row.synced_at = now
            to_update.append(row)
            touched_workers.add(row.worker_id)
    if to_create:
        Assignment.objects.bulk_create(to_create, ignore_conflicts=True)
    if to_update:
        Assignment.objects.bulk_update(to_update, ASSIGNMENT_FIELDS + ["synced_at"])
    refresh_worker_counts(worker_pks=touched_workers)
    counts.assignments_created, counts.assignments_updated = len(to_create), len(to_update)
    return counts


def refresh_worker_counts(*, worker_pks: Iterable[int]) -> None:
    """Recompute the denormalised counts of these workers in one UPDATE."""
    worker_pks = list(worker_pks)
    if not worker_pks:
        return

    def count(status: str | None) -> Coalesce:
        assignments = Assignment.objects.filter(worker=OuterRef("pk"))
        if status:
            assignments = assignments.filter(status=status)
        return Coalesce(
            Subquery(assignments.values("worker").annotate(n=Count("pk")).values("n")[:1]), 0
        )

    last_submit = Subquery(
        Assignment.objects.filter(worker=OuterRef("pk"))
        .values("worker")
        .annotate(m=Max("submit_time"))
        .values("m")[:1]
    )
    Worker.objects.filter(pk__in=worker_pks).update(
        assignments_submitted=count(None),
        assignments_approved=count(AssignmentStatus.APPROVED),
        assignments_rejected=count(AssignmentStatus.REJECTED),
        last_submit_time=last_submit,
    )


# --- Sync services -------------------------------------------------------------------------------


def _needs_assignments(hit: HIT, changed_ids: set[str], local_counts: dict[int, int]) -> bool:
    """Whether the HIT's assignments must be listed again: it is new or its status or counters
    moved (every accept, submit, approval, rejection or auto-approval moves them), or we hold fewer
    assignments than MTurk has had submitted."""
    if hit.hit_id in changed_ids:
        return True
    expected = hit.max_assignments - hit.assignments_available - hit.assignments_pending
    return local_counts.get(hit.pk, 0) < expected


@dataclass
class _PreparedPage:
    """A page of HITs written, with the HITs whose assignments must be listed again."""

    hits: dict[str, HIT]
    counts: SyncCounts
    stale: list[HIT]


def _prepare_hit_page(
    *, account: RequesterAccount, hit_records: Sequence[records.HIT], force_assignments: bool
) -> _PreparedPage:
    with transaction.atomic():
        hits, counts, changed_ids = upsert_hits(account=account, hit_records=hit_records)
        local_counts: dict[int, int] = dict(
            Assignment.objects.filter(hit__in=hits.values())
            .values("hit_id")
            .annotate(n=Count("pk"))
            .values_list("hit_id", "n")
        )
        stale = [
            hit
            for hit in hits.values()
            if force_assignments or _needs_assignments(hit, changed_ids, local_counts)
        ]
    return _PreparedPage(hits=hits, counts=counts, stale=stale)


def _finish_hit_page(
    *, account: RequesterAccount, page: _PreparedPage, assignment_records: list[records.Assignment]
) -> SyncCounts:
    with transaction.atomic():
        page.counts.add(
            upsert_assignments(
                account=account, hits=page.hits, assignment_records=assignment_records
            )
        )
    page.counts.pages = 1
    page.counts.hit_ids_refreshed = [hit.hit_id for hit in page.stale]
    return page.counts


def sync_hit_page(
    *,
    account: RequesterAccount,
    gateway: MTurkGateway,
    hit_records: Sequence[records.HIT],
    force_assignments: bool = False,
) -> SyncCounts:
    """Upsert one page of HITs and, for those that need it, all their assignments."""
    page = _prepare_hit_page(
        account=account, hit_records=hit_records, force_assignments=force_assignments
    )
    assignment_records = fetch_assignments(gateway, [hit.hit_id for hit in page.stale])
    return _finish_hit_page(account=account, page=page, assignment_records=assignment_records)


OnPage = Callable[[SyncCounts], None]


def fetch_assignments(gateway: MTurkGateway, hit_ids: Sequence[str]) -> list[records.Assignment]:
    """ListAssignmentsForHIT for each HIT, a few at a time: the calls are bound by client and
    network latency, not by the CPU, and the account's rate limiter still paces them all. The
    result is in the order of `hit_ids`, whatever order the calls finish in."""
    threads = min(settings.SYNC_FETCH_THREADS, len(hit_ids))
    if threads <= 1:
        return [record for hit_id in hit_ids for record in all_assignments(gateway, hit_id)]
    fetcher = ThreadFetcher(gateway, threads)
    try:
        return [record for future in fetcher.submit(hit_ids) for record in future.result()]
    finally:
        fetcher.close()


def _fetcher(gateway: MTurkGateway) -> AssignmentFetcher:
    """SYNC_FETCH_PROCESSES worker processes when set and the account's rate limiter can be shared
    with them (Redis), else SYNC_FETCH_THREADS threads of this process."""
    processes = settings.SYNC_FETCH_PROCESSES
    if processes > 0:
        if processes_can_share(gateway.config):
            return ProcessFetcher(gateway, processes)
        logger.info("SYNC_FETCH_PROCESSES needs a shared (Redis) rate limiter: using threads")
    return ThreadFetcher(gateway, settings.SYNC_FETCH_THREADS)


def sync_hit_pages(
    *,
    account: RequesterAccount,
    gateway: MTurkGateway,
    pages: Iterable[Sequence[records.HIT]],
    force_assignments: bool = False,
    on_page: OnPage | None = None,
) -> SyncCounts:
    """sync_hit_page for every page, overlapped: while the fetchers list the assignments of one
    page, this thread writes the assignments of the page before and reads the next page of HITs.
    The database sees the same writes in the same order per page (HITs, then their assignments);
    only the waiting on MTurk moves off the critical path (a first sync spent about as long
    writing as waiting)."""
    total = SyncCounts()
    fetcher = _fetcher(gateway)
    try:
        previous: tuple[_PreparedPage, list[Future[list[records.Assignment]]]] | None = None
        for hit_records in pages:
            page = _prepare_hit_page(
                account=account, hit_records=hit_records, force_assignments=force_assignments
            )
            fetching = fetcher.submit([hit.hit_id for hit in page.stale])
            if previous is not None:
                total.add(_finish_fetched(account, *previous))
                if on_page:
                    on_page(total)
            previous = (page, fetching)
        if previous is not None:
            total.add(_finish_fetched(account, *previous))
            if on_page:
                on_page(total)
    finally:
        # After an error, the fetches not started yet are dropped rather than waited for.
        fetcher.close()
    return total


def _finish_fetched(
    account: RequesterAccount,
    page: _PreparedPage,
    fetching: list[Future[list[records.Assignment]]],
) -> SyncCounts:
    assignment_records = [record for future in fetching for record in future.result()]
    return _finish_hit_page(account=account, page=page, assignment_records=assignment_records)


# The statuses ListReviewableHITs takes (HITStatus.REVIEWABLE and REVIEWING), as the gateway types them.
REVIEW_STATUSES: tuple[Literal["Reviewable"], Literal["Reviewing"]] = ("Reviewable", "Reviewing")


def sync_reviewable(
    *, account: RequesterAccount, gateway: MTurkGateway, on_page: OnPage | None = None
) -> SyncCounts:
    """ListReviewableHITs (both Reviewable and Reviewing), then the assignments of those that moved."""
    total = SyncCounts()
    for status in REVIEW_STATUSES:
        for page in gateway.iter_reviewable_hit_pages(status=status):
            total.add(sync_hit_page(account=account, gateway=gateway, hit_records=page))
            # Review policies act when a HIT becomes reviewable: read their results then, only
            # for HITs published with policies (one query per page, a call per such HIT).
            with_policies = HIT.objects.filter(
                account=account,
                hit_id__in=[record.hit_id for record in page],
                review_policy_results__isnull=False,
            ).values_list("hit_id", flat=True)
            sync_review_policy_results(account=account, gateway=gateway, hit_ids=with_policies)
            if on_page:
                on_page(total)
    return total


def _policy_name(policy: dict[str, Any] | None) -> str:
    return str((policy or {}).get("PolicyName", ""))


def sync_review_policy_results(
    *, account: RequesterAccount, gateway: MTurkGateway, hit_ids: Iterable[str]
) -> int:
    """ListReviewPolicyResultsForHIT (every page) for each HIT, kept on the HIT: the policies'
    names, their results (per assignment or HIT: question, key, value) and the actions they took.
    Returns how many HITs changed."""
    changed = 0
    for hit_id in hit_ids:
        policies: list[str] = []
        results: list[dict[str, Any]] = []
        actions: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            page = gateway.list_review_policy_results_for_hit(hit_id=hit_id, next_token=token)
            for level, policy in (
                ("Assignment", page.assignment_review_policy),
                ("HIT", page.hit_review_policy),
            ):
                name = _policy_name(policy)
                if name and f"{level}: {name}" not in policies:
                    policies.append(f"{level}: {name}")
            for report in (page.assignment_review_report, page.hit_review_report):
                results.extend((report or {}).get("ReviewResults") or [])
                actions.extend((report or {}).get("ReviewActions") or [])
            token = page.next_token
            if not token:
                break
        value = {"policies": policies, "results": results, "actions": actions}
        changed += (
            HIT.objects.filter(account=account, hit_id=hit_id)
            .exclude(review_policy_results=value)
            .update(review_policy_results=value)
        )
    return changed


def sync_full(
    *,
    account: RequesterAccount,
    gateway: MTurkGateway,
    force_assignments: bool = False,
    on_page: OnPage | None = None,
) -> SyncCounts:
    """ListHITs over every page; HITs that MTurk no longer lists are marked disposed (not deleted)."""
    seen: set[str] = set()

    def pages() -> Iterator[list[records.HIT]]:
        for page in gateway.iter_hit_pages():
            seen.update(record.hit_id for record in page)
            yield page

    total = sync_hit_pages(
        account=account,
        gateway=gateway,
        pages=pages(),
        force_assignments=force_assignments,
        on_page=on_page,
    )
    total.hits_disposed = mark_disposed_except(account=account, seen_hit_ids=seen)
    return total


def sync_active(
    *, account: RequesterAccount, gateway: MTurkGateway, on_page: OnPage | None = None
) -> SyncCounts:
    """The freshness pass for labs without notifications (every SYNC_ACTIVE_INTERVAL_SECONDS).

    ListReviewableHITs cannot see a submission on a HIT that is still Assignable (1 of 3 done), and
    ListHITs cannot be filtered by status, so this reads every ListHITs page (one call per 100
    HITs) and lists assignments only for the HITs whose status or counters moved since the mirror
    last saw them (every accept, submit, return, approval or expiry moves them), or of which we
    hold fewer assignments than MTurk counts. Finished HITs whose counters stand still cost no
    call. Unlike sync_full it does not look for disposed HITs: the hourly reconciliation does.
    """
    return sync_hit_pages(
        account=account, gateway=gateway, pages=gateway.iter_hit_pages(), on_page=on_page
    )


def mark_disposed_except(*, account: RequesterAccount, seen_hit_ids: set[str]) -> int:
    """Mark disposed every live HIT row that a complete ListHITs did not return."""
    known = HIT.objects.filter(account=account, disposed_at__isnull=True).values_list(
        "hit_id", flat=True
    )
    gone = [hit_id for hit_id in known.iterator(chunk_size=2000) if hit_id not in seen_hit_ids]
    disposed = 0
    now = timezone.now()
    # Chunks keep each statement under SQLite's bound-parameter limit.
    for start in range(0, len(gone), 500):
        chunk = gone[start : start + 500]
        disposed += HIT.objects.filter(account=account, hit_id__in=chunk).update(
            status=HITStatus.DISPOSED, disposed_at=now
        )
    return disposed


def sync_one_hit(*, account: RequesterAccount, gateway: MTurkGateway, hit_id: str) -> SyncCounts:
    """GetHIT and all its assignments (used when a notification names the HIT)."""
    try:
        record = gateway.get_hit(hit_id=hit_id)
    except NotFound:
        disposed = HIT.objects.filter(
            account=account, hit_id=hit_id, disposed_at__isnull=True
        ).update(status=HITStatus.DISPOSED, disposed_at=timezone.now())
        return SyncCounts(hits_disposed=disposed)
    return sync_hit_page(
        account=account, gateway=gateway, hit_records=[record], force_assignments=True
    )
