"""Qualification tests as data (mturk.qualification_test): building and parsing round trips,
structural validation of QuestionForm and AnswerKey documents, and scoring, compared with the
emulator's independent AnswerKey scorer."""

from __future__ import annotations

from decimal import Decimal

import pytest

from emulator.answer_xml import answers_to_xml, parse_answers, score_answer_key
from mturk.qualification_test import (
    ANSWER_KEY_NAMESPACE,
    MAX_DOCUMENT_BYTES,
    QUESTION_FORM_NAMESPACE,
    AnswerOption,
    MappingKind,
    Option,
    QualificationTest,
    QuestionKind,
    RangeBand,
    ScoreMapping,
    TestQuestion,
    UnrepresentableTest,
    build_answer_key,
    build_question_form,
    check_key_against_form,
    parse_test,
    score_answers,
    validate_answer_key,
    validate_question_form,
)
from mturk.questionform import render_question_form

CAPITAL = TestQuestion(
    "capital",
    "What is the capital of France?\n\nPick one.",
    QuestionKind.SINGLE,
    (Option("a", "Lyon"), Option("b", "Paris & <co>")),
    display_name="Capitals",
    answers=(AnswerOption(("b",), 1),),
)
PRIMES = TestQuestion(
    "primes",
    "Which numbers are prime?",
    QuestionKind.MULTIPLE,
    (Option("two", "2"), Option("four", "4"), Option("five", "5")),
    answers=(AnswerOption(("two", "five"), 2), AnswerOption(("two",), 1)),
    default_score=-1,
)
WHY = TestQuestion("why", "Why do you want to join?", QuestionKind.FREE_TEXT, required=False)


def make_test(mapping: ScoreMapping | None = None) -> QualificationTest:
    return QualificationTest(
        (CAPITAL, PRIMES, WHY),
        overview="Welcome.\n\nThree questions.",
        mapping=mapping or ScoreMapping(),
    )


def form(body: str, namespace: str = QUESTION_FORM_NAMESPACE) -> str:
    return f'<QuestionForm xmlns="{namespace}">{body}</QuestionForm>'


def key(body: str, namespace: str = ANSWER_KEY_NAMESPACE) -> str:
    return f'<AnswerKey xmlns="{namespace}">{body}</AnswerKey>'


def selection_question(identifier: str = "q1", spec: str = "", selections: str = "") -> str:
    selections = selections or (
        "<Selection><SelectionIdentifier>a</SelectionIdentifier><Text>A</Text></Selection>"
        "<Selection><SelectionIdentifier>b</SelectionIdentifier><Text>B</Text></Selection>"
    )
    return (
        f"<Question><QuestionIdentifier>{identifier}</QuestionIdentifier>"
        "<QuestionContent><Text>Pick</Text></QuestionContent><AnswerSpecification>"
        f"<SelectionAnswer>{spec}<Selections>{selections}</Selections></SelectionAnswer>"
        "</AnswerSpecification></Question>"
    )


MAPPINGS = [
    ScoreMapping(),
    ScoreMapping(MappingKind.PERCENTAGE, maximum_summed_score=3),
    ScoreMapping(MappingKind.SCALE, multiplier=Decimal("2.5")),
    ScoreMapping(
        MappingKind.RANGE,
        ranges=(RangeBand(-5, 0, 1), RangeBand(1, 2, 50), RangeBand(3, 3, 100)),
        out_of_range_value=7,
    ),
]


# --- round trip ------------------------------------------------------------------------------------


@pytest.mark.parametrize("mapping", MAPPINGS, ids=lambda m: m.kind.value)
def test_parsing_what_we_build_gives_the_same_test(mapping):
    test = make_test(mapping)
    question_form, answer_key = build_question_form(test), build_answer_key(test)

    assert validate_question_form(question_form) == []
    assert validate_answer_key(answer_key) == []
    assert check_key_against_form(question_form, answer_key) == []
    assert parse_test(question_form, answer_key) == test


def test_a_test_without_scores_has_no_answer_key():
    test = QualificationTest((WHY, TestQuestion("q", "Pick", options=(Option("x", "X"),))))

    assert build_answer_key(test) == ""
    assert parse_test(build_question_form(test), "") == test


def test_the_built_form_renders_with_the_review_renderer_escaped():
    html = render_question_form(build_question_form(make_test()))

    assert "Paris &amp; &lt;co&gt;" in html
    assert 'type="radio" name="capital" value="b"' in html
    assert 'type="checkbox" name="primes" value="five"' in html
    assert '<input type="text" name="why"' in html


