"""Hard blocks (CreateWorkerBlock / DeleteWorkerBlock, as BlockChange intents) and soft blocks
(the lab's exclusion qualification, as QualificationGrant intents), for one worker or many.

One worker: recorded, then sent by a task once committed. Many (ticked rows, a CSV): recorded under
a job that sends them at the account's rate. Either way a crash leaves rows that a retry finishes
without doing anything twice (dashboard.intents)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from dashboard import intents
from dashboard.enums import IntentState, JobKind
from dashboard.jobs import start_job
from dashboard.models import Job, RequesterAccount
from dashboard.mturk_access import account_gateway
from mturk.gateway import MTurkGateway
from mturk.requesting import ActionsGuarded, does_not_exist
from people.enums import BlockAction, BlockKind
from people.models import MAX_REASON, BlockChange, StudyGroup
from qualifications import services as qualification_services
from qualifications.enums import GrantAction, LabPurpose
from qualifications.models import Qualification, QualificationGrant, QualificationType
from workers.models import WorkerBlock

SOFT_BLOCK_NAME = "Excluded by the lab (soft block)"
SOFT_BLOCK_DESCRIPTION = (
    "Workers the lab has chosen not to invite to its studies. It is not a penalty and is not "
    "reported to MTurk; HITs published by the lab require that a worker does not hold it."
)
# MTurk worker ids are upper-case letters and digits (A…, 12 to 14 characters in practice).
WORKER_ID = re.compile(r"^[A-Z0-9]{6,64}$")
MAX_CSV_BYTES = 1_000_000
MAX_CSV_ROWS = 10_000


class BlockRefused(ValueError):
    """The request as a whole cannot be carried out; the message says why."""


@dataclass
class BlockOutcome:
    changes: list[BlockChange] = field(default_factory=list)
    grants: list[QualificationGrant] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (worker id, why)

    @property
    def recorded(self) -> int:
        return len(self.changes) + len(self.grants)


def clean_reason(action: BlockAction | str, reason: str) -> str:
    """A block needs a reason (MTurk requires one for CreateWorkerBlock; for a soft block it is the
    lab's record of why); at most 1024 characters, MTurk's limit."""
    reason = reason.strip()
    if action == BlockAction.BLOCK and not reason:
        raise BlockRefused("A block needs a reason.")
    if len(reason) > MAX_REASON:
        raise BlockRefused(f"A reason is at most {MAX_REASON} characters.")
    return reason


# --- Hard blocks ----------------------------------------------------------------------------------


def request_block_changes(
    *,
    account: RequesterAccount,
    rows: Iterable[tuple[str, str]],
    action: BlockAction | str,
    requested_by: Any = None,
    job: Job | None = None,
) -> BlockOutcome:
    """Record BlockChange rows for (worker id, reason) pairs; nothing is sent. A worker named twice
    counts once (its first reason); workers with a change in flight are skipped."""
    action = BlockAction(action)
    user = requested_by if getattr(requested_by, "is_authenticated", False) else None
    wanted: dict[str, str] = {}
    for worker_id, reason in rows:
        wanted.setdefault(worker_id, reason)
    outcome = BlockOutcome()
    with transaction.atomic():
        busy = set(
            BlockChange.objects.filter(
                account=account, worker_id__in=list(wanted), state__in=IntentState.open()
            ).values_list("worker_id", flat=True)
        )
        changes = []
        for worker_id, reason in wanted.items():
            if worker_id in busy:
                outcome.skipped.append(
                    (worker_id, "a block change for them is already in progress")
                )
                continue
            changes.append(
                BlockChange(
                    account=account,
                    worker_id=worker_id,
                    action=action,
                    reason=clean_reason(action, reason),
                    requested_by=user,
                    job=job,
                )
            )
        # One open change per worker: one recorded meanwhile by another request is skipped.
        changes = intents.save_new(
            changes,
            refused=lambda change: outcome.skipped.append(
                (change.worker_id, "a block change for them is already in progress")
            ),
        )
    outcome.changes = changes
    return outcome


@dataclass(frozen=True)
class BlockResult:
    """What `audited_call` needs (dashboard.intents.CallResult). Both calls are idempotent at
    MTurk, so a resend is not told apart from a first send."""

    request_id: str | None
    already: bool = False


def _apply_to_mirror(change: BlockChange) -> None:
    if change.action == BlockAction.BLOCK:
        WorkerBlock.objects.update_or_create(
            account=change.account,
            worker_id=change.worker_id,
            defaults={"reason": change.reason, "synced_at": timezone.now()},
        )
    else:
        WorkerBlock.objects.filter(account=change.account, worker_id=change.worker_id).delete()


def execute_block_change(
    *, change_id: int, gateway: MTurkGateway, reclaim_sending: bool = False
) -> BlockChange | None:
    """Send one block change if nobody else has it; returns the row as it ended (None when it was
    not claimable). On success the mirror's WorkerBlock row is created or deleted."""
    change = intents.claim(BlockChange, change_id, reclaim_sending=reclaim_sending)
    if change is None:
        return None

    def send() -> BlockResult:
        if change.action == BlockAction.BLOCK:
            return BlockResult(
                gateway.create_worker_block(worker_id=change.worker_id, reason=change.reason)
            )
        return BlockResult(
            gateway.delete_worker_block(worker_id=change.worker_id, reason=change.reason or None)
        )

    return intents.audited_call(change, send, on_success=lambda _result: _apply_to_mirror(change))


# --- Soft blocks ----------------------------------------------------------------------------------


def soft_block_type(*, account: RequesterAccount, requested_by: Any = None) -> QualificationType:
    """The lab's exclusion qualification, made at MTurk on first use (one MTurk call, once)."""
    existing = QualificationType.objects.filter(
        account=account, lab_purpose=LabPurpose.SOFT_BLOCK
    ).first()
    if existing is not None:
        return existing
    with account_gateway(account) as gateway:
        return qualification_services.ensure_lab_qualification_type(
            account=account,
            purpose=LabPurpose.SOFT_BLOCK,
            name=SOFT_BLOCK_NAME,
            description=SOFT_BLOCK_DESCRIPTION,
            gateway=gateway,
            requested_by=requested_by,
        )


def _request_soft(
    *,
    account: RequesterAccount,
    rows: Sequence[tuple[str, str]],
    action: BlockAction,
    requested_by: Any,
    job: Job | None,
) -> BlockOutcome:
    qtype = soft_block_type(account=account, requested_by=requested_by)
    reasons: dict[str, str] = {}
    for worker_id, reason in rows:
        reasons.setdefault(worker_id, clean_reason(action, reason))
    recorded = qualification_services.request_grants(
        qualification_type=qtype,
        worker_ids=list(reasons),
        action=GrantAction.GRANT if action == BlockAction.BLOCK else GrantAction.REVOKE,
        reason=reasons,
        requested_by=requested_by,
        job=job,
    )
    return BlockOutcome(grants=recorded.grants, skipped=recorded.skipped)


# --- What the views ask for -----------------------------------------------------------------------


def change_one(
    *,
    account: RequesterAccount,
    worker_id: str,
    kind: BlockKind | str,
    action: BlockAction | str,
    reason: str,
    requested_by: Any,
) -> BlockOutcome:
    """Block or unblock one worker: recorded, then sent by a task once committed. Raises
    BlockRefused for a bad request (e.g. a block without reason); MTurkError when the soft-block
    type cannot be made."""
    action, kind = BlockAction(action), BlockKind(kind)
    rows = [(worker_id, clean_reason(action, reason))]
    with transaction.atomic():
        if kind == BlockKind.HARD:
            outcome = request_block_changes(
                account=account, rows=rows, action=action, requested_by=requested_by
            )
            intents.send_after_commit(outcome.changes)
        else:
            outcome = _request_soft(
                account=account, rows=rows, action=action, requested_by=requested_by, job=None
            )
            intents.send_after_commit(outcome.grants)
    return outcome


def bulk_binding(*, rows: Sequence[tuple[str, str]], source: str) -> dict[str, Any]:
    """What a bulk block's confirmation page showed: the workers and each one's own reason."""
    return {"source": source, "rows": [[worker_id, reason] for worker_id, reason in rows]}


BULK_CONFIRMATION = "people.bulk_block"


def start_bulk_change(
    *,
    account: RequesterAccount,
    rows: Sequence[tuple[str, str]],
    kind: BlockKind | str,
    action: BlockAction | str,
    reason: str,
    requested_by: Any,
) -> Job:
    """Record a block change for each (worker id, reason) row (a row without its own reason takes
    `reason`) and start the job that sends them at the account's rate."""
    action, kind = BlockAction(action), BlockKind(kind)
    filled = [(worker_id, own or reason) for worker_id, own in rows]
    for _worker_id, why in filled:
        clean_reason(action, why)
    count = len({worker_id for worker_id, _ in filled})
    title = f"{kind.label.split(' (')[0]}: {action.label.lower()} {count} worker{'s' if count != 1 else ''}"
    with transaction.atomic():
        job = start_job(
            account=account,
            kind=JobKind.WORKER_BLOCK if kind == BlockKind.HARD else JobKind.QUALIFICATION_GRANT,
            title=title,
            parameters={"kind": kind, "action": action},
            created_by=requested_by,
            total=count,
        )
        if kind == BlockKind.HARD:
            outcome = request_block_changes(
                account=account, rows=filled, action=action, requested_by=requested_by, job=job
            )
        else:
            outcome = _request_soft(
                account=account, rows=filled, action=action, requested_by=requested_by, job=job
            )
        Job.objects.filter(pk=job.pk).update(total=outcome.recorded)
    return job


@dataclass
class BlockCsv:
    rows: list[tuple[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.rows)


def _header_key(name: str) -> str:
    return re.sub(r"[^a-z]", "", name.lower())


def parse_block_csv(data: bytes) -> BlockCsv:
    """Worker ids (a "WorkerId" / "Worker ID" column) with an optional "Reason" column. Any problem
    refuses the whole file (nothing is sent), with every problem listed."""
    plan = BlockCsv()
    if len(data) > MAX_CSV_BYTES:
        plan.problems.append(f"The file is larger than {MAX_CSV_BYTES // 1000} kB.")
        return plan
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        plan.problems.append("The file is not UTF-8 text (save it as CSV UTF-8).")
        return plan
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header:
        plan.problems.append("The file is empty.")
        return plan
    keys = [_header_key(name) for name in header]
    if "workerid" not in keys:
        plan.problems.append("No worker id column: the first row must name a “WorkerId” column.")
        return plan
    worker_col = keys.index("workerid")
    reason_col = keys.index("reason") if "reason" in keys else None
    seen: set[str] = set()
    for line, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        worker_id = row[worker_col].strip() if worker_col < len(row) else ""
        reason = row[reason_col].strip() if reason_col is not None and reason_col < len(row) else ""
        if not WORKER_ID.match(worker_id):
            plan.problems.append(f"Line {line}: “{worker_id[:70]}” is not a worker id.")
            continue
        if len(reason) > MAX_REASON:
            plan.problems.append(f"Line {line}: the reason is over {MAX_REASON} characters.")
            continue
        if worker_id in seen:
            plan.duplicates.append(worker_id)
            continue
        seen.add(worker_id)
        plan.rows.append((worker_id, reason))
        if len(plan.rows) > MAX_CSV_ROWS:
            plan.problems.append(f"The file has more than {MAX_CSV_ROWS:,} workers.")
            break
    if not plan.rows and not plan.problems:
        plan.problems.append("The file names no worker.")
    return plan


# --- Status ---------------------------------------------------------------------------------------


@dataclass
class BlockStatus:
    hard: WorkerBlock | None
    soft: bool
    pending: list[BlockChange | QualificationGrant]


def block_status(*, account: RequesterAccount, worker_id: str) -> BlockStatus:
    """Whether the worker is hard- or soft-blocked now (by the mirror), and changes in flight."""
    soft_types = QualificationType.objects.filter(
        account=account, lab_purpose=LabPurpose.SOFT_BLOCK
    )
    pending: list[BlockChange | QualificationGrant] = [
        *BlockChange.objects.filter(
            account=account, worker_id=worker_id, state__in=IntentState.open()
        ),
        *QualificationGrant.objects.filter(
            qualification_type__in=soft_types, worker_id=worker_id, state__in=IntentState.open()
        ),
    ]
    return BlockStatus(
        hard=WorkerBlock.objects.filter(account=account, worker_id=worker_id).first(),
        soft=Qualification.objects.filter(
            qualification_type__in=soft_types,
            worker_id=worker_id,
            status=qualification_services.GRANTED,
        ).exists(),
        pending=pending,
    )


def exclusion_requirements(
    account: RequesterAccount, *, study_groups: Iterable[StudyGroup] = ()
) -> list[dict[str, Any]]:
    """The QualificationRequirements that keep the lab's excluded workers out of a new HIT type:
    the soft-block type and the exclusion of each study group the new study belongs to (whose
    type exists), each required to be absent, so the HITs are not even shown to them. A study
    outside every group excludes only the soft-blocked: a group keeps its workers out of the
    group's next study, not out of every study of the lab."""
    groups = StudyGroup.objects.filter(account=account, pk__in=[group.pk for group in study_groups])
    types = QualificationType.objects.filter(account=account).filter(
        Q(lab_purpose=LabPurpose.SOFT_BLOCK)
        | Q(pk__in=groups.filter(qualification_type__isnull=False).values("qualification_type"))
    )
    return [
        does_not_exist(
            qtype.qualification_type_id,
            actions_guarded=ActionsGuarded.DISCOVER_PREVIEW_AND_ACCEPT,
        )
        for qtype in types.order_by("pk")
    ]
