"""MTurkGateway: assignments, approvals, rejections, bonuses, blocks, messages - and that nothing is
ever paid twice (checked against the emulator's truth, not our own bookkeeping)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mturk.answers import parse_answers
from mturk.errors import AlreadyProcessed, InsufficientFunds, InvalidState, NotFound
from mturk.fees import assignment_cost, bonus_cost
from tests.mturk.helpers import create_hit, work

START = Decimal("10000.00")


def _truth_assignment(emulator, assignment_id):
    (row,) = [
        a
        for a in emulator.control.truth("assignments")["assignments"]
        if a["AssignmentId"] == assignment_id
    ]
    return row


def test_get_assignment_and_list(gateway, emulator):
    hit = create_hit(gateway)
    assignment_id = work(emulator, hit.hit_id, "AWORKERONE", {"color": "blue"})
    assignment, hit_again = gateway.get_assignment(assignment_id=assignment_id)
    assert assignment.status == "Submitted" and assignment.worker_id == "AWORKERONE"
    assert assignment.submit_time and assignment.auto_approval_time > assignment.submit_time
    assert assignment.approval_time is None and hit_again.hit_id == hit.hit_id
    assert parse_answers(assignment.answer).fields == {"color": "blue"}
    (page,) = list(gateway.iter_assignment_pages(hit_id=hit.hit_id))
    assert [a.assignment_id for a in page] == [assignment_id]
    with pytest.raises(NotFound):
        gateway.get_assignment(assignment_id="3NOSUCHASSIGNMENT0000000000000")


def test_approve_twice_pays_once(gateway, emulator):
    hit = create_hit(gateway)
    assignment_id = work(emulator, hit.hit_id, "AWORKERONE")
    first = gateway.approve_assignment(assignment_id=assignment_id, feedback="Thanks!")
    second = gateway.approve_assignment(assignment_id=assignment_id, feedback="Thanks!")
    assert first.outcome == "approved" and not first.already and first.request_id
    assert second.outcome == "already_approved" and second.already
    assert second.assignment.status == "Approved"
    truth = _truth_assignment(emulator, assignment_id)
    assert truth["PaidCount"] == 1 and truth["ApproveCount"] == 1
    balance = gateway.get_account_balance()
    assert balance.available == START - assignment_cost(Decimal("0.50"), 3)
    assert balance.available == Decimal("9999.40")


def test_reject_then_already_rejected_then_override(gateway, emulator):
    hit = create_hit(gateway)
    assignment_id = work(emulator, hit.hit_id, "AWORKERONE")
    with pytest.raises(ValueError):
        gateway.reject_assignment(assignment_id=assignment_id, feedback="  ")
    first = gateway.reject_assignment(assignment_id=assignment_id, feedback="Empty answer")
    second = gateway.reject_assignment(assignment_id=assignment_id, feedback="Empty answer")
    assert first.outcome == "rejected" and second.outcome == "already_rejected"
    # Approving a rejected assignment is not "already approved": it needs OverrideRejection.
    with pytest.raises(InvalidState):
        gateway.approve_assignment(assignment_id=assignment_id)
    override = gateway.approve_assignment(assignment_id=assignment_id, override_rejection=True)
    assert override.outcome == "approved"
    assert gateway.get_assignment(assignment_id=assignment_id)[0].status == "Approved"
    # And an approved assignment cannot be rejected: the refusal is raised, not swallowed.
    with pytest.raises(InvalidState):
        gateway.reject_assignment(assignment_id=assignment_id, feedback="Changed my mind")
    assert _truth_assignment(emulator, assignment_id)["PaidCount"] == 1


def test_bonus_repeat_is_confirmed_and_paid_once(gateway, emulator):
    hit = create_hit(gateway)
    assignment_id = work(emulator, hit.hit_id, "AWORKERONE")
    gateway.approve_assignment(assignment_id=assignment_id)
    sent = gateway.send_bonus(
        worker_id="AWORKERONE",
        assignment_id=assignment_id,
        amount=Decimal("1.00"),
        reason="Great work",
        token="bonus-1",
    )
    repeat = gateway.send_bonus(
        worker_id="AWORKERONE",
        assignment_id=assignment_id,
        amount=Decimal("1.00"),
        reason="Great work",
        token="bonus-1",
    )
    assert sent.outcome == "sent" and sent.request_id
    assert repeat.outcome == "already_sent" and repeat.bonus.amount == Decimal("1.00")
    assert len(emulator.control.truth("bonuses")["bonuses"]) == 1
    # Same token, different bonus: the confirmation fails, so the refusal is raised.
    with pytest.raises(AlreadyProcessed):
        gateway.send_bonus(
            worker_id="AWORKERONE",
            assignment_id=assignment_id,
            amount=Decimal("2.00"),
            reason="Great work",
            token="bonus-1",
        )
    assert len(emulator.control.truth("bonuses")["bonuses"]) == 1
    expected = START - assignment_cost(Decimal("0.50"), 3) - bonus_cost(Decimal("1.00"))
    assert gateway.get_account_balance().available == expected
    by_hit = [b for page in gateway.iter_bonus_pages(hit_id=hit.hit_id) for b in page]
    by_assignment = [
        b for page in gateway.iter_bonus_pages(assignment_id=assignment_id) for b in page
    ]
    assert by_hit == by_assignment and by_hit[0].reason == "Great work"
    assert by_hit[0].grant_time is not None


def test_bonus_argument_checks(gateway, call_log):
    base = {"worker_id": "AW", "assignment_id": "3A", "reason": "r", "token": "t"}
    for amount in (Decimal("0"), Decimal("-1"), Decimal("0.001")):
        with pytest.raises(ValueError):
            gateway.send_bonus(amount=amount, **base)
    with pytest.raises(ValueError):
        gateway.send_bonus(amount=Decimal("1"), **{**base, "reason": ""})
    with pytest.raises(ValueError):
        gateway.iter_bonus_pages()
    assert call_log == []


def test_insufficient_funds(gateway, emulator):
    hit = create_hit(gateway)
    assignment_id = work(emulator, hit.hit_id, "AWORKERONE")
    emulator.control.post("balance", {"AvailableBalance": "0.10"})
    with pytest.raises(InsufficientFunds) as excinfo:
        gateway.approve_assignment(assignment_id=assignment_id)
    assert not excinfo.value.retryable
    assert _truth_assignment(emulator, assignment_id)["PaidCount"] == 0


def test_worker_blocks_and_notify(gateway, emulator):
    gateway.create_worker_block(worker_id="AWORKERBAD", reason="Spam answers")
    gateway.create_worker_block(worker_id="AWORKERBAD2", reason="Spam answers")
    blocks = [b for page in gateway.iter_worker_block_pages() for b in page]
    assert {(b.worker_id, b.reason) for b in blocks} == {
        ("AWORKERBAD", "Spam answers"),
        ("AWORKERBAD2", "Spam answers"),
    }
    gateway.delete_worker_block(worker_id="AWORKERBAD2", reason="Appeal accepted")
    assert [b.worker_id for page in gateway.iter_worker_block_pages() for b in page] == [
        "AWORKERBAD"
    ]
    with pytest.raises(ValueError):
        gateway.create_worker_block(worker_id="AW", reason="")
    hit = create_hit(gateway)
    work(emulator, hit.hit_id, "AWORKERONE")
    failures = gateway.notify_workers(
        subject="New batch",
        message_text="More HITs tomorrow",
        worker_ids=["AWORKERONE", "ASTRANGER"],
    )
    assert [(f.worker_id, f.code) for f in failures] == [("ASTRANGER", "HardFailure")]
    messages = emulator.control.truth("messages")["messages"]
    assert len(messages) == 1 and "AWORKERONE" in str(messages[0])


def test_notify_workers_batches_by_100(gateway, emulator, call_log):
    ids = [f"AW{index:04d}" for index in range(150)]
    failures = gateway.notify_workers(subject="s", message_text="m", worker_ids=ids)
    assert len(failures) == 150  # none of them worked for us
    assert [r.operation for r in call_log] == ["NotifyWorkers", "NotifyWorkers"]
