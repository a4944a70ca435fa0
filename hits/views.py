"""The review workspace: studies (HIT types), the review grid, HITs side by side, decisions."""

from __future__ import annotations

from typing import cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import HttpResponse, StreamingHttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseStopPolling

from dashboard import confirmations
from dashboard.enums import Action, JobKind
from dashboard.forms import LiveAccountConfirmForm
from dashboard.htmx import page_or_fragment, vary_on_htmx
from dashboard.http import DashboardRequest
from dashboard.models import Job, RequesterAccount
from dashboard.permissions import account_for_user
from hits import queries, results_export, review, services, upload_plan
from hits.enums import DecisionAction, DecisionState
from hits.forms import (
    BatchFilterForm,
    BulkDecisionForm,
    ColumnsForm,
    DecisionForm,
    GridFilterForm,
    HITFilterForm,
    ResultsUploadForm,
    StudyFilterForm,
)
from hits.grid_rows import grid_rows, render_grid_rows, row_values
from hits.models import HIT, Assignment, Batch, Decision, HITType, ResultsUpload


def _query(request: DashboardRequest) -> str:
    """The query string without the page number, for pagination links that keep the filter."""
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


# --- Studies -------------------------------------------------------------------------------------


@vary_on_htmx
@require_GET
@login_required
def study_list(request: DashboardRequest, slug: str) -> HttpResponse:
    account = account_for_user(request, slug)
    form = StudyFilterForm(request.GET or None)
    studies = review.studies(account)
    order = "-first_seen_at"
    if form.is_valid():
        if form.cleaned_data["q"]:
            studies = studies.filter(title__icontains=form.cleaned_data["q"])
        order = form.cleaned_data["sort"] or order
    return _progress_list(
        request, account, form, studies.order_by(order, "pk"), group="hit_type", name="study"
    )


def _progress_list(
    request: DashboardRequest,
    account: RequesterAccount,
    form: forms.Form,
    rows: QuerySet[HITType] | QuerySet[Batch],
    *,
    group: str,
    name: str,
) -> HttpResponse:
    """A page of studies or batches (`rows`, with hits.review's progress columns) and what each
    cost so far; hits/<name>_list.html, or its <name>-table fragment for htmx."""
    page = Paginator(rows, 25).get_page(request.GET.get("page"))
    page.object_list = review.with_spent(list(page.object_list), group)
    context = {
        "account": account,
        "form": form,
        "page": page,
        "query": _query(request),
        "now": timezone.now(),
    }
    template = page_or_fragment(request, f"hits/{name}_list.html", f"{name}-table")
    return render(request, template, context)


def _bonus_link(account: RequesterAccount) -> tuple[str, str]:
    """The bonus page's URL around its assignment id, so 500 rows do not each reverse it. The page
    belongs to the people app (above this one): reached by URL name, never by import."""
    marker = "ASSIGNMENTID"
    url = reverse("bonus-pay", kwargs={"slug": account.slug, "assignment_id": marker})
    before, after = url.split(marker)
    return before, after


