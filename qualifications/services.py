"""Granting and revoking qualifications as intents, and the qualification types the dashboard
makes for its own use (the lab's soft-block list, study groups' exclusions).

Every change is a QualificationGrant row (dashboard.intents): recorded first, then sent once by a
task (one grant) or by a QUALIFICATION_GRANT job (many, at the account's rate). Soft blocks, study
groups and qualification management (issue 13) all record their grants here.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from dashboard import intents
from dashboard.csv_upload import CSVRefused, read_csv_rows
from dashboard.enums import AuditOutcome, IntentState, JobKind
from dashboard.jobs import start_job
from dashboard.models import Job, RequesterAccount
from dashboard.services import audited_mturk_call, record_audit_event
from mturk import records
from mturk.errors import InvalidState, MTurkError, NotFound, NotGranted
from mturk.gateway import MTurkGateway
from qualifications.enums import GrantAction, LabPurpose
from qualifications.models import (
    GrantUpload,
    Qualification,
    QualificationGrant,
    QualificationType,
)
from qualifications.sync import type_values

logger = logging.getLogger(__name__)

GRANTED = "Granted"
REVOKED = "Revoked"
# MTurk's answer to CreateQualificationType with a name the requester already used.
ALREADY_EXISTS_CODE = "AWS.MechanicalTurk.QualificationTypeAlreadyExists"
CHUNK = 5000


@dataclass(frozen=True)
class GrantResult:
    """What `audited_call` needs from a grant or revoke (dashboard.intents.CallResult)."""

    request_id: str | None
    already: bool = False


@dataclass
class GrantOutcome:
    grants: list[QualificationGrant] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (worker id, why)


# --- Recording ------------------------------------------------------------------------------------


def _open_for(qualification_type: QualificationType, worker_ids: list[str]) -> set[str]:
    busy: set[str] = set()
    for start in range(0, len(worker_ids), CHUNK):
        busy.update(
            QualificationGrant.objects.filter(
                qualification_type=qualification_type,
                worker_id__in=worker_ids[start : start + CHUNK],
                state__in=IntentState.open(),
            ).values_list("worker_id", flat=True)
        )
    return busy


def request_grants(
    *,
    qualification_type: QualificationType,
    worker_ids: Iterable[str],
    action: GrantAction | str = GrantAction.GRANT,
    integer_value: int | None = None,
    send_notification: bool = False,
    reason: str | dict[str, str] = "",
    requested_by: Any = None,
    job: Job | None = None,
) -> GrantOutcome:
    """Record grants (or revocations) of `qualification_type` for the workers; nothing is sent.

    Workers named twice count once; workers with a change of this type already in flight are
    skipped (the constraint allows one open grant per worker and type, so two clicks or two jobs
    cannot race). `reason` is one text for all, or one per worker id. Single grants (no `job`)
    are sent by `intents.send_after_commit`; a job's by its handler."""
    action = GrantAction(action)
    user = requested_by if getattr(requested_by, "is_authenticated", False) else None
    ids = [w for w in dict.fromkeys(w.strip() for w in worker_ids) if w]
    outcome = GrantOutcome()
    with transaction.atomic():
        busy = _open_for(qualification_type, ids)
        rows = []
        for worker_id in ids:
            if worker_id in busy:
                outcome.skipped.append((worker_id, "a change of it is already in progress"))
                continue
            why = reason.get(worker_id, "") if isinstance(reason, dict) else reason
            rows.append(
                QualificationGrant(
                    account=qualification_type.account,
                    qualification_type=qualification_type,
                    worker_id=worker_id,
                    action=action,
                    integer_value=integer_value if action == GrantAction.GRANT else None,
                    send_notification=send_notification,
                    reason=why,
                    requested_by=user,
                    job=job,
                )
            )
        # One open change per worker and type: one recorded meanwhile elsewhere is skipped.
        rows = intents.save_new(
            rows,
            refused=lambda row: outcome.skipped.append(
                (row.worker_id, "a change of it is already in progress")
            ),
        )
    outcome.grants = rows
    return outcome


