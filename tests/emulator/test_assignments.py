"""The assignment state machine: accept, submit, return, abandon, approve, reject, override,
auto-approval on the emulated clock."""

from __future__ import annotations

import pytest

from tests.emulator.helpers import HTML_QUESTION, create_hit, error_of, work


def truth_of(emu, assignment_id: str) -> dict:
    return next(
        a
        for a in emu.control.truth("assignments")["assignments"]
        if a["AssignmentId"] == assignment_id
    )


def test_submitted_assignment_is_listed_with_answer_and_times(emu, mturk):
    hit = create_hit(mturk)
    assignment_id = work(emu, hit["HITId"], "AW1", {"color": "teal", "shape": "cube"})
    listed = mturk.list_assignments_for_hit(HITId=hit["HITId"])
    assert listed["NumResults"] == 1
    a = listed["Assignments"][0]
    assert a["AssignmentId"] == assignment_id and a["WorkerId"] == "AW1"
    assert a["AssignmentStatus"] == "Submitted"
    assert "<FreeText>teal</FreeText>" in a["Answer"]
    assert a["AutoApprovalTime"] - a["SubmitTime"] == __import__("datetime").timedelta(
        seconds=86400
    )
    assert "ApprovalTime" not in a
    got = mturk.get_assignment(AssignmentId=assignment_id)
    assert got["Assignment"]["AssignmentId"] == assignment_id
    assert got["HIT"]["HITId"] == hit["HITId"]


def test_accepted_assignment_is_not_visible_yet(emu, mturk):
    hit = create_hit(mturk)
    emu.control.add_worker(WorkerId="AW1")
    assignment = emu.control.accept("AW1", hit["HITId"])
    assert mturk.list_assignments_for_hit(HITId=hit["HITId"])["NumResults"] == 0
    with pytest.raises(mturk.exceptions.RequestError) as excinfo:
        mturk.get_assignment(AssignmentId=assignment["AssignmentId"])
    assert "Reviewable,Approved,Rejected" in error_of(excinfo)["message"]


def test_approve_then_approve_again_is_an_error(emu, mturk):
    hit = create_hit(mturk)
    assignment_id = work(emu, hit["HITId"], "AW1")
    mturk.approve_assignment(AssignmentId=assignment_id, RequesterFeedback="Thanks")
    a = mturk.get_assignment(AssignmentId=assignment_id)["Assignment"]
    assert a["AssignmentStatus"] == "Approved" and a["RequesterFeedback"] == "Thanks"
    assert "ApprovalTime" in a
    with pytest.raises(mturk.exceptions.RequestError) as excinfo:
        mturk.approve_assignment(AssignmentId=assignment_id)
    error = error_of(excinfo)
    assert error["message"].startswith("This operation can be called with a status of: Submitted (")
    assert error["turk"] == "AWS.MechanicalTurk.InvalidAssignmentState"
    truth = truth_of(emu, assignment_id)
    assert truth["ApproveCount"] == 1 and truth["PaidCount"] == 1
    assert mturk.get_hit(HITId=hit["HITId"])["HIT"]["NumberOfAssignmentsCompleted"] == 1


def test_reject_needs_feedback_and_override_within_30_days(emu, mturk, mturk_unvalidated):
    hit = create_hit(mturk)
    assignment_id = work(emu, hit["HITId"], "AW1")
    with pytest.raises(mturk_unvalidated.exceptions.RequestError) as excinfo:
        mturk_unvalidated.reject_assignment(AssignmentId=assignment_id)
    assert "RequesterFeedback" in error_of(excinfo)["message"]
    with pytest.raises(mturk.exceptions.RequestError):
        mturk.reject_assignment(AssignmentId=assignment_id, RequesterFeedback="   ")
    mturk.reject_assignment(AssignmentId=assignment_id, RequesterFeedback="Answers were empty")
    a = mturk.get_assignment(AssignmentId=assignment_id)["Assignment"]
    assert a["AssignmentStatus"] == "Rejected" and "RejectionTime" in a
    with pytest.raises(mturk.exceptions.RequestError):
        mturk.reject_assignment(AssignmentId=assignment_id, RequesterFeedback="again")
    with pytest.raises(mturk.exceptions.RequestError):
        mturk.approve_assignment(AssignmentId=assignment_id)  # needs OverrideRejection
    mturk.approve_assignment(AssignmentId=assignment_id, OverrideRejection=True)
    assert (
        mturk.get_assignment(AssignmentId=assignment_id)["Assignment"]["AssignmentStatus"]
        == "Approved"
    )

    late = work(emu, hit["HITId"], "AW2")
    mturk.reject_assignment(AssignmentId=late, RequesterFeedback="no")
    emu.control.advance(31 * 86400)
    with pytest.raises(mturk.exceptions.RequestError) as excinfo:
        mturk.approve_assignment(AssignmentId=late, OverrideRejection=True)
    assert "30 days" in error_of(excinfo)["message"]


