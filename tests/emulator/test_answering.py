"""What the emulator's simulated workers answer: question validation, form discovery, generated
answers (shape, constraints, accuracy against ground truth) and the QuestionFormAnswers XML."""

from __future__ import annotations

import json
import random
import re
import statistics

import defusedxml.ElementTree as SafeET
import pytest

from emulator.answer_xml import ANSWERS_NS, answers_to_xml, read_answers
from emulator.answering import FieldSpec, describe_fields, generate_answer, validate_question

BASE = "http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/"
QF_NS = BASE + "2017-11-06/QuestionForm.xsd"
QF_NS_2005 = BASE + "2005-10-01/QuestionForm.xsd"
HTML_NS = BASE + "2011-11-11/HTMLQuestion.xsd"
EXT_NS = BASE + "2006-07-14/ExternalQuestion.xsd"


def html_question(body: str, frame_height: str = "600") -> str:
    return (
        f'<HTMLQuestion xmlns="{HTML_NS}"><HTMLContent><![CDATA[<!DOCTYPE html><html><body>{body}'
        f"</body></html>]]></HTMLContent><FrameHeight>{frame_height}</FrameHeight></HTMLQuestion>"
    )


def question_form(*questions: str, ns: str = QF_NS) -> str:
    return f'<QuestionForm xmlns="{ns}">{"".join(questions)}</QuestionForm>'


def free_text_question(qid: str, constraints: str = "", required: bool = True) -> str:
    return (
        f"<Question><QuestionIdentifier>{qid}</QuestionIdentifier>"
        f"<IsRequired>{'true' if required else 'false'}</IsRequired>"
        "<QuestionContent><Text>Type something</Text></QuestionContent>"
        f"<AnswerSpecification><FreeTextAnswer>{constraints}</FreeTextAnswer></AnswerSpecification>"
        "</Question>"
    )


def selection_question(qid: str, ids: list[str], extra: str = "", required: bool = True) -> str:
    selections = "".join(
        f"<Selection><SelectionIdentifier>{item}</SelectionIdentifier><Text>{item}</Text></Selection>"
        for item in ids
    )
    return (
        f"<Question><QuestionIdentifier>{qid}</QuestionIdentifier>"
        f"<IsRequired>{'true' if required else 'false'}</IsRequired>"
        "<QuestionContent><Text>Pick</Text></QuestionContent>"
        f"<AnswerSpecification><SelectionAnswer>{extra}<Selections>{selections}</Selections>"
        "</SelectionAnswer></AnswerSpecification></Question>"
    )


SIMPLE_FORM = html_question(
    """
    <form name="mturk_form" method="post" action="https://www.mturk.com/mturk/externalSubmit">
      <input type="hidden" name="assignmentId" id="assignmentId" value="">
      <input type="hidden" name="hitId" value="">
      <p>Colour?
        <label><input type="radio" name="color" value="red" required> Red</label>
        <label><input type="radio" name="color" value="green"> Green</label>
        <label><input type="radio" name="color" value="blue"> Blue</label>
      </p>
      <label><input type="checkbox" name="agree"> I agree</label>
      <input type="text" name="comment" maxlength="40">
      <input type="submit" id="submitButton" value="Submit">
    </form>
    """
)

CROWD_FORM = html_question(
    """
    <script src="https://assets.crowd.aws/crowd-html-elements.js"></script>
    <crowd-form>
      <crowd-classifier name="sentiment" categories="['Positive', 'Negative', 'Neutral', 'N/A']"
        header="What sentiment does this text convey?">
        <classification-target>Everything is wonderful.</classification-target>
      </crowd-classifier>
      <crowd-radio-group>
        <crowd-radio-button name="happy" value="Happy">Happy</crowd-radio-button>
        <crowd-radio-button name="sad" value="Sad">Sad</crowd-radio-button>
      </crowd-radio-group>
      <crowd-checkbox name="spam">Looks like spam</crowd-checkbox>
      <crowd-input name="city" label="City" required></crowd-input>
      <crowd-text-area name="why" max-length="200"></crowd-text-area>
      <crowd-slider name="confidence" min="1" max="5" step="1"></crowd-slider>
    </crowd-form>
    """,
    frame_height="0",
)


