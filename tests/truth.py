"""Comparing the database mirror with the emulator's truth, field by field."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from dashboard.models import RequesterAccount
from hits.models import HIT, Assignment
from mturk.answers import parse_answers
from qualifications.models import Qualification, QualificationType
from workers.models import BonusPayment, Worker, WorkerBlock

VISIBLE_ASSIGNMENT_STATUSES = {"Submitted", "Approved", "Rejected"}


def _epoch(value: dt.datetime | None) -> float | None:
    return None if value is None else round(value.timestamp(), 3)


def _truth_epoch(value: Any) -> float | None:
    return None if value is None else round(float(value), 3)


def _canonical(value: Any) -> str:
    """JSON with sorted keys, so nested structures compare by content."""
    return json.dumps(value or [], sort_keys=True, default=str)


def _parsed_answers(answer_xml: str) -> dict[str, Any]:
    return parse_answers(answer_xml).fields if answer_xml else {}


def mirror_differences(account: RequesterAccount, truth: dict[str, Any]) -> list[str]:
    """Every way the mirror differs from the emulator's truth (empty when they agree)."""
    problems: list[str] = []
    hits = {h.hit_id: h for h in HIT.objects.filter(account=account).select_related("hit_type")}
    for expected in truth["hits"]:
        row = hits.pop(expected["HITId"], None)
        if row is None:
            problems.append(f"HIT {expected['HITId']} missing")
            continue
        pairs = {
            "status": (row.status, expected["HITStatus"]),
            "hit_type": (row.hit_type.hit_type_id, expected["HITTypeId"]),
            "title": (row.title, expected["Title"]),
            "reward": (row.reward, Decimal(expected["Reward"])),
            "max": (row.max_assignments, expected["MaxAssignments"]),
            "expires": (_epoch(row.expires_at), _truth_epoch(expected["Expiration"])),
            "created": (_epoch(row.created_at_mturk), _truth_epoch(expected["CreationTime"])),
            "question": (row.question, expected.get("Question") or ""),
            "annotation": (row.annotation, expected.get("RequesterAnnotation") or ""),
            "description": (row.description, expected.get("Description") or ""),
            "assignment_duration": (
                row.assignment_duration_seconds,
                expected.get("AssignmentDurationInSeconds") or 0,
            ),
            "auto_approval_delay": (
                row.auto_approval_delay_seconds,
                expected.get("AutoApprovalDelayInSeconds") or 0,
            ),
            "qualification_requirements": (
                _canonical(row.qualification_requirements),
                _canonical(expected.get("QualificationRequirements")),
            ),
        }
        if expected["HITStatus"] != "Disposed":
            pairs.update(
                {
                    "pending": (row.assignments_pending, expected["NumberOfAssignmentsPending"]),
                    "available": (
                        row.assignments_available,
                        expected["NumberOfAssignmentsAvailable"],
                    ),
                    "completed": (
                        row.assignments_completed,
                        expected["NumberOfAssignmentsCompleted"],
                    ),
                }
            )
        problems += [
            f"HIT {row.hit_id} {name}: mirror {got!r} != truth {want!r}"
            for name, (got, want) in pairs.items()
            if got != want
        ]
    problems += [f"HIT {hit_id} in mirror only" for hit_id in hits]

    assignments = {
        a.assignment_id: a
        for a in Assignment.objects.filter(account=account).select_related("worker", "hit")
    }
    for expected in truth["assignments"]:
        if expected["AssignmentStatus"] not in VISIBLE_ASSIGNMENT_STATUSES:
            continue
        row = assignments.pop(expected["AssignmentId"], None)
        if row is None:
            problems.append(f"assignment {expected['AssignmentId']} missing")
            continue
        pairs = {
            "status": (row.status, expected["AssignmentStatus"]),
            "worker": (row.worker.worker_id, expected["WorkerId"]),
            "hit": (row.hit.hit_id, expected["HITId"]),
            "accept": (_epoch(row.accept_time), _truth_epoch(expected.get("AcceptTime"))),
            "submit": (_epoch(row.submit_time), _truth_epoch(expected.get("SubmitTime"))),
            "approval": (_epoch(row.approval_time), _truth_epoch(expected.get("ApprovalTime"))),
            "rejection": (_epoch(row.rejection_time), _truth_epoch(expected.get("RejectionTime"))),
            "auto_approval": (
                _epoch(row.auto_approval_time),
                _truth_epoch(expected.get("AutoApprovalTime")),
            ),
            "deadline": (_epoch(row.deadline), _truth_epoch(expected.get("Deadline"))),
            "answer": (row.answer_xml, expected.get("Answer") or ""),
            "answers": (row.answers, _parsed_answers(expected.get("Answer") or "")),
            "feedback": (row.requester_feedback, expected.get("RequesterFeedback") or ""),
        }
        problems += [
            f"assignment {row.assignment_id} {name}: mirror {got!r} != truth {want!r}"
            for name, (got, want) in pairs.items()
            if got != want
        ]
    problems += [f"assignment {aid} in mirror only" for aid in assignments]

    for worker in Worker.objects.filter(account=account):
        mine = Assignment.objects.filter(worker=worker)
        if (
            worker.assignments_submitted != mine.count()
            or worker.assignments_approved != mine.filter(status="Approved").count()
            or worker.assignments_rejected != mine.filter(status="Rejected").count()
        ):
            problems.append(f"worker {worker.worker_id} counts are stale")
    return problems


