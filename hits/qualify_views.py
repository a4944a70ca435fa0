"""Granting a qualification from a study's review (MANAGE_QUALIFICATIONS):

- by agreement with the majority: a form (type, threshold, answers compared, value), then a
  preview that lists who gets what, with its own one-time token; confirmed, one grant job;
- to the workers of the review grid's ticked rows: a page listing them, where the type and value
  are chosen, with its own token; confirmed, one grant job.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from dashboard import confirmations
from dashboard.enums import Action
from dashboard.forms import LiveAccountConfirmForm
from dashboard.http import DashboardRequest
from dashboard.models import RequesterAccount
from dashboard.permissions import account_for_user
from hits import qualify as services
from hits.models import HITType
from hits.qualify_forms import (
    DerivedConfirmForm,
    DerivedForm,
    SelectedConfirmForm,
    SelectedRowsForm,
)

TEMPLATE_FORM = "hits/qualify_form.html"
TEMPLATE_PREVIEW = "hits/qualify_preview.html"
TEMPLATE_SELECTED = "hits/qualify_selected.html"
SPENT = (
    "Nothing was sent: this confirmation is no longer valid (it was used already, expired, or was "
    "shown for other workers, another type or value). Check the list and confirm again."
)


# What `_grant` returns when the token was good but nothing was left to send.
_NOTHING: Any = object()


def _study(
    request: DashboardRequest, slug: str, hit_type_id: str
) -> tuple[RequesterAccount, HITType]:
    account = account_for_user(request, slug, Action.MANAGE_QUALIFICATIONS)
    return account, get_object_or_404(HITType, account=account, hit_type_id=hit_type_id)


# --- By agreement with the majority ---------------------------------------------------------------


def _preview(
    request: DashboardRequest,
    account: RequesterAccount,
    hit_type: HITType,
    form: DerivedForm,
    *,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    data = form.cleaned_data
    qtype = data["qualification_type"]
    candidates = services.derived_candidates(
        hit_type=hit_type,
        qualification_type=qtype,
        threshold=data["threshold"] / 100,
        min_compared=data["min_compared"],
    )
    workers = [c.worker_id for c in candidates]
    binding = services.grant_binding(
        qualification_type_id=qtype.qualification_type_id,
        worker_ids=workers,
        integer_value=data["value"],
    )
    context = {
        "account": account,
        "hit_type": hit_type,
        "qtype": qtype,
        "value": data["value"],
        "threshold": data["threshold"],
        "min_compared": data["min_compared"],
        "candidates": candidates,
        "confirmation": confirmations.issue(
            request, account=account, purpose=services.DERIVED_CONFIRMATION, binding=binding
        )
        if candidates
        else "",
        "confirm_error": error,
    }
    return render(request, TEMPLATE_PREVIEW, context, status=status)


@require_http_methods(["GET", "POST"])
@login_required
def study_qualify(request: DashboardRequest, slug: str, hit_type_id: str) -> HttpResponse:
    """The form; posted and valid, the preview of who gets what (nothing is sent yet)."""
    account, hit_type = _study(request, slug, hit_type_id)
    form = DerivedForm(request.POST or None, types=services.grantable_types(account))
    if request.method == "POST":
        if form.is_valid():
            return _preview(request, account, hit_type, form)
        return render(
            request,
            TEMPLATE_FORM,
            {"account": account, "hit_type": hit_type, "form": form},
            status=400,
        )
    return render(request, TEMPLATE_FORM, {"account": account, "hit_type": hit_type, "form": form})


@require_POST
@login_required
def study_qualify_confirm(request: DashboardRequest, slug: str, hit_type_id: str) -> HttpResponse:
    """Grant the type to exactly the workers the preview listed, under one job, only with the
    preview's unspent token (and on a live account its typed name)."""
    account, hit_type = _study(request, slug, hit_type_id)
    form = DerivedConfirmForm(request.POST, types=services.grantable_types(account))
    if not form.is_valid():
        return render(
            request,
            TEMPLATE_FORM,
            {"account": account, "hit_type": hit_type, "form": form},
            status=400,
        )
    data = form.cleaned_data
    confirm = LiveAccountConfirmForm(request.POST, account=account)
    if not confirm.is_valid():
        return _preview(request, account, hit_type, form, error=confirm.problem(), status=400)
    qtype = data["qualification_type"]
    reason = (
        f"Agreement with the majority at least {data['threshold']}% over at least "
        f"{data['min_compared']} answers in study {hit_type.hit_type_id}"
    )
    job = _grant(
        request,
        account,
        purpose=services.DERIVED_CONFIRMATION,
        binding=services.grant_binding(
            qualification_type_id=qtype.qualification_type_id,
            worker_ids=data["worker"],
            integer_value=data["value"],
        ),
        qtype_data=data,
        reason=reason,
        title=f"Grant {qtype.name} by agreement in {hit_type.title or hit_type.hit_type_id}",
    )
    if job is _NOTHING:
        return redirect("study-detail", slug=account.slug, hit_type_id=hit_type.hit_type_id)
    if job is None:
        return _preview(request, account, hit_type, form, error=SPENT, status=409)
    return redirect(job)


