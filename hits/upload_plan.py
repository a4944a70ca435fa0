"""Planning an uploaded decisions file: what approving and rejecting its rows would do.

The user fills in the Approve and Reject columns of a batch results CSV (the export of
:mod:`hits.results_export`, or the Requester website's own) and uploads it. Upload semantics
(Requester UI Guide, "Reviewing Assignments Offline"): ``X`` in Approve approves, a reason in Reject
rejects, both empty leaves the assignment alone. :func:`parse_decisions_csv` turns a file into an
:class:`UploadPlan` and reports every row it will not act on, and why.

Planned but never applied: nothing here writes to the database or calls MTurk. The view shows the
plan as a preview; a bulk job acts on ``plan.rows`` after the user confirms.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from django.utils import timezone

from hits.enums import AssignmentStatus
from hits.models import Assignment
from hits.results_format import DECISION_COLUMNS, java_date
from hits.rules import (
    FROM_REQUESTER_WEBSITE,
    MAX_FEEDBACK,
    OVERRIDE_WINDOW,
    from_requester_website,
)
from mturk.fees import assignment_cost

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from dashboard.models import RequesterAccount

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_ROWS",
    "PlannedDecision",
    "RowIssue",
    "UploadPlan",
    "parse_decisions_csv",
]

REQUIRED_UPLOAD_COLUMNS: tuple[str, ...] = ("AssignmentId", *DECISION_COLUMNS)

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
DEFAULT_MAX_ROWS = 100_000
# RequesterFeedback "cannot contain ASCII characters 0-8, 11, 12, or 14-31" (API Reference,
# ApproveAssignment and RejectAssignment); MTurk answers InvalidParameterValue otherwise, so we
# refuse such rows up front, as we do reasons over MAX_FEEDBACK.
_FEEDBACK_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
# MTurk ids are upper-case letters and digits (at most 64); anything else cannot match a row.
_ASSIGNMENT_ID = re.compile(r"[A-Z0-9]{1,64}")
# IN (...) lists are split so no backend hits its bound-parameter limit (SQLite's is the lowest).
_LOOKUP_CHUNK = 900

Action = Literal["approve", "reject"]


@dataclass(frozen=True)
class PlannedDecision:
    """One assignment the upload will act on. ``line`` is the file line its row starts on (the
    header is line 1). ``override`` marks approving a Rejected assignment (OverrideRejection);
    ``cost`` is what approving pays (reward + MTurk fee), zero for a rejection."""

    line: int
    assignment_id: str
    action: Action
    feedback: str = ""
    override: bool = False
    cost: Decimal = Decimal("0.00")
    assignment_pk: int | None = None


@dataclass(frozen=True)
class RowIssue:
    """A row (or, for duplicates and conflicts, every row of one AssignmentId) the upload will not
    act on as written. ``line`` is the first line; ``lines`` all of them."""

    line: int
    assignment_id: str
    message: str
    lines: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if not self.lines:
            object.__setattr__(self, "lines", (self.line,))


@dataclass
class UploadPlan:
    """What an uploaded decisions file would do. Nothing has been done.

    ``errors`` are file-level (the file is refused as a whole: ``ok`` is False and ``rows`` empty).
    Otherwise ``rows`` are the decisions to run, one per assignment, in file order, and the other
    lists explain every row left out: ``already_decided`` (already in the marked state, or
    approved, by hand or by MTurk's auto-approval, so a rejection cannot apply), ``too_late`` (an
    override past its 30 days, or any change on a HIT deleted at MTurk), ``elsewhere`` (HITs
    published from the Requester website, which MTurk has decided there), ``unknown_ids`` (not in
    this account's mirror), ``conflicts`` (both columns marked, or one AssignmentId marked
    differently on several rows), ``duplicates`` (identical repeats: acted on once; the row is
    planned as well), ``invalid`` (marks MTurk would refuse, or rows without a usable id).
    ``unmarked`` counts assignments with neither column filled in. Each issue carries its line(s),
    the header being line 1.
    """

    errors: list[str] = field(default_factory=list)
    rows: list[PlannedDecision] = field(default_factory=list)
    already_decided: list[RowIssue] = field(default_factory=list)
    too_late: list[RowIssue] = field(default_factory=list)
    elsewhere: list[RowIssue] = field(default_factory=list)
    unknown_ids: list[RowIssue] = field(default_factory=list)
    conflicts: list[RowIssue] = field(default_factory=list)
    duplicates: list[RowIssue] = field(default_factory=list)
    invalid: list[RowIssue] = field(default_factory=list)
    unmarked: int = 0
    # Distinct AssignmentIds of the file found in the account's mirror (marked or not).
    matched_ids: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def matched(self) -> int:
        return self.matched_ids

    @property
    def to_approve(self) -> int:
        return sum(1 for row in self.rows if row.action == "approve")

    @property
    def to_reject(self) -> int:
        return sum(1 for row in self.rows if row.action == "reject")

    @property
    def overrides(self) -> int:
        return sum(1 for row in self.rows if row.override)

    @property
    def total_cost(self) -> Decimal:
        """Reward plus MTurk fee of every approval (overrides included), each fee rounded per
        assignment as MTurk charges it."""
        return sum((row.cost for row in self.rows), Decimal("0.00"))

    def refuse(self, message: str) -> UploadPlan:
        """Record a file-level error and drop the plan: a refused file changes nothing."""
        self.errors.append(message)
        self.rows = []
        return self


@dataclass
class _Row:
    line: int
    assignment_id: str
    # "approve" / "reject" / "none" (unmarked) / "conflict" / "invalid"
    mark: str
    feedback: str = ""
    problem: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return (self.mark, self.feedback)


def _show(value: str, limit: int = 40) -> str:
    """A cell quoted for a message, cut short: the UI escapes it, this keeps the report readable."""
    return repr(value if len(value) <= limit else value[:limit] + "…")


def _feedback_length(text: str) -> int:
    # MTurk's limit is counted by a Java service, in UTF-16 code units: an emoji counts two.
    return len(text.encode("utf-16-le")) // 2


def _classify(line: int, assignment_id: str, approve: str, reject: str) -> _Row:
    """The mark one row carries, or why it is unusable."""
    approve, reject = approve.strip(), reject.strip()
    if approve and reject:
        return _Row(
            line,
            assignment_id,
            "conflict",
            problem="both Approve and Reject are filled in; fill in only one",
        )
    if approve:
        if approve not in ("X", "x"):
            return _Row(
                line,
                assignment_id,
                "invalid",
                problem=f'Approve must be "X" or empty, not {_show(approve)}',
            )
        return _Row(line, assignment_id, "approve")
    if reject:
        if reject in ("X", "x"):
            return _Row(
                line,
                assignment_id,
                "invalid",
                problem=(
                    'Reject holds "X" but MTurk requires a reason for every rejection: write the '
                    "reason the worker will see in the Reject column"
                ),
            )
        if _feedback_length(reject) > MAX_FEEDBACK:
            return _Row(
                line,
                assignment_id,
                "invalid",
                problem=(
                    f"the Reject reason is {_feedback_length(reject)} characters; MTurk accepts "
                    f"at most {MAX_FEEDBACK}"
                ),
            )
        if _FEEDBACK_FORBIDDEN.search(reject):
            return _Row(
                line,
                assignment_id,
                "invalid",
                problem="the Reject reason contains control characters MTurk refuses",
            )
        if reject.startswith("="):
            # A formula where a sentence should be: a spreadsheet artefact, not a message for a
            # worker, who would see it verbatim.
            return _Row(
                line,
                assignment_id,
                "invalid",
                problem=f"the Reject reason looks like a spreadsheet formula: {_show(reject)}",
            )
        return _Row(line, assignment_id, "reject", feedback=reject)
    return _Row(line, assignment_id, "none")


def _decode(data: bytes, plan: UploadPlan) -> str | None:
    try:
        # utf-8-sig: Excel writes "CSV UTF-8" with a byte-order mark; plain UTF-8 decodes the same.
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        plan.refuse(
            f"The file is not UTF-8 text (invalid byte 0x{data[exc.start]:02x} at byte "
            f'{exc.start}). Save it as "CSV UTF-8" and upload it again.'
        )
        return None
    if "\x00" in text:
        plan.refuse("The file is not a CSV text file (it contains NUL bytes).")
        return None
    return text


def _header_index(header: list[str], plan: UploadPlan) -> dict[str, int] | None:
    names = [name.strip() for name in header]
    index: dict[str, int] = {}
    for position, name in enumerate(names):
        if name in REQUIRED_UPLOAD_COLUMNS and name in index:
            plan.refuse(f'The column "{name}" appears more than once; keep one.')
            return None
        index.setdefault(name, position)
    missing = [name for name in REQUIRED_UPLOAD_COLUMNS if name not in index]
    if missing:
        hint = ""
        if len(names) == 1 and ";" in names[0]:
            hint = ' The file seems to use ";" between values: save it as CSV (comma delimited).'
        plan.refuse(
            "This is not a batch results file: the column"
            f"{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
            f"{'are' if len(missing) > 1 else 'is'} missing (the header must name AssignmentId, "
            f"Approve and Reject).{hint}"
        )
        return None
    return index


def _read_rows(text: str, plan: UploadPlan, max_rows: int) -> list[_Row] | None:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[_Row] = []
    try:
        header = next(reader, None)
        while header is not None and not any(cell.strip() for cell in header):
            header = next(reader, None)  # leading blank lines
        if header is None:
            plan.refuse("The file is empty.")
            return None
        index = _header_index(header, plan)
        if index is None:
            return None
        width = len(header)
        id_at, approve_at, reject_at = (index[name] for name in REQUIRED_UPLOAD_COLUMNS)
        while True:
            # A quoted cell may span lines: report the line its record starts on.
            line = reader.line_num + 1
            cells = next(reader, None)
            if cells is None:
                break
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) >= max_rows:
                plan.refuse(
                    f"The file has more than {max_rows:,} rows; split it into smaller files."
                )
                return None
            if len(cells) > width:
                rows.append(
                    _Row(
                        line,
                        "",
                        "invalid",
                        problem=f"the row has {len(cells)} values but the header {width} columns",
                    )
                )
                continue
            # Tools that drop trailing empty cells are common: a short row reads them as empty.
            cells = cells + [""] * (width - len(cells))
            assignment_id = cells[id_at].strip()
            if not assignment_id:
                rows.append(_Row(line, "", "invalid", problem="the row has no AssignmentId"))
                continue
            if not _ASSIGNMENT_ID.fullmatch(assignment_id):
                rows.append(
                    _Row(
                        line,
                        assignment_id[:64],
                        "invalid",
                        problem=f"{_show(assignment_id)} is not an MTurk assignment id",
                    )
                )
                continue
            rows.append(_classify(line, assignment_id, cells[approve_at], cells[reject_at]))
    except csv.Error as exc:
        # Unbalanced quotes, or a cell over csv.field_size_limit() (131,072 characters unless
        # raised): the file is not a CSV we can trust row by row.
        plan.refuse(f"The file is not valid CSV (line {reader.line_num}: {exc}).")
        return None
    if not rows:
        plan.refuse("The file has a header but no rows.")
        return None
    return rows


def _lookup(base: QuerySet[Assignment], ids: list[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(ids), _LOOKUP_CHUNK):
        for row in base.filter(assignment_id__in=ids[start : start + _LOOKUP_CHUNK]).values(
            "pk",
            "assignment_id",
            "status",
            "submit_time",
            "auto_approval_time",
            "hit__reward",
            "hit__max_assignments",
            "hit__disposed_at",
            "hit__annotation",
        ):
            found[row["assignment_id"]] = dict(row)
    return found


def _lines(rows: list[_Row]) -> str:
    return ", ".join(str(r.line) for r in rows)


def parse_decisions_csv(
    *,
    account: RequesterAccount,
    data: bytes,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_rows: int = DEFAULT_MAX_ROWS,
    now: datetime | None = None,
    scope: QuerySet[Assignment] | None = None,
) -> UploadPlan:
    """Validate an uploaded batch results file and plan its decisions for ``account``.

    Reads the database (a few queries per 900 distinct ids) and writes nothing; the caller shows
    the plan and hands ``plan.rows`` to the bulk job, which must still re-check each assignment's
    state when it runs (the mirror can change in between).

    - File-level problems refuse the whole file (``ok`` False, ``rows`` empty): over ``max_bytes``,
      not UTF-8 (a UTF-8 byte-order mark is fine), not CSV, no AssignmentId / Approve / Reject
      column (other columns are optional and ignored), no rows, over ``max_rows`` rows, or none of
      its ids in this account (another account's file).
    - Rows: ``X``/``x`` in Approve approves, a reason in Reject rejects. Only Submitted assignments
      are acted on, plus Rejected ones marked Approve within :data:`OVERRIDE_WINDOW` of submission
      (``override=True``; later: ``too_late``). A Submitted assignment past its AutoApprovalTime
      has been approved by MTurk already (``already_decided``).
    - Ids not in this account's mirror (including another account's) are ``unknown_ids``, never
      acted on. An id repeated with identical marks is a duplicate and acted on once; with
      different marks (blank included) it is a conflict and none of its rows is acted on.

    ``now`` defaults to the current time (tests pass the emulator's clock). ``scope`` narrows the
    assignments the file may touch (e.g. one HIT type's); ids outside it count as unknown.
    """
    plan = UploadPlan()
    if len(data) > max_bytes:
        return plan.refuse(
            f"The file is {len(data):,} bytes; the limit is {max_bytes:,} bytes. Split it into "
            "smaller files."
        )
    if not data.strip():
        return plan.refuse("The file is empty.")
    text = _decode(data, plan)
    if text is None:
        return plan
    rows = _read_rows(text, plan, max_rows)
    if rows is None:
        return plan

    now = now or timezone.now()
    base = scope if scope is not None else Assignment.objects.all()
    base = base.filter(account=account)

    # Group by AssignmentId, keeping file order, so repeats are judged together.
    groups: dict[str, list[_Row]] = {}
    for row in rows:
        if not row.assignment_id or not _ASSIGNMENT_ID.fullmatch(row.assignment_id):
            plan.invalid.append(RowIssue(row.line, row.assignment_id, row.problem))
            continue
        groups.setdefault(row.assignment_id, []).append(row)

    mirror = _lookup(base, list(groups))
    plan.matched_ids = len(mirror)
    if groups and not mirror:
        return plan.refuse(
            f"None of the {len(groups):,} assignment ids in this file belong to "
            f"{'this selection of ' if scope is not None else ''}the account "
            f'"{account.name}". Is it another account\'s results file (or are these HITs not '
            "synced yet)? Nothing was planned."
        )

    for assignment_id, group in groups.items():
        first = group[0]
        if len(group) > 1:
            if len({r.key for r in group}) > 1:
                plan.conflicts.append(
                    RowIssue(
                        first.line,
                        assignment_id,
                        f"{assignment_id} is on lines {_lines(group)} with different marks; "
                        "none of them is acted on",
                        tuple(r.line for r in group),
                    )
                )
                continue
            plan.duplicates.append(
                RowIssue(
                    first.line,
                    assignment_id,
                    f"{assignment_id} is on lines {_lines(group)} with the same marks; "
                    "it is counted once",
                    tuple(r.line for r in group),
                )
            )
        _plan_row(plan, first, mirror.get(assignment_id), now)

    return plan


def _plan_row(plan: UploadPlan, row: _Row, found: dict[str, Any] | None, now: datetime) -> None:
    line, assignment_id = row.line, row.assignment_id
    if row.mark == "invalid":
        plan.invalid.append(RowIssue(line, assignment_id, row.problem))
        return
    if row.mark == "conflict":
        plan.conflicts.append(RowIssue(line, assignment_id, row.problem))
        return
    if found is None:
        plan.unknown_ids.append(
            RowIssue(
                line,
                assignment_id,
                f"{assignment_id} is not an assignment of this account (or not synced yet)",
            )
        )
        return
    if row.mark == "none":
        plan.unmarked += 1
        return

    status = found["status"]
    # Past AutoApprovalTime MTurk has approved a Submitted assignment, whatever the mirror says yet.
    if (
        status == AssignmentStatus.SUBMITTED
        and found["auto_approval_time"] is not None
        and found["auto_approval_time"] <= now
    ):
        status = AssignmentStatus.APPROVED
    wanted = AssignmentStatus.APPROVED if row.mark == "approve" else AssignmentStatus.REJECTED
    if status == wanted:
        plan.already_decided.append(
            RowIssue(line, assignment_id, f"already {status.lower()}; nothing to do")
        )
        return
    if row.mark == "reject" and status == AssignmentStatus.APPROVED:
        plan.already_decided.append(
            RowIssue(
                line,
                assignment_id,
                "already approved; an approval cannot be turned into a rejection",
            )
        )
        return
    if found["hit__disposed_at"] is not None:
        # DeleteHIT needs every assignment decided, so a Submitted one here is a stale mirror; and
        # OverrideRejection "works only if the assignment's related HIT has not been deleted".
        plan.too_late.append(
            RowIssue(
                line,
                assignment_id,
                f"its HIT has been deleted at MTurk: the assignment can no longer be {wanted.lower()}",
            )
        )
        return
    if from_requester_website(found["hit__annotation"]):
        plan.elsewhere.append(
            RowIssue(
                line,
                assignment_id,
                f"{FROM_REQUESTER_WEBSITE}: upload this file there (Manage, then Results)",
            )
        )
        return
    if row.mark == "reject":
        plan.rows.append(
            PlannedDecision(
                line, assignment_id, "reject", feedback=row.feedback, assignment_pk=found["pk"]
            )
        )
        return
    cost = assignment_cost(found["hit__reward"], found["hit__max_assignments"])
    if status == AssignmentStatus.SUBMITTED:
        plan.rows.append(
            PlannedDecision(line, assignment_id, "approve", cost=cost, assignment_pk=found["pk"])
        )
        return
    # Rejected: only OverrideRejection can approve it, and only within 30 days of submission
    # (deadline included, as hits.services.refusal has it, so the plan and the job agree).
    submitted = found["submit_time"]
    if submitted is None or now > submitted + OVERRIDE_WINDOW:
        deadline = java_date(submitted + OVERRIDE_WINDOW) if submitted else "unknown"
        plan.too_late.append(
            RowIssue(
                line,
                assignment_id,
                f"rejected, and submitted more than {OVERRIDE_WINDOW.days} days ago: MTurk allows "
                f"overriding a rejection only until {deadline}",
            )
        )
        return
    plan.rows.append(
        PlannedDecision(
            line, assignment_id, "approve", override=True, cost=cost, assignment_pk=found["pk"]
        )
    )
