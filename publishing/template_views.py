"""Question template pages: the list, a template with the variables it needs, creating, editing and
deleting (lab admins: PUBLISH), the QuestionForm builder (PUBLISH), the saved sample values
(PUBLISH) and the preview (research staff too: PREVIEW).

The preview page is unlike the rest of the dashboard: it shows the question drawn by the review
workspace's renderer (hits.preview.build), in a sandboxed srcdoc frame or an external frame, with
that renderer's own Content-Security-Policy (dashboard.previews), framed only by our pages. Sample
values come from the template's saved ones or a POST form (never the query string), and are
escaped like any row of inputs.
"""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dashboard.enums import Action
from dashboard.http import DashboardRequest
from dashboard.models import RequesterAccount
from dashboard.permissions import account_for_user
from dashboard.previews import preview_csp
from hits.preview.build import Preview, build_preview
from publishing.enums import TemplateKind
from publishing.models import QuestionTemplate
from publishing.questions import (
    QuestionProblem,
    build_question_form_xml,
    delete_template,
    preview_inputs,
    render_question,
    sample_inputs,
    save_sample_values,
    save_template,
    template_variables,
)
from publishing.template_forms import (
    BuilderActionForm,
    QuestionBuilder,
    QuestionTemplateForm,
    SampleValuesForm,
)


def _template(account: RequesterAccount, pk: int) -> QuestionTemplate:
    # Scoped to the account: another account's template answers 404 like one that does not exist.
    return get_object_or_404(QuestionTemplate, account=account, pk=pk)


def _variables(template: QuestionTemplate) -> tuple[list[str], str]:
    """The template's variables, or none and why (a template saved before a rule changed)."""
    try:
        names = template_variables(
            kind=template.kind,
            content=template.content,
            layout_parameter_names=template.layout_parameter_names or [],
        )
    except QuestionProblem as exc:
        return [], str(exc)
    return names, ""


@require_GET
@login_required
def template_list(request: DashboardRequest, slug: str) -> HttpResponse:
    account = account_for_user(request, slug)
    templates = list(QuestionTemplate.objects.filter(account=account))
    rows = [(template, _variables(template)[0]) for template in templates]
    return render(
        request,
        "publishing/template_list.html",
        {"account": account, "rows": rows, "can_edit": Action.PUBLISH in request.account_actions},
    )


@require_GET
@login_required
def template_detail(request: DashboardRequest, slug: str, pk: int) -> HttpResponse:
    account = account_for_user(request, slug)
    template = _template(account, pk)
    variables, problem = _variables(template)
    return render(
        request,
        "publishing/template_detail.html",
        {
            "account": account,
            "template": template,
            "variables": variables,
            "problem": problem,
            "sample_form": _sample_form(template, variables),
            "can_edit": Action.PUBLISH in request.account_actions,
            "can_preview": Action.PREVIEW in request.account_actions,
        },
    )


def _sample_form(template: QuestionTemplate, variables: list[str]) -> SampleValuesForm:
    saved = template.sample_values or {}
    initial = {
        SampleValuesForm.field_name(name): saved[name] for name in variables if name in saved
    }
    return SampleValuesForm(variables=variables, initial=initial)


@require_POST
@login_required
def template_samples(request: DashboardRequest, slug: str, pk: int) -> HttpResponse:
    """Save the sample values the preview shows (each variable's placeholder where empty)."""
    account = account_for_user(request, slug, Action.PUBLISH)
    template = _template(account, pk)
    variables, problem = _variables(template)
    form = SampleValuesForm(request.POST, variables=variables)
    if problem or not form.is_valid():
        for note in [problem] if problem else form.problems():
            flash.error(request, f"Sample values not saved. {note}")
        return redirect("template-detail", slug=account.slug, pk=template.pk)
    save_sample_values(account=account, template=template, values=form.values())
    flash.success(request, "Sample values saved; the preview shows them.")
    return redirect("template-detail", slug=account.slug, pk=template.pk)


