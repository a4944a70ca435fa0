"""Balance, fees, bonuses, insufficient funds, and UniqueRequestToken repeats."""

from __future__ import annotations

import pytest

from tests.emulator.helpers import create_hit, error_of, hit_params, work


def balance(mturk) -> str:
    return mturk.get_account_balance()["AvailableBalance"]


def test_approval_charges_reward_plus_20_percent(emu, mturk):
    hit = create_hit(mturk, Reward="1.00", MaxAssignments=9)
    assignment_id = work(emu, hit["HITId"], "AW1")
    assert mturk.get_account_balance()["OnHoldBalance"] == "1.20"
    mturk.approve_assignment(AssignmentId=assignment_id)
    assert balance(mturk) == "9998.80"


def test_hits_with_ten_or_more_assignments_pay_40_percent(emu, mturk):
    hit = create_hit(mturk, Reward="1.00", MaxAssignments=10)
    assignment_id = work(emu, hit["HITId"], "AW1")
    mturk.approve_assignment(AssignmentId=assignment_id)
    assert balance(mturk) == "9998.60"


def test_bonus_costs_amount_plus_20_percent_and_is_listed(emu, mturk):
    hit = create_hit(mturk)
    assignment_id = work(emu, hit["HITId"], "AW1")
    mturk.send_bonus(
        WorkerId="AW1", BonusAmount="2.00", AssignmentId=assignment_id, Reason="Great work"
    )
    assert balance(mturk) == "9997.60"
    by_hit = mturk.list_bonus_payments(HITId=hit["HITId"])
    assert by_hit["NumResults"] == 1
    bonus = by_hit["BonusPayments"][0]
    assert (
        bonus["BonusAmount"] == "2.00"
        and bonus["WorkerId"] == "AW1"
        and bonus["Reason"] == "Great work"
    )
    assert mturk.list_bonus_payments(AssignmentId=assignment_id)["NumResults"] == 1
    with pytest.raises(mturk.exceptions.RequestError):
        mturk.send_bonus(
            WorkerId="AOTHER", BonusAmount="1.00", AssignmentId=assignment_id, Reason="x"
        )
    with pytest.raises(mturk.exceptions.RequestError):
        mturk.list_bonus_payments()


def test_insufficient_funds_on_approval_and_bonus(emu, mturk):
    hit = create_hit(mturk, Reward="5.00")
    assignment_id = work(emu, hit["HITId"], "AW1")
    emu.control.post("balance", {"AvailableBalance": "5.99"})
    with pytest.raises(mturk.exceptions.RequestError) as excinfo:
        mturk.approve_assignment(AssignmentId=assignment_id)
    assert error_of(excinfo)["turk"] == "AWS.MechanicalTurk.InsufficientFunds"
    assert (
        mturk.get_assignment(AssignmentId=assignment_id)["Assignment"]["AssignmentStatus"]
        == "Submitted"
    )
    with pytest.raises(mturk.exceptions.RequestError) as excinfo:
        mturk.send_bonus(WorkerId="AW1", BonusAmount="5.00", AssignmentId=assignment_id, Reason="x")
    assert "Insufficient funds" in error_of(excinfo)["message"]
    emu.control.post("balance", {"AvailableBalance": "6.00"})
    mturk.approve_assignment(AssignmentId=assignment_id)
    assert balance(mturk) == "0.00"


def test_create_hit_token_repeat_names_the_original_hit_for_24_hours(emu, mturk):
    first = mturk.create_hit(**hit_params(UniqueRequestToken="tok-1"))["HIT"]
    with pytest.raises(mturk.exceptions.RequestError) as excinfo:
        mturk.create_hit(**hit_params(UniqueRequestToken="tok-1"))
    error = error_of(excinfo)
    assert error["turk"] == "AWS.MechanicalTurk.HitAlreadyExists"
    assert first["HITId"] in error["message"]
    hit_type = first["HITTypeId"]
    with pytest.raises(mturk.exceptions.RequestError) as excinfo:
        mturk.create_hit_with_hit_type(
            HITTypeId=hit_type,
            LifetimeInSeconds=600,
            Question=hit_params()["Question"],
            UniqueRequestToken="tok-1",
        )
    assert first["HITId"] in error_of(excinfo)["message"]
    assert mturk.list_hits()["NumResults"] == 1
    emu.control.advance(24 * 3600 + 1)
    again = mturk.create_hit(**hit_params(UniqueRequestToken="tok-1"))["HIT"]
    assert again["HITId"] != first["HITId"]