# --- Sending --------------------------------------------------------------------------------------


def _apply_to_mirror(grant: QualificationGrant) -> None:
    """Write what MTurk now holds for the worker, so pages show it before the next sync."""
    now = timezone.now()
    if grant.action == GrantAction.GRANT:
        Qualification.objects.update_or_create(
            qualification_type=grant.qualification_type,
            worker_id=grant.worker_id,
            defaults={
                "account": grant.account,
                # MTurk's default value when none is given.
                "integer_value": 1 if grant.integer_value is None else grant.integer_value,
                "status": GRANTED,
                "grant_time": now,
                "synced_at": now,
            },
        )
    else:
        Qualification.objects.filter(
            qualification_type=grant.qualification_type, worker_id=grant.worker_id
        ).update(status=REVOKED, synced_at=now)


def _holds(gateway: MTurkGateway, type_id: str, worker_id: str, value: int | None) -> bool:
    """True when MTurk says the worker holds the type, granted, with `value` (MTurk's default 1)."""
    try:
        score = gateway.get_qualification_score(qualification_type_id=type_id, worker_id=worker_id)
    except NotGranted:
        return False
    wanted = 1 if value is None else value
    return score.status == GRANTED and score.integer_value == wanted


def execute_grant(
    *, grant_id: int, gateway: MTurkGateway, reclaim_sending: bool = False
) -> QualificationGrant | None:
    """Send one grant or revocation if nobody else has it; returns the row as it ended (None when
    it was not claimable). Associating again is harmless at MTurk; revoking what the worker no
    longer holds (a resend after a crash, or a revocation made elsewhere) is confirmed with
    GetQualificationScore and counts as already done."""
    grant = intents.claim(
        QualificationGrant,
        grant_id,
        reclaim_sending=reclaim_sending,
        select_related=["qualification_type"],
    )
    if grant is None:
        return None
    type_id = grant.qualification_type.qualification_type_id

    def send() -> GrantResult:
        if grant.action == GrantAction.GRANT:
            if grant.attempts > 1 and _holds(
                gateway, type_id, grant.worker_id, grant.integer_value
            ):
                # An earlier try may have reached MTurk before its worker died or its answer was
                # lost: when the worker already holds the value, that try did it; don't send again.
                return GrantResult(None, already=True)
            return GrantResult(
                gateway.associate_qualification_with_worker(
                    qualification_type_id=type_id,
                    worker_id=grant.worker_id,
                    integer_value=grant.integer_value,
                    send_notification=grant.send_notification,
                )
            )
        try:
            return GrantResult(
                gateway.disassociate_qualification_from_worker(
                    qualification_type_id=type_id,
                    worker_id=grant.worker_id,
                    reason=grant.reason or None,
                )
            )
        except (NotFound, InvalidState) as exc:
            if exc.retryable:
                raise
            try:
                gateway.get_qualification_score(
                    qualification_type_id=type_id, worker_id=grant.worker_id
                )
            except NotGranted:
                return GrantResult(exc.request_id, already=True)
            raise

    return intents.audited_call(grant, send, on_success=lambda _result: _apply_to_mirror(grant))


# --- The dashboard's own qualification types -------------------------------------------------------


def _record_type(
    account: RequesterAccount, record: records.QualificationType, purpose: LabPurpose | str
) -> QualificationType:
    qtype, created = QualificationType.objects.get_or_create(
        account=account,
        qualification_type_id=record.qualification_type_id,
        defaults={
            "name": record.name or "",
            "description": record.description or "",
            "status": record.status or "Active",
            "is_requestable": bool(record.is_requestable),
            "created_at_mturk": record.creation_time,
            "lab_purpose": purpose,
            "synced_at": timezone.now(),
        },
    )
    if not created and qtype.lab_purpose != purpose:
        qtype.lab_purpose = purpose
        qtype.save(update_fields=["lab_purpose"])
    return qtype