@require_http_methods(["GET", "POST"])
@login_required
def template_build(request: DashboardRequest, slug: str, pk: int | None = None) -> HttpResponse:
    """A QuestionForm template built in a form: questions in a formset, saved as the XML
    mturk.requesting.QuestionForm writes, checked like XML written by hand."""
    account = account_for_user(request, slug, Action.PUBLISH)
    template = _template(account, pk) if pk else None
    if template is not None and not template.builder_spec:
        # Hand-written XML (or another kind): the builder cannot show it without losing parts.
        flash.info(request, "This template was not made with the question builder: edit it here.")
        return redirect("template-edit", slug=account.slug, pk=template.pk)
    if request.method == "GET":
        return _builder_page(request, account, template, QuestionBuilder(account, template))
    action_form = BuilderActionForm(request.POST)
    action = action_form.cleaned_data["action"] if action_form.is_valid() else "save"
    if action == "add_question":
        builder = QuestionBuilder(account, template, request.POST, add_question=True)
        return _builder_page(request, account, template, builder)
    builder = QuestionBuilder(account, template, request.POST)
    if builder.is_valid():
        spec = builder.spec()
        try:
            saved = save_template(
                account=account,
                user=request.user,
                template=template,
                name=builder.template_form.cleaned_data["name"],
                kind=TemplateKind.QUESTION_FORM,
                content=build_question_form_xml(spec),
                frame_height=template.frame_height if template else 600,
                layout_id="",
                layout_parameter_names=[],
                builder_spec=spec,
            )
        except QuestionProblem as exc:
            for problem in exc.problems:
                builder.template_form.add_error(None, problem)
        else:
            flash.success(request, f"Template “{saved.name}” saved.")
            return redirect("template-detail", slug=account.slug, pk=saved.pk)
    return _builder_page(request, account, template, builder, status=400)


@require_POST
@login_required
@xframe_options_sameorigin
def template_build_preview(request: DashboardRequest, slug: str) -> HttpResponse:
    """The builder's questions (the builder's Preview button), not yet saved, each variable shown
    as its placeholder. Only those who may save a template may preview unsaved ones."""
    account = account_for_user(request, slug, Action.PUBLISH)
    builder = QuestionBuilder(account, None, request.POST)
    builder.is_valid()
    # The name does not change what workers see: a taken one (the template being edited, say)
    # is no reason not to preview.
    notes = [
        str(error)
        for field, errors in builder.template_form.errors.items()
        if field != "name"
        for error in errors
    ]
    notes += [str(error) for error in builder.questions.non_form_errors()]
    for number, form in enumerate(builder.questions.forms, 1):
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            notes += [f"Question {number}, {label or 'the question'}: {error}" for error in errors]
    draft = QuestionTemplate(
        account=account,
        name=builder.template_form.cleaned_data.get("name") or "Unsaved template",
        kind=TemplateKind.QUESTION_FORM,
    )
    if not notes:
        try:
            draft.content = build_question_form_xml(builder.spec())
        except QuestionProblem as exc:
            notes += exc.problems
    return _unsaved_preview_page(request, account, draft, notes)


def _builder_page(
    request: DashboardRequest,
    account: RequesterAccount,
    template: QuestionTemplate | None,
    builder: QuestionBuilder,
    status: int = 200,
) -> HttpResponse:
    context = {"account": account, "template": template, "builder": builder}
    return render(request, "publishing/template_builder.html", context, status=status)


@require_http_methods(["GET", "POST"])
@login_required
def template_edit(request: DashboardRequest, slug: str, pk: int | None = None) -> HttpResponse:
    """Create (no pk) or edit a template; what MTurk would refuse is listed, nothing saved."""
    account = account_for_user(request, slug, Action.PUBLISH)
    template = _template(account, pk) if pk else None
    form = QuestionTemplateForm(request.POST or None, instance=template, account=account)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                saved = save_template(
                    account=account,
                    user=request.user,
                    template=template,
                    name=data["name"],
                    kind=data["kind"],
                    content=data["content"],
                    frame_height=data["frame_height"],
                    layout_id=data["layout_id"],
                    layout_parameter_names=data["layout_parameters"],
                )
            except QuestionProblem as exc:
                for problem in exc.problems:
                    form.add_error(None, problem)
            else:
                flash.success(request, f"Template “{saved.name}” saved.")
                return redirect("template-detail", slug=account.slug, pk=saved.pk)
        status = 400
    return render(
        request,
        "publishing/template_form.html",
        {"account": account, "form": form, "template": template},
        status=status,
    )


@require_POST
@login_required
def template_delete(request: DashboardRequest, slug: str, pk: int) -> HttpResponse:
    account = account_for_user(request, slug, Action.PUBLISH)
    template = _template(account, pk)
    delete_template(account=account, template=template)
    flash.success(request, f"Template “{template.name}” deleted.")
    return redirect("template-list", slug=account.slug)