def test_additional_assignments_and_bonus_token_repeats(emu, mturk):
    hit = create_hit(mturk, MaxAssignments=2)
    mturk.create_additional_assignments_for_hit(
        HITId=hit["HITId"], NumberOfAdditionalAssignments=1, UniqueRequestToken="extend-1"
    )
    with pytest.raises(mturk.exceptions.RequestError) as excinfo:
        mturk.create_additional_assignments_for_hit(
            HITId=hit["HITId"], NumberOfAdditionalAssignments=1, UniqueRequestToken="extend-1"
        )
    message = error_of(excinfo)["message"]
    assert "extend-1" in message and "Request ID" in message and hit["HITId"] in message
    assert mturk.get_hit(HITId=hit["HITId"])["HIT"]["MaxAssignments"] == 3
    assignment_id = work(emu, hit["HITId"], "AW1")
    mturk.send_bonus(
        WorkerId="AW1",
        BonusAmount="0.10",
        AssignmentId=assignment_id,
        Reason="r",
        UniqueRequestToken="b-1",
    )
    with pytest.raises(mturk.exceptions.RequestError) as excinfo:
        mturk.send_bonus(
            WorkerId="AW1",
            BonusAmount="0.10",
            AssignmentId=assignment_id,
            Reason="r",
            UniqueRequestToken="b-1",
        )
    assert "b-1" in error_of(excinfo)["message"] and assignment_id in error_of(excinfo)["message"]
    assert mturk.list_bonus_payments(AssignmentId=assignment_id)["NumResults"] == 1
    assert balance(mturk) == "9999.88"


def _on_hold_from_truth(emu) -> str:
    """OnHoldBalance computed from scratch, the way GetAccountBalance used to (a scan of every
    HIT): reward plus fee for each submitted assignment of a HIT that is not disposed."""
    from decimal import Decimal

    from emulator.protocol import fee_cents, format_money

    truth = emu.control.truth("hits", "assignments")
    submitted: dict[str, int] = {}
    for a in truth["assignments"]:
        if a["AssignmentStatus"] == "Submitted":
            submitted[a["HITId"]] = submitted.get(a["HITId"], 0) + 1
    cents = 0
    for hit in truth["hits"]:
        if hit["HITStatus"] == "Disposed" or hit["HITId"] not in submitted:
            continue
        reward = int(Decimal(hit["Reward"]) * 100)
        fee = fee_cents(reward, 40 if hit["MaxAssignments"] >= 10 else 20)
        cents += submitted[hit["HITId"]] * (reward + fee)
    return format_money(cents)


def test_on_hold_balance_is_a_running_total_that_matches_a_full_scan(emu, mturk):
    """Issue 11 item 5: GetAccountBalance no longer scans every HIT; its running total must agree
    with a scan after every kind of change (submit, approve, reject, override, auto-approval,
    extend, a new HIT type, delete, populate)."""

    def check() -> None:
        assert mturk.get_account_balance()["OnHoldBalance"] == _on_hold_from_truth(emu)

    small = create_hit(mturk, Reward="0.33", MaxAssignments=4, AutoApprovalDelayInSeconds=3600)
    big = create_hit(mturk, Reward="1.07", MaxAssignments=12)
    check()
    a1 = work(emu, small["HITId"], "AW1")
    a2 = work(emu, small["HITId"], "AW2")
    b1 = work(emu, big["HITId"], "AW1")
    b2 = work(emu, big["HITId"], "AW2")
    check()
    assert mturk.get_account_balance()["OnHoldBalance"] != "0.00"
    mturk.approve_assignment(AssignmentId=a1)
    mturk.reject_assignment(AssignmentId=b1, RequesterFeedback="no")
    check()
    mturk.approve_assignment(AssignmentId=b1, OverrideRejection=True)
    check()
    mturk.create_additional_assignments_for_hit(HITId=big["HITId"], NumberOfAdditionalAssignments=3)
    check()
    # Moving the HIT to a type with another reward re-prices what is on hold.
    dearer = mturk.create_hit_type(
        Title="dearer", Description="d", Reward="2.50", AssignmentDurationInSeconds=600
    )["HITTypeId"]
    mturk.update_hit_type_of_hit(HITId=big["HITId"], HITTypeId=dearer)
    check()
    emu.control.advance(3601)
    assert mturk.get_assignment(AssignmentId=a2)["Assignment"]["AssignmentStatus"] == "Approved"
    check()
    mturk.approve_assignment(AssignmentId=b2)
    mturk.update_expiration_for_hit(HITId=big["HITId"], ExpireAt=0)
    mturk.delete_hit(HITId=big["HITId"])
    check()
    emu.control.post("populate", {"HITs": 5, "AssignmentsPerHIT": 2, "Reward": "0.05"})
    check()
    assert mturk.get_account_balance()["OnHoldBalance"] == "0.60"  # 10 x (0.05 + 0.01)
    emu.control.reset(seed=1)
    assert mturk.get_account_balance()["OnHoldBalance"] == "0.00"
