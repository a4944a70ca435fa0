"""Qualification type and score pages: the types, a type's page with its workers, create / edit /
dispose, one worker's score, and a file of grants (upload, preview, confirm, one job). Lab admins
act (MANAGE_QUALIFICATIONS); research staff see the lists.

Creating, editing and disposing of a type are one audited MTurk call each, made in the POST: they
are rare admin actions whose answer the page shows at once (MTurk's refusal included), unlike
grants, which are intents sent by tasks and jobs."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dashboard import confirmations
from dashboard.enums import Action, IntentState
from dashboard.forms import LiveAccountConfirmForm
from dashboard.htmx import page_or_fragment, vary_on_htmx
from dashboard.http import DashboardRequest
from dashboard.models import RequesterAccount
from dashboard.mturk_access import account_gateway
from dashboard.permissions import account_for_user
from qualifications import services
from qualifications.enums import GrantAction
from qualifications.forms import (
    ConfirmForm,
    GrantUploadForm,
    QualificationTypeForm,
    ScoreFilterForm,
    ScoreForm,
)
from qualifications.models import GrantUpload, Qualification, QualificationGrant, QualificationType

PAGE_SIZE = 50
DISPOSE_CONFIRMATION = "qualifications.dispose"


def _type(account: RequesterAccount, type_id: str) -> QualificationType:
    return get_object_or_404(QualificationType, account=account, qualification_type_id=type_id)


# --- types -----------------------------------------------------------------------------------------


@require_GET
@login_required
def qualification_list(request: DashboardRequest, slug: str) -> HttpResponse:
    """The account's types: status, auto-grant, requestable, workers, requiring HITs."""
    account = account_for_user(request, slug)
    return render(
        request,
        "qualifications/qualification_list.html",
        {
            "account": account,
            "types": services.types_with_counts(account),
            "can_manage": Action.MANAGE_QUALIFICATIONS.value in request.account_actions,
        },
    )


def _score_filters(
    request: DashboardRequest, qtype: QualificationType
) -> tuple[ScoreFilterForm, QuerySet[Qualification]]:
    """The filter form (from the query string) and the type's scores it selects. Bad filters
    select nothing rather than everything, and the form shows why."""
    form = ScoreFilterForm(request.GET or None)
    if not form.is_bound:
        return form, services.scores_of(qtype)
    if not form.is_valid():
        return form, services.scores_of(qtype).none()
    data = form.cleaned_data
    return form, services.scores_of(
        qtype,
        status=data["status"],
        value_min=data["value_min"],
        value_max=data["value_max"],
        worker_id=data["worker"],
    )


@vary_on_htmx
@require_GET
@login_required
def qualification_detail(request: DashboardRequest, slug: str, type_id: str) -> HttpResponse:
    """A type's settings, the HITs that require it, and its workers (filtered, paginated)."""
    account = account_for_user(request, slug)
    qtype = _type(account, type_id)
    form, scores = _score_filters(request, qtype)
    page = Paginator(scores, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        page_or_fragment(request, "qualifications/qualification_detail.html", "workers-table"),
        {
            "account": account,
            "qtype": qtype,
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "requiring_hits": qtype.requiring_hits.all()[:200],
            "requiring_count": qtype.requiring_hits.count(),
            "open_grants": QualificationGrant.objects.filter(
                qualification_type=qtype, state__in=IntentState.open()
            ).count(),
            "can_manage": Action.MANAGE_QUALIFICATIONS.value in request.account_actions,
            "can_export": Action.EXPORT.value in request.account_actions,
        },
    )


class _Echo:
    """A file-like object whose write returns the line, for csv.writer in a streamed response."""

    def write(self, value: str) -> str:
        return value


