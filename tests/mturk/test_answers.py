"""mturk.answers: QuestionFormAnswers flattening, crowd-form taskAnswers, question kinds; and
agreement with what the emulator's simulated workers submit."""

from __future__ import annotations

import json
import random

from emulator.answer_xml import answers_to_xml
from emulator.answering import generate_answer
from mturk.answers import (
    external_url,
    frame_height,
    html_content,
    parse_answers,
    question_kind,
)
from tests.mturk.helpers import EXTERNAL_QUESTION, HTML_QUESTION, QUESTION_FORM, SCHEMAS

NS = f"{SCHEMAS}2005-10-01/QuestionFormAnswers.xsd"


def _answers(*parts: str) -> str:
    return f'<?xml version="1.0" encoding="ASCII"?><QuestionFormAnswers xmlns="{NS}">{"".join(parts)}</QuestionFormAnswers>'


def test_free_text_selections_other_and_upload():
    xml = _answers(
        "<Answer><QuestionIdentifier>comment</QuestionIdentifier><FreeText>a &lt;b&gt; &#233;</FreeText></Answer>",
        "<Answer><QuestionIdentifier>one</QuestionIdentifier><SelectionIdentifier>x</SelectionIdentifier></Answer>",
        "<Answer><QuestionIdentifier>many</QuestionIdentifier><SelectionIdentifier>x</SelectionIdentifier>"
        "<SelectionIdentifier>y</SelectionIdentifier></Answer>",
        "<Answer><QuestionIdentifier>none</QuestionIdentifier></Answer>",
        "<Answer><QuestionIdentifier>fruit</QuestionIdentifier><SelectionIdentifier>other</SelectionIdentifier>"
        "<OtherSelectionText>kiwi</OtherSelectionText></Answer>",
        "<Answer><QuestionIdentifier>photo</QuestionIdentifier><UploadedFileSizeInBytes>2048</UploadedFileSizeInBytes>"
        "<UploadedFileKey>KEY123</UploadedFileKey></Answer>",
        "<Answer><QuestionIdentifier>empty</QuestionIdentifier><FreeText/></Answer>",
    )
    parsed = parse_answers(xml)
    assert parsed.ok and parsed.error == ""
    assert parsed.fields == {
        "comment": "a <b> \u00e9",
        "one": "x",
        "many": ["x", "y"],
        "none": [],
        "fruit": "other",
        "fruit.other": "kiwi",
        "photo": "uploaded file KEY123 (2048 bytes)",
        "empty": "",
    }


def test_crowd_task_answers_are_flattened():
    payload = [
        {
            "sentiment": {"positive": True, "negative": False},
            "topics": {"a": True, "b": True, "c": False},
            "unsure": {"on": False},
            "box": {"label": "cat", "meta": {"deep": 3}},
            "labels": ["x", 2],
            "confidence": 4.5,
            "why": "because",
        }
    ]
    xml = answers_to_xml({"taskAnswers": json.dumps(payload)})
    parsed = parse_answers(xml)
    assert parsed.ok
    assert parsed.fields == {
        "sentiment": "positive",
        "topics": ["a", "b"],
        "unsure": "",
        "box.label": "cat",
        "box.meta.deep": "3",
        "labels": ["x", "2"],
        "confidence": "4.5",
        "why": "because",
    }


def test_malformed_answers_are_flagged_never_raised():
    bad_xml = parse_answers("<QuestionFormAnswers><Answer>")
    assert not bad_xml.ok and "well-formed" in bad_xml.error and bad_xml.fields == {}
    wrong_root = parse_answers("<Other/>")
    assert not wrong_root.ok and "QuestionFormAnswers" in wrong_root.error
    assert not parse_answers(None).ok and not parse_answers("  ").ok
    # An entity bomb is refused by defusedxml, reported, not expanded.
    bomb = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><QuestionFormAnswers>&a;</QuestionFormAnswers>'
    assert not parse_answers(bomb).ok
    # Broken crowd JSON: the raw payload is kept under taskAnswers, flagged.
    raw = answers_to_xml(
        {"taskAnswers": "[{not json", "other": "kept"},
    )
    parsed = parse_answers(raw)
    assert not parsed.ok and "taskAnswers" in parsed.error
    assert parsed.fields == {"taskAnswers": "[{not json", "other": "kept"}
    not_objects = parse_answers(answers_to_xml({"taskAnswers": "[1, 2]"}))
    assert not not_objects.ok


