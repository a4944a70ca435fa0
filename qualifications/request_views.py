"""The qualification request queue: workers' pending requests with their test answers and the
answer key's score; accept or reject one by one (htmx swaps the request's card) or the ticked ones
in bulk, through a confirmation page with its own one-time token. Research staff see the queue;
deciding needs MANAGE_QUALIFICATIONS."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from dashboard import confirmations
from dashboard.enums import Action
from dashboard.forms import LiveAccountConfirmForm
from dashboard.htmx import page_or_fragment, vary_on_htmx
from dashboard.http import DashboardRequest
from dashboard.models import RequesterAccount
from dashboard.permissions import account_for_user
from qualifications import requests as services
from qualifications.enums import RequestAction
from qualifications.models import QualificationRequest, QualificationType
from qualifications.request_forms import (
    BulkConfirmForm,
    BulkDecisionForm,
    DecisionForm,
    QueueFilterForm,
)

TEMPLATE_QUEUE = "qualifications/request_queue.html"
TEMPLATE_CONFIRM = "qualifications/request_confirm.html"
PAGE_SIZE = 25


def _errors(form: Any) -> str:
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


@vary_on_htmx
@require_GET
@login_required
def request_queue(request: DashboardRequest, slug: str) -> HttpResponse:
    """Pending requests, oldest first, filtered by type; each beside its test and its score."""
    account = account_for_user(request, slug)
    types = QualificationType.objects.filter(account=account)
    form = QueueFilterForm(request.GET or None, types=types)
    valid = not form.is_bound or form.is_valid()
    qtype = form.cleaned_data.get("type") if form.is_bound and valid else None
    rows = services.pending_requests(account=account, qualification_type=qtype)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "account": account,
        "form": form,
        "page": page,
        "items": [services.read_request(r) for r in page.object_list],
        "query": urlencode({"type": qtype.qualification_type_id}) if qtype else "",
        "can_decide": Action.MANAGE_QUALIFICATIONS in request.account_actions,
    }
    # An unknown type in the filter is the page with the filter's error, as a 400.
    return render(
        request,
        page_or_fragment(request, TEMPLATE_QUEUE, "queue"),
        context,
        status=200 if valid else 400,
    )


def _card_context(
    request: DashboardRequest, account: RequesterAccount, request_id: str, **extra: Any
) -> dict[str, Any]:
    row = (
        QualificationRequest.objects.filter(account=account, qualification_request_id=request_id)
        .select_related("qualification_type")
        .first()
    )
    return {
        "account": account,
        "item": services.read_request(row) if row is not None else None,
        "request_id": request_id,
        "decision": services.open_decisions(account, [request_id]).get(request_id),
        "can_decide": True,
        **extra,
    }


@require_POST
@login_required
def request_decide(request: DashboardRequest, slug: str, request_id: str) -> HttpResponse:
    """Accept or reject one request. Recorded once: a second click finds it decided and sends
    nothing more. htmx swaps the request's card; without htmx, back to the queue."""
    account = account_for_user(request, slug, Action.MANAGE_QUALIFICATIONS)
    known = QualificationRequest.objects.filter(
        account=account, qualification_request_id=request_id
    ).exists()
    if not known and not services.open_decisions(account, [request_id]):
        raise Http404("No such qualification request.")
    form = DecisionForm(request.POST)
    error, notice = "", ""
    if form.is_valid():
        data = form.cleaned_data
        try:
            outcome = services.decide_one(
                account=account,
                request_id=request_id,
                action=data["action"],
                integer_value=data["value"],
                reason=data["reason"],
                requested_by=request.user,
            )
        except services.DecisionRefused as exc:
            error = str(exc)
        else:
            notice = (
                f"Nothing more was sent: {outcome.skipped[0][1]}."
                if outcome.skipped
                else "Recorded; it is on its way to MTurk."
            )
    else:
        error = _errors(form)
    if request.htmx:
        context = _card_context(request, account, request_id, error=error, notice=notice)
        return render(request, f"{TEMPLATE_QUEUE}#request-card", context)
    if error:
        context = _card_context(request, account, request_id, error=error)
        return render(request, "qualifications/request_refused.html", context, status=400)
    messages.success(request, notice)
    return redirect("qualification-requests", slug=account.slug)


