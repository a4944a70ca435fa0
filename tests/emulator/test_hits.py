"""HIT types and the HIT state machine: creation rules, expiry, extension, review status, disposal."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.emulator.helpers import (
    EXTERNAL_QUESTION,
    QUESTION_FORM,
    create_hit,
    error_of,
    hit_params,
    work,
)

TYPE_PARAMS = {
    "Title": "Tag images",
    "Description": "Tag what you see",
    "Reward": "0.25",
    "AssignmentDurationInSeconds": 300,
    "AutoApprovalDelayInSeconds": 3600,
    "Keywords": "image, tag",
}


def test_create_hit_type_returns_existing_id_for_identical_properties(emu, mturk):
    first = mturk.create_hit_type(**TYPE_PARAMS)["HITTypeId"]
    again = mturk.create_hit_type(**TYPE_PARAMS)["HITTypeId"]
    other = mturk.create_hit_type(**{**TYPE_PARAMS, "Reward": "0.26"})["HITTypeId"]
    assert first == again
    assert other != first


def test_create_hit_with_hit_type_takes_properties_from_the_type(emu, mturk):
    hit_type = mturk.create_hit_type(**TYPE_PARAMS)["HITTypeId"]
    hit = mturk.create_hit_with_hit_type(
        HITTypeId=hit_type,
        LifetimeInSeconds=600,
        MaxAssignments=2,
        Question=QUESTION_FORM,
        RequesterAnnotation="batch-1",
    )["HIT"]
    assert hit["HITTypeId"] == hit_type
    assert hit["Title"] == "Tag images" and hit["Reward"] == "0.25"
    assert hit["HITStatus"] == "Assignable"
    assert hit["RequesterAnnotation"] == "batch-1"
    assert hit["NumberOfAssignmentsAvailable"] == 2
    assert hit["NumberOfAssignmentsPending"] == 0
    assert hit["NumberOfAssignmentsCompleted"] == 0
    assert mturk.get_hit(HITId=hit["HITId"])["HIT"]["HITId"] == hit["HITId"]
    with pytest.raises(mturk.exceptions.RequestError):
        mturk.create_hit_with_hit_type(
            HITTypeId="3NOSUCHTYPE", LifetimeInSeconds=600, Question=QUESTION_FORM
        )


def test_create_hit_puts_hits_with_same_properties_in_one_type(emu, mturk):
    a = create_hit(mturk)
    b = create_hit(mturk, Question=EXTERNAL_QUESTION)
    assert a["HITTypeId"] == b["HITTypeId"]
    assert a["HITGroupId"] == b["HITGroupId"]


@pytest.mark.parametrize(
    "overrides, fragment",
    [
        ({"Question": None}, "Question parameter or a HITLayoutId"),
        ({"HITLayoutId": "3NOLAYOUT"}, "Question parameter or a HITLayoutId"),
        ({"Question": "<NotAQuestion/>"}, "Question"),
        ({"Question": "<<<"}, "Question"),
        ({"LifetimeInSeconds": 10}, "LifetimeInSeconds"),
        ({"AssignmentDurationInSeconds": 31536001}, "AssignmentDurationInSeconds"),
        ({"AutoApprovalDelayInSeconds": 2592001}, "AutoApprovalDelayInSeconds"),
        ({"MaxAssignments": 0}, "MaxAssignments"),
        ({"Title": "x" * 129}, "Title"),
        ({"Reward": "1.234"}, "Reward"),
    ],
)
def test_create_hit_validation(emu, mturk_unvalidated, overrides, fragment):
    params = {k: v for k, v in hit_params(**overrides).items() if v is not None}
    with pytest.raises(mturk_unvalidated.exceptions.RequestError) as excinfo:
        mturk_unvalidated.create_hit(**params)
    assert fragment in error_of(excinfo)["message"]


def test_qualification_requirements_0_to_10_and_comparator_values(emu, mturk):
    qtids = [
        mturk.create_qualification_type(
            Name=f"q{i}", Description="d", QualificationTypeStatus="Active"
        )["QualificationType"]["QualificationTypeId"]
        for i in range(11)
    ]
    reqs = [
        {"QualificationTypeId": q, "Comparator": "GreaterThan", "IntegerValues": [50]}
        for q in qtids
    ]
    hit = create_hit(mturk, QualificationRequirements=reqs[:10])
    assert len(hit["QualificationRequirements"]) == 10
    with pytest.raises(mturk.exceptions.RequestError) as excinfo:
        create_hit(mturk, QualificationRequirements=reqs)
    assert "at most 10" in error_of(excinfo)["message"]
    with pytest.raises(mturk.exceptions.RequestError):
        create_hit(
            mturk,
            QualificationRequirements=[
                {"QualificationTypeId": qtids[0], "Comparator": "Exists", "IntegerValues": [1]}
            ],
        )
    with pytest.raises(mturk.exceptions.RequestError):
        create_hit(
            mturk,
            QualificationRequirements=[
                {"QualificationTypeId": qtids[0], "Comparator": "GreaterThan"}
            ],
        )
    with pytest.raises(mturk.exceptions.RequestError):
        create_hit(
            mturk,
            QualificationRequirements=[
                {"QualificationTypeId": "3NOSUCHQUAL", "Comparator": "Exists"}
            ],
        )
    locale = create_hit(
        mturk,
        QualificationRequirements=[
            {
                "QualificationTypeId": "00000000000000000071",
                "Comparator": "In",
                "LocaleValues": [{"Country": "US"}, {"Country": "GB"}],
            }
        ],
    )
    assert locale["QualificationRequirements"][0]["LocaleValues"][1]["Country"] == "GB"


def test_hit_lifecycle_assignable_unassignable_reviewable(emu, mturk):
    hit = create_hit(mturk, MaxAssignments=1)
    emu.control.add_worker(WorkerId="AW1")
    assignment = emu.control.accept("AW1", hit["HITId"])
    got = mturk.get_hit(HITId=hit["HITId"])["HIT"]
    assert got["HITStatus"] == "Unassignable"
    assert got["NumberOfAssignmentsPending"] == 1 and got["NumberOfAssignmentsAvailable"] == 0
    emu.control.submit(assignment["AssignmentId"], {"color": "red"})
    got = mturk.get_hit(HITId=hit["HITId"])["HIT"]
    assert got["HITStatus"] == "Reviewable"
    assert got["NumberOfAssignmentsPending"] == 0
    reviewable = mturk.list_reviewable_hits()["HITs"]
    assert [h["HITId"] for h in reviewable] == [hit["HITId"]]


def test_expiry_by_clock_and_update_expiration(emu, mturk):
    hit = create_hit(mturk, LifetimeInSeconds=120)
    emu.control.advance(121)
    got = mturk.get_hit(HITId=hit["HITId"])["HIT"]
    assert got["HITStatus"] == "Reviewable"
    # Extending the expiry makes it assignable again.
    future = got["Expiration"] + dt.timedelta(hours=2)
    mturk.update_expiration_for_hit(HITId=hit["HITId"], ExpireAt=future)
    got = mturk.get_hit(HITId=hit["HITId"])["HIT"]
    assert got["HITStatus"] == "Assignable"
    # A time in the past expires it at once.
    mturk.update_expiration_for_hit(
        HITId=hit["HITId"], ExpireAt=dt.datetime(2015, 1, 1, tzinfo=dt.UTC)
    )
    got = mturk.get_hit(HITId=hit["HITId"])["HIT"]
    assert got["HITStatus"] == "Reviewable"
    # MTurk's derived idempotency token: the same HIT and time twice is refused.
    with pytest.raises(mturk.exceptions.RequestError) as excinfo:
        mturk.update_expiration_for_hit(
            HITId=hit["HITId"], ExpireAt=dt.datetime(2015, 1, 1, tzinfo=dt.UTC)
        )
    assert "has already been processed" in error_of(excinfo)["message"]


def test_expired_hit_with_pending_assignment_is_unassignable_until_submitted(emu, mturk):
    hit = create_hit(mturk, MaxAssignments=2)
    emu.control.add_worker(WorkerId="AW1")
    assignment = emu.control.accept("AW1", hit["HITId"])
    mturk.update_expiration_for_hit(
        HITId=hit["HITId"], ExpireAt=dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    )
    assert mturk.get_hit(HITId=hit["HITId"])["HIT"]["HITStatus"] == "Unassignable"
    emu.control.submit(assignment["AssignmentId"], {"color": "blue"})
    assert mturk.get_hit(HITId=hit["HITId"])["HIT"]["HITStatus"] == "Reviewable"


def test_update_hit_review_status_moves_between_reviewable_and_reviewing(emu, mturk):
    hit = create_hit(mturk, MaxAssignments=1)
    with pytest.raises(mturk.exceptions.RequestError) as excinfo:
        mturk.update_hit_review_status(HITId=hit["HITId"], Revert=False)  # still Assignable
    # MTurk's one wording for a status-restricted operation, naming the status it needs.
    assert error_of(excinfo)["message"].startswith(
        "This operation can be called with a status of: Reviewable ("
    )
    work(emu, hit["HITId"], "AW1")
    mturk.update_hit_review_status(HITId=hit["HITId"], Revert=False)
    assert mturk.get_hit(HITId=hit["HITId"])["HIT"]["HITStatus"] == "Reviewing"
    assert mturk.list_reviewable_hits(Status="Reviewing")["NumResults"] == 1
    assert mturk.list_reviewable_hits()["NumResults"] == 0
    with pytest.raises(mturk.exceptions.RequestError):
        mturk.update_hit_review_status(HITId=hit["HITId"], Revert=False)
    mturk.update_hit_review_status(HITId=hit["HITId"], Revert=True)
    assert mturk.get_hit(HITId=hit["HITId"])["HIT"]["HITStatus"] == "Reviewable"
    with pytest.raises(mturk.exceptions.RequestError) as excinfo:
        mturk.update_hit_review_status(HITId=hit["HITId"], Revert=True)
    assert error_of(excinfo)["message"].startswith(
        "This operation can be called with a status of: Reviewing ("
    )


def test_delete_hit_rules(emu, mturk):
    hit = create_hit(mturk, MaxAssignments=1)
    with pytest.raises(mturk.exceptions.RequestError) as excinfo:
        mturk.delete_hit(HITId=hit["HITId"])
    assert error_of(excinfo)["message"].startswith(
        "This operation can be called with a status of: Reviewable,Reviewing ("
    )
    assignment_id = work(emu, hit["HITId"], "AW1")
    with pytest.raises(mturk.exceptions.RequestError) as excinfo:
        mturk.delete_hit(HITId=hit["HITId"])
    assert "not yet approved or rejected" in error_of(excinfo)["message"]
    mturk.approve_assignment(AssignmentId=assignment_id)
    mturk.delete_hit(HITId=hit["HITId"])
    assert mturk.get_hit(HITId=hit["HITId"])["HIT"]["HITStatus"] == "Disposed"
    assert mturk.list_hits()["NumResults"] == 0
    mturk.delete_hit(HITId=hit["HITId"])  # idempotent
    with pytest.raises(mturk.exceptions.RequestError):
        mturk.update_expiration_for_hit(
            HITId=hit["HITId"], ExpireAt=dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
        )


def test_auto_dispose_after_120_days(emu, mturk):
    hit = create_hit(mturk, LifetimeInSeconds=60)
    emu.control.advance(61)
    assert mturk.get_hit(HITId=hit["HITId"])["HIT"]["HITStatus"] == "Reviewable"
    emu.control.advance(120 * 86400)
    assert mturk.get_hit(HITId=hit["HITId"])["HIT"]["HITStatus"] == "Disposed"


def test_additional_assignments_and_the_ten_assignment_rule(emu, mturk):
    hit = create_hit(mturk, MaxAssignments=1)
    work(emu, hit["HITId"], "AW1")
    assert mturk.get_hit(HITId=hit["HITId"])["HIT"]["HITStatus"] == "Reviewable"
    mturk.create_additional_assignments_for_hit(HITId=hit["HITId"], NumberOfAdditionalAssignments=2)
    got = mturk.get_hit(HITId=hit["HITId"])["HIT"]
    assert got["HITStatus"] == "Assignable" and got["MaxAssignments"] == 3
    assert got["NumberOfAssignmentsAvailable"] == 2
    with pytest.raises(mturk.exceptions.RequestError) as excinfo:
        mturk.create_additional_assignments_for_hit(
            HITId=hit["HITId"], NumberOfAdditionalAssignments=7
        )
    assert error_of(excinfo)["turk"] == "AWS.MechanicalTurk.InvalidMaximumAssignmentsIncrease"
    mturk.create_additional_assignments_for_hit(HITId=hit["HITId"], NumberOfAdditionalAssignments=6)
    big = create_hit(mturk, MaxAssignments=10)
    mturk.create_additional_assignments_for_hit(HITId=big["HITId"], NumberOfAdditionalAssignments=5)
    assert mturk.get_hit(HITId=big["HITId"])["HIT"]["MaxAssignments"] == 15


def test_update_hit_type_of_hit(emu, mturk):
    hit = create_hit(mturk)
    new_type = mturk.create_hit_type(**TYPE_PARAMS)["HITTypeId"]
    mturk.update_hit_type_of_hit(HITId=hit["HITId"], HITTypeId=new_type)
    got = mturk.get_hit(HITId=hit["HITId"])["HIT"]
    assert got["HITTypeId"] == new_type and got["Reward"] == "0.25" and got["Title"] == "Tag images"
    with pytest.raises(mturk.exceptions.RequestError):
        mturk.update_hit_type_of_hit(HITId=hit["HITId"], HITTypeId="3NOSUCHTYPE")


def test_layout_hits_fill_parameters(emu, mturk):
    layout = emu.control.post(
        "layouts", {"Template": "<p>Is ${item} a fruit?</p><input name='answer'/>"}
    )["HITLayoutId"]
    hit = create_hit(
        mturk,
        Question=None,
        HITLayoutId=layout,
        HITLayoutParameters=[{"Name": "item", "Value": "a <pear>"}],
    )
    assert hit["HITLayoutId"] == layout
    assert "Is a &lt;pear&gt; a fruit?" in hit["Question"]
    with pytest.raises(mturk.exceptions.RequestError) as excinfo:
        create_hit(mturk, Question=None, HITLayoutId=layout)
    assert "item" in error_of(excinfo)["message"]
    with pytest.raises(mturk.exceptions.RequestError):
        create_hit(
            mturk,
            Question=None,
            HITLayoutId=layout,
            HITLayoutParameters=[{"Name": "item", "Value": "x"}, {"Name": "extra", "Value": "y"}],
        )


def test_list_hits_for_qualification_type(emu, mturk):
    qtid = mturk.create_qualification_type(
        Name="skill", Description="d", QualificationTypeStatus="Active"
    )["QualificationType"]["QualificationTypeId"]
    with_req = create_hit(
        mturk, QualificationRequirements=[{"QualificationTypeId": qtid, "Comparator": "Exists"}]
    )
    create_hit(mturk)
    listed = mturk.list_hits_for_qualification_type(QualificationTypeId=qtid)
    assert [h["HITId"] for h in listed["HITs"]] == [with_req["HITId"]]
    with pytest.raises(mturk.exceptions.RequestError):
        mturk.list_hits_for_qualification_type(QualificationTypeId="3NOSUCHQUAL")