@vary_on_htmx
@require_GET
@login_required
def study_detail(request: DashboardRequest, slug: str, hit_type_id: str) -> HttpResponse:
    """The review grid: one row per assignment, a column per chosen answer field."""
    account = account_for_user(request, slug)
    hit_type = get_object_or_404(HITType, account=account, hit_type_id=hit_type_id)
    form = GridFilterForm(request.GET or None, hit_type=hit_type)
    filters = form.cleaned_data if form.is_valid() else {}
    batch = filters.get("batch")
    analysis = review.analyse(hit_type, batch)
    assignments = review.filtered_assignments(hit_type, filters, analysis)
    page = Paginator(assignments, filters.get("page_size") or 25).get_page(request.GET.get("page"))
    columns = review.grid_columns(request.user, hit_type, analysis.fields)
    # A page of a queryset holds the sliced queryset itself.
    rows = grid_rows(row_values(cast(QuerySet[Assignment], page.object_list)))
    can_review = Action.REVIEW in request.account_actions
    # A worker's rows, within the batch when the page shows one.
    worker_link = f"?batch={batch.pk}&worker=" if batch else "?worker="
    if not analysis.workers_table:
        # Rendered once per change of the analysis: it depends on nothing else.
        analysis.workers_table = render_to_string(
            "hits/includes/workers_table.html",
            {"workers": analysis.workers, "worker_link": worker_link, "account": account},
        )
    context = {
        "account": account,
        "hit_type": hit_type,
        "batch": batch,
        "workers_table": mark_safe(analysis.workers_table),  # rendered with autoescape
        "form": form,
        "page": page,
        "rows": rows,
        "columns": columns,
        "all_fields": analysis.fields,
        "column_choices": [
            (name, columns.index(name) + 1 if name in columns else None) for name in analysis.fields
        ],
        "analysis": analysis,
        "matching": page.paginator.count,
        "query": _query(request),
        "spent": analysis.spent,
        "charts": analysis.charts,
        "reasons": account.rejection_reasons.all(),
        "can_review": can_review,
        "can_export": Action.EXPORT in request.account_actions,
        "grid_rows": render_grid_rows(
            rows,
            columns=columns,
            disagreeing=analysis.disagreeing,
            can_review=can_review,
            worker_link=worker_link,
            # URL prefixes, so 500 rows do not each reverse three URLs. The worker pages belong to
            # the people app (above this one): reached by URL name, never by import.
            worker_base=reverse("worker-list", kwargs={"slug": account.slug}),
            hit_base=f"{account.get_absolute_url()}hits/",
            assignment_base=f"{account.get_absolute_url()}assignments/",
            csrf_token=get_token(request),
            badges=queries.block_badges(
                account=account, worker_ids=[row.worker_id for row in rows]
            ),
            bonus_link=_bonus_link(account)
            if Action.PAY_BONUSES in request.account_actions
            else None,
            policy_column=analysis.has_review_policies,
            can_download=Action.EXPORT in request.account_actions,
        ),
        "can_block": Action.MANAGE_WORKERS in request.account_actions,
    }
    return render(request, page_or_fragment(request, "hits/study_detail.html", "grid"), context)


@require_POST
@login_required
def study_columns(request: DashboardRequest, slug: str, hit_type_id: str) -> HttpResponse:
    """Save which answer columns this user sees (and in which order) for the HIT type. A choice
    the page cannot send (an unknown column, a position that is not 1-999) is a 400 that says
    what was wrong, and nothing is saved (hits.forms.ColumnsForm)."""
    account = account_for_user(request, slug)
    hit_type = get_object_or_404(HITType, account=account, hit_type_id=hit_type_id)
    fields = review.analyse(hit_type).fields
    form = ColumnsForm(request.POST, fields=fields)
    if not form.is_valid():
        context = {"account": account, "hit_type": hit_type, "problems": form.problems()}
        return render(request, "hits/study_columns.html", context, status=400)
    review.save_grid_columns(request.user, hit_type, form.ordered_columns())
    return redirect("study-detail", slug=account.slug, hit_type_id=hit_type.hit_type_id)


@vary_on_htmx
@require_GET
@login_required
def batch_list(request: DashboardRequest, slug: str) -> HttpResponse:
    """Batches (HITs of a study published together) with their progress and cost so far."""
    account = account_for_user(request, slug)
    form = BatchFilterForm(request.GET or None)
    batches = review.batches(account)
    order = "-first_seen_at"
    if form.is_valid():
        q = form.cleaned_data["q"].strip()
        if q:
            batches = batches.filter(Q(name__icontains=q) | Q(hit_type__title__icontains=q))
        order = form.cleaned_data["sort"] or order
    return _progress_list(
        request, account, form, batches.order_by(order, "pk"), group="batch", name="batch"
    )


# --- HITs ----------------------------------------------------------------------------------------


@vary_on_htmx
@require_GET
@login_required
def hit_list(request: DashboardRequest, slug: str) -> HttpResponse:
    account = account_for_user(request, slug)
    form = HITFilterForm(request.GET or None)
    hits = HIT.objects.filter(account=account).select_related("hit_type", "batch")
    order = "-created_at_mturk"
    if form.is_valid():
        q, status = form.cleaned_data["q"].strip(), form.cleaned_data["status"]
        if q:
            hits = hits.filter(Q(hit_id=q) | Q(title__icontains=q) | Q(annotation__icontains=q))
        if status:
            hits = hits.filter(status=status)
        order = form.cleaned_data["sort"] or order
    page = Paginator(hits.order_by(order, "pk"), 50).get_page(request.GET.get("page"))
    context = {"account": account, "form": form, "page": page, "query": _query(request)}
    return render(request, page_or_fragment(request, "hits/hit_list.html", "hit-table"), context)