def _find_by_name(gateway: MTurkGateway, name: str) -> records.QualificationType | None:
    for page in gateway.iter_qualification_type_pages(query=name, must_be_owned_by_caller=True):
        for record in page:
            if record.name == name:
                return record
    return None


def ensure_lab_qualification_type(
    *,
    account: RequesterAccount,
    purpose: LabPurpose | str,
    name: str,
    description: str,
    gateway: MTurkGateway,
    requested_by: Any = None,
) -> QualificationType:
    """The account's qualification type named `name`, made at MTurk on first use and recorded
    with `lab_purpose`. Idempotent across crashes: names are unique per requester at MTurk, so when
    MTurk says the name exists (we made it, then died before recording it) the type is found by
    listing. It has no test and is not auto-granted, so only the lab grants it: a worker's request
    for it would wait for us, and we never accept requests for the lab's types."""
    existing = QualificationType.objects.filter(account=account, name=name).first()
    if existing is not None:
        if existing.lab_purpose != purpose:
            existing.lab_purpose = purpose
            existing.save(update_fields=["lab_purpose"])
        return existing
    try:
        record = gateway.create_qualification_type(
            name=name, description=description, status="Active"
        )
    except MTurkError as exc:
        if exc.turk_error_code != ALREADY_EXISTS_CODE and "already created" not in exc.message:
            raise
        found = _find_by_name(gateway, name)
        if found is None:
            raise
        return _record_type(account, found, purpose)
    qtype = _record_type(account, record, purpose)
    record_audit_event(
        action="qualification_type.create",
        outcome=AuditOutcome.SUCCEEDED,
        actor=requested_by if getattr(requested_by, "is_authenticated", False) else None,
        account=account,
        target_ids={"qualification_type": qtype.qualification_type_id},
        parameters={"name": name, "purpose": str(purpose)},
    )
    return qtype


def holders(qualification_type: QualificationType) -> set[str]:
    """Worker ids that hold the type now (by the mirror)."""
    return set(
        Qualification.objects.filter(
            qualification_type=qualification_type, status=GRANTED
        ).values_list("worker_id", flat=True)
    )


def open_grant_workers(qualification_type: QualificationType) -> set[str]:
    return set(
        QualificationGrant.objects.filter(
            qualification_type=qualification_type, state__in=IntentState.open()
        ).values_list("worker_id", flat=True)
    )


# --- Qualification types: list, create, edit, dispose (issue 13) ----------------------------------

# MTurk's limits (API Reference 2017-01-17, CreateQualificationType; the name's is the emulator's,
# the reference gives none).
NAME_MAX = 255
DESCRIPTION_MAX = 2000
KEYWORDS_MAX = 1000
# IntegerValue is an Integer in the API: a signed 32-bit number.
VALUE_MIN, VALUE_MAX = -(2**31), 2**31 - 1
ACTIVE, INACTIVE, DISPOSING = "Active", "Inactive", "Disposing"


class TypeRefused(Exception):
    """A change to a qualification type MTurk would refuse, or did (the message says why)."""


def types_with_counts(account: RequesterAccount) -> QuerySet[QualificationType]:
    """The account's types with their granted workers and requiring HITs counted, one query."""
    return (
        QualificationType.objects.filter(account=account)
        .annotate(
            granted_count=Count("scores", filter=Q(scores__status=GRANTED), distinct=True),
            revoked_count=Count("scores", filter=Q(scores__status=REVOKED), distinct=True),
            requiring_hit_count=Count("requiring_hits", distinct=True),
        )
        .order_by("name", "pk")
    )


def name_taken(account: RequesterAccount, name: str, *, exclude_pk: int | None = None) -> bool:
    """MTurk keeps names unique per requester (case as typed); our mirror knows the account's."""
    others = QualificationType.objects.filter(account=account, name=name)
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    return others.exists()


