"""The qualification test editor, against the emulator over real HTTP: building a test in the form,
previewing it, saving it (the emulator's truth holds it), opening a type made elsewhere, refusing
what MTurk would refuse with nothing sent, and who may do what."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from dashboard.models import AuditEvent
from dashboard.previews import preview_csp
from emulator.answer_xml import answers_to_xml, parse_answers, score_answer_key
from mturk.qualification_test import (
    ANSWER_KEY_NAMESPACE,
    QUESTION_FORM_NAMESPACE,
    AnswerOption,
    MappingKind,
    Option,
    QualificationTest,
    QuestionKind,
    RangeBand,
    ScoreMapping,
    TestQuestion,
    parse_test,
    score_answers,
)
from qualifications.models import QualificationType
from qualifications.sync import sync_qualifications
from qualifications.test_forms import TestBuilder

pytestmark = pytest.mark.django_db

QUESTION_FORM = (
    f'<QuestionForm xmlns="{QUESTION_FORM_NAMESPACE}"><Question><QuestionIdentifier>fruit'
    "</QuestionIdentifier><IsRequired>true</IsRequired><QuestionContent><Text>Favourite fruit?"
    "</Text></QuestionContent><AnswerSpecification><SelectionAnswer><StyleSuggestion>radiobutton"
    "</StyleSuggestion><Selections><Selection><SelectionIdentifier>apples</SelectionIdentifier>"
    "<Text>Apples</Text></Selection><Selection><SelectionIdentifier>pears</SelectionIdentifier>"
    "<Text>Pears</Text></Selection></Selections></SelectionAnswer></AnswerSpecification>"
    "</Question></QuestionForm>"
)
ANSWER_KEY = (
    f'<AnswerKey xmlns="{ANSWER_KEY_NAMESPACE}"><Question><QuestionIdentifier>fruit'
    "</QuestionIdentifier><AnswerOption><SelectionIdentifier>pears</SelectionIdentifier>"
    "<AnswerScore>10</AnswerScore></AnswerOption></Question><QualificationValueMapping>"
    "<PercentageMapping><MaximumSummedScore>10</MaximumSummedScore></PercentageMapping>"
    "</QualificationValueMapping></AnswerKey>"
)


def _edit_url(account, type_id: str) -> str:
    return reverse("qualification-test-edit", args=[account.slug, type_id])


def _preview_url(account, type_id: str) -> str:
    return reverse("qualification-test-preview", args=[account.slug, type_id])


def _make_type(gateway, account, **params: Any) -> QualificationType:
    """A type made at MTurk (as if elsewhere), then mirrored by the sync."""
    record = gateway.create_qualification_type(
        name=params.pop("name", "Screening"), description="Our screening test.", **params
    )
    sync_qualifications(account=account, gateway=gateway)
    return QualificationType.objects.get(
        account=account, qualification_type_id=record.qualification_type_id
    )


def _truth_type(emulator, type_id: str) -> dict[str, Any]:
    types = emulator.control.truth("qualification_types")["qualification_types"]
    return next(t for t in types if t["QualificationTypeId"] == type_id)


def _question(index: int, **fields: Any) -> dict[str, Any]:
    defaults = {"required": "on"}
    return {f"questions-{index}-{name}": value for name, value in {**defaults, **fields}.items()}


def _builder_post(questions: list[dict[str, Any]], **settings: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "questions-TOTAL_FORMS": str(len(questions)),
        "questions-INITIAL_FORMS": "0",
        "questions-MIN_NUM_FORMS": "0",
        "questions-MAX_NUM_FORMS": "1000",
        "test-duration_seconds": "300",
        "test-mapping": "none",
    }
    for index, question in enumerate(questions):
        data.update(_question(index, **question))
    data.update({f"test-{name}": value for name, value in settings.items()})
    return data


TWO_QUESTIONS = [
    {
        "identifier": "capital",
        "text": "What is the capital of France?",
        "kind": "single",
        "options": "a | Lyon\nb | Paris",
        "answers": "b = 1",
    },
    {
        "identifier": "primes",
        "text": "Which are prime?",
        "kind": "multiple",
        "options": "two | 2\nfour | 4\nfive | 5",
        "answers": "two, five = 1",
    },
]


def test_the_editor_builds_previews_and_saves_a_two_question_test(
    lab_admin_client, emulator_account, account_gateway, fresh_emulator
):
    qtype = _make_type(account_gateway, emulator_account)
    data = _builder_post(
        TWO_QUESTIONS, mapping="percentage", maximum_summed_score="2", overview="Two questions."
    )

    preview = lab_admin_client.post(
        _preview_url(emulator_account, qtype.qualification_type_id), {**data, "action": "preview"}
    )
    assert preview.status_code == 200
    assert preview["Content-Security-Policy"] == preview_csp(scripts=False)
    body = preview.content.decode()
    assert 'sandbox=""' in body
    # The QuestionForm is rendered into the srcdoc attribute, escaped once more.
    assert "name=&quot;capital&quot; value=&quot;b&quot;" in body
    assert "What is the capital of France?" in body

    saved = lab_admin_client.post(
        _edit_url(emulator_account, qtype.qualification_type_id), {**data, "action": "save"}
    )
    assert saved.status_code == 302

    truth = _truth_type(fresh_emulator, qtype.qualification_type_id)
    expected = QualificationTest(
        (
            TestQuestion(
                "capital",
                "What is the capital of France?",
                QuestionKind.SINGLE,
                (Option("a", "Lyon"), Option("b", "Paris")),
                answers=(AnswerOption(("b",), 1),),
            ),
            TestQuestion(
                "primes",
                "Which are prime?",
                QuestionKind.MULTIPLE,
                (Option("two", "2"), Option("four", "4"), Option("five", "5")),
                answers=(AnswerOption(("two", "five"), 1),),
            ),
        ),
        overview="Two questions.",
        mapping=ScoreMapping(MappingKind.PERCENTAGE, maximum_summed_score=2),
    )
    assert parse_test(truth["Test"], truth["AnswerKey"]) == expected
    assert truth["TestDurationInSeconds"] == 300
    qtype.refresh_from_db()
    assert (qtype.test, qtype.answer_key, qtype.test_duration_seconds) == (
        truth["Test"],
        truth["AnswerKey"],
        300,
    )
    event = AuditEvent.objects.get(action="qualification_type.update_test")
    assert event.target_ids == {"qualification_type": qtype.qualification_type_id}
    assert event.outcome == "succeeded"
    # The emulator scores a worker's answers with the saved key as we do.
    answers = answers_to_xml({"capital": ["b"], "primes": ["five"]})
    assert score_answers(truth["AnswerKey"], answers) == 50
    assert score_answer_key(truth["AnswerKey"], parse_answers(answers)) == 50

    page = lab_admin_client.get(_edit_url(emulator_account, qtype.qualification_type_id))
    assert page.status_code == 200
    assert page.context["builder"].questions.initial[1]["answers"] == "two, five = 1"


def test_the_saved_test_previews_for_research_staff(
    staff_client, emulator_account, account_gateway
):
    qtype = _make_type(
        account_gateway, emulator_account, test=QUESTION_FORM, test_duration_seconds=60
    )

    response = staff_client.get(_preview_url(emulator_account, qtype.qualification_type_id))

    assert response.status_code == 200
    assert response["Content-Security-Policy"] == preview_csp(scripts=False)
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert "value=&quot;pears&quot;" in response.content.decode()


def test_add_question_re_renders_the_posted_questions_with_one_more(
    lab_admin_client, emulator_account, account_gateway, fresh_emulator
):
    qtype = _make_type(account_gateway, emulator_account)
    data = _builder_post([TWO_QUESTIONS[0], {"identifier": "half", "kind": "single"}])
    data["questions-1-DELETE"] = "on"

    response = lab_admin_client.post(
        _edit_url(emulator_account, qtype.qualification_type_id), {**data, "action": "add_question"}
    )

    assert response.status_code == 200
    formset = response.context["builder"].questions
    assert [form.initial.get("identifier") for form in formset] == ["capital", None]
    assert 'id="id_questions-1-identifier"' in response.content.decode()
    assert "Test" not in _truth_type(fresh_emulator, qtype.qualification_type_id)


def test_a_type_made_elsewhere_with_a_test_opens_in_the_form(
    lab_admin_client, emulator_account, account_gateway
):
    qtype = _make_type(
        account_gateway,
        emulator_account,
        test=QUESTION_FORM,
        answer_key=ANSWER_KEY,
        test_duration_seconds=120,
    )

    response = lab_admin_client.get(_edit_url(emulator_account, qtype.qualification_type_id))

    assert response.status_code == 200
    assert response.context["mode"] == "form"
    builder = response.context["builder"]
    assert builder.questions.initial == [
        {
            "identifier": "fruit",
            "display_name": "",
            "text": "Favourite fruit?",
            "kind": "single",
            "required": True,
            "options": "apples | Apples\npears | Pears",
            "answers": "pears = 10",
            "default_score": None,
        }
    ]
    assert builder.settings.initial["mapping"] == "percentage"
    assert builder.settings.initial["maximum_summed_score"] == 10
    assert builder.settings.initial["duration_seconds"] == 120
    assert "MTurk cannot remove a test" in response.content.decode()


def test_a_test_the_form_cannot_hold_opens_as_xml_with_the_reasons(
    lab_admin_client, emulator_account, account_gateway
):
    with_title = QUESTION_FORM.replace("<QuestionContent>", "<QuestionContent><Title>Fruit</Title>")
    qtype = _make_type(account_gateway, emulator_account, test=with_title, test_duration_seconds=60)

    response = lab_admin_client.get(_edit_url(emulator_account, qtype.qualification_type_id))

    assert response.context["mode"] == "raw"
    assert response.context["unrepresentable"] == [
        "Question 1 (“fruit”): <Title> cannot be edited in the form (only plain <Text>)."
    ]
    assert response.context["raw_form"].initial["question_form"] == with_title


def test_raw_xml_is_saved_when_valid(
    lab_admin_client, emulator_account, account_gateway, fresh_emulator
):
    qtype = _make_type(account_gateway, emulator_account)

    response = lab_admin_client.post(
        _edit_url(emulator_account, qtype.qualification_type_id),
        {
            "action": "save_raw",
            "question_form": QUESTION_FORM,
            "answer_key": ANSWER_KEY,
            "duration_seconds": "90",
        },
    )

    assert response.status_code == 302
    assert response["Location"].endswith("?mode=raw")
    truth = _truth_type(fresh_emulator, qtype.qualification_type_id)
    assert (truth["Test"], truth["AnswerKey"], truth["TestDurationInSeconds"]) == (
        QUESTION_FORM,
        ANSWER_KEY,
        90,
    )


def test_invalid_raw_xml_is_refused_with_each_error_and_nothing_sent(
    lab_admin_client, emulator_account, account_gateway, fresh_emulator
):
    qtype = _make_type(account_gateway, emulator_account)
    calls_before = fresh_emulator.control.truth("calls")["call_counts"].get(
        "UpdateQualificationType", 0
    )
    bad_form = QUESTION_FORM.replace("<QuestionIdentifier>fruit</QuestionIdentifier>", "")
    bad_key = ANSWER_KEY.replace("<AnswerScore>10</AnswerScore>", "<AnswerScore>ten</AnswerScore>")

    response = lab_admin_client.post(
        _edit_url(emulator_account, qtype.qualification_type_id),
        {
            "action": "save_raw",
            "question_form": bad_form,
            "answer_key": bad_key,
            "duration_seconds": "",
        },
    )

    assert response.status_code == 400
    form = response.context["raw_form"]
    assert form.errors["duration_seconds"] == ["This field is required."]
    assert form.non_field_errors() == [
        "Question 1: <QuestionIdentifier> is missing.",
        "Answer key Question 1 (“fruit”), answer option 1: <AnswerScore> must be a whole number, not “ten”.",
    ]
    body = response.content.decode()
    assert (
        "<li>Answer key Question 1 (“fruit”), answer option 1: &lt;AnswerScore&gt; must be a "
        "whole number, not “ten”.</li>"
    ) in body
    calls_after = fresh_emulator.control.truth("calls")["call_counts"].get(
        "UpdateQualificationType", 0
    )
    assert calls_after == calls_before
    assert "Test" not in _truth_type(fresh_emulator, qtype.qualification_type_id)


def test_an_invalid_builder_post_is_refused_with_its_errors(
    lab_admin_client, emulator_account, account_gateway, fresh_emulator
):
    qtype = _make_type(account_gateway, emulator_account)
    data = _builder_post(
        [
            {"identifier": "q 1", "text": "x", "kind": "single", "options": "a | A"},
            {"identifier": "free", "text": "y", "kind": "free_text", "answers": "a = 1"},
        ],
        mapping="range",
    )

    response = lab_admin_client.post(
        _edit_url(emulator_account, qtype.qualification_type_id), {**data, "action": "save"}
    )

    assert response.status_code == 400
    first, second = response.context["builder"].questions.forms
    assert first.errors == {
        "identifier": [
            "“q 1” cannot be an identifier: use 1 to 64 letters, digits, dots, dashes or underscores."
        ],
        "options": ["A multiple-choice question needs at least two choices."],
    }
    assert second.errors == {
        "answers": ["An answer key can only score choices, not free text (MTurk)."]
    }
    assert response.context["builder"].settings.errors == {
        "ranges": ["Give at least one range."],
        "out_of_range_value": ["Give the value for scores outside the ranges."],
    }
    assert "Test" not in _truth_type(fresh_emulator, qtype.qualification_type_id)


def test_an_auto_granted_type_is_refused_a_test(
    lab_admin_client, emulator_account, account_gateway, fresh_emulator
):
    qtype = _make_type(account_gateway, emulator_account, auto_granted=True, auto_granted_value=5)

    page = lab_admin_client.get(_edit_url(emulator_account, qtype.qualification_type_id))
    response = lab_admin_client.post(
        _edit_url(emulator_account, qtype.qualification_type_id),
        {**_builder_post(TWO_QUESTIONS), "action": "save"},
    )

    assert 'id="auto-granted-notice"' in page.content.decode()
    assert response.status_code == 400
    assert response.context["builder"].problems == [
        "This type is auto-granted, and an auto-granted type cannot have a test. Turn "
        "auto-granting off first."
    ]
    assert "Test" not in _truth_type(fresh_emulator, qtype.qualification_type_id)


def test_mturks_refusal_is_shown_and_the_mirror_unchanged(
    lab_admin_client, emulator_account, account_gateway, fresh_emulator
):
    qtype = _make_type(account_gateway, emulator_account)
    fresh_emulator.control.set_faults(
        operations={"UpdateQualificationType": {"fault_rate": 1.0}}, seed=1
    )
    try:
        response = lab_admin_client.post(
            _edit_url(emulator_account, qtype.qualification_type_id),
            {**_builder_post(TWO_QUESTIONS), "action": "save"},
        )
    finally:
        fresh_emulator.control.set_faults(operations={})

    assert response.status_code in (400, 503)
    assert response.context["builder"].problems[0].startswith("MTurk refused the test:")
    qtype.refresh_from_db()
    assert qtype.test == ""
    assert AuditEvent.objects.get(action="qualification_type.update_test").outcome == "failed"


# --- who may do what -------------------------------------------------------------------------------


@pytest.fixture
def local_type(account) -> QualificationType:
    return QualificationType.objects.create(
        account=account, qualification_type_id="LOCALTYPE", name="Local", test=QUESTION_FORM
    )


@pytest.mark.parametrize(
    ("persona", "edit_status", "preview_status"),
    [
        ("anonymous", 302, 302),
        ("staff", 403, 200),
        ("other_staff", 404, 404),
        ("admin", 200, 200),
    ],
)
def test_who_may_open_the_editor_and_the_preview(
    personas, account, other_account, local_type, persona, edit_status, preview_status
):
    client = personas[persona]

    edit = client.get(_edit_url(account, "LOCALTYPE"))
    preview = client.get(_preview_url(account, "LOCALTYPE"))

    assert edit.status_code == edit_status
    assert preview.status_code == preview_status
    if persona == "anonymous":
        assert edit["Location"].startswith("/accounts/login/")


def test_research_staff_cannot_save_or_preview_unsaved_work(staff_client, account, local_type):
    data = {**_builder_post(TWO_QUESTIONS), "action": "save"}

    assert staff_client.post(_edit_url(account, "LOCALTYPE"), data).status_code == 403
    assert staff_client.post(_preview_url(account, "LOCALTYPE"), data).status_code == 403


def test_a_type_of_another_account_answers_404(lab_admin_client, account, other_account):
    QualificationType.objects.create(
        account=other_account, qualification_type_id="THEIRS", name="Theirs"
    )

    assert lab_admin_client.get(_edit_url(account, "THEIRS")).status_code == 404
    assert lab_admin_client.get(_preview_url(account, "THEIRS")).status_code == 404


def test_raw_xml_previews_with_its_problems_listed(lab_admin_client, account, local_type):
    missing_id = QUESTION_FORM.replace("<QuestionIdentifier>fruit</QuestionIdentifier>", "")

    response = lab_admin_client.post(
        _preview_url(account, "LOCALTYPE"),
        {"action": "preview_raw", "question_form": missing_id, "duration_seconds": "60"},
    )

    assert response.status_code == 200
    assert response.context["notes"] == ["Question 1: <QuestionIdentifier> is missing."]
    assert "value=&quot;pears&quot;" in response.content.decode()


def test_a_preview_of_nothing_is_a_400_with_the_reasons(lab_admin_client, account, local_type):
    response = lab_admin_client.post(
        _preview_url(account, "LOCALTYPE"),
        {**_builder_post([{"identifier": "", "kind": "single"}]), "action": "preview"},
    )

    assert response.status_code == 400
    assert response.context["srcdoc"] is None
    assert response.context["notes"] == ["A test needs at least one question."]
    assert response["Content-Security-Policy"] == preview_csp(scripts=False)


def test_hostile_question_text_is_escaped_in_the_preview(lab_admin_client, account, local_type):
    hostile = '"><script>alert(1)</script>'
    question = {**TWO_QUESTIONS[0], "text": hostile, "options": f"a | {hostile}\nb | B"}

    response = lab_admin_client.post(
        _preview_url(account, "LOCALTYPE"), {**_builder_post([question]), "action": "preview"}
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert "<script" not in body
    # Escaped by the renderer, then once more as the srcdoc attribute.
    assert "&amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt;" in body


def test_an_unknown_editor_action_is_a_400_and_sends_nothing(lab_admin_client, account, local_type):
    response = lab_admin_client.post(_edit_url(account, "LOCALTYPE"), {"action": "publish"})

    assert response.status_code == 400
    assert [str(m) for m in response.context["messages"]] == [
        "Nothing was saved: use the editor's Save buttons."
    ]


def test_a_test_over_mturks_size_limit_is_refused(lab_admin_client, account, local_type):
    long_text = "\n\n".join(["x" * 4000] * 17)
    questions = [
        {**TWO_QUESTIONS[0], "identifier": f"q{i}", "text": long_text[:4990]} for i in range(14)
    ]

    response = lab_admin_client.post(
        _edit_url(account, "LOCALTYPE"), {**_builder_post(questions), "action": "save"}
    )

    assert response.status_code == 400
    size = len(response.context["builder"].documents.question_form.encode())
    assert size > 65535
    assert response.context["builder"].problems == [
        f"The QuestionForm is {size} bytes long; MTurk accepts at most 65535."
    ]


def test_a_blank_extra_question_is_left_out(lab_admin_client, account, local_type):
    data = _builder_post([TWO_QUESTIONS[0], {"identifier": "", "kind": "single"}])

    response = lab_admin_client.post(
        _preview_url(account, "LOCALTYPE"), {**data, "action": "preview"}
    )

    assert response.status_code == 200
    assert "name=&quot;capital&quot;" in response.content.decode()
    assert response.context["notes"] == []


@pytest.mark.parametrize(
    ("mapping", "expected"),
    [
        (
            {"mapping": "scale", "multiplier": "100.00"},
            ScoreMapping(MappingKind.SCALE, multiplier=Decimal(100)),
        ),
        (
            {"mapping": "scale", "multiplier": "2.50"},
            ScoreMapping(MappingKind.SCALE, multiplier=Decimal("2.5")),
        ),
        (
            {"mapping": "range", "ranges": "0 .. 1 = 0\n2 .. 2 = 100", "out_of_range_value": "-1"},
            ScoreMapping(
                MappingKind.RANGE,
                ranges=(RangeBand(0, 1, 0), RangeBand(2, 2, 100)),
                out_of_range_value=-1,
            ),
        ),
        ({"mapping": "none"}, ScoreMapping()),
    ],
)
def test_each_score_mapping_is_built_into_a_valid_key(local_type, mapping, expected):
    builder = TestBuilder(local_type, _builder_post(TWO_QUESTIONS, **mapping))

    # Valid includes the built AnswerKey passing validation (a multiplier of 1E+2 would not).
    assert builder.is_valid(), builder.problems
    assert (
        parse_test(builder.documents.question_form, builder.documents.answer_key).mapping
        == expected
    )