@require_GET
@login_required
def hit_detail(request: DashboardRequest, slug: str, hit_id: str) -> HttpResponse:
    """A HIT: its question (preview), and its assignments side by side."""
    account = account_for_user(request, slug)
    hit = get_object_or_404(
        HIT.objects.select_related("hit_type", "batch"), account=account, hit_id=hit_id
    )
    sbs = review.side_by_side(hit)
    context = {
        "account": account,
        "hit": hit,
        "sbs": sbs,
        "decision_cells": list(
            zip(sbs.assignments, services.decision_statuses(sbs.assignments), strict=True)
        ),
        "reasons": account.rejection_reasons.all(),
        "can_review": Action.REVIEW in request.account_actions,
        "can_preview": Action.PREVIEW in request.account_actions,
        # Workers' uploaded files (FileUploadAnswer) are offered as downloads in their cells.
        "can_download": Action.EXPORT in request.account_actions,
    }
    return render(request, "hits/hit_detail.html", context)


@require_GET
@login_required
def search(request: DashboardRequest, slug: str) -> HttpResponse:
    """One box for a HIT id, an assignment id or a worker id."""
    account = account_for_user(request, slug)
    q = (request.GET.get("q") or "").strip()[:64]
    if q:
        hit = HIT.objects.filter(account=account, hit_id=q).first()
        if hit:
            return redirect("hit-detail", slug=account.slug, hit_id=hit.hit_id)
        assignment = (
            Assignment.objects.filter(account=account, assignment_id=q)
            .select_related("hit")
            .first()
        )
        if assignment:
            return redirect(
                f"{reverse('hit-detail', kwargs={'slug': account.slug, 'hit_id': assignment.hit.hit_id})}#a-{assignment.assignment_id}"
            )
        worker_assignment = (
            Assignment.objects.filter(account=account, worker__worker_id=q)
            .select_related("hit_type")
            .first()
        )
        if worker_assignment:
            url = reverse(
                "study-detail",
                kwargs={
                    "slug": account.slug,
                    "hit_type_id": worker_assignment.hit_type.hit_type_id,
                },
            )
            return redirect(f"{url}?worker={q}")
        hit_type = HITType.objects.filter(account=account, hit_type_id=q).first()
        if hit_type:
            return redirect("study-detail", slug=account.slug, hit_type_id=hit_type.hit_type_id)
    messages.warning(
        request,
        f"Nothing in this account has the id “{q}”."
        if q
        else "Type a HIT, assignment or worker id.",
    )
    return redirect(account)


# --- Decisions -----------------------------------------------------------------------------------


def _assignment_for(account: object, assignment_id: str) -> Assignment:
    return get_object_or_404(
        Assignment.objects.select_related("worker", "hit", "hit_type"),
        account=account,
        assignment_id=assignment_id,
    )


def _row_context(
    request: DashboardRequest,
    account: RequesterAccount,
    assignment: Assignment,
    status: services.DecisionStatus | None = None,
    **extra: object,
) -> dict[str, object]:
    return {
        "account": account,
        "a": assignment,
        "d": status or services.decision_statuses([assignment])[0],
        "can_review": Action.REVIEW in request.account_actions,
        "reasons": account.rejection_reasons.all(),
        **extra,
    }


@require_GET
@login_required
def assignment_status(request: DashboardRequest, slug: str, assignment_id: str) -> HttpResponse:
    """The decision cell of one assignment; polled while a decision is on its way to MTurk."""
    account = account_for_user(request, slug)
    assignment = _assignment_for(account, assignment_id)
    status = services.decision_statuses([assignment])[0]
    context = _row_context(
        request, account, assignment, status, open_reject=request.GET.get("reject") == "1"
    )
    response = render(request, "hits/includes/decision_cell.html", context)
    if status.open_decision is None and request.htmx:
        response.status_code = HttpResponseStopPolling.status_code
    return response


