"""Question documents and small flows shared by the emulator tests."""

from __future__ import annotations

from typing import Any

HTML_QUESTION = (
    '<HTMLQuestion xmlns="http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/'
    '2011-11-11/HTMLQuestion.xsd"><HTMLContent><![CDATA[<!DOCTYPE html><html><body>'
    '<form name="mturk_form" method="post" action="https://www.mturk.com/mturk/externalSubmit">'
    '<input type="hidden" name="assignmentId" value=""/>'
    '<input type="text" name="color"/><input type="text" name="shape"/>'
    "</form></body></html>]]></HTMLContent><FrameHeight>450</FrameHeight></HTMLQuestion>"
)

QUESTION_FORM = (
    '<QuestionForm xmlns="http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/'
    '2017-11-06/QuestionForm.xsd"><Question><QuestionIdentifier>fruit</QuestionIdentifier>'
    "<IsRequired>true</IsRequired><QuestionContent><Text>Favourite fruit?</Text></QuestionContent>"
    "<AnswerSpecification><SelectionAnswer><StyleSuggestion>radiobutton</StyleSuggestion>"
    "<Selections><Selection><SelectionIdentifier>apples</SelectionIdentifier><Text>Apples</Text>"
    "</Selection><Selection><SelectionIdentifier>pears</SelectionIdentifier><Text>Pears</Text>"
    "</Selection></Selections></SelectionAnswer></AnswerSpecification></Question></QuestionForm>"
)

ANSWER_KEY = (
    '<AnswerKey xmlns="http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/'
    '2005-10-01/AnswerKey.xsd"><Question><QuestionIdentifier>fruit</QuestionIdentifier>'
    "<AnswerOption><SelectionIdentifier>apples</SelectionIdentifier><AnswerScore>10"
    "</AnswerScore></AnswerOption></Question><QualificationValueMapping><PercentageMapping>"
    "<MaximumSummedScore>10</MaximumSummedScore></PercentageMapping></QualificationValueMapping>"
    "</AnswerKey>"
)

EXTERNAL_QUESTION = (
    '<ExternalQuestion xmlns="http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/'
    '2006-07-14/ExternalQuestion.xsd"><ExternalURL>https://example.org/task</ExternalURL>'
    "<FrameHeight>600</FrameHeight></ExternalQuestion>"
)


def hit_params(**overrides: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "Title": "Name the colour",
        "Description": "Look at a picture and name its colour.",
        "Reward": "0.50",
        "AssignmentDurationInSeconds": 600,
        "LifetimeInSeconds": 3600,
        "AutoApprovalDelayInSeconds": 86400,
        "MaxAssignments": 3,
        "Question": HTML_QUESTION,
    }
    params.update(overrides)
    return {key: value for key, value in params.items() if value is not None}


def create_hit(mturk, **overrides: Any) -> dict[str, Any]:
    return mturk.create_hit(**hit_params(**overrides))["HIT"]


def work(emu, hit_id: str, worker_id: str, answers: dict[str, Any] | None = None) -> str:
    """A worker accepts and submits (with given answers); returns the assignment id."""
    emu.control.add_worker(WorkerId=worker_id)
    assignment = emu.control.accept(worker_id, hit_id)
    emu.control.submit(assignment["AssignmentId"], answers or {"color": "red", "shape": "round"})
    return assignment["AssignmentId"]


def error_of(excinfo) -> dict[str, Any]:
    response = excinfo.value.response
    return {
        "code": response["Error"]["Code"],
        "message": response["Error"]["Message"],
        "turk": response.get("TurkErrorCode"),
        "status": response["ResponseMetadata"]["HTTPStatusCode"],
    }