def test_a_type_made_elsewhere_parses_into_the_form():
    question_form = form(
        "<Overview><Text>Hello</Text></Overview>"
        + selection_question("fruit", "<StyleSuggestion>radiobutton</StyleSuggestion>")
    ).replace("<QuestionContent>", "<IsRequired>true</IsRequired><QuestionContent>")
    answer_key = key(
        "<Question><QuestionIdentifier>fruit</QuestionIdentifier><AnswerOption>"
        "<SelectionIdentifier>b</SelectionIdentifier><AnswerScore>10</AnswerScore></AnswerOption>"
        "</Question><QualificationValueMapping><PercentageMapping><MaximumSummedScore>10"
        "</MaximumSummedScore></PercentageMapping></QualificationValueMapping>"
    )

    test = parse_test(question_form, answer_key)

    assert test == QualificationTest(
        (
            TestQuestion(
                "fruit",
                "Pick",
                QuestionKind.SINGLE,
                (Option("a", "A"), Option("b", "B")),
                answers=(AnswerOption(("b",), 10),),
            ),
        ),
        overview="Hello",
        mapping=ScoreMapping(MappingKind.PERCENTAGE, maximum_summed_score=10),
    )


def test_what_the_form_cannot_hold_is_reported_one_message_each():
    question_form = form(
        "<Question><QuestionIdentifier>q1</QuestionIdentifier><QuestionContent>"
        "<Title>A title</Title><FormattedContent><![CDATA[<b>x</b>]]></FormattedContent>"
        "</QuestionContent><AnswerSpecification><SelectionAnswer>"
        "<StyleSuggestion>dropdown</StyleSuggestion><Selections><Selection>"
        "<SelectionIdentifier>a</SelectionIdentifier><Binary><MimeType><Type>image</Type>"
        "</MimeType><DataURL>https://example.org/a.png</DataURL><AltText>A</AltText></Binary>"
        "</Selection></Selections></SelectionAnswer></AnswerSpecification></Question>"
    )

    with pytest.raises(UnrepresentableTest) as raised:
        parse_test(question_form, "")

    assert raised.value.problems == [
        "Question 1 (“q1”): <Title> cannot be edited in the form (only plain <Text>).",
        "Question 1 (“q1”): <FormattedContent> cannot be edited in the form (only plain <Text>).",
        "Question 1 (“q1”): choice “a” is not plain text and cannot be edited in the form.",
        "Question 1 (“q1”): the dropdown style with 1 to 1 selections cannot be edited in the form "
        "(it offers radio buttons, or checkboxes allowing any number).",
    ]


def test_parse_refuses_invalid_documents_with_their_validation_messages():
    with pytest.raises(UnrepresentableTest) as raised:
        parse_test("<QuestionForm>", "")

    assert raised.value.problems[0].startswith("The QuestionForm is not well-formed XML:")


# --- validation ------------------------------------------------------------------------------------

