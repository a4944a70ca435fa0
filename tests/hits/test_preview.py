"""Question previews and answer replays: form filling, external URLs and the page's policy,
build_preview for each kind of question, the preview page's permissions and headers, and (in
Chromium) that a hostile question cannot reach the dashboard. The QuestionForm renderer itself is
tested in tests/mturk/test_questionform.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from dashboard.enums import (
    RESEARCH_STAFF_GROUP,
    SyncKind,
)
from dashboard.previews import SANDBOX_EXTERNAL, SANDBOX_WITH_SCRIPTS, preview_csp
from hits.enums import QuestionKind
from hits.models import HIT, Assignment, HITType
from hits.preview.build import build_preview
from hits.preview.external import ASSIGNMENT_ID_NOT_AVAILABLE, external_preview_url
from hits.preview.form_filler import fill_html_form
from mturk.questionform import render_question_form
from tests.factories import RequesterAccountFactory, UserFactory
from tests.mturk.test_questionform import FULL_FORM, HOSTILE, Page, question_form
from workers.models import Worker

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
HTML_NS = (
    "http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2011-11-11/HTMLQuestion.xsd"
)
EXT_NS = "http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2006-07-14/ExternalQuestion.xsd"


# --- helpers -------------------------------------------------------------------------------------


def _html_question(content: str, height: int = 450) -> str:
    return (
        f'<HTMLQuestion xmlns="{HTML_NS}"><HTMLContent><![CDATA[{content}]]></HTMLContent>'
        f"<FrameHeight>{height}</FrameHeight></HTMLQuestion>"
    )


def _external_question(url: str, height: int = 600) -> str:
    return (
        f'<ExternalQuestion xmlns="{EXT_NS}"><ExternalURL>{url}</ExternalURL>'
        f"<FrameHeight>{height}</FrameHeight></ExternalQuestion>"
    )


def _directives(policy: str) -> dict[str, list[str]]:
    out = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


# --- Filling an HTML form ------------------------------------------------------------------------

PLAIN_FORM = """<!DOCTYPE html><html><head><script src='https://s3.amazonaws.com/mturk-public/externalHIT_v1.js'></script></head>
<body><form name='mturk_form' method='post' action='https://www.mturk.com/mturk/externalSubmit'>
<input type='hidden' value='' name='assignmentId' id='assignmentId'/>
<p>Is this a cat?</p>
<label><INPUT TYPE=radio name=cat value=yes checked>Yes</label>
<label><input type="radio" name="cat" value="no">No</label>
<input name=title placeholder="Title">
<input type=number name=count value=3>
<textarea name='comment' cols='80' rows='3'>default text</textarea>
<input type=checkbox name=features value=ears><input type=checkbox name=features value=tail>
<input type=checkbox name=features value=whiskers checked>
<input type=checkbox name=agree checked>
<select name=breed><option value="">Pick</option><option value=tabby selected>Tabby</option><option value=siamese>Siamese</option></select>
<select name=colours multiple><option>Black</option><option>  Ginger
  cat </option><option value=w>White</option></select>
<script>var t = "<input name=cat value=yes>"; turkSetAssignmentID();</script>
<!-- a comment with <input name=title> inside -->
<input type='submit' id='submitButton' value='Submit' /></form>
</body></html>"""


def test_fill_html_form_sets_values_checks_and_selections():
    answers = {
        "assignmentId": "ASSIGN1",
        "cat": "no",
        "title": "A cat on a mat",
        "count": "7",
        "comment": "Fluffy\nand grey",
        "features": "ears|tail",
        "breed": "siamese",
        "colours": "Ginger cat|w",
    }

    filled = fill_html_form(PLAIN_FORM, answers)
    page = Page(filled)

    assert page.one("input", name="assignmentId")["value"] == "ASSIGN1"
    assert [("checked" in r) for r in page.find("input", name="cat")] == [False, True]
    assert page.one("input", name="title")["value"] == "A cat on a mat"
    assert page.one("input", name="count")["value"] == "7"
    assert page.textarea("comment") == "Fluffy\nand grey"
    assert [("checked" in c) for c in page.find("input", name="features")] == [True, True, False]
    assert "checked" not in page.one("input", name="agree")  # absent: the worker unticked it
    assert [("selected" in o) for o in page.find("option")] == [
        False,
        False,
        True,
        False,
        True,
        True,
    ]
    assert page.one("input", type="submit")["value"] == "Submit"
    controls = [a for tag, a in page.tags if tag in ("input", "textarea", "select")]
    assert len(controls) == 13 and all("disabled" in a for a in controls)


def test_fill_html_form_leaves_everything_else_byte_for_byte():
    filled = fill_html_form(PLAIN_FORM, {"cat": "no"})

    assert filled.startswith(PLAIN_FORM[: PLAIN_FORM.index("<input type='hidden'")])
    assert '<script>var t = "<input name=cat value=yes>"; turkSetAssignmentID();</script>' in filled
    assert "<!-- a comment with <input name=title> inside -->" in filled
    assert "<p>Is this a cat?</p>" in filled
    assert filled.endswith("</form>\n</body></html>")


def test_fill_html_form_checkbox_values_as_a_list_and_select_multiple_as_a_list():
    markup = (
        "<form><input type=checkbox name=f value=a><input type=checkbox name=f value=b>"
        "<input type=checkbox name=f value=c><select name=s multiple><option value=1>1"
        "<option value=2>2<option value=3>3</select></form>"
    )

    page = Page(fill_html_form(markup, {"f": ["a", "c"], "s": ["1", "3"]}))

    assert [("checked" in c) for c in page.find("input")] == [True, False, True]
    assert [("selected" in o) for o in page.find("option")] == [True, False, True]


def test_fill_html_form_handles_crowd_elements():
    markup = """<script src="https://assets.crowd.aws/crowd-html-elements.js"></script>
