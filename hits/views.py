"""The review workspace: studies (HIT types), the review grid, HITs side by side, decisions."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseStopPolling

from dashboard.enums import Action
from dashboard.jobs import start_job
from dashboard.models import Job
from dashboard.permissions import account_for_user
from hits import results_export, review, upload_plan
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
from hits.models import HIT, Assignment, Decision, HITType, RejectionReason, ResultsUpload
from hits.services import DecisionError, override_deadline, refusal, request_decisions


def _template(request: HttpRequest, name: str, partial: str) -> str:
    return f"{name}#{partial}" if getattr(request, "htmx", False) else name


def _query(request: HttpRequest) -> str:
    """The query string without the page number, for pagination links that keep the filter."""
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


# --- Studies -------------------------------------------------------------------------------------


@require_GET
@login_required
def study_list(request: HttpRequest, slug: str) -> HttpResponse:
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
    request: HttpRequest, account: object, form: object, rows: object, *, group: str, name: str
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
    return render(request, _template(request, f"hits/{name}_list.html", f"{name}-table"), context)


@require_GET
@login_required
def study_detail(request: HttpRequest, slug: str, hit_type_id: str) -> HttpResponse:
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
    rows = grid_rows(row_values(page.object_list))
    can_review = Action.REVIEW in request.account_actions
    # A worker's rows, within the batch when the page shows one.
    worker_link = f"?batch={batch.pk}&worker=" if batch else "?worker="
    if not analysis.workers_table:
        # Rendered once per change of the analysis: it depends on nothing else.
        analysis.workers_table = render_to_string(
            "hits/includes/workers_table.html",
            {"workers": analysis.workers, "worker_link": worker_link},
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
            # URL prefixes, so 500 rows do not each reverse three URLs.
            hit_base=f"{account.get_absolute_url()}hits/",
            assignment_base=f"{account.get_absolute_url()}assignments/",
            csrf_token=get_token(request),
        ),
    }
    return render(request, _template(request, "hits/study_detail.html", "grid"), context)


@require_POST
@login_required
def study_columns(request: HttpRequest, slug: str, hit_type_id: str) -> HttpResponse:
    """Save which answer columns this user sees (and in which order) for the HIT type."""
    account = account_for_user(request, slug)
    hit_type = get_object_or_404(HITType, account=account, hit_type_id=hit_type_id)
    fields = review.analyse(hit_type).fields
    form = ColumnsForm(request.POST, fields=fields)
    if form.is_valid():
        chosen = form.cleaned_data["columns"]

        def position(name: str) -> tuple[int, int]:
            raw = request.POST.get(f"position_{name}", "")
            number = int(raw) if raw.isdigit() else 10_000
            return (number, fields.index(name))

        review.save_grid_columns(request.user, hit_type, sorted(chosen, key=position))
    return redirect("study-detail", slug=account.slug, hit_type_id=hit_type.hit_type_id)


@require_GET
@login_required
def batch_list(request: HttpRequest, slug: str) -> HttpResponse:
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


@require_GET
@login_required
def hit_list(request: HttpRequest, slug: str) -> HttpResponse:
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
    return render(request, _template(request, "hits/hit_list.html", "hit-table"), context)


@require_GET
@login_required
def hit_detail(request: HttpRequest, slug: str, hit_id: str) -> HttpResponse:
    """A HIT: its question (preview), and its assignments side by side."""
    account = account_for_user(request, slug)
    hit = get_object_or_404(
        HIT.objects.select_related("hit_type", "batch"), account=account, hit_id=hit_id
    )
    sbs = review.side_by_side(hit)
    annotate_decisions(sbs.assignments)
    context = {
        "account": account,
        "hit": hit,
        "sbs": sbs,
        "reasons": account.rejection_reasons.all(),
        "can_review": Action.REVIEW in request.account_actions,
        "can_preview": Action.PREVIEW in request.account_actions,
    }
    return render(request, "hits/hit_detail.html", context)


@require_GET
@login_required
def search(request: HttpRequest, slug: str) -> HttpResponse:
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


def annotate_decisions(assignments: list[Assignment]) -> list[Assignment]:
    """Attach what the decision cell shows: the decision in flight, the last finished one, and
    whether (and until when) a rejection can be undone. Two queries for any number of rows."""
    pks = [a.pk for a in assignments]
    in_flight = {d.assignment_id: d for d in Decision.objects.open().filter(assignment__in=pks)}
    finished: dict[int, Decision] = {}
    for d in (
        Decision.objects.filter(assignment__in=pks)
        .exclude(state__in=DecisionState.open())
        .order_by("pk")
    ):
        finished[d.assignment_id] = d
    for a in assignments:
        a.open_decision = in_flight.get(a.pk)
        a.last_decision = finished.get(a.pk)
        a.deadline = override_deadline(a)
        a.can_override = refusal(a, DecisionAction.OVERRIDE) is None
    return assignments


def _row_context(
    request: HttpRequest, account: object, assignment: Assignment, **extra: object
) -> dict[str, object]:
    annotate_decisions([assignment])
    return {
        "account": account,
        "a": assignment,
        "can_review": Action.REVIEW in request.account_actions,
        "reasons": account.rejection_reasons.all(),
        **extra,
    }


@require_GET
@login_required
def assignment_status(request: HttpRequest, slug: str, assignment_id: str) -> HttpResponse:
    """The decision cell of one assignment; polled while a decision is on its way to MTurk."""
    account = account_for_user(request, slug)
    assignment = _assignment_for(account, assignment_id)
    context = _row_context(
        request, account, assignment, open_reject=request.GET.get("reject") == "1"
    )
    response = render(request, "hits/includes/decision_cell.html", context)
    if assignment.open_decision is None and request.htmx:
        response.status_code = HttpResponseStopPolling.status_code
    return response


@require_POST
@login_required
def assignment_decide(request: HttpRequest, slug: str, assignment_id: str) -> HttpResponse:
    """Approve, reject or undo a rejection of one assignment (htmx swaps the decision cell)."""
    from hits.tasks import task_execute_decision

    account = account_for_user(request, slug, Action.REVIEW)
    assignment = _assignment_for(account, assignment_id)
    form = DecisionForm(request.POST, reasons=account.rejection_reasons.all())
    error = ""
    if form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                outcome = request_decisions(
                    account=account,
                    assignments=[assignment],
                    action=data["action"],
                    feedback=data["feedback"],
                    requested_by=request.user,
                )
                if data.get("save_reason") and data["feedback"].strip():
                    RejectionReason.objects.get_or_create(
                        account=account,
                        text=data["feedback"].strip(),
                        defaults={"created_by": request.user},
                    )
                for decision in outcome.decisions:
                    transaction.on_commit(
                        lambda pk=decision.pk: task_execute_decision.delay(decision_id=pk)
                    )
            if outcome.skipped:
                error = f"Not done: {outcome.skipped[0][1]}."
        except DecisionError as exc:
            error = str(exc)
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
def bulk_decide(request: HttpRequest, slug: str, hit_type_id: str) -> HttpResponse:
    """Step 1 shows what will happen (count, cost, live-account confirmation); step 2 (`go`) records
    the decisions and starts the job that carries them out."""
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
    if data["scope"] == "matching":
        targets = review.filtered_assignments(hit_type, filters, None)
    else:
        targets = Assignment.objects.filter(hit_type=hit_type, assignment_id__in=data["selected"])
    action = data["action"]
    actionable = targets.filter(
        status="Rejected" if action == DecisionAction.OVERRIDE else "Submitted"
    )
    count, cost = actionable.count(), review.bulk_cost(actionable, action)
    context = {
        "account": account,
        "hit_type": hit_type,
        "batch": batch if data["scope"] == "matching" else None,
        "form": form,
        "count": count,
        "skipped": targets.count() - count,
        "cost": cost,
        "action_label": dict(DecisionAction.choices)[action],
        "post": request.POST,
    }
    if "go" not in request.POST:
        return render(request, "hits/bulk_confirm.html", context)
    if account.is_live and data.get("confirm_name", "").strip() != account.name:
        context["confirm_error"] = (
            "Type the account name exactly to confirm a decision on a live account."
        )
        return render(request, "hits/bulk_confirm.html", context)
    if count == 0:
        messages.warning(
            request, "Nothing to do: none of those assignments can take that decision now."
        )
        return redirect("study-detail", slug=account.slug, hit_type_id=hit_type.hit_type_id)
    with transaction.atomic():
        job = start_job(
            account=account,
            kind="review.decide",
            title=f"{context['action_label']} {count} assignment{'s' if count != 1 else ''} of “{hit_type.title[:80]}”"
            + (f", batch {context['batch'].name[:60]}" if context["batch"] else ""),
            parameters={"action": action, "hit_type": hit_type.hit_type_id, "scope": data["scope"]},
            created_by=request.user,
            total=count,
        )
        outcome = request_decisions(
            account=account,
            assignments=actionable.select_related("hit", "worker").iterator(chunk_size=1000),
            action=action,
            feedback=data["feedback"],
            requested_by=request.user,
            job=job,
        )
        Job.objects.filter(pk=job.pk).update(total=len(outcome.decisions))
    return redirect(job)


@require_GET
@login_required
def decision_results(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """What a bulk decision job did, with every failure and why."""
    account = account_for_user(request, slug)
    job = get_object_or_404(Job, account=account, pk=pk, kind="review.decide")
    decisions = Decision.objects.filter(job=job).select_related(
        "assignment__worker", "assignment__hit"
    )
    problems = decisions.filter(state__in=[DecisionState.FAILED, DecisionState.ALREADY]).order_by(
        "state", "pk"
    )
    counts = {state: decisions.filter(state=state).count() for state in DecisionState.values}
    return render(
        request,
        "hits/decision_results.html",
        {"account": account, "job": job, "problems": problems[:1000], "counts": counts},
    )


# --- CSV round trip ------------------------------------------------------------------------------


@require_GET
@login_required
def results_download(request: HttpRequest, slug: str, hit_type_id: str) -> StreamingHttpResponse:
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
def results_upload(request: HttpRequest, slug: str, hit_type_id: str) -> HttpResponse:
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
    request: HttpRequest, slug: str, hit_type_id: str, upload_id: int
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
    if upload.job_id:
        return redirect(upload.job)
    if account.is_live and request.POST.get("confirm_name", "").strip() != account.name:
        messages.error(
            request, "Type the account name exactly to confirm decisions on a live account."
        )
        return redirect("results-upload", slug=account.slug, hit_type_id=hit_type_id)
    plan = upload_plan.parse_decisions_csv(
        account=account,
        data=bytes(upload.content),
        scope=Assignment.objects.filter(hit_type=upload.hit_type),
    )
    if not plan.ok or not plan.rows:
        messages.error(
            request, "The file no longer plans any decision; upload it again to see why."
        )
        return redirect("results-upload", slug=account.slug, hit_type_id=hit_type_id)
    with transaction.atomic():
        # Claim the upload so a double-clicked confirmation runs it once.
        job = start_job(
            account=account,
            kind="review.decide",
            title=f"Decisions from {upload.filename or 'an uploaded file'} ({len(plan.rows)} rows)",
            parameters={"upload": upload.pk},
            created_by=request.user,
            total=len(plan.rows),
        )
        if ResultsUpload.objects.filter(pk=upload.pk, job__isnull=True).update(job=job) != 1:
            transaction.set_rollback(True)
            return redirect(ResultsUpload.objects.get(pk=upload.pk).job)
        by_pk = Assignment.objects.in_bulk([row.assignment_pk for row in plan.rows])
        for action in (DecisionAction.APPROVE, DecisionAction.OVERRIDE, DecisionAction.REJECT):
            for feedback in sorted({row.feedback for row in plan.rows}):
                chosen = [
                    by_pk[row.assignment_pk]
                    for row in plan.rows
                    if row.feedback == feedback and _plan_action(row) == action
                ]
                if chosen:
                    request_decisions(
                        account=account,
                        assignments=chosen,
                        action=action,
                        feedback=feedback,
                        requested_by=request.user,
                        job=job,
                    )
        Job.objects.filter(pk=job.pk).update(total=Decision.objects.filter(job=job).count())
    return redirect(job)


def _plan_action(row: upload_plan.PlannedDecision) -> str:
    if row.action == "reject":
        return DecisionAction.REJECT
    return DecisionAction.OVERRIDE if row.override else DecisionAction.APPROVE
