"""Planning a bonus file: what paying its rows would do, before anything is paid.

The file is a CSV with a worker id, an assignment id, an amount and a reason per row. Our column
names (WorkerId, AssignmentId, BonusAmount, Reason) are accepted in any case and with spaces or
underscores, and so are the names the Requester website and its users' spreadsheets use
("Worker ID", "Assignment ID", "Amount" or "Bonus Amount", "Feedback").

The rule is the simplest safe one: a file with any bad row is refused as a whole, with a report
of every bad row, and nothing is paid. Fixing the file and uploading it again is cheap; paying
part of a file and then working out which part is not. Paying a worker again for the same
assignment is not possible from a file: that needs the one-bonus page and its reason.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction

from dashboard.csv_upload import CSVRefused, read_csv_rows
from dashboard.enums import JobKind
from dashboard.jobs import start_job
from dashboard.models import Job, RequesterAccount, SyncState
from hits.models import Assignment
from hits.upload_plan import DEFAULT_MAX_BYTES
from mturk.fees import bonus_fee
from people.models import FAILED_STATES, Bonus, BonusRun
from people.services.bonuses import (
    BONUSABLE_STATUSES,
    BonusRefused,
    RunRow,
    clean_amount,
    clean_reason,
    record_run_bonuses,
)

__all__ = [
    "MAX_BYTES",
    "MAX_ROWS",
    "RUN_CONFIRMATION",
    "BonusPlan",
    "PlannedBonus",
    "RowProblem",
    "plan_bonus_file",
    "run_binding",
    "save_run",
    "start_run",
]

# The same size cap as an uploaded decisions file; far more rows than a lab pays at once.
MAX_BYTES = DEFAULT_MAX_BYTES
MAX_ROWS = 10_000
# IN (...) lists are split so no backend hits its bound-parameter limit (SQLite's is the lowest).
_LOOKUP_CHUNK = 900

# Header names, lower-cased without spaces, underscores or dashes -> our field.
COLUMNS: dict[str, str] = {
    "workerid": "worker_id",
    "worker": "worker_id",
    "assignmentid": "assignment_id",
    "assignment": "assignment_id",
    "bonusamount": "amount",
    "amount": "amount",
    "bonus": "amount",
    "reason": "reason",
    "bonusreason": "reason",
    "feedback": "reason",
}
REQUIRED = {
    "worker_id": "worker id",
    "assignment_id": "assignment id",
    "amount": "amount",
    "reason": "reason",
}


@dataclass(frozen=True)
class PlannedBonus(RunRow):
    """A row that would be paid; `line` is its line in the file (the header is line 1)."""

    line: int = 0

    @property
    def fee(self) -> Decimal:
        return bonus_fee(self.amount)


@dataclass(frozen=True)
class RowProblem:
    line: int
    worker_id: str
    assignment_id: str
    message: str


@dataclass
class BonusPlan:
    """What a bonus file would pay. `errors` refuse the file as a whole (unreadable, wrong columns,
    too big); `problems` are bad rows (any one refuses the file); `refusals` are reasons the run
    as a whole cannot go (over the cap, over the balance)."""

    errors: list[str] = field(default_factory=list)
    rows: list[PlannedBonus] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    balance: Decimal | None = None
    cap: Decimal | None = None

    @property
    def amount(self) -> Decimal:
        return sum((row.amount for row in self.rows), Decimal("0.00"))

    @property
    def fee(self) -> Decimal:
        return sum((row.fee for row in self.rows), Decimal("0.00"))

    @property
    def total(self) -> Decimal:
        return self.amount + self.fee

    @property
    def ok(self) -> bool:
        """The file may be paid: readable, every row good, and the run within cap and balance."""
        return not self.errors and not self.problems and not self.refusals and bool(self.rows)


def _read_rows(data: bytes) -> tuple[dict[str, str], list[tuple[int, dict[str, str]]]]:
    """The header's mapping (our field -> the file's column) and the data rows with their line."""
    try:
        return read_csv_rows(
            data,
            columns=COLUMNS,
            required=REQUIRED,
            max_bytes=MAX_BYTES,
            max_rows=MAX_ROWS,
            expected="WorkerId, AssignmentId, BonusAmount, Reason",
        )
    except CSVRefused as exc:
        raise BonusRefused(str(exc)) from None


def _assignments(account: RequesterAccount, ids: Iterable[str]) -> dict[str, tuple[str, str, str]]:
    """assignment id -> (worker id, HIT id, status) for the account's known assignments."""
    wanted = sorted(set(ids))
    found: dict[str, tuple[str, str, str]] = {}
    for start in range(0, len(wanted), _LOOKUP_CHUNK):
        for assignment_id, worker_id, hit_id, status in Assignment.objects.filter(
            account=account, assignment_id__in=wanted[start : start + _LOOKUP_CHUNK]
        ).values_list("assignment_id", "worker__worker_id", "hit__hit_id", "status"):
            found[assignment_id] = (worker_id, hit_id, status)
    return found


def _in_ledger(account: RequesterAccount, ids: Iterable[str]) -> dict[tuple[str, str], str]:
    """(worker id, assignment id) -> state of its bonus already in the ledger (not failed)."""
    wanted = sorted(set(ids))
    found: dict[tuple[str, str], str] = {}
    for start in range(0, len(wanted), _LOOKUP_CHUNK):
        for worker_id, assignment_id, state in (
            Bonus.objects.filter(
                account=account, assignment_id__in=wanted[start : start + _LOOKUP_CHUNK]
            )
            .exclude(state__in=FAILED_STATES)
            .values_list("worker_id", "assignment_id", "state")
        ):
            found[(worker_id, assignment_id)] = state
    return found