<crowd-form>
  <crowd-input name="tag1" label="Word"></crowd-input>
  <crowd-text-area name="notes" rows="3"></crowd-text-area>
  <crowd-radio-group>
    <crowd-radio-button name="positive" value="positive">Positive</crowd-radio-button>
    <crowd-radio-button name="negative" value="negative" checked>Negative</crowd-radio-button>
  </crowd-radio-group>
  <crowd-checkbox name="confident" value="yes">Sure?</crowd-checkbox>
  <crowd-classifier name="sentiment" categories="['Positive', 'Negative']" header="Sentiment?"></crowd-classifier>
</crowd-form>"""
    answers = {
        "tag1": "kitten",
        "notes": HOSTILE,
        "positive": "positive",
        "negative": "",
        "confident": "yes",
        "sentiment.label": "Positive",
    }

    page = Page(fill_html_form(markup, answers))

    assert page.one("crowd-input")["value"] == "kitten"
    assert page.one("crowd-text-area")["value"] == HOSTILE
    assert "checked" in page.one("crowd-radio-button", name="positive")
    assert "checked" not in page.one("crowd-radio-button", name="negative")
    assert "checked" in page.one("crowd-checkbox")
    assert "disabled" in page.one("crowd-classifier")
    assert [tag for tag, _ in page.tags].count("script") == 1


def test_fill_html_form_keeps_hostile_answers_out_of_the_markup():
    markup = (
        "<form><input name=a><textarea name=b></textarea><input type=radio name=c value=x></form>"
    )
    answers = {"a": HOSTILE, "b": "</textarea><script>alert(3)</script>", "c": HOSTILE}

    filled = fill_html_form(markup, answers)
    page = Page(filled)

    assert [tag for tag, _ in page.tags].count("script") == 0
    assert page.one("input", name="a")["value"] == HOSTILE
    assert "&lt;/textarea&gt;&lt;script&gt;alert(3)&lt;/script&gt;</textarea>" in filled
    assert "checked" not in page.one("input", name="c")


@pytest.mark.parametrize(
    "markup",
    [
        "<form><input name=a value='x",  # unterminated attribute
        "<textarea name=a>never closed <b>",
        "<select name=s><option>One<option>Two",
        "<![CDATA[ <input name=a> ]]><?php echo 1 ?><div <bad attr>",
        "",
    ],
)
def test_fill_html_form_never_raises_on_messy_html(markup):
    filled = fill_html_form(markup, {"a": "<i>", "s": "Two"})

    assert "<i>" not in filled  # the answer only ever lands escaped
    assert len(filled) >= len(markup) - len("never closed <b>")


def test_fill_html_form_closes_over_an_unclosed_textarea():
    assert fill_html_form("<textarea name=a>left <b>", {"a": "<i>x</i>"}) == (
        '<textarea name="a" disabled>&lt;i&gt;x&lt;/i&gt;'
    )


# --- External URLs and CSP -----------------------------------------------------------------------


def test_external_preview_url_appends_mturk_preview_parameters():
    url = external_preview_url(
        "https://tictactoe.example.com/gamesurvey.cgi?gameid=01523&x=a%20b#top", hit_id="HIT1"
    )

    assert url == (
        "https://tictactoe.example.com/gamesurvey.cgi?gameid=01523&x=a%20b"
        f"&assignmentId={ASSIGNMENT_ID_NOT_AVAILABLE}&hitId=HIT1#top"
    )


def test_external_preview_url_for_an_accepted_assignment_and_reserved_names():
    url = external_preview_url(
        "https://example.com/task?hitId=forged&workerId=forged&keep=1",
        hit_id="HIT1",
        assignment_id="ASSIGN1",
        worker_id="AWORKER",
        turk_submit_to="https://workersandbox.mturk.com",
    )

    assert url == (
        "https://example.com/task?keep=1&assignmentId=ASSIGN1&hitId=HIT1"
        "&turkSubmitTo=https%3A%2F%2Fworkersandbox.mturk.com&workerId=AWORKER"
    )


def test_preview_csp_for_question_html_isolates_and_blocks_network_and_posts():
    policy = _directives(preview_csp())

    assert policy["default-src"] == ["'none'"]
    assert policy["script-src"] == ["'unsafe-inline'", "'unsafe-eval'", "https:"]
    assert policy["connect-src"] == ["'none'"]
    assert policy["form-action"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'self'"]
    assert policy["sandbox"] == ["allow-scripts", "allow-forms"]
    assert "'self'" not in policy["script-src"] + policy["img-src"] + policy["frame-src"]


def test_preview_csp_without_scripts_and_for_an_external_origin():
    assert _directives(preview_csp(scripts=False))["script-src"] == ["'none'"]
    assert _directives(preview_csp(scripts=False))["sandbox"] == []
    external = _directives(preview_csp("https://Survey.Example.org:8443"))
    assert external["frame-src"] == ["https://survey.example.org:8443"]
    assert "script-src" not in external and external["default-src"] == ["'none'"]
    assert "sandbox" not in external  # it would force the external page into an opaque origin
    smuggled = _directives(preview_csp("https://a.example; script-src *"))
    assert smuggled["frame-src"] == ["'none'"] and "script-src" not in smuggled


# --- build_preview -------------------------------------------------------------------------------


def _hit(question: str = "", **fields) -> HIT:
    return HIT(hit_id=fields.pop("hit_id", "HIT1"), question=question, **fields)


def test_build_preview_of_an_html_question():
    content = "<p>Is this a cat?</p><input name=cat>"

    preview = build_preview(hit=_hit(_html_question(content, 450)))

    assert (preview.kind, preview.srcdoc, preview.frame_height) == (QuestionKind.HTML, content, 450)
    assert preview.sandbox == SANDBOX_WITH_SCRIPTS == "allow-scripts allow-forms"
    assert preview.csp == preview_csp()
    assert (preview.note, preview.answers_table, preview.external_url) == ("", [], None)


def test_build_preview_replay_of_an_html_question_fills_it_and_lists_the_answers():
    assignment = Assignment(answers={"cat": HOSTILE, "extra": ["a", "b"]})

    preview = build_preview(hit=_hit(_html_question("<input name=cat>", 0)), assignment=assignment)

    assert (
        preview.srcdoc
        == '<input name="cat" value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" disabled>'
    )
    assert preview.frame_height == 0
    assert preview.answers_table == [("cat", HOSTILE), ("extra", "a|b")]


def test_build_preview_of_an_external_question_frames_it_in_preview_mode():
    hit = _hit(_external_question("https://survey.example.org/run?study=7"), hit_id="HITX")

    preview = build_preview(hit=hit, own_origin="https://dashboard.example.org")
    replay = build_preview(
        hit=hit, assignment=Assignment(answers={"q1": "<b>yes</b>"}), own_origin="http://testserver"
    )

    assert preview.external_url == (
        "https://survey.example.org/run?study=7&assignmentId=ASSIGNMENT_ID_NOT_AVAILABLE&hitId=HITX"
    )
    assert preview.srcdoc is None and preview.frame_height == 600
    assert preview.sandbox == SANDBOX_EXTERNAL
    assert _directives(preview.csp)["frame-src"] == ["https://survey.example.org"]
    assert replay.external_url == preview.external_url
    assert replay.answers_table == [("q1", "<b>yes</b>")]
    assert "cannot be filled" in replay.note


@pytest.mark.parametrize(
    ("url", "own_origin", "expected_note"),
    [
        ("http://survey.example.org/", None, "not an https URL"),
        ("javascript:alert(1)", None, "not an https URL"),
        ("https://dash.example.org/a/lab/", "https://dash.example.org", "points at this dashboard"),
        ("https://dash.example.org:443/x", "https://DASH.example.org", "points at this dashboard"),
    ],
)
def test_build_preview_refuses_to_frame_insecure_or_own_origin_urls(url, own_origin, expected_note):
    preview = build_preview(hit=_hit(_external_question(url)), own_origin=own_origin)

    assert preview.external_url is None and preview.srcdoc is None
    assert expected_note in preview.note
    assert url in preview.raw_question
    assert _directives(preview.csp)["script-src"] == ["'none'"]


def test_build_preview_of_a_question_form_renders_it_without_scripts():
    preview = build_preview(hit=_hit(FULL_FORM))
    replay = build_preview(hit=_hit(FULL_FORM), assignment=Assignment(answers={"nextmove": "A1"}))

    assert preview.kind == QuestionKind.QUESTION_FORM
    assert preview.srcdoc == render_question_form(FULL_FORM)
    assert preview.sandbox == ""
    assert _directives(preview.csp)["script-src"] == ["'none'"]
    assert Page(replay.srcdoc).one("input", name="nextmove")["value"] == "A1"


def test_build_preview_of_a_layout_hit_without_a_question_shows_its_parameters():
    hit = _hit(
        hit_layout_id="3MCDHXBQ4Z7SJ2ZT2XZACNE142JWKX",
        layout_parameters=[
            {"Name": "image_url", "Value": "https://x/<b>.png"},
            {"Name": "n", "Value": "3"},
        ],
    )

    preview = build_preview(hit=hit)

    assert preview.kind == QuestionKind.LAYOUT
    assert preview.srcdoc is None and preview.external_url is None
    assert preview.layout_parameters == [("image_url", "https://x/<b>.png"), ("n", "3")]
    assert preview.hit_layout_id == "3MCDHXBQ4Z7SJ2ZT2XZACNE142JWKX"
    assert "layout id and parameters" in preview.note


def test_build_preview_of_a_layout_hit_with_a_question_renders_the_question():
    hit = _hit(_html_question("<p>hi</p>"), hit_layout_id="LAYOUT1", layout_parameters={"a": "1"})

    preview = build_preview(hit=hit)

    assert (preview.kind, preview.srcdoc) == (QuestionKind.HTML, "<p>hi</p>")
    assert preview.layout_parameters == [("a", "1")]


@pytest.mark.parametrize(
    ("question", "note"),
    [
        ("<HTMLQuestion><HTMLContent>unclosed", "could not be read"),
        ("<Survey><Item/></Survey>", "<Survey> document"),
        (_html_question(""), "has no HTMLContent"),
        (question_form("<Overview><Text>hi</Text></Overview>"), "has no questions"),
        ("", "no question document"),
    ],
)
def test_build_preview_explains_what_it_cannot_show(question, note):
    preview = build_preview(hit=_hit(question))

    assert note in preview.note
    assert preview.srcdoc is None and preview.external_url is None
    assert preview.raw_question == question


def test_build_preview_says_when_the_answer_could_not_be_read():
    assignment = Assignment(answers={"a": "1"}, answers_ok=False, answers_error="bad XML")

    preview = build_preview(hit=_hit(_html_question("<input name=a>")), assignment=assignment)

    assert (
        preview.note
        == "This worker's answer could not be read completely (bad XML); what could be read is shown."
    )
    assert preview.answers_table == [("a", "1")]


# --- The preview page ----------------------------------------------------------------------------


def _mirror(
    account,
    question: str,
    *,
    hit_id="HITPREVIEW",
    assignment_id="ASSIGNPREVIEW",
    answers=None,
    **hit_fields,
):
    hit_type, _ = HITType.objects.get_or_create(account=account, hit_type_id=f"TYPE-{account.slug}")
    hit = HIT.objects.create(
        account=account,
        hit_type=hit_type,
        hit_id=hit_id,
        status="Reviewable",
        question=question,
        title=hit_fields.pop("title", "Is this a cat?"),
        **hit_fields,
    )
    worker, _ = Worker.objects.get_or_create(account=account, worker_id="AWORKERPREVIEW")
    assignment = Assignment.objects.create(
        account=account,
        hit=hit,
        hit_type=hit_type,
        worker=worker,
        assignment_id=assignment_id,
        status="Submitted",
        answers=answers or {},
    )
    return hit, assignment


def _urls(hit: HIT, assignment: Assignment) -> dict[str, str]:
    slug = hit.account.slug
    return {
        "hit-preview": reverse("hit-preview", kwargs={"slug": slug, "hit_id": hit.hit_id}),
        "assignment-replay": reverse(
            "assignment-replay",
            kwargs={"slug": slug, "hit_id": hit.hit_id, "assignment_id": assignment.assignment_id},
        ),
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "expected"),
    [("anonymous", 302), ("staff", 200), ("admin", 200), ("other_staff", 404)],
)
@pytest.mark.parametrize("view_name", ["hit-preview", "assignment-replay"])
def test_preview_pages_permission_matrix(
    personas, account, other_account, persona, expected, view_name
):
    hit, assignment = _mirror(account, _html_question("<p>hi</p>"))

    response = personas[persona].get(_urls(hit, assignment)[view_name])

    assert response.status_code == expected
    if persona == "anonymous":
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_a_member_without_the_preview_permission_is_refused(account, django_user_model):
    from django.contrib.auth.models import Group

    viewer = django_user_model.objects.create_user("erin-viewer", password="x")
    group = Group.objects.create(name="Viewers only")
    group.permissions.set(
        Group.objects.get(name=RESEARCH_STAFF_GROUP).permissions.exclude(
            codename="preview_questions"
        )
    )
    viewer.groups.add(group)
    account.members.add(viewer)
    client = Client()
    client.force_login(viewer)
    hit, assignment = _mirror(account, _html_question("<p>hi</p>"))

    assert client.get(_urls(hit, assignment)["hit-preview"]).status_code == 403


@pytest.mark.django_db
def test_ids_from_another_account_or_another_hit_answer_404(
    lab_admin_client, account, other_account, admin_user
):
    other_account.members.add(admin_user)
    foreign_hit, foreign_assignment = _mirror(
        other_account,
        _html_question("<p>theirs</p>"),
        hit_id="HITTHEIRS",
        assignment_id="ASSIGNTHEIRS",
    )
    hit, assignment = _mirror(account, _html_question("<p>ours</p>"))
    second_hit, second_assignment = _mirror(
        account, _html_question("<p>two</p>"), hit_id="HITTWO", assignment_id="ASSIGNTWO"
    )

    foreign_under_ours = reverse(
        "hit-preview", kwargs={"slug": "lab", "hit_id": foreign_hit.hit_id}
    )
    wrong_hit = reverse(
        "assignment-replay",
        kwargs={
            "slug": "lab",
            "hit_id": hit.hit_id,
            "assignment_id": second_assignment.assignment_id,
        },
    )
    foreign_assignment_url = reverse(
        "assignment-replay",
        kwargs={
            "slug": "lab",
            "hit_id": hit.hit_id,
            "assignment_id": foreign_assignment.assignment_id,
        },
    )

    assert lab_admin_client.get(foreign_under_ours).status_code == 404
    assert lab_admin_client.get(wrong_hit).status_code == 404
    assert lab_admin_client.get(foreign_assignment_url).status_code == 404
    assert lab_admin_client.get(_urls(hit, assignment)["assignment-replay"]).status_code == 200


@pytest.mark.django_db
def test_preview_page_sets_its_own_csp_and_may_be_framed_by_our_pages_only(staff_client, account):
    content = "<p>Is this a cat?</p><script>document.title = 'x'</script>"
    hit, assignment = _mirror(account, _html_question(content), title="<b>Cats</b> & dogs")

    response = staff_client.get(_urls(hit, assignment)["hit-preview"])
    page = Page(response.content.decode())

    assert response["Content-Security-Policy"] == preview_csp()
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    frame = page.one("iframe")
    assert frame["srcdoc"] == content
    assert frame["sandbox"] == "allow-scripts allow-forms"
    assert frame["height"] == "450"
    assert [tag for tag, _ in page.tags].count(
        "script"
    ) == 0  # the question's script is in srcdoc only
    assert page.texts["strong"] == ["<b>Cats</b> & dogs"]
    assert page.one("link")["href"] == settings.STATIC_URL + "css/preview.css"


@pytest.mark.django_db
def test_replay_page_fills_the_frame_and_escapes_the_answers(staff_client, account):
    answers = {"cat": "no", "comment": "<script>alert(1)</script>"}
    question = _html_question(
        "<input type=radio name=cat value=yes><input type=radio name=cat value=no><textarea name=comment></textarea>"
    )
    hit, assignment = _mirror(account, question, answers=answers)

    response = staff_client.get(_urls(hit, assignment)["assignment-replay"])
    body = response.content.decode()
    page = Page(body)
    frame = Page(page.one("iframe")["srcdoc"])

    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    assert "checked" in frame.one("input", value="no")
    assert frame.textarea("comment") == "<script>alert(1)</script>"
    assert [tag for tag, _ in frame.tags].count("script") == 0
    assert [tag for tag, _ in page.tags].count("script") == 0
    assert "<script>alert(1)</script>" in page.texts["td"]  # the answers table, as text
    assert "<script>alert" not in body


@pytest.mark.django_db
def test_external_question_page_frames_only_that_origin(staff_client, account):
    hit, assignment = _mirror(
        account, _external_question("https://survey.example.org/s?x=1&amp;y=2")
    )

    response = staff_client.get(_urls(hit, assignment)["assignment-replay"])
    page = Page(response.content.decode())

    frame = page.one("iframe")
    assert (
        frame["src"]
        == "https://survey.example.org/s?x=1&y=2&assignmentId=ASSIGNMENT_ID_NOT_AVAILABLE&hitId=HITPREVIEW"
    )
    assert frame["sandbox"] == "allow-scripts allow-forms allow-same-origin"
    assert _directives(response["Content-Security-Policy"])["frame-src"] == [
        "https://survey.example.org"
    ]


@pytest.mark.django_db
def test_malformed_question_page_shows_the_xml_as_text(staff_client, account):
    question = "<HTMLQuestion><HTMLContent><script>alert(1)</script>"
    hit, assignment = _mirror(
        account,
        question,
        layout_parameters={"img": "<img src=x onerror=alert(1)>"},
        hit_layout_id="L1",
    )

    response = staff_client.get(_urls(hit, assignment)["hit-preview"])
    page = Page(response.content.decode())

    assert page.find("iframe") == []
    assert page.texts["pre"] == [question]
    assert any("could not be read" in text for text in page.texts["p"])
    assert [tag for tag, _ in page.tags if tag in ("script", "img")] == []
    assert "<img src=x onerror=alert(1)>" in page.texts["td"]


def test_replay_of_a_mirrored_html_hit_from_the_emulator(
    emulator_account, account_gateway, fresh_emulator, staff_client
):
    from mirror.sync import run_sync
    from tests.hits.test_sync import create_hits, work

    hit_id = create_hits(account_gateway, 1)[0]
    assignment_id = work(fresh_emulator.control, hit_id, "AWORKERONE0001")
    run_sync(account=emulator_account, kind=SyncKind.FULL)

    url = reverse(
        "assignment-replay",
        kwargs={"slug": emulator_account.slug, "hit_id": hit_id, "assignment_id": assignment_id},
    )
    page = Page(staff_client.get(url).content.decode())
    frame = Page(page.one("iframe")["srcdoc"])

    assert "checked" in frame.one("input", name="cat", value="yes")
    assert "checked" not in frame.one("input", name="cat", value="no")
    assert frame.textarea("comment") == "Fluffy <b>cat</b>"
    assert frame.find("b") == []


# --- In the browser ------------------------------------------------------------------------------

HOSTILE_QUESTION = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>Hostile</title></head>
<body><h1>Is this a cat?</h1>
<p id="legit">script did not run</p>
<ul>
  <li>parent cookie: <span id="parent-cookie">pending</span></li>
  <li>top cookie: <span id="top-cookie">pending</span></li>
  <li>own cookie: <span id="own-cookie">pending</span></li>
  <li>parent DOM: <span id="parent-dom">pending</span></li>
  <li>localStorage: <span id="storage">pending</span></li>
  <li>fetch('/'): <span id="fetch">pending</span></li>
</ul>
<form><textarea name="comment"></textarea></form>
<script>
  function probe(id, read) {
    var el = document.getElementById(id);
    try { el.textContent = "read: " + String(read()); } catch (e) { el.textContent = "blocked"; }
  }
  document.getElementById("legit").textContent = "script ran";
  probe("parent-cookie", function () { return parent.document.cookie; });
  probe("top-cookie", function () { return top.document.cookie; });
  probe("own-cookie", function () { return document.cookie; });
  probe("parent-dom", function () { return parent.document.body.innerHTML; });
  probe("storage", function () { localStorage.setItem("k", "v"); return localStorage.length; });
  try {
    fetch("/", {credentials: "include"}).then(function (r) { return r.text(); }).then(
      function (t) { document.getElementById("fetch").textContent = "read: " + t.slice(0, 300); },
      function () { document.getElementById("fetch").textContent = "blocked"; });
  } catch (e) { document.getElementById("fetch").textContent = "blocked"; }
  try { window.open("/", "_blank"); } catch (e) {}
  try { top.location.href = "/accounts/logout/"; } catch (e) {}
  // A post to one of our endpoints, aimed at a frame of its own so the probes above stay visible.
  window.addEventListener("load", function () {
    try { document.getElementById("post").submit(); } catch (e) {}
  });
</script>
<form id="post" method="post" action="/accounts/logout/" target="sink"></form>
<iframe name="sink" width="300" height="40"></iframe>
</body></html>"""

