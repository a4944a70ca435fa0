"""The question template pages: creating, editing, deleting, the variables listed, the preview (escaped
and sandboxed), and who may do what."""

from __future__ import annotations

import html
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from dashboard.previews import SANDBOX_NO_SCRIPTS, SANDBOX_WITH_SCRIPTS, preview_csp
from publishing.models import QuestionTemplate
from tests.htmlcheck import nested_forms

pytestmark = pytest.mark.django_db

QF_NS = (
    "http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2017-11-06/QuestionForm.xsd"
)
QUESTION_FORM = f"""<QuestionForm xmlns="{QF_NS}">
  <Question>
    <QuestionIdentifier>age</QuestionIdentifier>
    <QuestionContent><Text>How old is ${{person}}?</Text></QuestionContent>
    <AnswerSpecification><FreeTextAnswer/></AnswerSpecification>
  </Question>
</QuestionForm>"""
HTML = '<crowd-form><img src="${image_url}" alt="${person_id}"><crowd-input name="age"></crowd-input></crowd-form>'
HOSTILE = '"><script>parent.document.title="owned"</script><img src=x onerror=alert(1)>'


def _template(account, **fields) -> QuestionTemplate:
    defaults = {"name": "Age guesser", "kind": "html", "content": HTML, "frame_height": 600}
    defaults.update(fields)
    return QuestionTemplate.objects.create(account=account, **defaults)


def _url(name: str, account, template: QuestionTemplate | None = None) -> str:
    kwargs = {"slug": account.slug}
    if template is not None:
        kwargs["pk"] = template.pk
    return reverse(name, kwargs=kwargs)


def _post(**fields) -> dict[str, str]:
    data = {
        "name": "Age guesser",
        "kind": "html",
        "content": HTML,
        "frame_height": "600",
        "layout_id": "",
        "layout_parameters": "",
    }
    data.update(fields)
    return data