INVALID_FORMS = [
    ("", ["The QuestionForm is empty."]),
    (
        "<HTMLQuestion/>",
        ["The document must be a <QuestionForm>, not a <HTMLQuestion>."],
    ),
    (
        "<QuestionForm>" + selection_question() + "</QuestionForm>",
        [
            f'<QuestionForm> must declare the namespace xmlns="{QUESTION_FORM_NAMESPACE}" (it has '
            "none); MTurk rejects documents in any other namespace."
        ],
    ),
    (form(""), ["The QuestionForm needs at least one <Question>."]),
    (
        form("<Intro/>" + selection_question()),
        ["<QuestionForm>: <Intro> is not allowed (only <Overview> and <Question>)."],
    ),
    (
        form(selection_question() + selection_question()),
        ["Question 2 (“q1”): the identifier “q1” is used by another question."],
    ),
    (
        form(selection_question("")),
        ["Question 1: <QuestionIdentifier> is empty."],
    ),
    (
        form(
            "<Question><QuestionContent><Text>x</Text></QuestionContent>"
            "<QuestionIdentifier>q</QuestionIdentifier><AnswerSpecification><FreeTextAnswer/>"
            "</AnswerSpecification></Question>"
        ),
        [
            "Question 1 (“q”): <QuestionIdentifier> is out of order (expected QuestionIdentifier, "
            "DisplayName, IsRequired, QuestionContent, AnswerSpecification)."
        ],
    ),
    (
        form(
            "<Question><QuestionIdentifier>q</QuestionIdentifier><IsRequired>yes</IsRequired>"
            "<QuestionContent><Text>x</Text></QuestionContent></Question>"
        ),
        [
            "Question 1 (“q”): <AnswerSpecification> is missing.",
            "Question 1 (“q”): <IsRequired> must be true or false.",
        ],
    ),
    (
        form(
            selection_question(
                selections="<Selection><SelectionIdentifier>a</SelectionIdentifier><Text>A</Text>"
                "</Selection><Selection><SelectionIdentifier>a</SelectionIdentifier></Selection>"
            )
        ),
        [
            "Question 1 (“q1”), selection 2: the identifier “a” is used twice in this question.",
            "Question 1 (“q1”), selection 2: needs exactly one of <Text>, <FormattedContent> or <Binary>.",
        ],
    ),
    (
        form(
            selection_question(
                spec="<MinSelectionCount>3</MinSelectionCount><MaxSelectionCount>0</MaxSelectionCount>"
            )
        ),
        [
            "Question 1 (“q1”): <MinSelectionCount> 3 is more than the 2 choices.",
            "Question 1 (“q1”): <MaxSelectionCount> must be a whole number ≥ 1.",
            "Question 1 (“q1”): <MinSelectionCount> is above <MaxSelectionCount>.",
        ],
    ),
    (
        form(
            selection_question(
                spec="<MaxSelectionCount>2</MaxSelectionCount><StyleSuggestion>radiobutton</StyleSuggestion>"
            )
        ),
        ["Question 1 (“q1”): the radiobutton style allows one choice, but MaxSelectionCount is 2."],
    ),
    (
        form(selection_question(spec="<StyleSuggestion>slider</StyleSuggestion>")),
        [
            "Question 1 (“q1”): <StyleSuggestion> “slider” is not one of radiobutton, dropdown, "
            "checkbox, list, combobox, multichooser."
        ],
    ),
    (
        form(selection_question(selections="<OtherSelection/>")),
        [
            "Question 1 (“q1”): <Selections> needs at least one <Selection>.",
            "Question 1 (“q1”): <OtherSelection> cannot be used in a qualification test (an answer "
            "key cannot score free text).",
        ],
    ),
    (
        form(
            "<Question><QuestionIdentifier>f</QuestionIdentifier><QuestionContent><Text>x</Text>"
            "</QuestionContent><AnswerSpecification><FileUploadAnswer><MaxFileSizeInBytes>9"
            "</MaxFileSizeInBytes><MinFileSizeInBytes>1</MinFileSizeInBytes></FileUploadAnswer>"
            "</AnswerSpecification></Question>"
        ),
        ["Question 1 (“f”): <FileUploadAnswer> cannot be used in a qualification test."],
    ),
    (
        form(
            "<Question><QuestionIdentifier>f</QuestionIdentifier><QuestionContent><Text>x</Text>"
            "</QuestionContent><AnswerSpecification><FreeTextAnswer><Constraints>"
            '<IsNumeric minValue="9" maxValue="1"/><Length minLength="-1" maxLength="x"/>'
            "<AnswerFormatRegex/></Constraints><NumberOfLinesSuggestion>0</NumberOfLinesSuggestion>"
            "</FreeTextAnswer></AnswerSpecification></Question>"
        ),
        [
            "Question 1 (“f”): <IsNumeric> minValue is above maxValue.",
            "Question 1 (“f”): <Length> minLength must be a whole number ≥ 0.",
            "Question 1 (“f”): <Length> maxLength must be a whole number ≥ 1.",
            "Question 1 (“f”): <AnswerFormatRegex> needs a regex attribute.",
            "Question 1 (“f”): <NumberOfLinesSuggestion> must be a whole number ≥ 1.",
        ],
    ),
    (
        form(
            "<Question><QuestionIdentifier>f</QuestionIdentifier><QuestionContent><Text>x</Text>"
            "<Binary><MimeType><Type>pdf</Type></MimeType><DataURL>javascript:x</DataURL></Binary>"
            "<Marquee/></QuestionContent><AnswerSpecification><FreeTextAnswer/>"
            "</AnswerSpecification></Question>"
        ),
        [
            "Question 1 (“f”) <QuestionContent>: <Binary> needs <MimeType><Type> image, audio or video.",
            "Question 1 (“f”) <QuestionContent>: <Binary> needs a <DataURL> with an http(s) URL.",
            "Question 1 (“f”) <QuestionContent>: <Binary> needs an <AltText>.",
            "Question 1 (“f”) <QuestionContent>: <Marquee> is not a content element (Title, Text, "
            "List, Binary, Application, EmbeddedBinary, FormattedContent).",
        ],
    ),
]


@pytest.mark.parametrize(("xml", "errors"), INVALID_FORMS)
def test_invalid_question_forms_get_one_message_per_error(xml, errors):
    assert validate_question_form(xml) == errors