def _grant(
    request: DashboardRequest,
    account: RequesterAccount,
    *,
    purpose: str,
    binding: dict[str, Any],
    qtype_data: dict[str, Any],
    reason: str,
    title: str,
) -> Any:
    """Spend the token and record the grants under one job, in one transaction: if recording
    fails the token is not spent, and two posts of one page (a double submit) record them once.
    Returns the job, None when the token was not good, `_NOTHING` when nothing was left to send."""
    with transaction.atomic():
        confirmed = confirmations.consume(
            request,
            token=qtype_data["confirmation"],
            account=account,
            purpose=purpose,
            binding=binding,
        )
        if not confirmed:
            return None
        job, outcome = services.start_grant_job(
            account=account,
            qualification_type=qtype_data["qualification_type"],
            worker_ids=qtype_data["worker"],
            integer_value=qtype_data["value"],
            reason=reason,
            title=title,
            requested_by=request.user,
        )
    if job is None:
        messages.warning(
            request, "Nothing to send: a change of that type is in progress for every one of them."
        )
        return _NOTHING
    if outcome.skipped:
        messages.info(
            request,
            f"{len(outcome.skipped)} worker(s) left out: a change of that type is in progress.",
        )
    return job


# --- The grid's ticked rows ------------------------------------------------------------------------


def _selected_page(
    request: DashboardRequest,
    account: RequesterAccount,
    hit_type: HITType,
    workers: list[str],
    form: SelectedConfirmForm,
    *,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    """The ticked rows' workers and the type and value to give them, with a fresh token bound to
    exactly these workers."""
    token = confirmations.issue(
        request,
        account=account,
        purpose=services.SELECTED_CONFIRMATION,
        binding={"workers": sorted(set(workers))},
    )
    context = {
        "account": account,
        "hit_type": hit_type,
        "workers": workers,
        "form": form,
        "confirmation": token,
        "confirm_error": error,
    }
    return render(request, TEMPLATE_SELECTED, context, status=status)


@require_POST
@login_required
def study_qualify_selected(request: DashboardRequest, slug: str, hit_type_id: str) -> HttpResponse:
    """From the review grid: the workers of the ticked rows, on a page that asks for the type."""
    account, hit_type = _study(request, slug, hit_type_id)
    rows = SelectedRowsForm(request.POST)
    selected = rows.cleaned_data["selected"] if rows.is_valid() else []
    workers = services.workers_of_assignments(hit_type=hit_type, assignment_ids=selected)
    if not workers:
        messages.warning(
            request, "Tick the rows of the workers to grant the qualification to first."
        )
        return redirect("study-detail", slug=account.slug, hit_type_id=hit_type.hit_type_id)
    form = SelectedConfirmForm(types=services.grantable_types(account))
    return _selected_page(request, account, hit_type, workers, form)


@require_POST
@login_required
def study_qualify_selected_confirm(
    request: DashboardRequest, slug: str, hit_type_id: str
) -> HttpResponse:
    """Grant the chosen type to the workers the page listed, under one job, only with the page's
    unspent token (and on a live account its typed name)."""
    account, hit_type = _study(request, slug, hit_type_id)
    form = SelectedConfirmForm(request.POST, types=services.grantable_types(account))
    valid = form.is_valid()
    workers = form.cleaned_data.get("worker") or []
    if not workers:
        return render(
            request,
            TEMPLATE_SELECTED,
            {"account": account, "hit_type": hit_type, "form": form, "invalid": True},
            status=400,
        )
    if not valid:
        return _selected_page(request, account, hit_type, workers, form, status=400)
    data = form.cleaned_data
    confirm = LiveAccountConfirmForm(request.POST, account=account)
    if not confirm.is_valid():
        return _selected_page(
            request, account, hit_type, workers, form, error=confirm.problem(), status=400
        )
    qtype = data["qualification_type"]
    job = _grant(
        request,
        account,
        purpose=services.SELECTED_CONFIRMATION,
        binding={"workers": sorted(set(workers))},
        qtype_data=data,
        reason=f"Chosen in the review of study {hit_type.hit_type_id}",
        title=f"Grant {qtype.name} to {len(workers)} worker(s) of {hit_type.title or hit_type.hit_type_id}",
    )
    if job is _NOTHING:
        return redirect("study-detail", slug=account.slug, hit_type_id=hit_type.hit_type_id)
    if job is None:
        return _selected_page(request, account, hit_type, workers, form, error=SPENT, status=409)
    return redirect(job)
