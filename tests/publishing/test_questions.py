"""Question templates filled from a row of inputs: variables, escaping per kind, MTurk's limits, and
what the emulator's CreateHIT accepts."""

from __future__ import annotations

import itertools

import pytest

from mturk.answers import html_content
from mturk.xmlread import child_text, parse_xml
from publishing.enums import TemplateKind
from publishing.questions import (
    CROWD_HTML_ELEMENTS,
    QuestionProblem,
    RenderedQuestion,
    render_question,
    template_variables,
)

QF_NS = (
    "http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2017-11-06/QuestionForm.xsd"
)
QUESTION_FORM = f"""<QuestionForm xmlns="{QF_NS}">
  <Question>
    <QuestionIdentifier>age</QuestionIdentifier>
    <IsRequired>true</IsRequired>
    <QuestionContent><Text>How old is ${{person}}?</Text></QuestionContent>
    <AnswerSpecification><FreeTextAnswer/></AnswerSpecification>
  </Question>
</QuestionForm>"""
HTML = """<crowd-form>
  <img src="${image_url}" alt="Person ${person_id}">
  <crowd-input name="age" label="How old is this person?" required></crowd-input>
  <script>const shown = `$${new Date()}`;</script>
</crowd-form>"""
HOSTILE = '"><script>alert(1)</script>&'


def _render(kind: str, content: str, inputs: dict[str, str], **kwargs) -> RenderedQuestion:
    return render_question(
        kind=kind,
        content=content,
        frame_height=kwargs.pop("frame_height", 600),
        layout_id=kwargs.pop("layout_id", ""),
        inputs=inputs,
        **kwargs,
    )


# --- variables ---------------------------------------------------------------------------------


def test_variables_are_listed_once_in_order_of_appearance():
    content = "${b} ${a} ${b} ${a_1} $${not_a_var} ${with space} ${}"

    names = template_variables(kind=TemplateKind.HTML, content=content, layout_parameter_names=[])

    assert names == ["b", "a", "a_1"]


def test_layout_variables_are_its_parameter_names():
    names = template_variables(
        kind=TemplateKind.LAYOUT, content="", layout_parameter_names=["image_url", "person_id"]
    )

    assert names == ["image_url", "person_id"]


def test_unknown_kind_is_a_problem():
    with pytest.raises(QuestionProblem, match="not a kind"):
        template_variables(kind="pdf", content="", layout_parameter_names=[])
    with pytest.raises(QuestionProblem, match="not a kind"):
        _render("pdf", "x", {})


def test_missing_variable_is_named():
    with pytest.raises(QuestionProblem, match=r"\$\{person_id\}") as caught:
        _render(TemplateKind.HTML, HTML, {"image_url": "https://example.org/a.jpg"})

    assert "image_url" not in str(caught.value)


# --- HTMLQuestion ------------------------------------------------------------------------------


def test_html_values_are_escaped_and_the_document_completed():
    rendered = _render(
        TemplateKind.HTML, HTML, {"image_url": "https://example.org/a.jpg", "person_id": HOSTILE}
    )

    assert rendered.layout_id is None and rendered.layout_parameters is None
    assert rendered.question is not None
    content = html_content(rendered.question)
    assert content is not None
    assert content.startswith("<!DOCTYPE html>")
    assert f'<script src="{CROWD_HTML_ELEMENTS}"></script>' in content
    assert 'alt="Person &quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&amp;"' in content
    assert "<script>alert(1)" not in content
    # `$${` is a literal `${`, for the question's own scripts.
    assert "`${new Date()}`" in content
    root, _ = parse_xml(rendered.question)
    assert child_text(root, "FrameHeight") == "600"


def test_a_whole_document_keeps_its_doctype_and_gets_the_script_in_its_head():
    page = "<!DOCTYPE html><html><head><title>T</title></head><body><crowd-form></crowd-form></body></html>"

    content = html_content(_render(TemplateKind.HTML, page, {}).question or "")

    assert content is not None
    assert content.count("<!DOCTYPE html>") == 1
    assert content.index(CROWD_HTML_ELEMENTS) < content.index("<title>")


def test_plain_html_loads_no_crowd_script():
    content = html_content(
        _render(TemplateKind.HTML, "<form><input name=a></form>", {}).question or ""
    )

    assert content is not None
    assert CROWD_HTML_ELEMENTS not in content