def test_return_and_abandon_free_the_slot(emu, mturk):
    hit = create_hit(mturk, MaxAssignments=1, AssignmentDurationInSeconds=300)
    for worker in ("AW1", "AW2", "AW3"):
        emu.control.add_worker(WorkerId=worker)
    first = emu.control.accept("AW1", hit["HITId"])
    assert mturk.get_hit(HITId=hit["HITId"])["HIT"]["HITStatus"] == "Unassignable"
    emu.control.return_assignment(first["AssignmentId"])
    got = mturk.get_hit(HITId=hit["HITId"])["HIT"]
    assert got["HITStatus"] == "Assignable" and got["NumberOfAssignmentsAvailable"] == 1
    assert truth_of(emu, first["AssignmentId"])["AssignmentStatus"] == "Returned"
    with pytest.raises(mturk.exceptions.RequestError):
        mturk.get_assignment(AssignmentId=first["AssignmentId"])

    second = emu.control.accept("AW2", hit["HITId"])
    emu.control.advance(301)  # past the assignment deadline: abandoned
    assert truth_of(emu, second["AssignmentId"])["AssignmentStatus"] == "Abandoned"
    got = mturk.get_hit(HITId=hit["HITId"])["HIT"]
    assert got["HITStatus"] == "Assignable" and got["NumberOfAssignmentsPending"] == 0

    third = emu.control.accept("AW3", hit["HITId"])
    emu.control.abandon(third["AssignmentId"])
    assert truth_of(emu, third["AssignmentId"])["AssignmentStatus"] == "Abandoned"


def test_worker_cannot_take_the_same_hit_twice(emu, mturk):
    hit = create_hit(mturk, MaxAssignments=3)
    work(emu, hit["HITId"], "AW1")
    with pytest.raises(Exception) as excinfo:
        emu.control.accept("AW1", hit["HITId"])
    assert excinfo.value.status == 409


def test_auto_approval_when_the_clock_passes_auto_approval_time(emu, mturk):
    hit = create_hit(mturk, AutoApprovalDelayInSeconds=3600)
    assignment_id = work(emu, hit["HITId"], "AW1")
    emu.control.advance(3500)
    assert (
        mturk.get_assignment(AssignmentId=assignment_id)["Assignment"]["AssignmentStatus"]
        == "Submitted"
    )
    emu.control.advance(200)
    a = mturk.get_assignment(AssignmentId=assignment_id)["Assignment"]
    assert a["AssignmentStatus"] == "Approved"
    assert truth_of(emu, assignment_id)["PaidCount"] == 1
    assert mturk.get_account_balance()["AvailableBalance"] == "9999.40"


def test_filter_assignments_by_status(emu, mturk):
    hit = create_hit(mturk, MaxAssignments=3)
    a1 = work(emu, hit["HITId"], "AW1")
    a2 = work(emu, hit["HITId"], "AW2")
    work(emu, hit["HITId"], "AW3")
    mturk.approve_assignment(AssignmentId=a1)
    mturk.reject_assignment(AssignmentId=a2, RequesterFeedback="no")

    def statuses(wanted):
        listed = mturk.list_assignments_for_hit(HITId=hit["HITId"], AssignmentStatuses=wanted)
        return [a["AssignmentStatus"] for a in listed["Assignments"]]

    assert statuses(["Approved"]) == ["Approved"]
    assert statuses(["Rejected", "Submitted"]) == ["Rejected", "Submitted"]


def test_get_file_upload_url_needs_a_file_upload_question(emu, mturk):
    # FileUploadAnswer is deprecated and refused in new questions, so no question qualifies.
    plain = create_hit(mturk, Question=HTML_QUESTION)
    assignment_id = work(emu, plain["HITId"], "AW2")
    with pytest.raises(mturk.exceptions.RequestError) as excinfo:
        mturk.get_file_upload_url(AssignmentId=assignment_id, QuestionIdentifier="color")
    assert "not a file upload question" in error_of(excinfo)["message"]
    with pytest.raises(mturk.exceptions.RequestError):
        mturk.get_file_upload_url(AssignmentId="3NOSUCHASSIGNMENT", QuestionIdentifier="color")