@require_http_methods(["GET", "POST"])
@login_required
@xframe_options_sameorigin
def template_preview(request: DashboardRequest, slug: str, pk: int) -> HttpResponse:
    """GET: the saved sample values (a variable without one shows as its placeholder). POST:
    the sample values typed beside it."""
    account = account_for_user(request, slug, Action.PREVIEW)
    template = _template(account, pk)
    variables, problem = _variables(template)
    form = SampleValuesForm(request.POST if request.method == "POST" else None, variables=variables)
    status = 200
    notes = [problem] if problem else []
    if form.is_bound and not form.is_valid():
        notes += form.problems()
        # Nothing is drawn from values that were refused.
        preview, status = Preview(kind=template.kind, csp=preview_csp(scripts=False)), 400
    else:
        inputs = (
            form.inputs()
            if form.is_bound
            else preview_inputs(variables, template.sample_values or {})
        )
        preview, rendered_problem = _preview(request, account, template, inputs)
        if rendered_problem:
            notes.append(rendered_problem)
            status = 400 if form.is_bound else status
    return _preview_page(request, account, template, preview, notes, status)


@require_POST
@login_required
@xframe_options_sameorigin
def template_draft_preview(request: DashboardRequest, slug: str) -> HttpResponse:
    """The template being edited (the edit form's Preview button), not yet saved, each variable
    shown as its placeholder. Only those who may save a template may preview unsaved ones."""
    account = account_for_user(request, slug, Action.PUBLISH)
    form = QuestionTemplateForm(request.POST, account=account)
    form.is_valid()
    # The name does not change what workers see: a name taken by another template is no reason
    # not to preview.
    notes = [
        f"{form.fields[field].label if field in form.fields else 'Template'}: {error}"
        for field, errors in form.errors.as_data().items()
        if field != "name"
        for problem in errors
        for error in problem.messages
    ]
    data = form.cleaned_data
    draft = QuestionTemplate(
        account=account,
        name=data.get("name") or "Unsaved template",
        kind=data.get("kind", ""),
        content=data.get("content", ""),
        frame_height=data.get("frame_height") or 0,
        layout_id=data.get("layout_id", ""),
        layout_parameter_names=data.get("layout_parameters", []),
    )
    return _unsaved_preview_page(request, account, draft, notes)


def _unsaved_preview_page(
    request: DashboardRequest, account: RequesterAccount, draft: QuestionTemplate, notes: list[str]
) -> HttpResponse:
    """The preview of a template not saved yet: its problems (nothing drawn), else the question
    drawn with placeholder values."""
    if notes:
        preview = Preview(kind=draft.kind, csp=preview_csp(scripts=False))
        return _preview_page(request, account, draft, preview, notes, 400)
    variables, _ = _variables(draft)
    preview, problem = _preview(request, account, draft, sample_inputs(variables))
    return _preview_page(request, account, draft, preview, [problem], 400 if problem else 200)


def _preview_page(
    request: DashboardRequest,
    account: RequesterAccount,
    template: QuestionTemplate,
    preview: Preview,
    notes: list[str],
    status: int,
) -> HttpResponse:
    context = {
        "account": account,
        "template": template,
        "preview": preview,
        "notes": [note for note in [*notes, preview.note] if note],
        "kind_label": template.get_kind_display(),
    }
    response = render(request, "publishing/template_preview.html", context, status=status)
    response["Content-Security-Policy"] = preview.csp
    # Sample values and unsaved templates are the editor's own; keep them out of shared caches.
    response["Cache-Control"] = "private, no-store"
    return response


def _preview(
    request: DashboardRequest,
    account: RequesterAccount,
    template: QuestionTemplate,
    inputs: dict[str, str],
) -> tuple[Preview, str]:
    """The question as this row of inputs makes it, drawn by the review workspace's renderer."""
    try:
        rendered = render_question(
            kind=template.kind,
            content=template.content,
            frame_height=template.frame_height,
            layout_id=template.layout_id,
            inputs=inputs,
            layout_parameter_names=(
                (template.layout_parameter_names or [])
                if template.kind == TemplateKind.LAYOUT
                else None
            ),
        )
    except QuestionProblem as exc:
        rendered, problem = None, str(exc)
    else:
        problem = ""
    # The renderer reads a HIT's attributes; a template has no HIT yet, so it gets a stand-in.
    stand_in = SimpleNamespace(
        account=account,
        hit_id="",
        question=rendered.question if rendered else "",
        hit_layout_id=(rendered.layout_id or "") if rendered else "",
        layout_parameters=(rendered.layout_parameters or {}) if rendered else {},
    )
    own_origin = f"{request.scheme}://{request.get_host()}"
    preview = build_preview(hit=stand_in, own_origin=own_origin)
    if rendered is None:
        # Nothing to show but the reason (the renderer's "no question yet" would mislead).
        preview = Preview(kind=preview.kind, csp=preview.csp)
    elif rendered.layout_id:
        # MTurk fills a layout when the HIT is created; the renderer's note is about old HITs.
        preview = replace(preview, note="")
    return preview, problem