def plan_bonus_file(*, account: RequesterAccount, data: bytes) -> BonusPlan:
    """What paying the file would do. Reads the database, writes nothing, calls nobody."""
    plan = BonusPlan(cap=account.bonus_run_cap)
    state = SyncState.objects.filter(account=account).first()
    plan.balance = state.available_balance if state else None
    try:
        _columns, records = _read_rows(data)
    except BonusRefused as exc:
        plan.errors.append(str(exc))
        return plan
    known = _assignments(account, (values["assignment_id"] for _line, values in records))
    ledger = _in_ledger(account, (values["assignment_id"] for _line, values in records))
    first_line: dict[tuple[str, str], int] = {}
    for line, values in records:
        worker_id, assignment_id = values["worker_id"], values["assignment_id"]

        def problem(
            message: str, line: int = line, w: str = worker_id, a: str = assignment_id
        ) -> None:
            plan.problems.append(RowProblem(line, w, a, message))

        if not worker_id or not assignment_id:
            problem("The worker id or the assignment id is missing.")
            continue
        try:
            amount = clean_amount(values["amount"])
            reason = clean_reason(values["reason"])
        except BonusRefused as exc:
            problem(str(exc))
            continue
        key = (worker_id, assignment_id)
        if key in first_line:
            problem(f"The same worker and assignment as line {first_line[key]}.")
            continue
        first_line[key] = line
        mirror = known.get(assignment_id)
        if mirror is None:
            problem("Unknown assignment: not in this account's data (sync, or check the id).")
            continue
        if mirror[0] != worker_id:
            problem(f"Worker {worker_id} did not do this assignment (it is {mirror[0]}'s).")
            continue
        if mirror[2] not in BONUSABLE_STATUSES:
            problem(f"The assignment is {mirror[2]}: not submitted yet.")
            continue
        if key in ledger:
            problem(
                f"Already in the bonus ledger ({ledger[key]}): this worker has a bonus for this "
                "assignment. Pay again from the assignment's bonus page if you mean it."
            )
            continue
        plan.rows.append(
            PlannedBonus(
                worker_id=worker_id,
                assignment_id=assignment_id,
                hit_id=mirror[1],
                amount=amount,
                reason=reason,
                line=line,
            )
        )
    total = plan.total
    if plan.cap is not None and total > plan.cap:
        plan.refusals.append(
            f"The run costs ${total} with MTurk's fee, over the account's cap of ${plan.cap} per run."
        )
    if plan.balance is not None and total > plan.balance:
        plan.refusals.append(
            f"The run costs ${total} with MTurk's fee, more than the account's balance of "
            f"${plan.balance}."
        )
    return plan


# --- Runs: the uploaded file kept, then paid once ------------------------------------------------

# What a run's confirmation token is issued for (dashboard.confirmations).
RUN_CONFIRMATION = "people.bonus_run"


def run_binding(run: BonusRun) -> dict[str, object]:
    """What the confirmation page showed: this run, with exactly this file."""
    return {"run": run.pk, "sha256": run.content_sha256}


def save_run(
    *, account: RequesterAccount, filename: str, data: bytes, requested_by: Any
) -> BonusRun:
    """Keep the file as uploaded, so the confirmation pays exactly what the preview showed."""
    user = requested_by if getattr(requested_by, "is_authenticated", False) else None
    return BonusRun.objects.create(
        account=account,
        filename=filename[:255],
        content=data,
        content_sha256=hashlib.sha256(data).hexdigest(),
        created_by=user,
    )


def start_run(*, account: RequesterAccount, run: BonusRun, requested_by: Any) -> Job:
    """Pay a run's file, once: planned again now (the ledger and the mirror may have moved since
    the preview), its rows recorded under one job. A second call (a double submit) returns the job
    of the first. Raises BonusRefused when the file can no longer be paid."""
    if run.job is not None:
        return run.job
    plan = plan_bonus_file(account=account, data=bytes(run.content))
    if not plan.ok:
        raise BonusRefused("The file can no longer be paid as it is; upload it again to see why.")
    with transaction.atomic():
        job = start_job(
            account=account,
            kind=JobKind.BONUS_PAY,
            title=f"Bonuses from {run.filename or 'an uploaded file'} ({len(plan.rows)} rows, "
            f"${plan.total} with fees)",
            parameters={"run": run.pk},
            created_by=requested_by,
            total=len(plan.rows),
        )
        # Claim the run so a double-submitted confirmation pays it once.
        if BonusRun.objects.filter(pk=run.pk, job__isnull=True).update(job=job) != 1:
            transaction.set_rollback(True)
            first = BonusRun.objects.select_related("job").get(pk=run.pk).job
            if first is None:  # the job that claimed it was deleted meanwhile
                raise BonusRefused("This file is being paid already; see the jobs page.")
            return first
        try:
            with transaction.atomic():
                record_run_bonuses(
                    account=account, run=run, rows=plan.rows, job=job, requested_by=requested_by
                )
        except IntegrityError:
            transaction.set_rollback(True)
            raise BonusRefused(
                "Some of these bonuses were requested meanwhile; upload the file again to see which."
            ) from None
    run.job = job
    return job