def _record(
    account: RequesterAccount, record: records.QualificationType, qtype: QualificationType | None
) -> QualificationType:
    """Write MTurk's answer into the mirror row (made when new)."""
    values = {**type_values(record), "synced_at": timezone.now()}
    if qtype is None:
        qtype, _ = QualificationType.objects.update_or_create(
            account=account, qualification_type_id=record.qualification_type_id, defaults=values
        )
        return qtype
    for name, value in values.items():
        setattr(qtype, name, value)
    qtype.save()
    return qtype


def create_type(
    *,
    account: RequesterAccount,
    gateway: MTurkGateway,
    name: str,
    description: str,
    keywords: str = "",
    status: str = ACTIVE,
    retry_delay_seconds: int | None = None,
    auto_granted: bool = False,
    auto_granted_value: int | None = None,
    requested_by: Any = None,
) -> QualificationType:
    """CreateQualificationType, audited; the mirror row is MTurk's answer. Raises TypeRefused
    with MTurk's message when it refuses (the form checks what it can beforehand)."""
    parameters = {
        "name": name,
        "status": status,
        "retry_delay_seconds": retry_delay_seconds,
        "auto_granted": auto_granted,
        "auto_granted_value": auto_granted_value,
    }
    try:
        with audited_mturk_call(
            action="qualification_type.create",
            account=account,
            actor=_actor(requested_by),
            parameters=parameters,
        ) as call:
            record = gateway.create_qualification_type(
                name=name,
                description=description,
                status="Inactive" if status == INACTIVE else "Active",
                keywords=keywords or None,
                retry_delay_seconds=retry_delay_seconds,
                auto_granted=auto_granted or None,
                auto_granted_value=auto_granted_value if auto_granted else None,
            )
            call.target_ids["qualification_type"] = record.qualification_type_id
    except MTurkError as exc:
        raise TypeRefused(f"MTurk refused the type: {exc.message}") from exc
    return _record(account, record, None)


def update_type(
    *,
    qualification_type: QualificationType,
    gateway: MTurkGateway,
    description: str,
    status: str,
    retry_delay_seconds: int | None,
    auto_granted: bool,
    auto_granted_value: int | None,
    requested_by: Any = None,
) -> QualificationType:
    """UpdateQualificationType, audited (MTurk does not change a type's name or keywords)."""
    qtype = qualification_type
    try:
        with audited_mturk_call(
            action="qualification_type.update",
            account=qtype.account,
            actor=_actor(requested_by),
            target_ids={"qualification_type": qtype.qualification_type_id},
            parameters={
                "status": status,
                "retry_delay_seconds": retry_delay_seconds,
                "auto_granted": auto_granted,
                "auto_granted_value": auto_granted_value,
            },
        ):
            record = gateway.update_qualification_type(
                qualification_type_id=qtype.qualification_type_id,
                description=description,
                status="Inactive" if status == INACTIVE else "Active",
                retry_delay_seconds=retry_delay_seconds,
                auto_granted=auto_granted,
                auto_granted_value=auto_granted_value if auto_granted else None,
            )
    except MTurkError as exc:
        raise TypeRefused(f"MTurk refused the change: {exc.message}") from exc
    return _record(qtype.account, record, qtype)


def dispose_type(
    *, qualification_type: QualificationType, gateway: MTurkGateway, requested_by: Any = None
) -> QualificationType:
    """DeleteQualificationType, audited. MTurk answers with an empty body and takes up to 48 hours
    to finish: the mirror row reads Disposing until the sync no longer finds the type."""
    qtype = qualification_type
    try:
        with audited_mturk_call(
            action="qualification_type.dispose",
            account=qtype.account,
            actor=_actor(requested_by),
            target_ids={"qualification_type": qtype.qualification_type_id},
            parameters={"name": qtype.name},
        ):
            gateway.delete_qualification_type(qualification_type_id=qtype.qualification_type_id)
    except MTurkError as exc:
        raise TypeRefused(f"MTurk refused to dispose of the type: {exc.message}") from exc
    qtype.status = DISPOSING
    qtype.synced_at = timezone.now()
    qtype.save(update_fields=["status", "synced_at"])
    return qtype