def test_malformed_and_unsafe_question_forms_are_refused():
    assert validate_question_form("<QuestionForm><Question>")[0].startswith(
        "The QuestionForm is not well-formed XML:"
    )
    bomb = '<!DOCTYPE x [<!ENTITY a "aaaa">]><QuestionForm>&a;</QuestionForm>'
    assert validate_question_form(bomb)[0].startswith("The QuestionForm is not well-formed XML:")


def test_a_question_form_over_65535_bytes_is_refused():
    padding = "x" * MAX_DOCUMENT_BYTES
    xml = form(selection_question().replace("<Text>Pick</Text>", f"<Text>{padding}</Text>"))

    assert validate_question_form(xml)[0] == (
        f"The QuestionForm is {len(xml.encode())} bytes long; MTurk accepts at most 65535."
    )


def test_the_2005_question_form_namespace_is_accepted():
    legacy = "http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2005-10-01/QuestionForm.xsd"
    assert validate_question_form(form(selection_question(), legacy)) == []


def _option(ids: str, score: str) -> str:
    sids = "".join(f"<SelectionIdentifier>{sid}</SelectionIdentifier>" for sid in ids.split())
    return f"<AnswerOption>{sids}<AnswerScore>{score}</AnswerScore></AnswerOption>"


def _key_question(identifier: str, body: str) -> str:
    return f"<Question><QuestionIdentifier>{identifier}</QuestionIdentifier>{body}</Question>"


INVALID_KEYS = [
    ("", ["The AnswerKey is empty."]),
    ("<AnswerKey", None),
    ("<QuestionForm/>", ["The document must be a <AnswerKey>, not a <QuestionForm>."]),
    (
        '<AnswerKey xmlns="urn:other"/>',
        [
            f'<AnswerKey> must declare the namespace xmlns="{ANSWER_KEY_NAMESPACE}" (it has '
            "“urn:other”); MTurk rejects documents in any other namespace."
        ],
    ),
    (
        key(_key_question("q", "") + _key_question("q", _option("a", "1"))),
        [
            "Answer key Question 1 (“q”): needs at least one <AnswerOption>.",
            "Answer key Question 2 (“q”): the question “q” has two keys.",
        ],
    ),
    (
        key(
            _key_question(
                "q", _option("", "x") + _option("a a", "1") + "<DefaultScore>1.5</DefaultScore>"
            )
        ),
        [
            "Answer key Question 1 (“q”), answer option 1: needs at least one <SelectionIdentifier>.",
            "Answer key Question 1 (“q”), answer option 1: <AnswerScore> must be a whole number, not “x”.",
            "Answer key Question 1 (“q”), answer option 2: a selection is listed twice.",
            "Answer key Question 1 (“q”): <DefaultScore> must be a whole number, not “1.5”.",
        ],
    ),
    (
        key(
            "<QualificationValueMapping><PercentageMapping/></QualificationValueMapping>"
            + _key_question("q", _option("a", "1"))
        ),
        [
            "<AnswerKey>: <Question> is out of order (expected Question, QualificationValueMapping).",
            "<QualificationValueMapping> <PercentageMapping>: <MaximumSummedScore> is missing.",
        ],
    ),
    (
        key(
            _key_question("q", _option("a", "1"))
            + "<QualificationValueMapping><PercentageMapping><MaximumSummedScore>0"
            "</MaximumSummedScore></PercentageMapping><ScaleMapping/></QualificationValueMapping>"
        ),
        [
            "<QualificationValueMapping> needs exactly one of <PercentageMapping>, <ScaleMapping>, "
            "<RangeMapping>."
        ],
    ),
    (
        key(
            "<QualificationValueMapping><PercentageMapping><MaximumSummedScore>0"
            "</MaximumSummedScore></PercentageMapping></QualificationValueMapping>"
        ),
        ["<QualificationValueMapping> <PercentageMapping>: <MaximumSummedScore> must be above 0."],
    ),
    (
        key(
            "<QualificationValueMapping><ScaleMapping><SummedScoreMultiplier>two"
            "</SummedScoreMultiplier></ScaleMapping></QualificationValueMapping>"
        ),
        [
            "<QualificationValueMapping> <ScaleMapping>: <SummedScoreMultiplier> must be a number, "
            "not “two”."
        ],
    ),
    (
        key(
            "<QualificationValueMapping><RangeMapping>"
            "<SummedScoreRange><InclusiveLowerBound>0</InclusiveLowerBound><InclusiveUpperBound>5"
            "</InclusiveUpperBound><QualificationValue>1</QualificationValue></SummedScoreRange>"
            "<SummedScoreRange><InclusiveLowerBound>5</InclusiveLowerBound><InclusiveUpperBound>9"
            "</InclusiveUpperBound><QualificationValue>2</QualificationValue></SummedScoreRange>"
            "<SummedScoreRange><InclusiveLowerBound>20</InclusiveLowerBound><InclusiveUpperBound>10"
            "</InclusiveUpperBound></SummedScoreRange>"
            "</RangeMapping></QualificationValueMapping>"
        ),
        [
            "<QualificationValueMapping> range 3: <QualificationValue> is missing.",
            "<QualificationValueMapping>: ranges 1 and 2 overlap.",
            "<QualificationValueMapping> <RangeMapping>: <OutOfRangeQualificationValue> is missing.",
        ],
    ),
]