@require_POST
@login_required
def assignment_decide(request: DashboardRequest, slug: str, assignment_id: str) -> HttpResponse:
    """Approve, reject or undo a rejection of one assignment (htmx swaps the decision cell)."""
    account = account_for_user(request, slug, Action.REVIEW)
    assignment = _assignment_for(account, assignment_id)
    form = DecisionForm(request.POST, reasons=account.rejection_reasons.all())
    if form.is_valid():
        error = services.decide_one(
            account=account,
            assignment=assignment,
            action=form.cleaned_data["action"],
            feedback=form.cleaned_data["feedback"],
            save_reason=form.cleaned_data.get("save_reason", False),
            requested_by=request.user,
        )
    else:
        error = " ".join(str(e) for errors in form.errors.values() for e in errors)
    context = _row_context(request, account, assignment, error=error)
    if request.htmx:
        return render(request, "hits/includes/decision_cell.html", context)
    if error:
        messages.error(request, error)
    return redirect(
        f"{reverse('hit-detail', kwargs={'slug': account.slug, 'hit_id': assignment.hit.hit_id})}#a-{assignment.assignment_id}"
    )


@require_POST
@login_required
def bulk_decide(request: DashboardRequest, slug: str, hit_type_id: str) -> HttpResponse:
    """Step 1 (from the grid) shows what will happen: count, cost, and on a live account a box for
    its name; the page carries a one-time token bound to exactly that (dashboard.confirmations).
    Step 2 (`go`, from that page) records the decisions and starts the job that carries them out,
    only with the page's unspent token and, on a live account, the typed name. Without them, the
    confirmation page is shown again and nothing is recorded."""
    account = account_for_user(request, slug, Action.REVIEW)
    hit_type = get_object_or_404(HITType, account=account, hit_type_id=hit_type_id)
    form = BulkDecisionForm(request.POST, reasons=account.rejection_reasons.all())
    filter_form = GridFilterForm(request.POST, hit_type=hit_type)
    filters = filter_form.cleaned_data if filter_form.is_valid() else {}
    batch = filters.get("batch")
    if not form.is_valid():
        return render(
            request,
            "hits/bulk_confirm.html",
            {
                "account": account,
                "hit_type": hit_type,
                "batch": batch,
                "form": form,
                "invalid": True,
            },
        )
    data = form.cleaned_data
    action = data["action"]
    plan = services.plan_bulk_decision(
        hit_type=hit_type,
        action=action,
        scope=data["scope"],
        selected=data["selected"],
        filters=filters,
    )
    binding = services.bulk_binding(
        hit_type=hit_type,
        action=action,
        feedback=data["feedback"],
        scope=data["scope"],
        selected=data["selected"],
        filters=filters,
    )
    context: dict[str, object] = {
        "account": account,
        "hit_type": hit_type,
        "batch": plan.batch,
        "form": form,
        "count": plan.count,
        "skipped": plan.skipped,
        "cost": plan.cost,
        "action_label": DecisionAction(action).label,
        # Only the two forms' own fields travel on; `go`, the token and the name are the page's.
        "hidden_fields": [*form.echoed(), *filter_form.echoed()],
    }
    if data["go"]:
        confirm = LiveAccountConfirmForm(request.POST, account=account)
        if not confirm.is_valid():
            context["confirm_error"] = confirm.problem()
        else:
            with transaction.atomic():
                # Spent in the transaction that records the decisions: if recording fails, the
                # token is not spent; two posts of one page record the decisions once.
                confirmed = confirmations.consume(
                    request,
                    token=data["confirmation"],
                    account=account,
                    purpose=services.BULK_CONFIRMATION,
                    binding=binding,
                )
                job = (
                    services.start_bulk_decision(
                        account=account,
                        hit_type=hit_type,
                        plan=plan,
                        action=action,
                        feedback=data["feedback"],
                        scope=data["scope"],
                        requested_by=request.user,
                    )
                    if confirmed and plan.count
                    else None
                )
            if job is not None:
                return redirect(job)
            if confirmed:
                messages.warning(
                    request, "Nothing to do: none of those assignments can take that decision now."
                )
                return redirect("study-detail", slug=account.slug, hit_type_id=hit_type.hit_type_id)
            context["confirm_error"] = (
                "Nothing was sent: this confirmation is no longer valid (it was used already, "
                "expired, or was shown for other rows or another decision). Check what is below "
                "and confirm again."
            )
    context["confirmation"] = confirmations.issue(
        request, account=account, purpose=services.BULK_CONFIRMATION, binding=binding
    )
    return render(request, "hits/bulk_confirm.html", context)