def _actor(user: Any) -> Any:
    return user if getattr(user, "is_authenticated", False) else None


# --- A type's workers ------------------------------------------------------------------------------


def scores_of(
    qualification_type: QualificationType,
    *,
    status: str = "",
    value_min: int | None = None,
    value_max: int | None = None,
    worker_id: str = "",
) -> QuerySet[Qualification]:
    """The type's scores, filtered (every filter optional), by worker id."""
    scores = Qualification.objects.filter(qualification_type=qualification_type)
    if status:
        scores = scores.filter(status=status)
    if value_min is not None:
        scores = scores.filter(integer_value__gte=value_min)
    if value_max is not None:
        scores = scores.filter(integer_value__lte=value_max)
    if worker_id:
        scores = scores.filter(worker_id__icontains=worker_id.strip())
    return scores.order_by("worker_id", "pk")


def scores_csv_rows(scores: QuerySet[Qualification]) -> Iterator[list[str]]:
    """The worker list as CSV rows, header first (streamed: a type may have many workers)."""
    yield ["WorkerId", "Value", "Status", "GrantTime"]
    for worker_id, value, status, grant_time in scores.values_list(
        "worker_id", "integer_value", "status", "grant_time"
    ).iterator(chunk_size=2000):
        yield [
            worker_id,
            "" if value is None else str(value),
            status,
            grant_time.isoformat() if grant_time else "",
        ]


# --- One worker's score ----------------------------------------------------------------------------


def change_score(
    *,
    qualification_type: QualificationType,
    worker_id: str,
    action: GrantAction | str,
    integer_value: int | None = None,
    reason: str = "",
    send_notification: bool = False,
    requested_by: Any = None,
) -> QualificationGrant | None:
    """Record one grant, change of value or revocation, sent by its task once this commits. None
    when a change of this type for this worker is already on its way."""
    with transaction.atomic():
        outcome = request_grants(
            qualification_type=qualification_type,
            worker_ids=[worker_id],
            action=action,
            integer_value=integer_value,
            send_notification=send_notification,
            reason=reason,
            requested_by=requested_by,
        )
        intents.send_after_commit(outcome.grants)
    return outcome.grants[0] if outcome.grants else None


# --- Many workers from a file: upload -> preview -> confirm -> one job -----------------------------

MAX_UPLOAD_BYTES = 2 * 1024 * 1024
MAX_UPLOAD_ROWS = 50_000
WORKER_ID_RE = re.compile(r"^A[A-Z0-9]{1,63}$")
UPLOAD_CONFIRMATION = "qualifications.grant_upload"
_LOOKUP_CHUNK = 900
# Header names, lower-cased without spaces, underscores or dashes -> our field.
UPLOAD_COLUMNS = {
    "workerid": "worker_id",
    "worker": "worker_id",
    "value": "value",
    "integervalue": "value",
    "score": "value",
}

# Who else knows the account's workers (the worker directory lives above this app, which may not
# import it): apps above register a lookup, account and ids -> the ids it knows.
KnownWorkers = Callable[[RequesterAccount, list[str]], Iterable[str]]
_worker_directories: list[KnownWorkers] = []


def register_worker_directory(lookup: KnownWorkers) -> None:
    if lookup not in _worker_directories:
        _worker_directories.append(lookup)


def known_workers(account: RequesterAccount, worker_ids: list[str]) -> set[str]:
    """The ids the account has met: in a directory registered from above, or in its scores."""
    known: set[str] = set()
    for start in range(0, len(worker_ids), _LOOKUP_CHUNK):
        chunk = worker_ids[start : start + _LOOKUP_CHUNK]
        known.update(
            Qualification.objects.filter(account=account, worker_id__in=chunk).values_list(
                "worker_id", flat=True
            )
        )
        for lookup in _worker_directories:
            known.update(lookup(account, chunk))
    return known


@dataclass(frozen=True)
class PlannedGrant:
    line: int
    worker_id: str
    value: int | None