# --- validate_question -----------------------------------------------------------------------


def test_validate_question_returns_the_kind() -> None:
    assert validate_question(SIMPLE_FORM) == "HTMLQuestion"
    assert validate_question(question_form(free_text_question("q1"))) == "QuestionForm"
    assert (
        validate_question(question_form(free_text_question("q1"), ns=QF_NS_2005)) == "QuestionForm"
    )
    external = (
        f'<ExternalQuestion xmlns="{EXT_NS}"><ExternalURL>https://example.org/task?x=1&amp;y=2'
        "</ExternalURL><FrameHeight>600</FrameHeight></ExternalQuestion>"
    )
    assert validate_question(external) == "ExternalQuestion"


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        ("", "empty"),
        ("<HTMLQuestion", "not well-formed"),
        (f'<Survey xmlns="{HTML_NS}"/>', "Unknown question type <Survey>"),
        (
            "<HTMLQuestion><HTMLContent>x</HTMLContent><FrameHeight>1</FrameHeight></HTMLQuestion>",
            "no namespace",
        ),
        (
            f'<HTMLQuestion xmlns="{QF_NS}"><HTMLContent>x</HTMLContent></HTMLQuestion>',
            "wrong namespace",
        ),
        (f'<ExternalQuestion xmlns="{HTML_NS}"/>', "wrong namespace"),
        (
            f'<ExternalQuestion xmlns="{EXT_NS}"><ExternalURL>http://example.org/</ExternalURL>'
            "<FrameHeight>400</FrameHeight></ExternalQuestion>",
            "https",
        ),
        (
            f'<ExternalQuestion xmlns="{EXT_NS}"><FrameHeight>400</FrameHeight></ExternalQuestion>',
            "ExternalURL",
        ),
        (
            f'<ExternalQuestion xmlns="{EXT_NS}"><ExternalURL>https://example.org/</ExternalURL></ExternalQuestion>',
            "FrameHeight",
        ),
        (html_question("<p>x</p>", frame_height="tall"), "integer"),
        (html_question("<p>x</p>", frame_height="-5"), "negative"),
        (
            f'<HTMLQuestion xmlns="{HTML_NS}"><FrameHeight>400</FrameHeight></HTMLQuestion>',
            "HTMLContent",
        ),
        (
            f'<HTMLQuestion xmlns="{HTML_NS}"><HTMLContent>  </HTMLContent><FrameHeight>4</FrameHeight></HTMLQuestion>',
            "HTMLContent",
        ),
        (question_form(), "at least one Question"),
        (question_form(free_text_question("q1"), free_text_question("q1")), "used twice"),
        (question_form(selection_question("s", [])), "at least one Selection"),
        (question_form(selection_question("s", ["a", "a"])), "unique"),
        (
            question_form(
                selection_question("s", ["a", "b", "c"], "<MinSelectionCount>3</MinSelectionCount>")
            ),
            "exceeds MaxSelectionCount",
        ),
        (
            question_form(
                "<Question><QuestionIdentifier>f</QuestionIdentifier><QuestionContent><Text>x</Text>"
                "</QuestionContent><AnswerSpecification><FileUploadAnswer><MaxFileSizeInBytes>9"
                "</MaxFileSizeInBytes><MinFileSizeInBytes>1</MinFileSizeInBytes></FileUploadAnswer>"
                "</AnswerSpecification></Question>"
            ),
            "FileUploadAnswer",
        ),
        (
            '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
            f'<HTMLQuestion xmlns="{HTML_NS}"><HTMLContent>&lol2;</HTMLContent><FrameHeight>1</FrameHeight></HTMLQuestion>',
            "forbidden",
        ),
    ],
)
def test_validate_question_rejects(xml: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        validate_question(xml)


# --- HTMLQuestion with a plain form ----------------------------------------------------------


def test_describe_fields_of_a_plain_html_form() -> None:
    assert describe_fields(SIMPLE_FORM) == [
        FieldSpec("assignmentId", "hidden", element="input"),
        FieldSpec(
            "color", "radio", options=["red", "green", "blue"], required=True, element="input"
        ),
        FieldSpec("agree", "checkbox", options=["on"], multiple=True, element="input"),
        FieldSpec(
            "comment", "text", constraints={"type": "text", "max_length": 40}, element="input"
        ),
    ]


def test_generated_answers_match_the_plain_form() -> None:
    rng = random.Random(2026)
    seen_agree = set()
    for _ in range(50):
        answers = read_answers(generate_answer(SIMPLE_FORM, rng=rng, accuracy=0.9))
        # Only posted fields; hidden and reserved ones are not (no assignment id was given).
        assert set(answers) <= {"color", "agree", "comment"}
        assert answers["color"] in {"red", "green", "blue"}
        assert isinstance(answers["comment"], str) and 0 < len(answers["comment"]) <= 40
        assert all(word.isalpha() for word in answers["comment"].split())
        seen_agree.add(answers.get("agree"))
    assert seen_agree == {"on", None}  # checked sometimes; unchecked boxes are not posted


def test_assignment_id_is_posted_when_known() -> None:
    xml = generate_answer(SIMPLE_FORM, rng=random.Random(1), accuracy=1.0, assignment_id="3ASSIGN")
    answers = read_answers(xml)
    assert answers["assignmentId"] == "3ASSIGN"
    assert "hitId" not in answers


def test_accuracy_against_ground_truth_is_close_to_the_configured_rate() -> None:
    rng = random.Random(42)
    truth = {"color": "blue", "comment": "a red bicycle"}
    samples = [
        read_answers(generate_answer(SIMPLE_FORM, rng=rng, accuracy=0.8, ground_truth=truth))
        for _ in range(400)
    ]
    colour_rate = statistics.mean(s["color"] == "blue" for s in samples)
    comment_rate = statistics.mean(s["comment"] == "a red bicycle" for s in samples)
    # 400 Bernoulli(0.8) draws: standard deviation 0.02; allow three.
    assert abs(colour_rate - 0.8) < 0.06
    assert abs(comment_rate - 0.8) < 0.06
    wrong = [s for s in samples if s["color"] != "blue"]
    assert wrong and all(s["color"] in {"red", "green"} for s in wrong)
    wrong_comments = [s["comment"] for s in samples if s["comment"] != "a red bicycle"]
    assert wrong_comments and all(c.strip() for c in wrong_comments)


@pytest.mark.parametrize(("accuracy", "expected"), [(1.0, 1.0), (0.0, 0.0)])
def test_accuracy_extremes(accuracy: float, expected: float) -> None:
    rng = random.Random(3)
    answers = [
        read_answers(
            generate_answer(SIMPLE_FORM, rng=rng, accuracy=accuracy, ground_truth={"color": "red"})
        )
        for _ in range(60)
    ]
    assert statistics.mean(a["color"] == "red" for a in answers) == expected


def test_answers_are_deterministic_for_a_seed() -> None:
    def run(seed: int) -> list[str]:
        rng = random.Random(seed)
        return [
            generate_answer(SIMPLE_FORM, rng=rng, accuracy=0.7, ground_truth={"color": "red"})
            for _ in range(5)
        ]

    assert run(11) == run(11)
    assert run(11) != run(12)


def test_select_textarea_number_and_checkbox_group() -> None:
    question = html_question(
        """
        <form action="https://www.mturk.com/mturk/externalSubmit">
          <select name="size"><option value="s">Small</option><option>Medium</option></select>
          <select name="toppings" multiple>
            <option value="ham">Ham</option><option value="egg">Egg</option><option value="kale">Kale</option>
          </select>
          <textarea name="notes" minlength="5" maxlength="80"></textarea>
          <input type="number" name="age" min="18" max="99" required>
          <input type="email" name="mail">
          <input type="text" name="code" pattern="[A-Z]{3}-[0-9]{2}">
          <input type="checkbox" name="pets" value="cat"><input type="checkbox" name="pets" value="dog">
        </form>
        """
    )
    fields = {spec.name: spec for spec in describe_fields(question)}
    assert fields["size"].options == ["s", "Medium"]
    assert fields["toppings"].multiple and fields["toppings"].kind == "select"
    assert fields["pets"].options == ["cat", "dog"] and fields["pets"].kind == "checkbox"
    assert fields["age"].constraints == {
        "type": "number",
        "numeric": True,
        "min_value": 18,
        "max_value": 99,
    }
    rng = random.Random(8)
    for _ in range(100):
        answers = read_answers(generate_answer(question, rng=rng, accuracy=0.9))
        assert answers["size"] in {"s", "Medium"}
        assert answers["toppings"] and set(answers["toppings"].split("|")) <= {"ham", "egg", "kale"}
        assert 5 <= len(answers["notes"]) <= 80
        assert 18 <= int(answers["age"]) <= 99
        assert re.fullmatch(r"[a-z]+\.[a-z]+@example\.com", answers["mail"])
        assert re.fullmatch(r"[A-Z]{3}-[0-9]{2}", answers["code"])
        if "pets" in answers:
            assert set(answers["pets"].split("|")) <= {"cat", "dog"}
    truth = {"pets": ["cat", "dog"], "toppings": "egg|kale"}
    answers = read_answers(generate_answer(question, rng=rng, accuracy=1.0, ground_truth=truth))
    assert answers["pets"] == "cat|dog" and answers["toppings"] == "egg|kale"


def test_layout_parameters_fill_placeholders() -> None:
    question = html_question(
        '<form><input type="radio" name="${field}" value="${yes}"><input type="radio" name="${field}" value="no"></form>'
    )
    params = {"field": "is_cat", "yes": "yes"}
    assert describe_fields(question, layout_parameters=params)[0].options == ["yes", "no"]
    answers = read_answers(
        generate_answer(
            question,
            rng=random.Random(1),
            accuracy=1.0,
            ground_truth={"is_cat": "yes"},
            layout_parameters=params,
        )
    )
    assert answers == {"is_cat": "yes"}


def test_sloppy_workers_write_less_and_skip_optional_fields() -> None:
    question = html_question('<form><textarea name="story"></textarea><input name="nick"></form>')
    careful_rng, sloppy_rng = random.Random(5), random.Random(5)
    careful = [
        read_answers(generate_answer(question, rng=careful_rng, accuracy=1)) for _ in range(100)
    ]
    sloppy = [
        read_answers(generate_answer(question, rng=sloppy_rng, accuracy=1, sloppy=True))
        for _ in range(100)
    ]
    assert (
        statistics.mean(len(a["story"]) for a in sloppy)
        < statistics.mean(len(a["story"]) for a in careful) / 2
    )
    assert any(a["nick"] == "" for a in sloppy)  # empty inputs are still posted
    assert all(a["nick"] for a in careful)


# --- crowd-form ------------------------------------------------------------------------------


def test_crowd_form_posts_one_task_answers_json_array() -> None:
    rng = random.Random(77)
    for _ in range(50):
        answers = read_answers(generate_answer(CROWD_FORM, rng=rng, accuracy=0.9))
        assert list(answers) == ["taskAnswers"]
        payload = json.loads(answers["taskAnswers"])
        assert isinstance(payload, list) and len(payload) == 1
        (obj,) = payload
        assert set(obj) == {"sentiment", "happy", "sad", "spam", "city", "why", "confidence"}
        assert obj["sentiment"]["label"] in {"Positive", "Negative", "Neutral", "N/A"}
        assert set(obj["happy"]) == {"Happy"} and set(obj["sad"]) == {"Sad"}
        assert obj["happy"]["Happy"] is not obj["sad"]["Sad"]  # exactly one button chosen
        assert set(obj["spam"]) == {"on"} and isinstance(obj["spam"]["on"], bool)
        assert isinstance(obj["city"], str) and obj["city"]
        assert isinstance(obj["why"], str)
        assert isinstance(obj["confidence"], int) and 1 <= obj["confidence"] <= 5


def test_describe_fields_of_a_crowd_form() -> None:
    fields = {spec.name: spec for spec in describe_fields(CROWD_FORM)}
    assert fields["sentiment"].element == "crowd-classifier"
    assert fields["sentiment"].options == ["Positive", "Negative", "Neutral", "N/A"]
    group = next(spec for spec in fields.values() if spec.element == "crowd-radio-group")
    assert group.options == ["happy", "sad"] and group.constraints["values"] == {
        "happy": "Happy",
        "sad": "Sad",
    }
    assert fields["spam"].element == "crowd-checkbox" and fields["spam"].options == ["on"]
    assert fields["confidence"].constraints == {"min_value": 1, "max_value": 5, "step": 1}
    assert all(spec.kind == "crowd" for spec in fields.values())


def test_crowd_classifier_accuracy() -> None:
    rng = random.Random(9)
    labels = [
        json.loads(
            read_answers(
                generate_answer(
                    CROWD_FORM, rng=rng, accuracy=0.6, ground_truth={"sentiment": "Positive"}
                )
            )["taskAnswers"]
        )[0]["sentiment"]["label"]
        for _ in range(400)
    ]
    assert abs(labels.count("Positive") / 400 - 0.6) < 0.075


# --- QuestionForm ----------------------------------------------------------------------------

CONSTRAINED_FORM = question_form(
    free_text_question(
        "nextmove",
        '<Constraints><IsNumeric minValue="100" maxValue="999"/><Length minLength="3" maxLength="3"/></Constraints>',
    ),
    free_text_question(
        "birthday",
        r'<Constraints><AnswerFormatRegex regex="^[12][0-9]{3}-[01]?\d-[0-3]?\d$" errorText="yyyy-mm-dd"/></Constraints>',
    ),
    free_text_question(
        "nickname", '<Constraints><Length minLength="2" maxLength="12"/></Constraints>'
    ),
    free_text_question(
        "word", '<Constraints><AnswerFormatRegex regex="^regex$" flags="i"/></Constraints>'
    ),
    free_text_question("anything", required=False),
    selection_question(
        "fruits",
        ["apples", "pears", "plums", "kiwis"],
        "<MinSelectionCount>2</MinSelectionCount><MaxSelectionCount>3</MaxSelectionCount>"
        "<StyleSuggestion>checkbox</StyleSuggestion>",
    ),
    selection_question(
        "likely",
        ["notlikely", "unsure", "likely"],
        "<StyleSuggestion>radiobutton</StyleSuggestion>",
    ),
)


def test_describe_fields_of_a_question_form() -> None:
    fields = {spec.name: spec for spec in describe_fields(CONSTRAINED_FORM)}
    assert fields["nextmove"] == FieldSpec(
        "nextmove",
        "freetext",
        required=True,
        constraints={
            "numeric": True,
            "min_value": 100,
            "max_value": 999,
            "min_length": 3,
            "max_length": 3,
        },
    )
    assert fields["birthday"].constraints["regexes"][0]["regex"].startswith("^[12]")
    assert fields["fruits"] == FieldSpec(
        "fruits",
        "selection",
        options=["apples", "pears", "plums", "kiwis"],
        multiple=True,
        required=True,
        constraints={"min_selections": 2, "max_selections": 3, "style": "checkbox"},
    )
    assert fields["likely"].multiple is False
    assert fields["anything"].required is False


@pytest.mark.parametrize("sloppy", [False, True])
def test_question_form_answers_respect_constraints(sloppy: bool) -> None:
    rng = random.Random(31)
    for _ in range(150):
        answers = read_answers(
            generate_answer(CONSTRAINED_FORM, rng=rng, accuracy=0.9, sloppy=sloppy)
        )
        assert re.fullmatch(r"[1-9]\d\d", answers["nextmove"])
        assert re.search(r"^[12][0-9]{3}-[01]?\d-[0-3]?\d$", answers.get("birthday", "1999-1-1"))
        assert 2 <= len(answers["nickname"]) <= 12
        assert answers.get("word", "REGEX").lower() == "regex"
        assert 2 <= len(answers["fruits"]) <= 3 and len(set(answers["fruits"])) == len(
            answers["fruits"]
        )
        assert set(answers["fruits"]) <= {"apples", "pears", "plums", "kiwis"}
        assert isinstance(answers["fruits"], list)
        assert answers["likely"] in (["notlikely"], ["unsure"], ["likely"])


def test_question_form_xml_shape() -> None:
    xml = generate_answer(CONSTRAINED_FORM, rng=random.Random(4), accuracy=1.0)
    root = SafeET.fromstring(xml)
    assert root.tag == f"{{{ANSWERS_NS}}}QuestionFormAnswers"
    by_id = {a.findtext(f"{{{ANSWERS_NS}}}QuestionIdentifier"): a for a in root}
    assert by_id["nextmove"].find(f"{{{ANSWERS_NS}}}FreeText") is not None
    assert len(by_id["fruits"].findall(f"{{{ANSWERS_NS}}}SelectionIdentifier")) in (2, 3)
    assert by_id["likely"].find(f"{{{ANSWERS_NS}}}FreeText") is None


def test_question_form_ground_truth_on_selections_and_numbers() -> None:
    rng = random.Random(12)
    truth = {"likely": "unsure", "fruits": ["pears", "plums"], "nextmove": "555"}
    samples = [
        read_answers(generate_answer(CONSTRAINED_FORM, rng=rng, accuracy=0.75, ground_truth=truth))
        for _ in range(400)
    ]
    assert abs(statistics.mean(s["likely"] == ["unsure"] for s in samples) - 0.75) < 0.07
    assert abs(statistics.mean(s["fruits"] == ["pears", "plums"] for s in samples) - 0.75) < 0.07
    assert abs(statistics.mean(s["nextmove"] == "555" for s in samples) - 0.75) < 0.07
    # Wrong answers still satisfy the form's constraints.
    for sample in samples:
        assert 100 <= int(sample["nextmove"]) <= 999
        assert 2 <= len(sample["fruits"]) <= 3


# --- ExternalQuestion and layouts ------------------------------------------------------------

EXTERNAL = (
    f'<ExternalQuestion xmlns="{EXT_NS}"><ExternalURL>https://example.org/task</ExternalURL>'
    "<FrameHeight>600</FrameHeight></ExternalQuestion>"
)


def test_external_question_without_spec_answers_one_free_text_field() -> None:
    answers = read_answers(generate_answer(EXTERNAL, rng=random.Random(1), accuracy=1.0))
    assert list(answers) == ["answer"] and answers["answer"].strip()
    assert describe_fields(EXTERNAL) == []


def test_external_question_and_layout_answers_follow_the_spec() -> None:
    spec = {
        "label": {"choices": ["cat", "dog", "bird"]},
        "tags": {"choices": ["a", "b", "c"], "multiple": True},
        "count": {"number": [1, 10]},
        "caption": {"text": ""},
        "expected": {"text": "hello world"},
    }
    rng = random.Random(6)
    for question in (EXTERNAL, ""):  # "" = a HIT created from a layout
        samples = [
            read_answers(
                generate_answer(
                    question, rng=rng, accuracy=0.8, answer_spec=spec, ground_truth={"label": "dog"}
                )
            )
            for _ in range(300)
        ]
        for sample in samples:
            assert set(sample) == set(spec)
            assert sample["label"] in {"cat", "dog", "bird"}
            assert sample["tags"] and set(sample["tags"].split("|")) <= {"a", "b", "c"}
            assert 1 <= int(sample["count"]) <= 10
        assert abs(statistics.mean(s["label"] == "dog" for s in samples) - 0.8) < 0.08
        assert abs(statistics.mean(s["expected"] == "hello world" for s in samples) - 0.8) < 0.08


# --- XML building and escaping ---------------------------------------------------------------

HOSTILE = [
    "<script>alert(document.cookie)</script>",
    "]]><evil/>&amp; &lt; \"quoted\" 'single'",
    "unicode: café 漢字 😀 \u202e reversed",
    "lines\r\nand\ttabs\n",
]


def test_answers_to_xml_escapes_hostile_answers_and_round_trips() -> None:
    answers = {f"q{index}": value for index, value in enumerate(HOSTILE)}
    answers["<qid&>"] = ["<b>", "a&b", "ü"]
    answers["empty"] = []
    xml = answers_to_xml(answers)
    assert xml.isascii()
    assert "<script" not in xml and "<evil" not in xml and "<b>" not in xml
    assert xml.startswith('<?xml version="1.0" encoding="ASCII"?>')
    assert read_answers(xml) == answers


def test_answers_to_xml_drops_characters_xml_cannot_carry() -> None:
    xml = answers_to_xml({"q": "bell\x07null\x00ok\ufffe"})
    assert read_answers(xml) == {"q": "bellnullok"}


def test_generated_answers_with_hostile_ground_truth_stay_well_formed() -> None:
    truth = {"comment": HOSTILE[0], "color": "red"}
    xml = generate_answer(SIMPLE_FORM, rng=random.Random(1), accuracy=1.0, ground_truth=truth)
    assert read_answers(xml)["comment"] == HOSTILE[0]
    crowd_truth = {"city": HOSTILE[2]}
    crowd_xml = generate_answer(
        CROWD_FORM, rng=random.Random(1), accuracy=1.0, ground_truth=crowd_truth
    )
    assert json.loads(read_answers(crowd_xml)["taskAnswers"])[0]["city"] == HOSTILE[2]


def test_read_answers_rejects_other_documents() -> None:
    with pytest.raises(ValueError):
        read_answers("<NotAnswers/>")
    with pytest.raises(ValueError):
        read_answers("<QuestionFormAnswers>")


def test_crowd_attribute_spellings_and_radio_truth_by_button_name() -> None:
    question = html_question(
        """
        <crowd-form>
          <crowd-input name="short" max-length="6" min-length="2" required></crowd-input>
          <crowd-input name="rating" type="number" min-value="3" max-value="4"></crowd-input>
          <crowd-radio-group>
            <crowd-radio-button name="left" value="L">Left</crowd-radio-button>
            <crowd-radio-button name="right" value="R">Right</crowd-radio-button>
          </crowd-radio-group>
        </crowd-form>
        """
    )
    fields = {spec.name: spec for spec in describe_fields(question)}
    assert fields["short"].constraints == {"type": "text", "min_length": 2, "max_length": 6}
    assert fields["rating"].constraints["min_value"] == 3
    rng = random.Random(21)
    for _ in range(50):
        obj = json.loads(
            read_answers(
                generate_answer(question, rng=rng, accuracy=1.0, ground_truth={"right": True})
            )["taskAnswers"]
        )[0]
        assert 2 <= len(obj["short"]) <= 6
        assert obj["rating"] in ("3", "4")
        assert obj["left"] == {"L": False} and obj["right"] == {"R": True}
