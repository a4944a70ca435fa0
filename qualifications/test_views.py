"""The qualification test editor: build a type's test in a form (or edit its XML), preview it as
workers see it, and save it to MTurk.

The preview page is unlike the rest of the dashboard: it shows an untrusted QuestionForm rendered
by the review workspace's renderer, in a sandboxed srcdoc frame, with the review workspace's own
preview Content-Security-Policy (dashboard.previews), framed only by our pages.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_http_methods

from dashboard.enums import Action
from dashboard.http import DashboardRequest
from dashboard.models import RequesterAccount
from dashboard.mturk_access import account_gateway
from dashboard.permissions import account_for_user
from dashboard.previews import SANDBOX_NO_SCRIPTS, preview_csp
from mturk.errors import MTurkError
from mturk.qualification_test import validate_question_form
from mturk.questionform import render_question_form
from qualifications.models import QualificationType
from qualifications.test_editor import (
    NO_REMOVAL,
    TestDocuments,
    editable_test,
    save_test,
    scoring_key,
)
from qualifications.test_forms import (
    EditorActionForm,
    EditorModeForm,
    RawTestForm,
    TestBuilder,
    builder_errors,
    scoring_initial,
)

TEMPLATE = "qualifications/test_edit.html"


def _qualification_type(account: RequesterAccount, qualification_type_id: str) -> QualificationType:
    return get_object_or_404(
        QualificationType, account=account, qualification_type_id=qualification_type_id
    )


def _raw_form(qtype: QualificationType, data: Any = None) -> RawTestForm:
    initial = {
        "question_form": qtype.test,
        "answer_key": scoring_key(qtype),
        "duration_seconds": qtype.test_duration_seconds or 600,
        "scoring": scoring_initial(qtype),
    }
    return RawTestForm(data, initial=initial, qualification_type=qtype)


@require_http_methods(["GET", "POST"])
@login_required
def test_edit(request: DashboardRequest, slug: str, qualification_type_id: str) -> HttpResponse:
    account = account_for_user(request, slug, Action.MANAGE_QUALIFICATIONS)
    qtype = _qualification_type(account, qualification_type_id)
    test, unrepresentable = editable_test(qtype)
    context: dict[str, Any] = {"account": account, "qualification_type": qtype}
    context["unrepresentable"] = unrepresentable
    if request.method == "GET":
        mode_form = EditorModeForm(request.GET)
        asked = mode_form.cleaned_data["mode"] if mode_form.is_valid() else ""
        mode = "raw" if asked == "raw" or unrepresentable else "form"
        builder = TestBuilder(qtype, test=test)
        return _page(request, context, builder, _raw_form(qtype), mode)

    action_form = EditorActionForm(request.POST)
    action = action_form.cleaned_data["action"] if action_form.is_valid() else ""
    if action in ("add_question", "save"):
        builder = TestBuilder(qtype, request.POST, add_question=action == "add_question")
        if action == "add_question":
            return _page(request, context, builder, _raw_form(qtype), "form")
        if builder.is_valid() and builder.documents is not None:
            return _send(request, context, builder.documents, "form", builder=builder)
        return _page(request, context, builder, _raw_form(qtype), "form", status=400)
    if action == "save_raw":
        raw = _raw_form(qtype, request.POST)
        if raw.is_valid():
            return _send(request, context, raw.documents(), "raw", raw=raw)
        return _page(request, context, TestBuilder(qtype, test=test), raw, "raw", status=400)
    messages.error(request, "Nothing was saved: use the editor's Save buttons.")
    return _page(request, context, TestBuilder(qtype, test=test), _raw_form(qtype), "form", 400)


def _send(
    request: DashboardRequest,
    context: dict[str, Any],
    documents: TestDocuments,
    mode: str,
    *,
    builder: TestBuilder | None = None,
    raw: RawTestForm | None = None,
) -> HttpResponse:
    account, qtype = context["account"], context["qualification_type"]
    try:
        with account_gateway(account) as gateway:
            save_test(
                account=account,
                qualification_type=qtype,
                documents=documents,
                gateway=gateway,
                actor=request.user,
            )
    except MTurkError as exc:
        error = f"MTurk refused the test: {exc.message}"
        if builder is not None:
            builder.problems.append(error)
        elif raw is not None:
            raw.add_error(None, error)
        status = 503 if exc.retryable else 400
        test, _ = editable_test(qtype)
        return _page(
            request,
            context,
            builder or TestBuilder(qtype, test=test),
            raw or _raw_form(qtype),
            mode,
            status,
        )
    messages.success(request, f"The test of “{qtype.name}” is saved at MTurk.")
    url = reverse("qualification-test-edit", args=[account.slug, qtype.qualification_type_id])
    return redirect(f"{url}?mode=raw" if mode == "raw" else url)


def _page(
    request: DashboardRequest,
    context: dict[str, Any],
    builder: TestBuilder,
    raw: RawTestForm,
    mode: str,
    status: int = 200,
) -> HttpResponse:
    qtype = context["qualification_type"]
    context.update(
        builder=builder,
        raw_form=raw,
        mode=mode,
        no_removal=NO_REMOVAL if qtype.test else "",
    )
    return render(request, TEMPLATE, context, status=status)


@require_http_methods(["GET", "POST"])
@login_required
@xframe_options_sameorigin
def test_preview(request: DashboardRequest, slug: str, qualification_type_id: str) -> HttpResponse:
    """GET: the saved test. POST (from the editor's Preview buttons): the test being edited."""
    needed = Action.PREVIEW if request.method == "GET" else Action.MANAGE_QUALIFICATIONS
    account = account_for_user(request, slug, needed)
    qtype = _qualification_type(account, qualification_type_id)
    question_form, notes, status = qtype.test, [], 200
    if request.method == "GET":
        notes = [] if qtype.test else ["This type has no test yet."]
    else:
        action_form = EditorActionForm(request.POST)
        action = action_form.cleaned_data["action"] if action_form.is_valid() else ""
        if action == "preview_raw":
            raw = _raw_form(qtype, request.POST)
            raw.is_valid()
            question_form = raw.cleaned_data.get("question_form", "")
            notes = validate_question_form(question_form)
        else:
            builder = TestBuilder(qtype, request.POST)
            builder.is_valid()
            if builder.documents is not None:
                question_form, notes = builder.documents.question_form, builder.problems
            else:
                question_form, notes = "", builder_errors(builder)
        if not question_form.strip():
            status = 400
    context = {
        "account": account,
        "qualification_type": qtype,
        "srcdoc": render_question_form(question_form) if question_form.strip() else None,
        "sandbox": SANDBOX_NO_SCRIPTS,
        "notes": notes,
    }
    response = render(request, "qualifications/test_preview.html", context, status=status)
    response["Content-Security-Policy"] = preview_csp(scripts=False)
    # An unsaved test is the editor's own work in progress: keep it out of shared caches.
    response["Cache-Control"] = "private, no-store"
    return response
