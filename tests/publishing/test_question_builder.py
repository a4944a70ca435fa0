"""The QuestionForm builder (questions in a formset, saved as the XML mturk.requesting writes and
checked like hand-written XML) and the template's saved sample values the preview shows."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from mturk.qualification_test import validate_question_form
from publishing.models import QuestionTemplate
from publishing.questions import render_question
from tests.htmlcheck import nested_forms

pytestmark = pytest.mark.django_db

PREFIX = "questions"


def _url(name: str, account, template: QuestionTemplate | None = None) -> str:
    kwargs = {"slug": account.slug}
    if template is not None:
        kwargs["pk"] = template.pk
    return reverse(name, kwargs=kwargs)


def _question(**fields) -> dict[str, str]:
    data = {
        "identifier": "age",
        "display_name": "",
        "required": "on",
        "text": "How old is ${person}?",
        "answer": "free_text",
        "choices": "",
        "min_selections": "",
        "max_selections": "",
        "min_length": "",
        "max_length": "",
        "regex": "",
        "regex_error": "",
        "lines": "",
    }
    data.update(fields)
    return data


def _post(*questions: dict[str, str], action: str = "save", **template) -> dict[str, str]:
    data = {
        "action": action,
        "template-name": template.get("name", "Ages"),
        "template-overview": template.get("overview", "Look at ${person}'s photo."),
        f"{PREFIX}-TOTAL_FORMS": str(len(questions)),
        f"{PREFIX}-INITIAL_FORMS": str(len(questions)),
        f"{PREFIX}-MIN_NUM_FORMS": "0",
        f"{PREFIX}-MAX_NUM_FORMS": "1000",
    }
    for index, question in enumerate(questions):
        for name, value in question.items():
            if name == "required" and not value:
                continue
            data[f"{PREFIX}-{index}-{name}"] = value
    return data


TWO_QUESTIONS = (
    _question(
        identifier="age",
        min_length="1",
        max_length="3",
        regex="^[0-9]+$",
        regex_error="Digits only, please.",
        lines="1",
    ),
    _question(
        identifier="mood",
        display_name="Mood",
        text="How does ${person} look?",
        answer="checkbox",
        choices="happy | Happy\nsad | Sad & tired\nangry|Angry",
        min_selections="1",
        max_selections="2",
    ),
)


def _errors(response) -> str:
    return response.content.decode()


class _Fields(HTMLParser):
    """The values of a page's inputs and textareas, by name."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.values: dict[str, str] = {}
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("name"):
            if attrs.get("type") == "checkbox":
                if "checked" in attrs:
                    self.values[attrs["name"]] = "on"
            else:
                self.values[attrs["name"]] = attrs.get("value") or ""
        elif tag == "textarea":
            self._textarea = attrs["name"]
            self.values[self._textarea] = ""
        elif tag == "option" and "selected" in attrs:
            self.values[f"selected:{attrs.get('value')}"] = "on"

    def handle_data(self, data):
        if self._textarea:
            self.values[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None


def _fields(body: str) -> dict[str, str]:
    parser = _Fields()
    parser.feed(body)
    return parser.values


# --- building -----------------------------------------------------------------------------------


def test_builder_saves_a_valid_question_form_with_its_questions(lab_admin_client, account):
    response = lab_admin_client.post(_url("template-build", account), _post(*TWO_QUESTIONS))

    template = QuestionTemplate.objects.get(account=account)
    assert response.status_code == 302
    assert response["Location"] == _url("template-detail", account, template)
    assert template.kind == "questionform"
    assert validate_question_form(template.content) == []
    assert '<Length minLength="1" maxLength="3"/>' in template.content
    assert "<StyleSuggestion>checkbox</StyleSuggestion>" in template.content
    assert "<MaxSelectionCount>2</MaxSelectionCount>" in template.content
    assert [q["identifier"] for q in template.builder_spec["questions"]] == ["age", "mood"]
    assert template.builder_spec["questions"][1]["choices"] == [
        ["happy", "Happy"],
        ["sad", "Sad & tired"],
        ["angry", "Angry"],
    ]
    # The detail page lists the variables the questions use, and opens the builder to edit.
    detail = lab_admin_client.get(_url("template-detail", account, template)).content.decode()
    assert "<code>person</code>" in detail
    assert _url("template-build-edit", account, template) in detail


def test_a_built_template_renders_with_each_row_escaped(account):
    from publishing.questions import build_question_form_xml

    spec = {
        "overview": "About ${person}",
        "questions": [
            {
                "identifier": "q",
                "text": "Is ${person} here?",
                "answer": "dropdown",
                "choices": [["y", "Yes"], ["n", "No"]],
                "required": True,
            },
        ],
    }
    xml = build_question_form_xml(spec)

    rendered = render_question(
        kind="questionform",
        content=xml,
        frame_height=0,
        layout_id="",
        inputs={"person": "<Tom & Jerry>"},
    )

    assert rendered.question is not None
    assert "Is &lt;Tom &amp; Jerry&gt; here?" in rendered.question
    assert "<StyleSuggestion>dropdown</StyleSuggestion>" in rendered.question
    assert validate_question_form(rendered.question) == []


def test_editing_reopens_the_builder_with_the_same_questions(lab_admin_client, account):
    lab_admin_client.post(_url("template-build", account), _post(*TWO_QUESTIONS))
    template = QuestionTemplate.objects.get(account=account)

    response = lab_admin_client.get(_url("template-build-edit", account, template))

    assert response.status_code == 200
    body = response.content.decode()
    assert not nested_forms(body)
    fields = _fields(body)
    assert fields["template-name"] == "Ages"
    assert fields["template-overview"].strip() == "Look at ${person}'s photo."
    assert fields[f"{PREFIX}-TOTAL_FORMS"] == "2"
    assert fields[f"{PREFIX}-0-identifier"] == "age"
    assert fields[f"{PREFIX}-0-regex"] == "^[0-9]+$"
    assert fields[f"{PREFIX}-0-max_length"] == "3"
    assert fields[f"{PREFIX}-1-identifier"] == "mood"
    assert fields[f"{PREFIX}-1-display_name"] == "Mood"
    assert fields[f"{PREFIX}-1-choices"].strip().splitlines() == [
        "happy | Happy",
        "sad | Sad & tired",
        "angry | Angry",
    ]
    assert fields[f"{PREFIX}-1-max_selections"] == "2"
    assert fields[f"{PREFIX}-1-required"] == "on"
    assert "selected:checkbox" in fields

    # Saving what the page shows changes nothing workers see.
    data = {name: value for name, value in fields.items() if not name.startswith("selected:")}
    data.update(
        {"action": "save", f"{PREFIX}-0-answer": "free_text", f"{PREFIX}-1-answer": "checkbox"}
    )
    data.pop("csrfmiddlewaretoken", None)
    content = template.content
    again = lab_admin_client.post(_url("template-build-edit", account, template), data)
    assert again.status_code == 302, _errors(again)
    template.refresh_from_db()
    assert template.content == content


def test_a_question_is_added_and_one_removed_without_saving(lab_admin_client, account):
    data = _post(*TWO_QUESTIONS, action="add_question")
    data[f"{PREFIX}-0-DELETE"] = "on"

    response = lab_admin_client.post(_url("template-build", account), data)

    assert response.status_code == 200
    assert not QuestionTemplate.objects.exists()
    fields = _fields(response.content.decode())
    assert fields[f"{PREFIX}-TOTAL_FORMS"] == "2"
    # The removed question is gone, the kept one first, then a blank one.
    assert fields[f"{PREFIX}-0-identifier"] == "mood"
    assert fields[f"{PREFIX}-1-identifier"] == ""


def test_removing_a_question_on_save_drops_it(lab_admin_client, account):
    data = _post(*TWO_QUESTIONS)
    data[f"{PREFIX}-1-DELETE"] = "on"

    lab_admin_client.post(_url("template-build", account), data)

    template = QuestionTemplate.objects.get(account=account)
    assert [q["identifier"] for q in template.builder_spec["questions"]] == ["age"]
    assert "<QuestionIdentifier>mood</QuestionIdentifier>" not in template.content


@pytest.mark.parametrize(
    ("questions", "text"),
    [
        ((_question(), _question(text="Again?")), "Another question has this identifier."),
        ((_question(identifier="my age"),), "cannot be an identifier"),
        ((_question(identifier="${person}"),), "cannot be an identifier"),
        ((_question(answer="radiobutton"),), "A choice answer needs its choices"),
        ((_question(answer="dropdown", choices="just text"),), "needs an identifier, a | and"),
        ((_question(answer="radiobutton", choices="a|A\na|Again"),), "Two choices are named"),
        (
            (
                _question(
                    answer="checkbox", choices="a|A\nb|B", min_selections="2", max_selections="1"
                ),
            ),
            "The least is more than the most.",
        ),
        ((_question(answer="checkbox", choices="a|A", max_selections="3"),), "only 1 choices"),
        ((_question(answer="radiobutton", choices="a|A", max_selections="1"),), "for checkboxes"),
        ((_question(answer="radiobutton", choices="a|A", regex="x"),), "for free-text answers"),
        ((_question(choices="a|A"),), "A free-text answer has no choices."),
        ((_question(min_length="5", max_length="2"),), "The least is more than the most."),
        ((_question(regex_error="No."),), "A message needs a pattern."),
        ((_question(regex="^a\nb$"),), "A pattern is one line"),
        ((_question(text=""),), "This field is required."),
    ],
)
def test_bad_questions_are_refused_with_a_message(lab_admin_client, account, questions, text):
    response = lab_admin_client.post(_url("template-build", account), _post(*questions))

    assert response.status_code == 400
    assert text in response.content.decode()
    assert not QuestionTemplate.objects.exists()


def test_every_question_removed_is_refused(lab_admin_client, account):
    data = _post(_question())
    data[f"{PREFIX}-0-DELETE"] = "on"

    response = lab_admin_client.post(_url("template-build", account), data)

    assert response.status_code == 400
    assert "needs at least one question" in response.content.decode()


def test_a_taken_name_is_refused(lab_admin_client, account):
    QuestionTemplate.objects.create(account=account, name="Ages", kind="html", content="<p>x</p>")

    response = lab_admin_client.post(_url("template-build", account), _post(_question()))

    assert response.status_code == 400
    assert "A template with this name exists already." in response.content.decode()


def test_the_64_kb_limit_is_refused(lab_admin_client, account):
    # Each text is within the form's limits; together they are over MTurk's 64 KB.
    questions = [_question(identifier=f"q{n}", text="x" * 19000) for n in range(4)]

    response = lab_admin_client.post(_url("template-build", account), _post(*questions))

    assert response.status_code == 400
    assert "65535" in response.content.decode()
    assert not QuestionTemplate.objects.exists()


def test_saving_raw_xml_forgets_the_builder(lab_admin_client, account):
    lab_admin_client.post(_url("template-build", account), _post(_question()))
    template = QuestionTemplate.objects.get(account=account)
    page = lab_admin_client.get(_url("template-edit", account, template)).content.decode()
    assert 'id="builder-notice"' in page

    response = lab_admin_client.post(
        _url("template-edit", account, template),
        {
            "name": "Ages",
            "kind": "questionform",
            "content": template.content.replace("How old", "What age"),
            "frame_height": "600",
            "layout_id": "",
            "layout_parameters": "",
        },
    )

    assert response.status_code == 302
    template.refresh_from_db()
    assert template.builder_spec == {}
    assert "What age" in template.content
    # The builder no longer opens it: the XML is edited as XML.
    again = lab_admin_client.get(_url("template-build-edit", account, template))
    assert again.status_code == 302
    assert again["Location"] == _url("template-edit", account, template)


def test_staff_may_not_build(staff_client, account):
    response = staff_client.post(_url("template-build", account), _post(_question()))

    assert response.status_code == 403
    assert not QuestionTemplate.objects.exists()


def test_another_accounts_template_is_not_opened(lab_admin_client, account, other_account):
    from publishing.questions import build_question_form_xml

    spec = {"questions": [{"identifier": "q", "text": "Hi?", "answer": "free_text"}]}
    theirs = QuestionTemplate.objects.create(
        account=other_account,
        name="Theirs",
        kind="questionform",
        content=build_question_form_xml(spec),
        builder_spec=spec,
    )

    response = lab_admin_client.get(
        reverse("template-build-edit", kwargs={"slug": account.slug, "pk": theirs.pk})
    )

    assert response.status_code == 404


def test_builder_previews_unsaved_questions_without_scripts(lab_admin_client, account):
    from dashboard.previews import preview_csp

    # A taken name (the template being edited, say) is no reason not to preview.
    QuestionTemplate.objects.create(account=account, name="Ages", kind="html", content="<p>x</p>")

    response = lab_admin_client.post(_url("template-build-preview", account), _post(*TWO_QUESTIONS))

    assert response.status_code == 200
    assert response["Content-Security-Policy"] == preview_csp(scripts=False)
    body = response.content.decode()
    assert "How old is ${person}?" in body
    assert QuestionTemplate.objects.count() == 1


def test_builder_preview_says_what_is_wrong(lab_admin_client, account):
    response = lab_admin_client.post(
        _url("template-build-preview", account), _post(_question(identifier="my age"))
    )

    assert response.status_code == 400
    body = response.content.decode()
    assert "Question 1, QuestionIdentifier" in body and "cannot be an identifier" in body


def test_staff_may_not_preview_unsaved_builder_questions(staff_client, account):
    response = staff_client.post(_url("template-build-preview", account), _post(_question()))

    assert response.status_code == 403


# --- sample values ------------------------------------------------------------------------------


def _html_template(account) -> QuestionTemplate:
    return QuestionTemplate.objects.create(
        account=account,
        name="Photo",
        kind="html",
        content='<p>${person}</p><img src="${image_url}">',
    )


def test_sample_values_are_saved_and_the_preview_shows_them(
    lab_admin_client, staff_client, account
):
    template = _html_template(account)

    response = lab_admin_client.post(
        _url("template-samples", account, template),
        {"var_person": "<b>Ann</b>", "var_image_url": "", "var_other": "ignored"},
    )

    assert response.status_code == 302
    template.refresh_from_db()
    # Only the template's variables, only those given.
    assert template.sample_values == {"person": "<b>Ann</b>"}
    preview = staff_client.get(_url("template-preview", account, template)).content.decode()
    assert "&amp;lt;b&amp;gt;Ann&amp;lt;/b&amp;gt;" in preview  # escaped into HTML, then srcdoc
    assert "${image_url}" in preview
    # The detail page fills the form with the saved values.
    detail = _fields(
        lab_admin_client.get(_url("template-detail", account, template)).content.decode()
    )
    assert detail["var_person"] == "<b>Ann</b>"
    assert detail["var_image_url"] == ""


def test_a_bad_sample_value_is_refused_with_a_message(lab_admin_client, account):
    template = _html_template(account)

    response = lab_admin_client.post(
        _url("template-samples", account, template), {"var_person": "x" * 5001}, follow=True
    )

    template.refresh_from_db()
    assert template.sample_values == {}
    assert "Sample values not saved" in response.content.decode()
    assert "5000" in response.content.decode()


def test_staff_may_preview_but_not_save_sample_values(staff_client, account):
    template = _html_template(account)

    response = staff_client.post(_url("template-samples", account, template), {"var_person": "Bo"})

    assert response.status_code == 403
    template.refresh_from_db()
    assert template.sample_values == {}
    detail = staff_client.get(_url("template-detail", account, template)).content.decode()
    assert 'id="save-samples"' not in detail


def test_posted_values_win_over_saved_ones_and_the_query_string_is_ignored(staff_client, account):
    template = _html_template(account)
    template.sample_values = {"person": "Saved"}
    template.save()

    posted = staff_client.post(
        _url("template-preview", account, template), {"var_person": "Posted"}
    ).content.decode()
    queried = staff_client.get(
        _url("template-preview", account, template) + "?var_person=Queried"
    ).content.decode()

    assert "Posted" in posted and "Saved" not in posted
    assert "Saved" in queried and "Queried" not in queried


def test_a_built_template_previews_with_its_sample_values(lab_admin_client, account):
    lab_admin_client.post(_url("template-build", account), _post(*TWO_QUESTIONS))
    template = QuestionTemplate.objects.get(account=account)
    lab_admin_client.post(_url("template-samples", account, template), {"var_person": "Ann"})

    response = lab_admin_client.get(_url("template-preview", account, template))

    assert response.status_code == 200
    body = response.content.decode()
    assert "How old is Ann?" in body
    assert "Sad &amp;amp; tired" in body or "Sad &amp; tired" in body