def test_a_value_cannot_close_the_cdata_section():
    rendered = _render(TemplateKind.HTML, "<p>${x}</p><!-- ]]> -->", {"x": "]]>"})

    content = html_content(rendered.question or "")
    assert content is not None
    assert "<!-- ]]> -->" in content
    assert "]]&gt;" in content


def test_empty_html_is_a_problem():
    with pytest.raises(QuestionProblem, match="empty"):
        _render(TemplateKind.HTML, "   ", {})


def test_frame_height_out_of_range_is_a_problem():
    with pytest.raises(QuestionProblem, match="frame height"):
        _render(TemplateKind.HTML, "<p>x</p>", {}, frame_height=-1)


def test_oversize_question_says_its_size():
    big = "<p>" + "x" * 70_000 + "</p>"

    with pytest.raises(QuestionProblem) as caught:
        _render(TemplateKind.HTML, big, {})

    message = str(caught.value)
    assert "65,535" in message
    size = len(_html_bytes(big))
    assert f"{size:,} bytes" in message


def _html_bytes(content: str) -> bytes:
    # The size the refusal reports: the whole HTMLQuestion document.
    from publishing import questions

    return questions._html_question(questions._with_crowd_elements(content), 600).encode()


def test_a_value_that_makes_the_question_oversize_is_refused():
    with pytest.raises(QuestionProblem, match="bytes long"):
        _render(TemplateKind.HTML, "<p>${text}</p>", {"text": "é" * 40_000})


def test_a_value_with_characters_xml_cannot_carry_is_refused():
    with pytest.raises(QuestionProblem, match="not valid XML"):
        _render(TemplateKind.HTML, "<p>${text}</p>", {"text": "bell\x07"})


# --- ExternalQuestion --------------------------------------------------------------------------


def test_external_values_are_url_encoded_and_xml_escaped():
    rendered = _render(
        TemplateKind.EXTERNAL,
        "https://study.example.org/task?item=${item}&lang=${lang}",
        {"item": "a b&c=d/../#x", "lang": "en"},
        frame_height=0,
    )

    root, _ = parse_xml(rendered.question or "")
    assert root is not None
    assert (
        child_text(root, "ExternalURL")
        == "https://study.example.org/task?item=a%20b%26c%3Dd%2F..%2F%23x&lang=en"
    )
    assert child_text(root, "FrameHeight") == "0"
    assert "&amp;lang=en" in (rendered.question or "")


@pytest.mark.parametrize(
    "url",
    [
        "http://study.example.org/task",
        "javascript:alert(1)",
        "https:///no-host",
        "/relative/${x}",
        "https://study.example.org/a b",
    ],
)
def test_external_url_must_be_absolute_https(url):
    with pytest.raises(QuestionProblem, match="URL"):
        _render(TemplateKind.EXTERNAL, url, {"x": "1"})


def test_a_value_cannot_change_the_external_host():
    rendered = _render(TemplateKind.EXTERNAL, "https://${host}/task", {"host": "evil.org/x?"})

    assert "https://evil.org%2Fx%3F/task" in (rendered.question or "")


# --- QuestionForm ------------------------------------------------------------------------------


def test_question_form_values_are_xml_escaped():
    rendered = _render(
        TemplateKind.QUESTION_FORM, QUESTION_FORM, {"person": "<b>Tom & 'Jerry'</b>"}
    )

    root, _ = parse_xml(rendered.question or "")
    assert root is not None
    assert "How old is <b>Tom & 'Jerry'</b>?" in "".join(root.itertext())
    assert "&lt;b&gt;Tom &amp; &apos;Jerry&apos;&lt;/b&gt;" in (rendered.question or "")


def test_invalid_question_form_lists_each_problem():
    broken = QUESTION_FORM.replace("<QuestionIdentifier>age</QuestionIdentifier>", "")

    with pytest.raises(QuestionProblem) as caught:
        _render(TemplateKind.QUESTION_FORM, broken, {"person": "Tom"})

    assert caught.value.problems
    assert any("QuestionIdentifier" in problem for problem in caught.value.problems)


def test_question_form_that_is_not_xml_is_refused():
    with pytest.raises(QuestionProblem, match="not valid XML"):
        _render(TemplateKind.QUESTION_FORM, "<QuestionForm><Question>", {})