@dataclass(frozen=True)
class UploadProblem:
    line: int
    worker_id: str
    value: str
    message: str


@dataclass
class GrantPlan:
    """What a file of grants (or revocations) would send. `errors` refuse the file as a whole;
    `problems` are bad rows (any one refuses the file); `skipped` rows are fine but send nothing
    (the worker already holds that value, or a change of it is on its way); `unknown` are sent
    but the account has never met these workers (a typo, or a worker from elsewhere)."""

    action: str = GrantAction.GRANT
    errors: list[str] = field(default_factory=list)
    rows: list[PlannedGrant] = field(default_factory=list)
    problems: list[UploadProblem] = field(default_factory=list)
    skipped: list[UploadProblem] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and not self.problems and bool(self.rows)


class UploadRefused(Exception):
    pass


def _read_upload(data: bytes, *, needs_value: bool) -> list[tuple[int, dict[str, str]]]:
    required = {"worker_id": "WorkerId", **({"value": "Value"} if needs_value else {})}
    try:
        _columns, rows = read_csv_rows(
            data,
            columns=UPLOAD_COLUMNS,
            required=required,
            max_bytes=MAX_UPLOAD_BYTES,
            max_rows=MAX_UPLOAD_ROWS,
            expected="WorkerId,Value" if needs_value else "WorkerId",
        )
    except CSVRefused as exc:
        raise UploadRefused(str(exc)) from None
    return rows


def parse_value(text: str) -> int:
    """An IntegerValue as MTurk takes it: a whole number in the signed 32-bit range."""
    if not re.fullmatch(r"[+-]?\d{1,11}", text.strip()):
        raise ValueError(f"“{text}” is not a whole number.")
    value = int(text)
    if not VALUE_MIN <= value <= VALUE_MAX:
        raise ValueError(f"{value} is outside MTurk's range ({VALUE_MIN} to {VALUE_MAX}).")
    return value


def _current_scores(
    qualification_type: QualificationType, worker_ids: list[str]
) -> dict[str, tuple[str, int | None]]:
    found: dict[str, tuple[str, int | None]] = {}
    for start in range(0, len(worker_ids), _LOOKUP_CHUNK):
        for worker_id, status, value in Qualification.objects.filter(
            qualification_type=qualification_type,
            worker_id__in=worker_ids[start : start + _LOOKUP_CHUNK],
        ).values_list("worker_id", "status", "integer_value"):
            found[worker_id] = (status, value)
    return found


def plan_grant_file(
    *, qualification_type: QualificationType, data: bytes, action: GrantAction | str
) -> GrantPlan:
    """What sending the file would do. Reads the database, writes nothing, calls nobody."""
    action = GrantAction(action)
    plan = GrantPlan(action=action)
    if qualification_type.status == DISPOSING:
        plan.errors.append("This type is being disposed of: it can no longer be granted.")
        return plan
    try:
        records_ = _read_upload(data, needs_value=action == GrantAction.GRANT)
    except UploadRefused as exc:
        plan.errors.append(str(exc))
        return plan
    ids = list(dict.fromkeys(values["worker_id"] for _line, values in records_))
    current = _current_scores(qualification_type, ids)
    busy = _open_for(qualification_type, ids)
    seen: dict[str, int] = {}
    for line, values in records_:
        worker_id, raw = values["worker_id"], values.get("value", "")

        def problem(message: str, line: int = line, w: str = worker_id, v: str = raw) -> None:
            plan.problems.append(UploadProblem(line, w, v, message))

        if not WORKER_ID_RE.match(worker_id):
            problem("Not an MTurk worker id (A followed by capital letters and digits).")
            continue
        value: int | None = None
        if action == GrantAction.GRANT:
            try:
                value = parse_value(raw)
            except ValueError as exc:
                problem(str(exc))
                continue
        if worker_id in seen:
            problem(f"The same worker as line {seen[worker_id]}.")
            continue
        seen[worker_id] = line
        if worker_id in busy:
            plan.skipped.append(
                UploadProblem(line, worker_id, raw, "A change of it is already on its way.")
            )
            continue
        status, held = current.get(worker_id, ("", None))
        if action == GrantAction.GRANT and status == GRANTED and held == value:
            plan.skipped.append(UploadProblem(line, worker_id, raw, "Already holds this value."))
            continue
        if action == GrantAction.REVOKE and status != GRANTED:
            plan.skipped.append(
                UploadProblem(line, worker_id, raw, "Does not hold it (nothing to revoke).")
            )
            continue
        plan.rows.append(PlannedGrant(line, worker_id, value))
    if plan.rows:
        wanted = [row.worker_id for row in plan.rows]
        known = known_workers(qualification_type.account, wanted)
        plan.unknown = [w for w in wanted if w not in known]
    return plan