@pytest.mark.parametrize(("xml", "errors"), INVALID_KEYS)
def test_invalid_answer_keys_get_one_message_per_error(xml, errors):
    result = validate_answer_key(xml)
    if errors is None:
        assert len(result) == 1
        assert result[0].startswith("The AnswerKey is not well-formed XML:")
    else:
        assert result == errors


def test_a_key_that_does_not_fit_its_form_is_reported():
    question_form = form(
        selection_question("q1")
        + "<Question><QuestionIdentifier>free</QuestionIdentifier><QuestionContent><Text>x</Text>"
        "</QuestionContent><AnswerSpecification><FreeTextAnswer/></AnswerSpecification></Question>"
    )
    answer_key = key(
        _key_question("q1", _option("a z", "1"))
        + _key_question("free", _option("x", "1"))
        + _key_question("nope", _option("a", "1"))
    )

    assert check_key_against_form(question_form, answer_key) == [
        "Answer key Question 1 (“q1”): “z” is not one of the question's choices.",
        "Answer key Question 2 (“free”): “free” is not a multiple-choice question; an answer key "
        "can only score selections.",
        "Answer key Question 3 (“nope”): the test has no question “nope”.",
    ]


# --- scoring ---------------------------------------------------------------------------------------

ANSWER_SETS = [
    {"capital": ["b"], "primes": ["five", "two"], "why": "Because"},  # 1 + 2 = 3
    {"capital": ["a"], "primes": ["two"]},  # 0 + 1 = 1
    {"capital": ["b"], "primes": ["four"]},  # 1 - 1 = 0
    {"primes": ["two", "four", "five"]},  # 0 - 1 = -1
    {},  # DefaultScore for an unanswered question: -1
    {"capital": ["b", "a"], "primes": ["two", "five"]},  # 0 + 2 = 2
]


@pytest.mark.parametrize("mapping", MAPPINGS, ids=lambda m: m.kind.value)
@pytest.mark.parametrize("answers", ANSWER_SETS)
def test_scores_equal_the_emulators(mapping, answers):
    answer_key = build_answer_key(make_test(mapping))
    answer_xml = answers_to_xml(answers)

    assert score_answers(answer_key, answer_xml) == score_answer_key(
        answer_key, parse_answers(answer_xml)
    )


@pytest.mark.parametrize(
    ("mapping", "expected"),
    [
        (ScoreMapping(), 3),
        (ScoreMapping(MappingKind.PERCENTAGE, maximum_summed_score=3), 100),
        (ScoreMapping(MappingKind.PERCENTAGE, maximum_summed_score=7), 43),
        (ScoreMapping(MappingKind.SCALE, multiplier=Decimal("2.5")), 8),  # 7.5 rounds to even
        (
            ScoreMapping(MappingKind.RANGE, ranges=(RangeBand(3, 3, 100),), out_of_range_value=7),
            100,
        ),
        (ScoreMapping(MappingKind.RANGE, ranges=(RangeBand(0, 2, 100),), out_of_range_value=7), 7),
    ],
)
def test_score_of_a_full_marks_answer(mapping, expected):
    answer_xml = answers_to_xml(ANSWER_SETS[0])

    assert score_answers(build_answer_key(make_test(mapping)), answer_xml) == expected


@pytest.mark.parametrize(
    ("answer_key", "answer_xml"),
    [
        ("<AnswerKey>", answers_to_xml({"q": ["a"]})),
        (key(_key_question("q", _option("a", "x"))), answers_to_xml({"q": ["a"]})),
        (build_answer_key(make_test()), "<QuestionFormAnswers>"),
        (build_answer_key(make_test()), "<Other/>"),
    ],
)
def test_what_cannot_be_scored_gives_none(answer_key, answer_xml):
    assert score_answers(answer_key, answer_xml) is None