def test_question_form_template_must_be_a_question_form():
    html_question = _render(TemplateKind.HTML, "<p>x</p>", {}).question or ""

    with pytest.raises(QuestionProblem, match="<QuestionForm>"):
        _render(TemplateKind.QUESTION_FORM, html_question, {})


# --- layouts -----------------------------------------------------------------------------------


def test_layout_parameters_come_from_the_inputs_by_name():
    rendered = _render(
        TemplateKind.LAYOUT,
        "",
        {"image_url": "https://example.org/a.jpg", "person_id": "7", "extra": "x"},
        layout_id="3ABCDEF",
        layout_parameter_names=["image_url", "person_id"],
    )

    assert rendered == RenderedQuestion(
        None, "3ABCDEF", {"image_url": "https://example.org/a.jpg", "person_id": "7"}
    )


def test_layout_needs_its_id_and_every_parameter():
    with pytest.raises(QuestionProblem, match="HITLayoutId"):
        _render(TemplateKind.LAYOUT, "", {}, layout_parameter_names=[])
    with pytest.raises(QuestionProblem, match="person_id"):
        _render(TemplateKind.LAYOUT, "", {}, layout_id="3ABC", layout_parameter_names=["person_id"])


# --- the emulator's CreateHIT accepts what we render --------------------------------------------

_tokens = itertools.count(1)


def _create(gateway, rendered: RenderedQuestion):
    return gateway.create_hit(
        title="Guess the age",
        description="How old is the person in the picture?",
        reward="0.10",
        assignment_duration_seconds=600,
        lifetime_seconds=3600,
        token=f"test-questions-{next(_tokens)}",
        question=rendered.question,
        hit_layout_id=rendered.layout_id,
        hit_layout_parameters=rendered.layout_parameters,
    )


def test_emulator_accepts_every_kind(account_gateway, fresh_emulator):
    inputs = {"image_url": "https://example.org/a.jpg", "person_id": HOSTILE, "person": HOSTILE}
    layout = fresh_emulator.control.post(
        "/layouts",
        {"Template": "<p>${image_url} ${person_id}</p>", "Parameters": ["image_url", "person_id"]},
    )
    renders = [
        _render(TemplateKind.HTML, HTML, inputs),
        _render(TemplateKind.EXTERNAL, "https://study.example.org/?p=${person_id}", inputs),
        _render(TemplateKind.QUESTION_FORM, QUESTION_FORM, inputs),
        _render(
            TemplateKind.LAYOUT,
            "",
            inputs,
            layout_id=layout["HITLayoutId"],
            layout_parameter_names=["image_url", "person_id"],
        ),
    ]

    with account_gateway as gateway:
        created = [_create(gateway, rendered) for rendered in renders]

    assert all(result.created for result in created)
    stored = [result.hit.question for result in created]
    assert stored[:3] == [rendered.question for rendered in renders[:3]]
    # The layout's HTMLQuestion, filled by the emulator from our parameters.
    assert "&quot;&gt;&lt;script&gt;" in (stored[3] or "")


def test_an_unreadable_external_url_is_a_problem():
    with pytest.raises(QuestionProblem, match="cannot be read"):
        _render(TemplateKind.EXTERNAL, "https://[::1/task", {})


def test_file_upload_answers_are_refused_in_words_for_a_hit():
    upload = QUESTION_FORM.replace(
        "<FreeTextAnswer/>",
        "<FileUploadAnswer><MaxFileSizeInBytes>100000</MaxFileSizeInBytes>"
        "<MinFileSizeInBytes>0</MinFileSizeInBytes></FileUploadAnswer>",
    )

    with pytest.raises(QuestionProblem, match="no longer accepted") as caught:
        _render(TemplateKind.QUESTION_FORM, upload, {"person": "Tom"})

    assert "qualification test" not in str(caught.value)


@pytest.mark.django_db
def test_saving_a_taken_name_is_a_problem_not_a_crash(account, admin_user):
    from publishing.questions import save_template

    fields = {
        "kind": TemplateKind.HTML,
        "content": "<p>${x}</p>",
        "frame_height": 0,
        "layout_id": "",
        "layout_parameter_names": [],
    }
    save_template(account=account, user=admin_user, name="Twice", **fields)

    with pytest.raises(QuestionProblem, match="exists already"):
        save_template(account=account, user=admin_user, name="Twice", **fields)