class _Frames(HTMLParser):
    """The iframes of a page, with their attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.frames: list[dict[str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        if tag == "iframe":
            self.frames.append(dict(attrs))


def _frames(body: str) -> list[dict[str, str | None]]:
    parser = _Frames()
    parser.feed(body)
    return parser.frames


# --- create, edit, delete ----------------------------------------------------------------------


def test_admin_creates_an_html_template_and_sees_its_variables(lab_admin_client, account):
    response = lab_admin_client.post(_url("template-create", account), _post())

    template = QuestionTemplate.objects.get(account=account)
    assert response.status_code == 302
    assert response["Location"] == _url("template-detail", account, template)
    assert template.kind == "html" and template.content == HTML
    detail = lab_admin_client.get(response["Location"])
    body = detail.content.decode()
    assert detail.context["variables"] == ["image_url", "person_id"]
    assert "<code>image_url</code>" in body and "<code>person_id</code>" in body
    assert nested_forms(body) == []
    listing = lab_admin_client.get(_url("template-list", account)).content.decode()
    assert "Age guesser" in listing and "<code>person_id</code>" in listing


def test_admin_edits_a_template(lab_admin_client, account):
    template = _template(account)

    response = lab_admin_client.post(
        _url("template-edit", account, template),
        _post(name="Renamed", kind="external", content="https://study.example.org/?id=${id}"),
    )

    assert response.status_code == 302
    template.refresh_from_db()
    assert (template.name, template.kind) == ("Renamed", "external")
    assert lab_admin_client.get(response["Location"]).context["variables"] == ["id"]


def test_edit_page_shows_the_saved_template(lab_admin_client, account):
    template = _template(account, kind="layout", content="", layout_id="3ABC")
    template.layout_parameter_names = ["image_url", "person_id"]
    template.save()

    response = lab_admin_client.get(_url("template-edit", account, template))

    assert response.status_code == 200
    assert response.context["form"].initial["layout_parameters"] == "image_url\nperson_id"


def test_admin_creates_a_layout_template(lab_admin_client, account):
    response = lab_admin_client.post(
        _url("template-create", account),
        _post(
            kind="layout", content="", layout_id="3ABCDEF", layout_parameters="image_url\nperson_id"
        ),
    )

    assert response.status_code == 302
    template = QuestionTemplate.objects.get(account=account)
    assert template.layout_parameter_names == ["image_url", "person_id"]
    assert lab_admin_client.get(response["Location"]).context["variables"] == [
        "image_url",
        "person_id",
    ]


def test_admin_deletes_a_template(lab_admin_client, account):
    template = _template(account)

    response = lab_admin_client.post(_url("template-delete", account, template))

    assert response.status_code == 302
    assert not QuestionTemplate.objects.filter(pk=template.pk).exists()


def test_names_are_unique_per_account(lab_admin_client, account):
    _template(account)

    response = lab_admin_client.post(_url("template-create", account), _post())

    assert response.status_code == 400
    assert "exists already" in response.content.decode()
    assert QuestionTemplate.objects.filter(account=account).count() == 1


# --- refused with messages ---------------------------------------------------------------------


def test_invalid_question_form_is_refused_with_each_problem(lab_admin_client, account):
    broken = QUESTION_FORM.replace("<QuestionIdentifier>age</QuestionIdentifier>", "").replace(
        "<FreeTextAnswer/>", "<FreeTextAnswer/><SelectionAnswer/>"
    )

    response = lab_admin_client.post(
        _url("template-create", account), _post(kind="questionform", content=broken)
    )

    assert response.status_code == 400
    errors = response.context["form"].errors["content"]
    assert len(errors) >= 2
    assert any("QuestionIdentifier" in error for error in errors)
    body = response.content.decode()
    assert html.escape("<QuestionIdentifier>") in body
    assert not QuestionTemplate.objects.exists()


def test_question_form_that_is_not_xml_is_refused(lab_admin_client, account):
    response = lab_admin_client.post(
        _url("template-create", account), _post(kind="questionform", content="<QuestionForm>")
    )

    assert response.status_code == 400
    assert "not valid XML" in " ".join(response.context["form"].errors["content"])


def test_valid_question_form_is_saved(lab_admin_client, account):
    response = lab_admin_client.post(
        _url("template-create", account), _post(kind="questionform", content=QUESTION_FORM)
    )

    assert response.status_code == 302
    assert QuestionTemplate.objects.get(account=account).kind == "questionform"


@pytest.mark.parametrize(
    "url", ["http://study.example.org/", "javascript:alert(1)", "study.example.org/task"]
)
def test_external_url_must_be_https(lab_admin_client, account, url):
    response = lab_admin_client.post(
        _url("template-create", account), _post(kind="external", content=url)
    )

    assert response.status_code == 400
    assert "https://" in " ".join(response.context["form"].errors["content"])
    assert not QuestionTemplate.objects.exists()


def test_oversize_question_is_refused_with_its_size(lab_admin_client, account):
    response = lab_admin_client.post(
        _url("template-create", account), _post(content="<p>" + "x" * 66_000 + "</p>")
    )

    assert response.status_code == 400
    message = " ".join(response.context["form"].errors["content"])
    assert "65,535" in message and "bytes long" in message
    assert not QuestionTemplate.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field", "text"),
    [
        ({"kind": "layout", "content": "", "layout_id": ""}, "layout_id", "HITLayoutId"),
        ({"kind": "layout", "layout_id": "not an id"}, "layout_id", "capital letters"),
        (
            {"kind": "layout", "layout_id": "3ABC", "layout_parameters": "ok\nnot-ok!"},
            "layout_parameters",
            "not-ok!",
        ),
        ({"content": "   "}, "content", "no content"),
        ({"kind": "pdf"}, "kind", "valid choice"),
        ({"frame_height": "-5"}, "frame_height", ""),
        ({"frame_height": "999999"}, "frame_height", ""),
    ],
)
def test_bad_fields_are_refused_with_a_message(lab_admin_client, account, fields, field, text):
    response = lab_admin_client.post(_url("template-create", account), _post(**fields))

    assert response.status_code == 400
    errors = " ".join(response.context["form"].errors[field])
    assert errors and text in errors
    assert not QuestionTemplate.objects.exists()


# --- preview -----------------------------------------------------------------------------------


def test_preview_escapes_hostile_sample_values_and_is_sandboxed(staff_client, account):
    template = _template(account)

    response = staff_client.post(
        _url("template-preview", account, template),
        {"var_image_url": "https://example.org/a.jpg", "var_person_id": HOSTILE},
    )

    assert response.status_code == 200
    assert response["Content-Security-Policy"] == preview_csp()
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert "no-store" in response["Cache-Control"]
    [frame] = _frames(response.content.decode())
    # Scripts of the question may run, but never in the dashboard's origin.
    assert frame["sandbox"] == SANDBOX_WITH_SCRIPTS
    assert "allow-same-origin" not in (frame["sandbox"] or "")
    srcdoc = frame["srcdoc"] or ""
    # The value was HTML-escaped into the question: it is text in an attribute, never markup.
    assert html.escape(HOSTILE, quote=True) in srcdoc
    assert "<script>parent" not in srcdoc
    assert "crowd-html-elements.js" in srcdoc
    # And the page escaped the question once more into srcdoc: no raw tag from the value.
    assert "<script>parent" not in response.content.decode()


def test_preview_without_values_shows_the_placeholders(staff_client, account):
    template = _template(account)

    response = staff_client.get(_url("template-preview", account, template))

    assert response.status_code == 200
    [frame] = _frames(response.content.decode())
    assert 'alt="${person_id}"' in (frame["srcdoc"] or "")


def test_preview_of_a_question_form_runs_no_script(staff_client, account):
    template = _template(account, kind="questionform", content=QUESTION_FORM)

    response = staff_client.post(
        _url("template-preview", account, template), {"var_person": "<b>Tom</b>"}
    )

    assert response.status_code == 200
    assert response["Content-Security-Policy"] == preview_csp(scripts=False)
    [frame] = _frames(response.content.decode())
    assert frame["sandbox"] == SANDBOX_NO_SCRIPTS
    assert "&lt;b&gt;Tom&lt;/b&gt;" in (frame["srcdoc"] or "")


def test_preview_of_an_external_question_frames_only_its_https_origin(staff_client, account):
    template = _template(account, kind="external", content="https://study.example.org/t?i=${i}")

    response = staff_client.post(_url("template-preview", account, template), {"var_i": "a&b"})

    assert response.status_code == 200
    assert response["Content-Security-Policy"] == preview_csp("https://study.example.org")
    [frame] = _frames(response.content.decode())
    assert (frame["src"] or "").startswith("https://study.example.org/t?i=a%26b&")


def test_preview_of_a_layout_lists_its_parameters(staff_client, account):
    template = _template(account, kind="layout", content="", layout_id="3ABC")
    template.layout_parameter_names = ["person_id"]
    template.save()

    response = staff_client.post(
        _url("template-preview", account, template), {"var_person_id": HOSTILE}
    )

    assert response.status_code == 200
    body = response.content.decode()
    assert "<code>3ABC</code>" in body
    assert html.escape(HOSTILE) in body and HOSTILE not in body
    assert _frames(body) == []


def test_preview_refuses_a_value_that_breaks_the_question(staff_client, account):
    template = _template(account)

    response = staff_client.post(
        _url("template-preview", account, template),
        {"var_image_url": "x" * 4000, "var_person_id": "y" * 5001},
    )

    assert response.status_code == 400
    assert _frames(response.content.decode()) == []
    assert "5000" in response.content.decode()


def test_preview_reads_no_control_fields_from_the_query_string(staff_client, account):
    template = _template(account)

    response = staff_client.get(
        _url("template-preview", account, template) + "?var_person_id=FROM-THE-QUERY"
    )

    assert response.status_code == 200
    assert "FROM-THE-QUERY" not in response.content.decode()


def test_detail_page_frames_the_preview_and_posts_sample_values_to_it(staff_client, account):
    template = _template(account)

    response = staff_client.get(_url("template-detail", account, template))

    body = response.content.decode()
    [frame] = _frames(body)
    assert frame["src"] == _url("template-preview", account, template)
    assert 'target="template-preview"' in body and 'name="var_person_id"' in body
    # Staff may preview, not edit.
    assert _url("template-edit", account, template) not in body


# --- who may do what ---------------------------------------------------------------------------


def test_anonymous_is_sent_to_login(anonymous_client, account):
    template = _template(account)

    for name in ("template-list", "template-create"):
        response = anonymous_client.get(_url(name, account))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    response = anonymous_client.post(_url("template-preview", account, template), {})
    assert response["Location"].startswith(reverse("login"))


def test_staff_may_not_create_edit_or_delete(staff_client, account):
    template = _template(account)

    assert staff_client.post(_url("template-create", account), _post(name="New")).status_code == 403
    assert (
        staff_client.post(
            _url("template-edit", account, template), _post(name="Hijacked")
        ).status_code
        == 403
    )
    assert staff_client.post(_url("template-delete", account, template)).status_code == 403
    template.refresh_from_db()
    assert template.name == "Age guesser"
    assert QuestionTemplate.objects.count() == 1


def test_another_accounts_template_answers_404(
    lab_admin_client, account, other_account, admin_user
):
    other_account.members.add(admin_user)
    foreign = _template(other_account, name="Theirs")

    for name in ("template-detail", "template-edit", "template-preview"):
        url = reverse(name, kwargs={"slug": account.slug, "pk": foreign.pk})
        assert lab_admin_client.get(url).status_code == 404
    url = reverse("template-delete", kwargs={"slug": account.slug, "pk": foreign.pk})
    assert lab_admin_client.post(url).status_code == 404
    assert QuestionTemplate.objects.filter(pk=foreign.pk).exists()


def test_a_non_member_sees_no_template(other_staff_client, account, other_account):
    template = _template(account)

    assert other_staff_client.get(_url("template-list", account)).status_code == 404
    assert other_staff_client.post(_url("template-preview", account, template)).status_code == 404


# --- preview of the template being edited --------------------------------------------------------


def test_admin_previews_an_unsaved_template_sandboxed(lab_admin_client, account):
    content = '<p>${item}</p><script>parent.document.title="owned"</script>'

    response = lab_admin_client.post(
        _url("template-draft-preview", account), _post(name="Draft", content=content)
    )

    assert response.status_code == 200
    assert response["Content-Security-Policy"] == preview_csp()
    [frame] = _frames(response.content.decode())
    assert frame["sandbox"] == SANDBOX_WITH_SCRIPTS
    assert "<p>${item}</p>" in (frame["srcdoc"] or "")
    # Nothing is saved by a preview.
    assert not QuestionTemplate.objects.exists()


def test_unsaved_preview_ignores_a_taken_name(lab_admin_client, account):
    _template(account)

    response = lab_admin_client.post(_url("template-draft-preview", account), _post())

    assert response.status_code == 200
    assert len(_frames(response.content.decode())) == 1


def test_unsaved_preview_says_what_is_wrong(lab_admin_client, account):
    response = lab_admin_client.post(
        _url("template-draft-preview", account),
        _post(kind="external", content="http://study.example.org/"),
    )

    assert response.status_code == 400
    assert _frames(response.content.decode()) == []
    assert "https://" in response.content.decode()


def test_staff_may_not_preview_unsaved_templates(staff_client, account):
    response = staff_client.post(_url("template-draft-preview", account), _post())

    assert response.status_code == 403


def test_edit_form_previews_into_its_own_frame(lab_admin_client, account):
    template = _template(account)

    body = lab_admin_client.get(_url("template-edit", account, template)).content.decode()

    [frame] = _frames(body)
    assert frame["name"] == "template-draft-preview"
    assert frame["src"] == _url("template-preview", account, template)
    assert f'formaction="{_url("template-draft-preview", account)}"' in body
    assert nested_forms(body) == []