def _csv_lines(rows: Iterable[list[str]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    for row in rows:
        yield writer.writerow(row)


@require_GET
@login_required
def qualification_workers_download(
    request: DashboardRequest, slug: str, type_id: str
) -> StreamingHttpResponse:
    """The type's worker list as CSV, with the page's filters."""
    account = account_for_user(request, slug, Action.EXPORT)
    qtype = _type(account, type_id)
    _form, scores = _score_filters(request, qtype)
    response = StreamingHttpResponse(
        _csv_lines(services.scores_csv_rows(scores)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="qualification-{qtype.qualification_type_id}-workers.csv"'
    )
    return response


@require_http_methods(["GET", "POST"])
@login_required
def qualification_create(request: DashboardRequest, slug: str) -> HttpResponse:
    account = account_for_user(request, slug, Action.MANAGE_QUALIFICATIONS)
    form = QualificationTypeForm(request.POST or None, account=account)
    refusal = ""
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with account_gateway(account) as gateway:
                qtype = services.create_type(
                    account=account,
                    gateway=gateway,
                    name=data["name"],
                    description=data["description"],
                    keywords=data["keywords"],
                    status=data["status"],
                    retry_delay_seconds=data["retry_delay_seconds"],
                    auto_granted=data["auto_granted"],
                    auto_granted_value=data["auto_granted_value"],
                    requested_by=request.user,
                )
        except services.TypeRefused as exc:
            refusal = str(exc)
        else:
            messages.success(request, f"Qualification type “{qtype.name}” created at MTurk.")
            return redirect("qualification-detail", slug=slug, type_id=qtype.qualification_type_id)
    return render(
        request,
        "qualifications/qualification_form.html",
        {"account": account, "form": form, "qtype": None, "refusal": refusal},
        status=400 if request.method == "POST" else 200,
    )


@require_http_methods(["GET", "POST"])
@login_required
def qualification_edit(request: DashboardRequest, slug: str, type_id: str) -> HttpResponse:
    account = account_for_user(request, slug, Action.MANAGE_QUALIFICATIONS)
    qtype = _type(account, type_id)
    if qtype.status == services.DISPOSING:
        raise Http404("This type is being disposed of.")
    form = QualificationTypeForm(request.POST or None, account=account, instance=qtype)
    refusal = ""
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with account_gateway(account) as gateway:
                services.update_type(
                    qualification_type=qtype,
                    gateway=gateway,
                    description=data["description"],
                    status=data["status"],
                    retry_delay_seconds=data["retry_delay_seconds"],
                    auto_granted=data["auto_granted"],
                    auto_granted_value=data["auto_granted_value"],
                    requested_by=request.user,
                )
        except services.TypeRefused as exc:
            refusal = str(exc)
        else:
            messages.success(request, f"Qualification type “{qtype.name}” updated at MTurk.")
            return redirect("qualification-detail", slug=slug, type_id=type_id)
    return render(
        request,
        "qualifications/qualification_form.html",
        {"account": account, "form": form, "qtype": qtype, "refusal": refusal},
        status=400 if request.method == "POST" else 200,
    )


@require_http_methods(["GET", "POST"])
@login_required
def qualification_dispose(request: DashboardRequest, slug: str, type_id: str) -> HttpResponse:
    """Dispose of a type: its own confirmation page with MTurk's caveats and its own token."""
    account = account_for_user(request, slug, Action.MANAGE_QUALIFICATIONS)
    qtype = _type(account, type_id)
    binding = {"type": qtype.qualification_type_id}
    problem = ""
    if request.method == "POST" and qtype.status != services.DISPOSING:
        form = ConfirmForm(request.POST)
        live = LiveAccountConfirmForm(request.POST, account=account)
        token = form.cleaned_data["confirmation"] if form.is_valid() else ""
        if not live.is_valid():
            problem = live.problem()
        elif not confirmations.consume(
            request, token=token, account=account, purpose=DISPOSE_CONFIRMATION, binding=binding
        ):
            problem = (
                "Nothing was disposed of: this confirmation is no longer valid (used already or "
                "expired). Check what is below and confirm again."
            )
        else:
            try:
                with account_gateway(account) as gateway:
                    services.dispose_type(
                        qualification_type=qtype, gateway=gateway, requested_by=request.user
                    )
            except services.TypeRefused as exc:
                problem = str(exc)
            else:
                messages.success(
                    request, f"“{qtype.name}” is being disposed of at MTurk (up to 48 hours)."
                )
                return redirect("qualification-list", slug=slug)
    context = {
        "account": account,
        "qtype": qtype,
        "problem": problem,
        "granted": Qualification.objects.filter(
            qualification_type=qtype, status=services.GRANTED
        ).count(),
        "requiring_count": qtype.requiring_hits.count(),
        "pending_requests": qtype.requests.count(),
    }
    if qtype.status != services.DISPOSING:
        context["form"] = ConfirmForm(
            initial={
                "confirmation": confirmations.issue(
                    request, account=account, purpose=DISPOSE_CONFIRMATION, binding=binding
                )
            }
        )
    return render(
        request,
        "qualifications/qualification_dispose.html",
        context,
        status=400 if request.method == "POST" else 200,
    )


# --- scores ----------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
def qualification_worker(
    request: DashboardRequest, slug: str, type_id: str, worker_id: str
) -> HttpResponse:
    """Grant, change or revoke the type for one worker (recorded, then sent once committed)."""
    account = account_for_user(request, slug, Action.MANAGE_QUALIFICATIONS)
    qtype = _type(account, type_id)
    if not services.WORKER_ID_RE.match(worker_id):
        raise Http404("Not an MTurk worker id.")
    score = Qualification.objects.filter(qualification_type=qtype, worker_id=worker_id).first()
    held = score is not None and score.status == services.GRANTED
    form = ScoreForm(
        request.POST or None,
        initial={
            "action": GrantAction.GRANT,
            "integer_value": score.integer_value if score is not None else None,
        },
    )
    refusal = ""
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if qtype.status == services.DISPOSING:
            refusal = "This type is being disposed of: it can no longer be granted."
        elif data["action"] == GrantAction.REVOKE and not held:
            refusal = f"{worker_id} does not hold this qualification: there is nothing to revoke."
        else:
            grant = services.change_score(
                qualification_type=qtype,
                worker_id=worker_id,
                action=data["action"],
                integer_value=data["integer_value"],
                reason=data["reason"].strip(),
                send_notification=data["send_notification"],
                requested_by=request.user,
            )
            if grant is None:
                refusal = "A change of this qualification for this worker is already on its way."
            else:
                verb = "Revocation" if grant.action == GrantAction.REVOKE else "Grant"
                messages.success(
                    request, f"{verb} of “{qtype.name}” for {worker_id} recorded; it is on its way."
                )
                return redirect("qualification-detail", slug=slug, type_id=type_id)
    return render(
        request,
        "qualifications/qualification_worker.html",
        {
            "account": account,
            "qtype": qtype,
            "worker_id": worker_id,
            "score": score,
            "form": form,
            "refusal": refusal,
            "history": QualificationGrant.objects.filter(
                qualification_type=qtype, worker_id=worker_id
            ).order_by("-created_at")[:20],
        },
        status=400 if request.method == "POST" else 200,
    )


@require_http_methods(["GET", "POST"])
@login_required
def qualification_grant_upload(request: DashboardRequest, slug: str, type_id: str) -> HttpResponse:
    """Upload a file of grants or revocations: checked row by row; a good file goes on to its
    preview page, a bad one is refused with a report and nothing is sent."""
    account = account_for_user(request, slug, Action.MANAGE_QUALIFICATIONS)
    qtype = _type(account, type_id)
    form = GrantUploadForm(request.POST or None, request.FILES or None)
    context: dict[str, object] = {"account": account, "qtype": qtype, "form": form}
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        # One byte over the cap is enough to know the file is too big, without reading it all.
        data = upload.read(services.MAX_UPLOAD_BYTES + 1)
        action = form.cleaned_data["action"]
        plan = services.plan_grant_file(qualification_type=qtype, data=data, action=action)
        if plan.ok:
            saved = services.save_upload(
                qualification_type=qtype,
                action=action,
                reason=form.cleaned_data["reason"].strip(),
                send_notification=form.cleaned_data["send_notification"],
                filename=upload.name or "",
                data=data,
                requested_by=request.user,
            )
            return redirect("qualification-upload-preview", slug=slug, type_id=type_id, pk=saved.pk)
        context["plan"] = plan
    return render(
        request,
        "qualifications/grant_upload.html",
        context,
        status=400 if request.method == "POST" else 200,
    )


def _own_upload(
    request: DashboardRequest, slug: str, type_id: str, pk: int
) -> tuple[RequesterAccount, GrantUpload]:
    account = account_for_user(request, slug, Action.MANAGE_QUALIFICATIONS)
    qtype = _type(account, type_id)
    upload = get_object_or_404(
        GrantUpload.objects.select_related("job", "qualification_type", "account"),
        account=account,
        qualification_type=qtype,
        pk=pk,
        created_by=request.user,
    )
    return account, upload


@require_GET
@login_required
def qualification_upload_preview(
    request: DashboardRequest, slug: str, type_id: str, pk: int
) -> HttpResponse:
    """What the file would send, and the confirmation (its own page, with its own token)."""
    account, upload = _own_upload(request, slug, type_id, pk)
    if upload.job is not None:
        return redirect(upload.job)
    return _render_preview(request, account, upload)


def _render_preview(
    request: DashboardRequest, account: RequesterAccount, upload: GrantUpload, *, problem: str = ""
) -> HttpResponse:
    plan = services.plan_grant_file(
        qualification_type=upload.qualification_type,
        data=bytes(upload.content),
        action=upload.action,
    )
    context: dict[str, object] = {
        "account": account,
        "qtype": upload.qualification_type,
        "upload": upload,
        "plan": plan,
        "problem": problem,
    }
    if plan.ok:
        context["form"] = ConfirmForm(
            initial={
                "confirmation": confirmations.issue(
                    request,
                    account=account,
                    purpose=services.UPLOAD_CONFIRMATION,
                    binding=services.upload_binding(upload),
                )
            }
        )
    return render(
        request, "qualifications/grant_upload_preview.html", context, status=400 if problem else 200
    )


@require_POST
@login_required
def qualification_upload_confirm(
    request: DashboardRequest, slug: str, type_id: str, pk: int
) -> HttpResponse:
    """Send the file's grants: one job, whatever the number of posts."""
    account, upload = _own_upload(request, slug, type_id, pk)
    if upload.job is not None:
        return redirect(upload.job)
    form = ConfirmForm(request.POST)
    live = LiveAccountConfirmForm(request.POST, account=account)
    if not live.is_valid():
        return _render_preview(request, account, upload, problem=live.problem())
    started = confirmations.start_once(
        request,
        token=form.cleaned_data["confirmation"] if form.is_valid() else "",
        account=account,
        purpose=services.UPLOAD_CONFIRMATION,
        binding=services.upload_binding(upload),
        start=lambda: services.start_upload(upload=upload, requested_by=request.user),
        first_job=lambda: GrantUpload.objects.get(pk=upload.pk).job,
        refused=(services.UploadRefused,),
        not_done="Nothing was sent",
    )
    if started.job is not None:
        return redirect(started.job)
    return _render_preview(request, account, upload, problem=started.problem)