def _confirm_page(
    request: DashboardRequest,
    account: RequesterAccount,
    form: BulkDecisionForm,
    *,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    """The confirmation page for the ticked requests still pending, with a fresh token bound to
    exactly them and the decision shown."""
    data = form.cleaned_data
    rows = list(
        services.pending_requests(account=account).filter(
            qualification_request_id__in=data["selected"]
        )
    )
    items = [services.read_request(r) for r in rows]
    ids = [r.qualification_request_id for r in rows]
    binding = services.bulk_binding(
        request_ids=ids, action=data["action"], integer_value=data["value"], reason=data["reason"]
    )
    context = {
        "account": account,
        "items": items,
        "ids": ids,
        "gone": len(set(data["selected"])) - len(ids),
        "action": data["action"],
        "action_label": RequestAction(data["action"]).label,
        "value": data["value"],
        "reason": data["reason"],
        "confirmation": confirmations.issue(
            request, account=account, purpose=services.BULK_CONFIRMATION, binding=binding
        ),
        "confirm_error": error,
    }
    return render(request, TEMPLATE_CONFIRM, context, status=status)


@require_POST
@login_required
def requests_bulk(request: DashboardRequest, slug: str) -> HttpResponse:
    """The ticked requests and one decision: shown on a confirmation page before anything is
    recorded."""
    account = account_for_user(request, slug, Action.MANAGE_QUALIFICATIONS)
    form = BulkDecisionForm(request.POST)
    if not form.is_valid():
        return render(
            request, TEMPLATE_CONFIRM, {"account": account, "invalid": _errors(form)}, status=400
        )
    return _confirm_page(request, account, form)


@require_POST
@login_required
def requests_confirm(request: DashboardRequest, slug: str) -> HttpResponse:
    """Record the decisions under one job, only with the confirmation page's unspent token (and on
    a live account its typed name); otherwise the page again, nothing recorded."""
    account = account_for_user(request, slug, Action.MANAGE_QUALIFICATIONS)
    form = BulkConfirmForm(request.POST)
    if not form.is_valid():
        return render(
            request, TEMPLATE_CONFIRM, {"account": account, "invalid": _errors(form)}, status=400
        )
    data = form.cleaned_data
    confirm = LiveAccountConfirmForm(request.POST, account=account)
    if not confirm.is_valid():
        return _confirm_page(request, account, form, error=confirm.problem())
    binding = services.bulk_binding(
        request_ids=data["selected"],
        action=data["action"],
        integer_value=data["value"],
        reason=data["reason"],
    )
    with transaction.atomic():
        # Spent in the transaction that records the decisions: two posts of one page (a double
        # submit) find the token spent and record nothing the second time.
        confirmed = confirmations.consume(
            request,
            token=data["confirmation"],
            account=account,
            purpose=services.BULK_CONFIRMATION,
            binding=binding,
        )
        job, _outcome = (
            services.start_bulk_decision(
                account=account,
                request_ids=data["selected"],
                action=data["action"],
                integer_value=data["value"],
                reason=data["reason"],
                requested_by=request.user,
            )
            if confirmed
            else (None, None)
        )
    if job is not None:
        return redirect(job)
    if confirmed:
        messages.warning(request, "Nothing to send: those requests are decided already.")
        return redirect("qualification-requests", slug=account.slug)
    return _confirm_page(
        request,
        account,
        form,
        error=(
            "Nothing was sent: this confirmation is no longer valid (it was used already, "
            "expired, or was shown for other requests or another decision). Check the list and "
            "confirm again."
        ),
        status=409,
    )