HTML_FORM = (
    f'<HTMLQuestion xmlns="{SCHEMAS}2011-11-11/HTMLQuestion.xsd"><HTMLContent><![CDATA['
    '<!DOCTYPE html><html><body><form name="mturk_form" method="post" '
    'action="https://www.mturk.com/mturk/externalSubmit">'
    '<input type="radio" name="size" value="small" required/>'
    '<input type="radio" name="size" value="large"/>'
    '<input type="checkbox" name="tags" value="red"/><input type="checkbox" name="tags" value="blue"/>'
    '<input type="checkbox" name="tags" value="green"/>'
    '<input type="text" name="comment" required/>'
    "</form></body></html>]]></HTMLContent><FrameHeight>450</FrameHeight></HTMLQuestion>"
)

CROWD_FORM = (
    f'<HTMLQuestion xmlns="{SCHEMAS}2011-11-11/HTMLQuestion.xsd"><HTMLContent><![CDATA['
    '<!DOCTYPE html><html><head><script src="https://assets.crowd.aws/crowd-html-elements.js">'
    "</script></head><body><crowd-form><crowd-radio-group>"
    '<crowd-radio-button name="positive" value="positive">Pos</crowd-radio-button>'
    '<crowd-radio-button name="negative" value="negative">Neg</crowd-radio-button>'
    '</crowd-radio-group><crowd-checkbox name="sarcastic">Sarcastic</crowd-checkbox>'
    '<crowd-input name="why" required></crowd-input>'
    '<crowd-slider name="confidence" min="1" max="5"></crowd-slider>'
    '<crowd-classifier name="sentiment" categories="[\'good\',\'bad\']" header="h">'
    "</crowd-classifier></crowd-form></body></html>]]></HTMLContent>"
    "<FrameHeight>0</FrameHeight></HTMLQuestion>"
)


def test_parser_agrees_with_emulator_html_form_answers():
    xml = generate_answer(
        HTML_FORM,
        rng=random.Random(1),
        accuracy=1.0,
        ground_truth={"size": "large", "tags": ["red", "green"], "comment": "looks <fine>"},
    )
    parsed = parse_answers(xml)
    assert parsed.ok
    # A plain form posts every field as FreeText; a checkbox group is joined with "|".
    assert parsed.fields == {"size": "large", "tags": "red|green", "comment": "looks <fine>"}


def test_parser_agrees_with_emulator_crowd_form_answers():
    xml = generate_answer(
        CROWD_FORM,
        rng=random.Random(1),
        accuracy=1.0,
        ground_truth={
            "positive": True,
            "sarcastic": True,
            "why": "because",
            "confidence": 4,
            "sentiment": "good",
        },
    )
    parsed = parse_answers(xml)
    assert parsed.ok
    assert parsed.fields == {
        "positive": "positive",
        "negative": "",
        "sarcastic": "on",
        "why": "because",
        "confidence": "4",
        "sentiment.label": "good",
    }


def test_parser_agrees_with_emulator_question_form_answers():
    xml = generate_answer(
        QUESTION_FORM, rng=random.Random(2), accuracy=1.0, ground_truth={"fruit": "pears"}
    )
    assert parse_answers(xml).fields == {"fruit": "pears"}


def test_question_kind_and_extractors():
    assert question_kind(HTML_QUESTION, None) == "HTMLQuestion"
    assert question_kind(EXTERNAL_QUESTION, None) == "ExternalQuestion"
    assert question_kind(QUESTION_FORM, None) == "QuestionForm"
    assert question_kind(None, "3LAYOUT") == "HITLayout"
    assert question_kind("", None) == "Unknown"
    assert question_kind("<not xml", None) == "Unknown"
    assert question_kind("<Foo/>", None) == "Unknown"
    assert html_content(HTML_QUESTION).startswith("<!DOCTYPE html>")
    assert html_content(EXTERNAL_QUESTION) is None
    assert external_url(EXTERNAL_QUESTION) == "https://example.org/task?x=1&y=2"
    assert external_url(HTML_QUESTION) is None
    assert frame_height(HTML_QUESTION) == 450
    assert frame_height(EXTERNAL_QUESTION) == 600
    assert frame_height(QUESTION_FORM) is None