PROBES = ["parent-cookie", "top-cookie", "own-cookie", "parent-dom", "storage", "fetch"]


@pytest.fixture
def browser_page(live_server, monkeypatch):
    """A Chromium page logged in as a research staff member of the "lab" account."""
    sync_api = pytest.importorskip("playwright.sync_api")
    # Playwright's sync API keeps an event loop in this thread; Django's ORM calls made by the test
    # itself are still synchronous, so its async-safety guard is lifted for this test only.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    user = UserFactory(username="bob-browser", role=RESEARCH_STAFF_GROUP)
    account = RequesterAccountFactory(slug="lab", name="Vision Lab", members=[user])
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        context = browser.new_context(viewport={"width": 1100, "height": 800})
        context.add_cookies(
            [
                {
                    "name": settings.SESSION_COOKIE_NAME,
                    "value": session,
                    "url": live_server.url,
                    "httpOnly": True,
                },
                # Readable by script of our origin: if the frame shared it, its probes would see it.
                {"name": "dashboard_probe", "value": "probe-secret-123", "url": live_server.url},
            ]
        )
        page = context.new_page()
        yield page, account, session
        context.close()
        browser.close()


def _settled_url(frame) -> str:
    """The URL of a frame once it has left about:blank (or after two seconds)."""
    for _ in range(40):
        if frame.url != "about:blank":
            break
        frame.page.wait_for_timeout(50)
    return frame.url