@require_GET
@login_required
def decision_results(request: DashboardRequest, slug: str, pk: int) -> HttpResponse:
    """What a bulk decision job did, with every failure and why."""
    account = account_for_user(request, slug)
    job = get_object_or_404(Job, account=account, pk=pk, kind=JobKind.REVIEW_DECIDE)
    decisions = Decision.objects.filter(job=job).select_related(
        "assignment__worker", "assignment__hit"
    )
    problems = decisions.filter(
        state__in=[*DecisionState.failures(), DecisionState.ALREADY]
    ).order_by("state", "pk")
    counts = {state: decisions.filter(state=state).count() for state in DecisionState.values}
    # Giving up after repeated errors is a failure to the reader of this page.
    counts[DecisionState.FAILED] += counts.pop(DecisionState.GAVE_UP)
    return render(
        request,
        "hits/decision_results.html",
        {"account": account, "job": job, "problems": problems[:1000], "counts": counts},
    )


# --- CSV round trip ------------------------------------------------------------------------------


@require_GET
@login_required
def results_download(
    request: DashboardRequest, slug: str, hit_type_id: str
) -> StreamingHttpResponse:
    """The study's results (optionally filtered like the grid) in the Requester website's batch
    results format, or as JSON lines with ?format=jsonl. Streamed: memory stays flat."""
    account = account_for_user(request, slug, Action.EXPORT)
    hit_type = get_object_or_404(HITType, account=account, hit_type_id=hit_type_id)
    form = GridFilterForm(request.GET or None, hit_type=hit_type)
    filters = form.cleaned_data if form.is_valid() else {}
    # The majority is only worked out when the filter needs it.
    assignments = review.filtered_assignments(hit_type, filters, None)
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    batch = filters.get("batch")
    prefix = f"{hit_type.hit_type_id}-batch-{batch.pk}" if batch else hit_type.hit_type_id
    if request.GET.get("format") == "jsonl":
        response = StreamingHttpResponse(
            results_export.iter_results_jsonl(assignments),
            content_type="application/x-ndjson; charset=utf-8",
        )
        name = f"{prefix}-results-{stamp}.jsonl"
    else:
        response = StreamingHttpResponse(
            results_export.iter_results_csv(assignments), content_type="text/csv; charset=utf-8"
        )
        name = f"{prefix}-results-{stamp}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@require_http_methods(["GET", "POST"])
@login_required
def results_upload(request: DashboardRequest, slug: str, hit_type_id: str) -> HttpResponse:
    """Upload a marked results file: shows what would happen; nothing changes until confirmed."""
    account = account_for_user(request, slug, Action.REVIEW)
    hit_type = get_object_or_404(HITType, account=account, hit_type_id=hit_type_id)
    form = ResultsUploadForm(request.POST or None, request.FILES or None)
    context: dict[str, object] = {"account": account, "hit_type": hit_type, "form": form}
    if request.method == "POST" and form.is_valid():
        upload_file = form.cleaned_data["file"]
        data = upload_file.read(upload_plan.DEFAULT_MAX_BYTES + 1)
        plan = upload_plan.parse_decisions_csv(
            account=account, data=data, scope=Assignment.objects.filter(hit_type=hit_type)
        )
        context["plan"] = plan
        if plan.ok and plan.rows:
            upload = ResultsUpload.objects.create(
                account=account,
                hit_type=hit_type,
                uploaded_by=request.user,
                filename=upload_file.name[:255],
                content=data,
            )
            context["upload"] = upload
    return render(request, "hits/results_upload.html", context)


@require_POST
@login_required
def results_upload_confirm(
    request: DashboardRequest, slug: str, hit_type_id: str, upload_id: int
) -> HttpResponse:
    """Carry out an uploaded file: planned again now (the mirror may have moved), once."""
    account = account_for_user(request, slug, Action.REVIEW)
    upload = get_object_or_404(
        ResultsUpload,
        account=account,
        hit_type__hit_type_id=hit_type_id,
        pk=upload_id,
        uploaded_by=request.user,
    )
    if upload.job is not None:
        return redirect(upload.job)
    confirm = LiveAccountConfirmForm(request.POST, account=account)
    if not confirm.is_valid():
        messages.error(request, confirm.problem())
        return redirect("results-upload", slug=account.slug, hit_type_id=hit_type_id)
    try:
        job = services.decide_from_upload(account=account, upload=upload, requested_by=request.user)
    except services.UploadRefused as exc:
        messages.error(request, str(exc))
        return redirect("results-upload", slug=account.slug, hit_type_id=hit_type_id)
    return redirect(job)
