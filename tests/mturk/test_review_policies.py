"""mturk.review_policies: the checks of the dashboard's policy settings, the ReviewPolicy
structures built from them (accepted by the emulator's CreateHIT check, which follows MTurk's
parameter names), and what a HIT's stored results say about one assignment."""

from __future__ import annotations

import pytest

from emulator.protocol import RequestError
from emulator.review_policies import validate_policy
from mturk.review_policies import (
    KNOWN_ANSWERS,
    PLURALITY,
    PolicyProblem,
    assignment_outcome,
    assignment_policy,
    describe,
    hit_policy,
    known_answers_problems,
    parse_question_ids,
    plurality_problems,
)

KNOWN = {
    "column": "gold",
    "question_id": "answer",
    "approve_at": 100,
    "approve_reason": "Correct.",
    "reject_below": 50,
    "reject_reason": "The known answer was missed.",
}
PLURAL = {
    "question_ids": ["answer", "colour"],
    "agreement_threshold": 50,
    "approve_at": 100,
    "reject_below": 50,
    "reject_reason": "Your answers did not agree.",
}


def _params(policy):
    return {p["Key"]: p for p in policy["Parameters"]}


def test_known_answers_policy_carries_the_items_answer_and_the_thresholds():
    policy = assignment_policy({"known_answers": KNOWN}, {"animal": "cat", "gold": " yes "})

    assert policy is not None and policy["PolicyName"] == KNOWN_ANSWERS
    params = _params(policy)
    assert params["AnswerKey"]["MapEntries"] == [{"Key": "answer", "Values": ["yes"]}]
    assert params["ApproveIfKnownAnswerScoreIsAtLeast"]["Values"] == ["100"]
    assert params["RejectIfKnownAnswerScoreIsLessThan"]["Values"] == ["50"]
    assert params["ApproveReason"]["Values"] == ["Correct."]
    assert params["RejectReason"]["Values"] == ["The known answer was missed."]
    validate_policy(policy, "Assignment")  # MTurk's names, as the emulator checks them


def test_known_answers_without_thresholds_only_scores():
    settings = {"column": "gold", "question_id": "answer", "approve_at": None, "reject_below": None}

    policy = assignment_policy({"known_answers": settings}, {"gold": "no"})

    assert policy is not None and set(_params(policy)) == {"AnswerKey"}
    validate_policy(policy, "Assignment")


@pytest.mark.parametrize("inputs", [{"gold": "  "}, {"animal": "cat"}])
def test_an_item_without_a_known_answer_cannot_be_built(inputs):
    with pytest.raises(PolicyProblem, match="no known answer in the column “gold”"):
        assignment_policy({"known_answers": KNOWN}, inputs)


def test_plurality_policy_names_its_questions_and_thresholds():
    policy = hit_policy({"plurality": PLURAL})

    assert policy is not None and policy["PolicyName"] == PLURALITY
    params = _params(policy)
    assert params["QuestionIds"]["Values"] == ["answer", "colour"]
    assert params["QuestionAgreementThreshold"]["Values"] == ["50"]
    assert params["ApproveIfWorkerAgreementScoreIsAtLeast"]["Values"] == ["100"]
    assert params["RejectIfWorkerAgreementScoreIsLessThan"]["Values"] == ["50"]
    validate_policy(policy, "HIT")


def test_no_settings_no_policies():
    assert assignment_policy({}, {"gold": "yes"}) is None and hit_policy({}) is None
    assert describe({}) == []


def test_the_emulator_refuses_what_it_should_so_the_check_above_means_something():
    with pytest.raises(RequestError):
        validate_policy({"PolicyName": KNOWN_ANSWERS, "Parameters": []}, "Assignment")


def test_known_answers_settings_are_checked():
    assert known_answers_problems(KNOWN, variables=["animal"]) == []
    problems = known_answers_problems(
        {"column": "animal", "question_id": "", "approve_at": 40, "reject_below": 60},
        variables=["animal"],
    )
    assert any("is a variable of the template: workers would see the answer" in p for p in problems)
    assert any(p.startswith("Name the question") for p in problems)
    assert any("must not exceed the approval score" in p for p in problems)
    assert known_answers_problems({"column": "", "question_id": "a"}, variables=[]) == [
        "Name the inputs column that holds each item's known answer."
    ]
    assert known_answers_problems(
        {"column": "g", "question_id": "a", "approve_at": 101, "reject_reason": "x" * 1025},
        variables=[],
    ) == [
        "The approval score must be a whole percentage from 0 to 100.",
        "A reason is at most 1024 characters (workers read it).",
    ]


def test_plurality_needs_two_assignments_on_every_hit():
    assert plurality_problems(PLURAL, assignments_per_hit=[9, 9, 2]) == []
    (problem,) = plurality_problems(PLURAL, assignments_per_hit=[1])
    assert "at least 2 assignments per HIT (this batch would have HITs of 1)" in problem
    # A micro-batched item of 10 is HITs of 9 and 1: the last could not be compared.
    assert plurality_problems(PLURAL, assignments_per_hit=[9, 1])


def test_plurality_settings_are_checked():
    problems = plurality_problems(
        {"question_ids": [], "agreement_threshold": None, "approve_at": 10, "reject_below": 20},
        assignments_per_hit=[3],
    )
    assert problems == [
        "Name at least one question (form field) whose answers should agree.",
        "Give the agreement threshold (the share of workers that must agree).",
        "Rejecting below 20% while approving from 10% would do both to a score between them: "
        "the rejection score must not exceed the approval score.",
    ]


def test_question_ids_are_parsed_from_a_comma_list():
    assert parse_question_ids(" answer, colour ,,answer, ") == ["answer", "colour"]
    assert parse_question_ids("") == []


def test_describe_says_what_each_policy_does():
    lines = describe({"known_answers": KNOWN, "plurality": PLURAL})
    assert lines[0].startswith("Known answers: “answer” checked against the column “gold”")
    assert "approve if score ≥ 100%; reject if score < 50%" in lines[0]
    assert lines[1].startswith("Plurality on answer, colour (agreement above 50%)")


def test_an_assignments_outcome_is_read_from_the_hits_results():
    results = {
        "policies": ["Assignment: ScoreMyKnownAnswers/2011-09-01"],
        "results": [
            {
                "SubjectId": "A1",
                "QuestionId": "answer",
                "Key": "KnownAnswerCorrect",
                "Value": "true",
            },
            {"SubjectId": "A1", "Key": "KnownAnswerScore", "Value": "100"},
            {"SubjectId": "A2", "Key": "KnownAnswerScore", "Value": "0"},
            {"SubjectId": "A1", "Key": "WorkerAgreementScore", "Value": "50"},
            {"SubjectId": "HIT1", "Key": "HITAgreementScore", "Value": "50"},
        ],
        "actions": [
            {"ActionName": "approve", "TargetId": "A1", "Status": "Succeeded"},
            {"ActionName": "reject", "TargetId": "A2", "Status": "Failed"},
        ],
    }

    first = assignment_outcome(results, "A1")
    assert (first.known_answer_score, first.agreement_score) == ("100", "50")
    assert first.actions == [("approve", "Succeeded")]
    second = assignment_outcome(results, "A2")
    assert second.known_answer_score == "0" and second.actions == [("reject", "Failed")]
    assert not assignment_outcome(results, "A3") and not assignment_outcome({}, "A1")
    assert not assignment_outcome(None, "A1")
