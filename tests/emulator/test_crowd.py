"""The simulated crowd: finds work it may do, accepts, works on the emulated clock, submits
answers (from emulator.answering), returns or walks away; deterministic for a seed."""

from __future__ import annotations

import pytest

from emulator import answering, crowd
from emulator.engine import Emulator
from emulator.testing import run_emulator
from tests.emulator.helpers import QUESTION_FORM, create_hit


def summary(running) -> dict[str, int]:
    counts: dict[str, int] = {}
    for a in running.control.truth("assignments")["assignments"]:
        counts[a["AssignmentStatus"]] = counts.get(a["AssignmentStatus"], 0) + 1
    return counts


def test_crowd_completes_hits_when_the_clock_advances(emu, mturk):
    hits = [
        create_hit(
            mturk, MaxAssignments=3, Question=QUESTION_FORM, AssignmentDurationInSeconds=1800
        )
        for _ in range(5)
    ]
    for hit in hits:
        emu.control.post(
            "ground-truth", {"HITId": hit["HITId"], "GroundTruth": {"fruit": "apples"}}
        )
    emu.control.post("crowd", {"count": 12, "running": True})
    for _ in range(12):
        emu.control.advance(600)
    counts = summary(emu)
    assert counts.get("Submitted", 0) >= 12
    reviewable = mturk.list_reviewable_hits(MaxResults=100)["NumResults"]
    assert reviewable >= 4
    answers = mturk.list_assignments_for_hit(HITId=hits[0]["HITId"])["Assignments"]
    assert all("<QuestionIdentifier>fruit</QuestionIdentifier>" in a["Answer"] for a in answers)
    # Answers come from emulator.answering: a selection question gets SelectionIdentifier answers.
    assert all("<SelectionIdentifier>" in a["Answer"] for a in answers)
    emu.control.post("crowd/stop")
    assert emu.control.get("crowd")["running"] is False


def test_crowd_respects_qualification_requirements_and_blocks(emu, mturk):
    emu.control.post(
        "crowd",
        {
            "workers": [
                {
                    "WorkerId": "AINDIA",
                    "profile": "careful",
                    "locale": {"Country": "IN"},
                    "return_rate": 0,
                    "abandon_rate": 0,
                },
                {
                    "WorkerId": "AUSA",
                    "profile": "careful",
                    "locale": {"Country": "US"},
                    "return_rate": 0,
                    "abandon_rate": 0,
                },
                {"WorkerId": "AUSBLOCKED", "profile": "spammer", "locale": {"Country": "US"}},
            ],
            "running": True,
        },
    )
    mturk.create_worker_block(WorkerId="AUSBLOCKED", Reason="spam")
    hit = create_hit(
        mturk,
        MaxAssignments=3,
        QualificationRequirements=[
            {
                "QualificationTypeId": "00000000000000000071",
                "Comparator": "EqualTo",
                "LocaleValues": [{"Country": "US"}],
            }
        ],
    )
    for _ in range(10):
        emu.control.advance(900)
    workers = {
        a["WorkerId"]
        for a in emu.control.truth("assignments")["assignments"]
        if a["HITId"] == hit["HITId"]
    }
    assert workers == {"AUSA"}


def test_profiles_and_determinism():
    def run() -> list[tuple[str, str]]:
        with run_emulator(seed=11, crowd=0, clock_speed=0, notifier=False) as running:
            mturk = running.client()
            start = running.control.get("clock")["now"]
            for _ in range(6):
                create_hit(
                    mturk, MaxAssignments=4, Question=QUESTION_FORM, AssignmentDurationInSeconds=600
                )
            running.control.post("crowd", {"count": 10, "running": True})
            for _ in range(20):
                running.control.advance(300)
            rows = running.control.truth("assignments", "workers")
            profiles = {w["profile"] for w in rows["workers"]}
            assert profiles <= {"careful", "fast-and-sloppy", "slow", "spammer"}
            assert running.control.get("clock")["now"] - start >= 6000
            return sorted((a["WorkerId"], a["AssignmentStatus"]) for a in rows["assignments"])

    first = run()
    assert len(first) >= 10
    assert {status for _, status in first} <= {"Submitted", "Returned", "Abandoned", "Accepted"}
    # With the clock frozen (clock_speed 0) between explicit advances, the same seed gives the same run.
    assert run() == first


def test_crowd_takes_qualification_tests(emu, mturk):
    from tests.emulator.helpers import ANSWER_KEY

    qtid = mturk.create_qualification_type(
        Name="fruit test",
        Description="d",
        QualificationTypeStatus="Active",
        Test=QUESTION_FORM,
        TestDurationInSeconds=300,
        AnswerKey=ANSWER_KEY,
    )["QualificationType"]["QualificationTypeId"]
    create_hit(
        mturk,
        MaxAssignments=5,
        QualificationRequirements=[
            {"QualificationTypeId": qtid, "Comparator": "GreaterThan", "IntegerValues": [50]}
        ],
    )
    emu.control.post("crowd", {"count": 10, "running": True})
    for _ in range(8):
        emu.control.advance(900)
    scored = mturk.list_workers_with_qualification_type(QualificationTypeId=qtid, MaxResults=100)[
        "Qualifications"
    ]
    assert scored, "some workers should have taken the test"
    assert {q["IntegerValue"] for q in scored} <= {0, 100}


def test_a_bug_in_the_answer_generator_surfaces_instead_of_a_fallback_answer(monkeypatch):
    emu = Emulator(seed=3)
    worker = crowd.make_worker(emu, {"profile": "careful"})

    def broken(*args, **kwargs):
        raise KeyError("a generator bug")

    monkeypatch.setattr(answering, "generate_answer", broken)
    with pytest.raises(KeyError, match="a generator bug"):
        crowd.generate(emu, QUESTION_FORM, worker, {"fruit": "apples"}, None, None)


def test_an_unreadable_question_still_gets_the_fallback_answer():
    emu = Emulator(seed=3)
    worker = crowd.make_worker(emu, {"profile": "careful"})
    xml = crowd.generate(emu, "<NotAQuestion/>", worker, {"fruit": "apples"}, None, None)
    assert "<QuestionIdentifier>fruit</QuestionIdentifier>" in xml
