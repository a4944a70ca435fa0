"""Review policies: ScoreMyKnownAnswers on submission, SimplePlurality when the HIT is reviewable."""

from __future__ import annotations

import pytest

from tests.emulator.helpers import create_hit, work

KNOWN = {
    "PolicyName": "ScoreMyKnownAnswers/2011-09-01",
    "Parameters": [
        {
            "Key": "AnswerKey",
            "MapEntries": [
                {"Key": "color", "Values": ["red"]},
                {"Key": "shape", "Values": ["round"]},
            ],
        },
        {"Key": "ApproveIfKnownAnswerScoreIsAtLeast", "Values": ["100"]},
        {"Key": "RejectIfKnownAnswerScoreIsLessThan", "Values": ["50"]},
        {"Key": "ExtendIfKnownAnswerScoreIsLessThan", "Values": ["100"]},
        {"Key": "ExtendMaximumAssignments", "Values": ["3"]},
    ],
}
PLURALITY = {
    "PolicyName": "SimplePlurality/2011-09-01",
    "Parameters": [
        {"Key": "QuestionIds", "Values": ["color", "shape"]},
        {"Key": "QuestionAgreementThreshold", "Values": ["50"]},
        {"Key": "ApproveIfWorkerAgreementScoreIsAtLeast", "Values": ["100"]},
        {"Key": "RejectIfWorkerAgreementScoreIsLessThan", "Values": ["100"]},
        {"Key": "RejectReason", "Values": ["Disagreed with the majority"]},
    ],
}


def statuses(mturk, hit_id):
    return {
        a["WorkerId"]: a["AssignmentStatus"]
        for a in mturk.list_assignments_for_hit(HITId=hit_id)["Assignments"]
    }


def test_score_my_known_answers_approves_rejects_and_extends(emu, mturk):
    hit = create_hit(mturk, MaxAssignments=1, AssignmentReviewPolicy=KNOWN)
    work(emu, hit["HITId"], "APERFECT", {"color": "red", "shape": "round"})
    assert statuses(mturk, hit["HITId"]) == {"APERFECT": "Approved"}
    hit2 = create_hit(
        mturk, MaxAssignments=1, AssignmentReviewPolicy=KNOWN, RequesterAnnotation="2"
    )
    work(emu, hit2["HITId"], "AHALF", {"color": "red", "shape": "square"})
    assert statuses(mturk, hit2["HITId"]) == {"AHALF": "Submitted"}  # 50: neither >=100 nor <50
    got = mturk.get_hit(HITId=hit2["HITId"])["HIT"]
    assert got["MaxAssignments"] == 2 and got["HITStatus"] == "Assignable"  # extended
    work(emu, hit2["HITId"], "AWRONG", {"color": "blue", "shape": "square"})
    assert statuses(mturk, hit2["HITId"])["AWRONG"] == "Rejected"
    report = mturk.list_review_policy_results_for_hit(
        HITId=hit2["HITId"], PolicyLevels=["Assignment"], RetrieveResults=True, RetrieveActions=True
    )
    assert report["AssignmentReviewPolicy"]["PolicyName"] == "ScoreMyKnownAnswers/2011-09-01"
    scores = [
        r["Value"]
        for r in report["AssignmentReviewReport"]["ReviewResults"]
        if r["Key"] == "KnownAnswerScore"
    ]
    assert scores == ["50", "0"]
    actions = {
        (a["ActionName"], a["Status"]) for a in report["AssignmentReviewReport"]["ReviewActions"]
    }
    assert ("reject", "Succeeded") in actions and ("extend", "Succeeded") in actions


def test_simple_plurality_when_hit_becomes_reviewable(emu, mturk):
    hit = create_hit(mturk, MaxAssignments=3, HITReviewPolicy=PLURALITY)
    work(emu, hit["HITId"], "AW1", {"color": "red", "shape": "round"})
    work(emu, hit["HITId"], "AW2", {"color": "red", "shape": "round"})
    assert statuses(mturk, hit["HITId"]) == {"AW1": "Submitted", "AW2": "Submitted"}
    work(emu, hit["HITId"], "AW3", {"color": "green", "shape": "round"})
    assert statuses(mturk, hit["HITId"]) == {
        "AW1": "Approved",
        "AW2": "Approved",
        "AW3": "Rejected",
    }
    report = mturk.list_review_policy_results_for_hit(
        HITId=hit["HITId"], RetrieveResults=True, RetrieveActions=True
    )
    results = report["HITReviewReport"]["ReviewResults"]
    agreed = {r["QuestionId"]: r["Value"] for r in results if r["Key"] == "AgreedAnswer"}
    assert agreed == {"color": "red", "shape": "round"}
    hit_score = [r["Value"] for r in results if r["Key"] == "HITAgreementScore"]
    assert hit_score == ["100"]
    assert len(report["HITReviewReport"]["ReviewActions"]) == 3
    quiet = mturk.list_review_policy_results_for_hit(HITId=hit["HITId"])
    assert (
        quiet["HITReviewReport"] == {}
        and quiet["HITReviewPolicy"]["PolicyName"] == "SimplePlurality/2011-09-01"
    )


def test_invalid_policies_are_refused(emu, mturk):
    with pytest.raises(mturk.exceptions.RequestError):
        create_hit(
            mturk,
            AssignmentReviewPolicy={"PolicyName": "SimplePlurality/2011-09-01", "Parameters": []},
        )
    with pytest.raises(mturk.exceptions.RequestError):
        create_hit(
            mturk,
            AssignmentReviewPolicy={
                "PolicyName": "ScoreMyKnownAnswers/2011-09-01",
                "Parameters": [],
            },
        )
    with pytest.raises(mturk.exceptions.RequestError):
        create_hit(
            mturk,
            HITReviewPolicy={
                "PolicyName": "SimplePlurality/2011-09-01",
                "Parameters": [{"Key": "Bogus", "Values": ["1"]}],
            },
        )
