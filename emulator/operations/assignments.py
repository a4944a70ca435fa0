"""Assignments: reading, listing, approving and rejecting; file upload URLs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from emulator import pagination
from emulator.operations import checks as ck
from emulator.operations.registry import Context, operation
from emulator.protocol import RequestError, wrong_status
from emulator.state import ACCEPTED, VISIBLE_ASSIGNMENT_STATUSES

if TYPE_CHECKING:
    from emulator.engine import Emulator

INVALID_ASSIGNMENT_STATE = "AWS.MechanicalTurk.InvalidAssignmentState"


@operation("GetAssignment")
def get_assignment(emu: Emulator, params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    a = emu.get_assignment(params["AssignmentId"])
    if a.status == ACCEPTED:
        # What MTurk answers for an assignment that is accepted but not yet submitted.
        raise wrong_status("Reviewable,Approved,Rejected", INVALID_ASSIGNMENT_STATE)
    hit = emu.state.hits[a.hit_id]
    return {"Assignment": emu.render_assignment(a), "HIT": emu.render_hit(hit)}


@operation("ListAssignmentsForHIT")
def list_assignments_for_hit(emu: Emulator, params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    hit = emu.get_hit(params["HITId"])
    statuses = set(params.get("AssignmentStatuses") or VISIBLE_ASSIGNMENT_STATUSES)
    records = [a for a in emu.state.hit_assignments(hit) if a.status in statuses]
    scope = hit.hit_id + "|" + ",".join(sorted(statuses))
    return pagination.page(
        params,
        "ListAssignmentsForHIT",
        pagination.after_in(records, lambda a: a.seq),
        lambda a: a.seq,
        emu.render_assignment,
        "Assignments",
        scope,
    )


@operation("ApproveAssignment")
def approve_assignment(emu: Emulator, params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    a = emu.get_assignment(params["AssignmentId"])
    feedback = ck.text(params, "RequesterFeedback", 1024)
    emu.approve(a, feedback, override=bool(params.get("OverrideRejection", False)))
    return {}


@operation("RejectAssignment")
def reject_assignment(emu: Emulator, params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    a = emu.get_assignment(params["AssignmentId"])
    feedback = ck.text(params, "RequesterFeedback", 1024, required=True)
    emu.reject(a, feedback)
    return {}


@operation("GetFileUploadURL")
def get_file_upload_url(emu: Emulator, params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    a = emu.get_assignment(params["AssignmentId"])
    if a.status == ACCEPTED:
        raise wrong_status("Reviewable,Approved,Rejected", INVALID_ASSIGNMENT_STATE)
    qid = params["QuestionIdentifier"]
    hit = emu.state.hits[a.hit_id]
    if not hit.question or "FileUploadAnswer" not in hit.question or qid not in hit.question:
        raise RequestError(
            f"Question {qid} of HIT {hit.hit_id} is not a file upload question.",
            "AWS.MechanicalTurk.InvalidParameterValue",
        )
    # MTurk hands out a short-lived (60 s) download URL; the emulator serves a stand-in file there
    # (control.uploaded_file).
    expires = int(emu.now) + 60
    return {
        "FileUploadURL": (
            f"{emu.base_url}/_emulator/files/{a.assignment_id}/{qid}?Expires={expires}"
        )
    }