def money_and_people_differences(account: RequesterAccount, truth: dict[str, Any]) -> list[str]:
    """Bonuses, blocks and qualifications (synced by their own, slower schedules)."""
    problems: list[str] = []
    bonuses = sorted(
        (b.worker_id, b.assignment_id, b.amount, b.reason, _epoch(b.grant_time))
        for b in BonusPayment.objects.filter(account=account)
    )
    expected = sorted(
        (
            b["WorkerId"],
            b["AssignmentId"],
            Decimal(b["BonusAmount"]),
            b.get("Reason") or "",
            _truth_epoch(b.get("GrantTime")),
        )
        for b in truth["bonuses"]
    )
    if bonuses != expected:
        missing = [b for b in expected if b not in bonuses]
        extra = [b for b in bonuses if b not in expected]
        problems.append(f"bonuses: missing from mirror {missing}; in mirror only {extra}")
    blocks = sorted((b.worker_id, b.reason) for b in WorkerBlock.objects.filter(account=account))
    expected_blocks = sorted((b["WorkerId"], b["Reason"] or "") for b in truth["blocks"])
    if blocks != expected_blocks:
        problems.append(f"blocks: mirror {blocks} != truth {expected_blocks}")
    types = {q.qualification_type_id: q for q in QualificationType.objects.filter(account=account)}
    expected_types = {
        t["QualificationTypeId"]: t
        for t in truth["qualification_types"]
        if t.get("QualificationTypeStatus") != "Disposed"
    }
    if set(types) != set(expected_types):
        problems.append(
            f"qualification types: mirror {sorted(types)} != truth {sorted(expected_types)}"
        )
    for type_id, t in expected_types.items():
        if type_id in types and (types[type_id].name, types[type_id].status) != (
            t["Name"],
            t["QualificationTypeStatus"],
        ):
            problems.append(f"qualification type {type_id} differs")
    scores = sorted(
        (q.qualification_type.qualification_type_id, q.worker_id, q.integer_value, q.status)
        for q in Qualification.objects.filter(account=account).select_related("qualification_type")
    )
    expected_scores = sorted(
        (q["QualificationTypeId"], q["WorkerId"], q.get("IntegerValue"), q.get("Status", "Granted"))
        for q in truth["qualifications"]
        if q["QualificationTypeId"] in types
    )
    if scores != expected_scores:
        problems.append(f"scores: mirror {scores} != truth {expected_scores}")
    return problems
