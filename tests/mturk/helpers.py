"""Question documents and emulator set-up steps shared by the mturk/ tests."""

from __future__ import annotations

from typing import Any

SCHEMAS = "http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/"

HTML_QUESTION = (
    f'<HTMLQuestion xmlns="{SCHEMAS}2011-11-11/HTMLQuestion.xsd"><HTMLContent><![CDATA['
    "<!DOCTYPE html><html><body>"
    '<form name="mturk_form" method="post" action="https://www.mturk.com/mturk/externalSubmit">'
    '<input type="hidden" name="assignmentId" value=""/>'
    '<input type="text" name="color"/>'
    "</form></body></html>]]></HTMLContent><FrameHeight>450</FrameHeight></HTMLQuestion>"
)

EXTERNAL_QUESTION = (
    f'<ExternalQuestion xmlns="{SCHEMAS}2006-07-14/ExternalQuestion.xsd">'
    "<ExternalURL>https://example.org/task?x=1&amp;y=2</ExternalURL>"
    "<FrameHeight>600</FrameHeight></ExternalQuestion>"
)

QUESTION_FORM = (
    f'<QuestionForm xmlns="{SCHEMAS}2017-11-06/QuestionForm.xsd"><Question>'
    "<QuestionIdentifier>fruit</QuestionIdentifier><IsRequired>true</IsRequired>"
    "<QuestionContent><Text>Favourite fruit?</Text></QuestionContent>"
    "<AnswerSpecification><SelectionAnswer><StyleSuggestion>radiobutton</StyleSuggestion>"
    "<Selections><Selection><SelectionIdentifier>apples</SelectionIdentifier><Text>Apples</Text>"
    "</Selection><Selection><SelectionIdentifier>pears</SelectionIdentifier><Text>Pears</Text>"
    "</Selection></Selections></SelectionAnswer></AnswerSpecification></Question></QuestionForm>"
)


def create_hit(gateway, *, token: str = "hit-1", **overrides: Any):
    """A HIT through the gateway (3 assignments, $0.50, an HTML question); returns the HIT."""
    params: dict[str, Any] = {
        "title": "Name the colour",
        "description": "Look at a picture and name its colour.",
        "reward": "0.50",
        "assignment_duration_seconds": 600,
        "lifetime_seconds": 3600,
        "auto_approval_delay_seconds": 86400,
        "max_assignments": 3,
        "question": HTML_QUESTION,
        "token": token,
    }
    params.update(overrides)
    return gateway.create_hit(**params).hit


def work(emulator, hit_id: str, worker_id: str, answers: dict[str, Any] | None = None) -> str:
    """A worker accepts and submits; returns the assignment id."""
    emulator.control.add_worker(WorkerId=worker_id)
    assignment = emulator.control.accept(worker_id, hit_id)
    emulator.control.submit(assignment["AssignmentId"], answers or {"color": "red"})
    return assignment["AssignmentId"]


def call_counts(emulator) -> dict[str, int]:
    """Per-operation HTTP request counts the emulator saw (every attempt, faults included)."""
    return emulator.control.get("calls")["call_counts"]
