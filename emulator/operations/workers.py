"""Workers: blocks, bonuses and messages."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from emulator import pagination
from emulator.operations import checks as ck
from emulator.operations.registry import Context, operation
from emulator.protocol import (
    RequestError,
    epoch,
    fee_cents,
    format_money,
    invalid_param,
    parse_money,
    wrong_status,
)
from emulator.state import ACCEPTED, Block, Bonus

if TYPE_CHECKING:
    from emulator.engine import Emulator


@operation("CreateWorkerBlock")
def create_worker_block(emu: Emulator, params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    reason = ck.text(params, "Reason", 1024, required=True)
    worker_id = params["WorkerId"]
    existing = emu.state.blocks.get(worker_id)
    if existing:
        existing.reason = reason
    else:
        emu.state.blocks[worker_id] = Block(worker_id, reason, emu.state.next_seq())
    return {}


@operation("DeleteWorkerBlock")
def delete_worker_block(emu: Emulator, params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    ck.text(params, "Reason", 1024)
    # Idempotent in the model: unblocking a worker who is not blocked succeeds.
    emu.state.blocks.pop(params["WorkerId"], None)
    return {}


@operation("ListWorkerBlocks")
def list_worker_blocks(emu: Emulator, params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    return pagination.page(
        params,
        "ListWorkerBlocks",
        pagination.after_in(emu.state.blocks.values(), lambda b: b.seq),
        lambda b: b.seq,
        lambda b: {"WorkerId": b.worker_id, "Reason": b.reason},
        "WorkerBlocks",
    )


@operation("SendBonus")
def send_bonus(emu: Emulator, params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    worker_id = params["WorkerId"]
    reason = ck.text(params, "Reason", 1024, required=True)
    amount = parse_money(params["BonusAmount"], "BonusAmount")
    if amount <= 0:
        raise invalid_param("BonusAmount must be greater than 0.00.")
    token = params.get("UniqueRequestToken")
    seen = emu.check_token("bonus", token)
    if seen:
        raise RequestError(
            f'The idempotency token "{token}" has already been processed for assignment '
            f"{seen['id']}. Request ID: {seen['request_id']}",
            "AWS.MechanicalTurk.DuplicateRequest",
        )
    a = emu.get_assignment(params["AssignmentId"])
    if a.worker_id != worker_id:
        raise RequestError(
            f"Assignment {a.assignment_id} was not done by worker {worker_id}.",
            "AWS.MechanicalTurk.InvalidParameterValue",
        )
    if a.status == ACCEPTED:
        raise wrong_status(
            "Submitted,Approved,Rejected", "AWS.MechanicalTurk.InvalidAssignmentState"
        )
    emu.charge(amount + fee_cents(amount, 20), f"a bonus of ${format_money(amount)}")
    seq = emu.state.next_seq()
    emu.state.bonuses[str(seq)] = Bonus(
        worker_id=worker_id,
        bonus_cents=amount,
        assignment_id=a.assignment_id,
        hit_id=a.hit_id,
        reason=reason,
        grant_time=emu.now,
        seq=seq,
    )
    emu.remember_token("bonus", token, id=a.assignment_id, request_id=ctx.request_id)
    return {}


@operation("ListBonusPayments")
def list_bonus_payments(emu: Emulator, params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    hit_id, assignment_id = params.get("HITId"), params.get("AssignmentId")
    if hit_id is not None and assignment_id is None:
        emu.get_hit(hit_id)
        records = [b for b in emu.state.bonuses.values() if b.hit_id == hit_id]
        scope: str = hit_id
    elif assignment_id is not None and hit_id is None:
        emu.get_assignment(assignment_id)
        records = [b for b in emu.state.bonuses.values() if b.assignment_id == assignment_id]
        scope = assignment_id
    else:
        raise invalid_param("Specify either HITId or AssignmentId (exactly one).")
    return pagination.page(
        params,
        "ListBonusPayments",
        pagination.after_in(records, lambda b: b.seq),
        lambda b: b.seq,
        lambda b: {
            "WorkerId": b.worker_id,
            "BonusAmount": format_money(b.bonus_cents),
            "AssignmentId": b.assignment_id,
            "Reason": b.reason,
            "GrantTime": epoch(b.grant_time),
        },
        "BonusPayments",
        scope,
    )


@operation("NotifyWorkers")
def notify_workers(emu: Emulator, params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    subject = ck.text(params, "Subject", 200, required=True)
    text = ck.text(params, "MessageText", 4096, required=True)
    worker_ids = params["WorkerIds"]
    if not 1 <= len(worker_ids) <= 100:
        raise invalid_param("WorkerIds must list between 1 and 100 workers.")
    known = {a.worker_id for a in emu.state.assignments.values()}
    known |= {q.worker_id for q in emu.state.qualifications.values()}
    known |= set(emu.state.workers)
    failures = []
    for worker_id in worker_ids:
        if worker_id not in known:
            # MTurk only lets requesters message workers who have worked for them.
            failures.append(
                {
                    "NotifyWorkersFailureCode": "HardFailure",
                    "NotifyWorkersFailureMessage": (
                        f"Cannot send notification to worker {worker_id}: the worker has not "
                        "done work for this requester."
                    ),
                    "WorkerId": worker_id,
                }
            )
            continue
        emu.state.messages.append(
            {"WorkerId": worker_id, "Subject": subject, "MessageText": text, "Time": emu.now}
        )
    return {"NotifyWorkersFailureStatuses": failures}