def save_upload(
    *,
    qualification_type: QualificationType,
    action: GrantAction | str,
    reason: str,
    send_notification: bool,
    filename: str,
    data: bytes,
    requested_by: Any,
) -> GrantUpload:
    """Keep the file as uploaded, so the confirmation sends exactly what the preview showed."""
    return GrantUpload.objects.create(
        account=qualification_type.account,
        qualification_type=qualification_type,
        action=GrantAction(action),
        reason=reason,
        send_notification=send_notification,
        filename=filename[:255],
        content=data,
        content_sha256=hashlib.sha256(data).hexdigest(),
        created_by=_actor(requested_by),
    )


def upload_binding(upload: GrantUpload) -> dict[str, object]:
    """What the confirmation page showed: this upload, with exactly this file and these options."""
    return {
        "upload": upload.pk,
        "sha256": upload.content_sha256,
        "action": upload.action,
        "reason": upload.reason,
        "notify": upload.send_notification,
    }


def start_upload(*, upload: GrantUpload, requested_by: Any) -> Job:
    """Send an upload's grants, once: planned again now (scores and grants may have moved since
    the preview), recorded under one QUALIFICATION_GRANT job. A second call returns the first job.
    Raises UploadRefused when the file can no longer be sent as it is."""
    if upload.job is not None:
        return upload.job
    qtype = upload.qualification_type
    plan = plan_grant_file(
        qualification_type=qtype, data=bytes(upload.content), action=upload.action
    )
    if not plan.ok:
        raise UploadRefused("The file can no longer be sent as it is; upload it again to see why.")
    verb = "Grant" if upload.action == GrantAction.GRANT else "Revoke"
    with transaction.atomic():
        job = start_job(
            account=upload.account,
            kind=JobKind.QUALIFICATION_GRANT,
            title=f"{verb} {qtype.name} ({len(plan.rows)} workers, from "
            f"{upload.filename or 'an uploaded file'})",
            parameters={"upload": upload.pk, "qualification_type": qtype.qualification_type_id},
            created_by=requested_by,
            total=len(plan.rows),
        )
        # Claim the upload so a double-submitted confirmation sends it once.
        if GrantUpload.objects.filter(pk=upload.pk, job__isnull=True).update(job=job) != 1:
            transaction.set_rollback(True)
            first = GrantUpload.objects.select_related("job").get(pk=upload.pk).job
            if first is None:
                raise UploadRefused("This file is being sent already; see the jobs page.")
            return first
        by_value: dict[int | None, list[str]] = {}
        for row in plan.rows:
            by_value.setdefault(row.value, []).append(row.worker_id)
        recorded = 0
        for value, worker_ids in by_value.items():
            outcome = request_grants(
                qualification_type=qtype,
                worker_ids=worker_ids,
                action=upload.action,
                integer_value=value,
                send_notification=upload.send_notification,
                reason=upload.reason,
                requested_by=requested_by,
                job=job,
            )
            recorded += len(outcome.grants)
        if recorded != len(plan.rows):
            transaction.set_rollback(True)
            raise UploadRefused(
                "Some of these workers had a change requested meanwhile; upload the file again "
                "to see which."
            )
    upload.job = job
    return job
