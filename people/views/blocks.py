"""Block pages: one worker (hard or soft, block or unblock), and many, from a CSV or from the
review grid's ticked rows, always through a confirmation page with its own one-time token."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from dashboard import confirmations
from dashboard.enums import Action
from dashboard.forms import LiveAccountConfirmForm
from dashboard.http import DashboardRequest
from dashboard.models import RequesterAccount
from dashboard.permissions import account_for_user
from hits.models import Assignment
from mturk.errors import MTurkError
from people.forms.blocks import (
    BlockForm,
    BlockUploadForm,
    BulkBlockConfirmForm,
    SelectedAssignmentsForm,
)
from people.services import blocks as services

TEMPLATE_CONFIRM = "people/block_confirm.html"


@require_http_methods(["GET", "POST"])
@login_required
def worker_block(request: DashboardRequest, slug: str, worker_id: str) -> HttpResponse:
    """Block or unblock one worker; the page shows where they stand and what is on its way."""
    account = account_for_user(request, slug, Action.MANAGE_WORKERS)
    if not services.WORKER_ID.match(worker_id):
        raise Http404("No such worker.")
    form = BlockForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            outcome = services.change_one(
                account=account,
                worker_id=worker_id,
                kind=form.cleaned_data["kind"],
                action=form.cleaned_data["action"],
                reason=form.cleaned_data["reason"],
                requested_by=request.user,
            )
        except services.BlockRefused as exc:
            form.add_error(None, str(exc))
        except MTurkError as exc:
            form.add_error(None, f"MTurk refused to make the lab's exclusion list: {exc.message}")
        else:
            if outcome.skipped:
                messages.warning(request, f"Nothing sent: {outcome.skipped[0][1]}.")
            else:
                messages.success(request, "Recorded; it is on its way to MTurk.")
            return redirect("worker-block", slug=account.slug, worker_id=worker_id)
    status = services.block_status(account=account, worker_id=worker_id)
    return render(
        request,
        "people/worker_block.html",
        {"account": account, "worker_id": worker_id, "form": form, "status": status},
    )


def _confirm_page(
    request: DashboardRequest,
    account: RequesterAccount,
    rows: list[tuple[str, str]],
    source: str,
    form: BulkBlockConfirmForm | None = None,
    error: str = "",
) -> HttpResponse:
    """The confirmation page for these rows, with a fresh token bound to exactly them."""
    binding = services.bulk_binding(rows=rows, source=source)
    token = confirmations.issue(
        request, account=account, purpose=services.BULK_CONFIRMATION, binding=binding
    )
    if form is None:
        form = BulkBlockConfirmForm(initial={"source": source})
    context = {
        "account": account,
        "rows": rows,
        "source": source,
        "form": form,
        "confirmation": token,
        "confirm_error": error,
        "any_own_reason": any(reason for _, reason in rows),
    }
    return render(request, TEMPLATE_CONFIRM, context)


@require_POST
@login_required
def block_selected(request: DashboardRequest, slug: str) -> HttpResponse:
    """From the review grid: the workers of the ticked assignments, on a confirmation page."""
    account = account_for_user(request, slug, Action.MANAGE_WORKERS)
    form = SelectedAssignmentsForm(request.POST)
    selected = form.cleaned_data["selected"] if form.is_valid() else []
    workers = sorted(
        set(
            Assignment.objects.filter(account=account, assignment_id__in=selected).values_list(
                "worker__worker_id", flat=True
            )
        )
    )
    if not workers:
        messages.warning(request, "Tick the rows of the workers to block first.")
        return redirect("account-overview", slug=account.slug)
    return _confirm_page(request, account, [(worker_id, "") for worker_id in workers], "grid")


@require_http_methods(["GET", "POST"])
@login_required
def block_upload(request: DashboardRequest, slug: str) -> HttpResponse:
    """A CSV of workers: checked, then shown on the confirmation page; a bad file sends nothing."""
    account = account_for_user(request, slug, Action.MANAGE_WORKERS)
    form = BlockUploadForm(request.POST or None, request.FILES or None)
    plan = None
    if request.method == "POST" and form.is_valid():
        plan = services.parse_block_csv(form.cleaned_data["file"].read(services.MAX_CSV_BYTES + 1))
        if plan.ok:
            return _confirm_page(request, account, plan.rows, "csv")
    return render(
        request, "people/block_upload.html", {"account": account, "form": form, "plan": plan}
    )


@require_POST
@login_required
def block_confirm(request: DashboardRequest, slug: str) -> HttpResponse:
    """Carry out a bulk change, only with the unspent token of the page that listed these rows
    (and, on a live account, its typed name). Otherwise the page is shown again, nothing sent."""
    account = account_for_user(request, slug, Action.MANAGE_WORKERS)
    form = BulkBlockConfirmForm(request.POST)
    if not form.is_valid():
        rows = form.cleaned_data.get("rows") if hasattr(form, "cleaned_data") else None
        source = form.cleaned_data.get("source") or "grid"
        if not rows:
            return render(
                request, TEMPLATE_CONFIRM, {"account": account, "invalid": form}, status=400
            )
        return _confirm_page(request, account, rows, source, form=form)
    data = form.cleaned_data
    rows, source = data["rows"], data["source"]
    confirm = LiveAccountConfirmForm(request.POST, account=account)
    if not confirm.is_valid():
        return _confirm_page(request, account, rows, source, form=form, error=confirm.problem())
    try:
        with transaction.atomic():
            # Spent in the transaction that records the changes: if recording fails, the token
            # is not spent; two posts of one page record the changes once.
            confirmed = confirmations.consume(
                request,
                token=data["confirmation"],
                account=account,
                purpose=services.BULK_CONFIRMATION,
                binding=services.bulk_binding(rows=rows, source=source),
            )
            job = (
                services.start_bulk_change(
                    account=account,
                    rows=rows,
                    kind=data["kind"],
                    action=data["action"],
                    reason=data["reason"],
                    requested_by=request.user,
                )
                if confirmed
                else None
            )
    except (services.BlockRefused, MTurkError) as exc:
        return _confirm_page(request, account, rows, source, form=form, error=str(exc))
    if job is None:
        return _confirm_page(
            request,
            account,
            rows,
            source,
            form=form,
            error=(
                "Nothing was sent: this confirmation is no longer valid (it was used already, "
                "expired, or was shown for other workers). Check the list and confirm again."
            ),
        )
    return redirect(job)