def _probe_results(frame) -> dict[str, str]:
    frame.locator("#legit").wait_for()
    for probe in PROBES:
        # Each probe settles to "blocked" (fetch asynchronously); a failure times out here.
        frame.locator(f"#{probe}").filter(has_text="blocked").wait_for(timeout=5000)
    return {probe: frame.locator(f"#{probe}").inner_text() for probe in PROBES}


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_hostile_question_cannot_reach_the_dashboard(browser_page, live_server):
    page, account, session = browser_page
    hit, _ = _mirror(account, _html_question(HOSTILE_QUESTION, 420), title="Hostile question")
    preview_path = reverse("hit-preview", kwargs={"slug": account.slug, "hit_id": hit.hit_id})
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    popups: list[object] = []
    page.context.on("page", lambda popup: popups.append(popup))

    # Control: script of our own origin can read the probe cookie (so "blocked" below means isolation).
    page.goto(live_server.url + reverse("account-overview", kwargs={"slug": account.slug}))
    assert "dashboard_probe=probe-secret-123" in page.evaluate("document.cookie")

    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(live_server.url + preview_path)
    results = _probe_results(page.frame_locator("iframe.question-frame"))
    page.screenshot(path=str(ARTIFACTS / "question-preview.png"), full_page=True)

    frame = page.frame_locator("iframe.question-frame")
    assert results == dict.fromkeys(PROBES, "blocked")
    assert frame.locator("#legit").inner_text() == "script ran"
    question_frame = next(f for f in page.frames if f.url == "about:srcdoc")
    frame_text = question_frame.content()
    assert session not in frame_text and "probe-secret-123" not in frame_text
    assert question_frame.evaluate("window.origin") == "null"  # an opaque origin
    assert page.url == live_server.url + preview_path  # no top navigation
    # The post to our logout view was refused in the browser (Chromium shows its error page)...
    assert _settled_url(page.frame(name="sink")) == "chrome-error://chromewebdata/"
    # ...and nothing the question tried (fetch, popup, top navigation, post) reached our server.
    # (The browser's own favicon fetch is not the question's doing.)
    requests = [url for url in requests if "favicon" not in url]
    assert sorted(requests) == sorted(
        [live_server.url + preview_path, live_server.url + "/static/css/preview.css"]
    )
    assert page.locator("strong").inner_text() == "Hostile question"
    assert (dialogs, popups) == ([], [])


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_hostile_question_embedded_in_a_dashboard_page_cannot_reach_it(browser_page, live_server):
    """As the HIT page shows it: a page of our origin frames the preview page, which frames the
    question. The question's `top` is then a dashboard document whose cookie script could read."""
    page, account, session = browser_page
    hit, _ = _mirror(account, _html_question(HOSTILE_QUESTION, 420), title="Hostile question")
    preview_path = reverse("hit-preview", kwargs={"slug": account.slug, "hit_id": hit.hit_id})
    host_url = live_server.url + "/embedding-test-page/"
    page.route(
        host_url,
        lambda route: route.fulfill(
            content_type="text/html",
            body=f'<!doctype html><title>Host</title><iframe id="preview" src="{preview_path}" '
            'width="1000" height="560"></iframe>',
        ),
    )

    page.goto(host_url)
    outer = page.frame_locator("#preview")
    results = _probe_results(outer.frame_locator("iframe.question-frame"))

    assert results == dict.fromkeys(PROBES, "blocked")
    assert "dashboard_probe=probe-secret-123" in page.evaluate("document.cookie")  # top is ours
    assert outer.locator("strong").inner_text() == "Hostile question"  # SAMEORIGIN let us frame it
    question_frame = next(f for f in page.frames if f.url == "about:srcdoc")
    assert session not in question_frame.content()
    assert page.url == host_url
    assert _settled_url(page.frame(name="sink")) == "chrome-error://chromewebdata/"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_replayed_hostile_answer_is_text_in_a_read_only_form(browser_page, live_server):
    page, account, _ = browser_page
    question = _html_question(
        "<!DOCTYPE html><html><body><h1>Is this a cat?</h1><form>"
        "<label><input type=radio name=cat value=yes> Yes</label>"
        "<label><input type=radio name=cat value=no> No</label>"
        "<p><input name=title placeholder=Title></p>"
        "<p><textarea name=comment cols=60 rows=3></textarea></p>"
        "<input type=submit value=Submit></form></body></html>",
        320,
    )
    answers = {"cat": "no", "title": HOSTILE, "comment": "<script>alert(1)</script>"}
    hit, assignment = _mirror(account, question, answers=answers, title="Cat or not")
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    page.goto(
        live_server.url
        + reverse(
            "assignment-replay",
            kwargs={
                "slug": account.slug,
                "hit_id": hit.hit_id,
                "assignment_id": assignment.assignment_id,
            },
        )
    )
    frame = page.frame_locator("iframe.question-frame")
    textarea = frame.locator("textarea[name=comment]")
    textarea.wait_for()
    page.screenshot(path=str(ARTIFACTS / "answer-replay.png"), full_page=True)

    assert textarea.input_value() == "<script>alert(1)</script>"
    assert textarea.is_disabled()
    assert frame.locator("input[name=title]").input_value() == HOSTILE
    assert frame.locator("input[value=no]").is_checked()
    assert not frame.locator("input[value=yes]").is_checked()
    assert frame.locator("script").count() == 0
    assert page.locator("td.answer-value").all_inner_texts() == [
        "no",
        HOSTILE,
        "<script>alert(1)</script>",
    ]
    assert dialogs == []


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_question_form_replay_in_the_browser(browser_page, live_server):
    page, account, _ = browser_page
    answers = {
        "nextmove": "B2",
        "age": "150",
        "story": "Once upon a time </textarea><b>not bold</b>",
        "likelytowin": "likely",
        "pieces": ["x1", "o1"],
        "pieces.other": "the king",
        "colour": "blue",
        "tags": ["t2", "t3"],
    }
    hit, assignment = _mirror(account, FULL_FORM, answers=answers, title="Tic-tac-toe")

    page.goto(
        live_server.url
        + reverse(
            "assignment-replay",
            kwargs={
                "slug": account.slug,
                "hit_id": hit.hit_id,
                "assignment_id": assignment.assignment_id,
            },
        )
    )
    frame = page.frame_locator("iframe.question-frame")
    frame.locator("input[name=nextmove]").wait_for()
    page.screenshot(path=str(ARTIFACTS / "question-form-replay.png"), full_page=True)
    frame.locator("select[name=tags]").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "question-form-replay-selections.png"))

    assert frame.locator("input[name=nextmove]").input_value() == "B2"
    assert frame.locator("textarea[name=story]").input_value() == answers["story"]
    assert frame.locator("input[name=likelytowin][value=likely]").is_checked()
    assert [
        frame.locator(f"input[name=pieces][value={v}]").is_checked() for v in ("x1", "x2", "o1")
    ] == [True, False, True]
    assert frame.locator("select[name=colour]").input_value() == "blue"
    assert frame.locator("select[name=tags] option:checked").all_inner_texts() == [
        "Tag two",
        "Tag three",
    ]
    assert frame.locator("input, textarea, select").evaluate_all(
        "els => els.every(el => el.disabled)"
    )
    assert frame.locator("b", has_text="not bold").count() == 0
    assert frame.locator("h2").inner_text() == 'Game 01523, "X" to play'


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_layout_hit_and_malformed_question_pages_show_text(browser_page, live_server):
    page, account, _ = browser_page
    hostile_parameter = '<img src=x onerror="document.title=1">'
    layout_hit, _ = _mirror(
        account,
        "",
        title="Layout study",
        hit_layout_id="3MCDHXBQ4Z7SJ2ZT2XZACNE142JWKX",
        layout_parameters=[
            {"Name": "image_url", "Value": "https://example.org/cat.jpg"},
            {"Name": "caption", "Value": hostile_parameter},
        ],
    )
    broken_xml = "<HTMLQuestion><HTMLContent><script>document.title = 1</script>"
    broken_hit, _ = _mirror(
        account, broken_xml, hit_id="HITBROKEN", assignment_id="ASSIGNBROKEN", title="Broken"
    )

    page.goto(
        live_server.url
        + reverse("hit-preview", kwargs={"slug": account.slug, "hit_id": layout_hit.hit_id})
    )
    page.screenshot(path=str(ARTIFACTS / "layout-preview.png"), full_page=True)
    cells = page.locator("table.preview-table td").all_inner_texts()
    layout_title = page.title()
    page.goto(
        live_server.url
        + reverse("hit-preview", kwargs={"slug": account.slug, "hit_id": broken_hit.hit_id})
    )
    page.screenshot(path=str(ARTIFACTS / "malformed-preview.png"), full_page=True)

    assert cells == ["https://example.org/cat.jpg", hostile_parameter]
    assert layout_title == "Preview · Layout study"  # the onerror handler never ran
    assert page.locator("pre.raw-question").inner_text() == broken_xml
    assert "could not be read" in page.locator(".preview-note").inner_text()
    assert page.title() == "Preview · Broken"
    assert page.locator("iframe").count() == 0
