"""Granting and revoking qualifications as intents, and the qualification types the dashboard
makes for its own use (the lab's soft-block list, study groups' exclusions).

Every change is a QualificationGrant row (dashboard.intents): recorded first, then sent once by a
task (one grant) or by a QUALIFICATION_GRANT job (many, at the account's rate). Soft blocks, study
groups and qualification management (issue 13) all record their grants here.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from dashboard import intents
from dashboard.enums import AuditOutcome, IntentState
from dashboard.models import Job, RequesterAccount
from dashboard.services import record_audit_event
from mturk import records
from mturk.errors import InvalidState, MTurkError, NotFound, NotGranted
from mturk.gateway import MTurkGateway
from qualifications.enums import GrantAction, LabPurpose
from qualifications.models import Qualification, QualificationGrant, QualificationType

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
