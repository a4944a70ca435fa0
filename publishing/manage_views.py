"""Manage live HITs: one (from the HIT page) or many (the HITs posted from a list or a study),
always through a confirmation page with its own one-time token that shows the cost first; and
"add assignments where workers disagree" for a study."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from dashboard import confirmations
from dashboard.enums import Action
from dashboard.forms import LiveAccountConfirmForm
from dashboard.http import DashboardRequest
from dashboard.models import RequesterAccount
from dashboard.permissions import account_for_user
from hits.models import HIT, HITType
from publishing import hit_changes as services
from publishing.manage_forms import ChangeForm, ConfirmChangeForm, DisagreementForm

TEMPLATE_FORM = "publishing/hit_manage.html"
TEMPLATE_CONFIRM = "publishing/hit_manage_confirm.html"


def _form_page(
    request: DashboardRequest, account: RequesterAccount, form: ChangeForm, status: int = 200
) -> HttpResponse:
    hit_ids = form["hit"].value() or []
    hits = HIT.objects.filter(account=account, hit_id__in=list(hit_ids)[: services.MAX_HITS])
    return render(
        request, TEMPLATE_FORM, {"account": account, "form": form, "hits": hits}, status=status
    )


def _confirm_page(
    request: DashboardRequest,
    account: RequesterAccount,
    plan: services.ChangePlan,
    *,
    error: str = "",
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    """The confirmation page for this plan, with a fresh token bound to exactly what it shows."""
    token = confirmations.issue(
        request,
        account=account,
        purpose=services.CONFIRMATION,
        binding=services.binding(
            hit_ids=plan.hit_ids, action=plan.action, parameters=plan.parameters
        ),
    )
    context = {
        "account": account,
        "plan": plan,
        "confirmation": token,
        "confirm_error": error,
        **(extra or {}),
    }
    return render(request, TEMPLATE_CONFIRM, context, status=400 if error else 200)


@require_GET
@login_required
def hit_manage(request: DashboardRequest, slug: str, hit_id: str) -> HttpResponse:
    """The change form for one HIT; it posts to the same step as ticked rows do."""
    account = account_for_user(request, slug, Action.PUBLISH)
    hit = get_object_or_404(HIT, account=account, hit_id=hit_id)
    form = ChangeForm(account=account, initial={"hit": [hit.hit_id]})
    return render(request, TEMPLATE_FORM, {"account": account, "form": form, "hits": [hit]})


@require_POST
@login_required
def hits_manage_selected(request: DashboardRequest, slug: str) -> HttpResponse:
    """HITs posted from a list: without an action yet, the change form for them; with one, the
    confirmation page (what each HIT would undergo or why it is refused, and the cost)."""
    account = account_for_user(request, slug, Action.PUBLISH)
    form = ChangeForm(request.POST if "action" in request.POST else None, account=account)
    if not form.is_bound:
        form = ChangeForm(account=account, initial={"hit": request.POST.getlist("hit")})
        if not form.initial["hit"]:
            messages.warning(request, "Tick the HITs to change first.")
            return redirect("hit-list", slug=account.slug)
        return _form_page(request, account, form)
    if not form.is_valid():
        return _form_page(request, account, form, status=400)
    try:
        plan = services.plan_change(
            account=account,
            hit_ids=form.cleaned_data["hit"],
            action=form.cleaned_data["action"],
            parameters=form.parameters(),
        )
    except services.ChangeRefused as exc:
        form.add_error(None, str(exc))
        return _form_page(request, account, form, status=400)
    return _confirm_page(request, account, plan)


@require_POST
@login_required
def hits_manage_confirm(request: DashboardRequest, slug: str) -> HttpResponse:
    """Record the change, only with the unspent token of the page that showed it (and, on a live
    account, its typed name). Otherwise the page is shown again and nothing is sent."""
    account = account_for_user(request, slug, Action.PUBLISH)
    form = ConfirmChangeForm(request.POST, account=account)
    if not form.is_valid():
        return _form_page(request, account, form, status=400)
    try:
        plan = services.plan_change(
            account=account,
            hit_ids=form.cleaned_data["hit"],
            action=form.cleaned_data["action"],
            parameters=form.parameters(),
        )
    except services.ChangeRefused as exc:
        form.add_error(None, str(exc))
        return _form_page(request, account, form, status=400)
    confirm = LiveAccountConfirmForm(request.POST, account=account)
    if not confirm.is_valid():
        return _confirm_page(request, account, plan, error=confirm.problem())
    try:
        with transaction.atomic():
            # Spent in the transaction that records the changes: two posts of one page (or a page
            # whose HITs have changed since) record nothing the second time.
            confirmed = confirmations.consume(
                request,
                token=form.cleaned_data["confirmation"],
                account=account,
                purpose=services.CONFIRMATION,
                binding=services.binding(
                    hit_ids=plan.hit_ids, action=plan.action, parameters=plan.parameters
                ),
            )
            if not confirmed:
                return _confirm_page(
                    request,
                    account,
                    plan,
                    error=(
                        "Nothing was sent: this confirmation is no longer valid (it was used "
                        "already, expired, or the HITs have changed since). Check and confirm again."
                    ),
                )
            changes, job = services.request_changes(
                account=account, plan=plan, requested_by=request.user
            )
    except services.ChangeRefused as exc:
        return _confirm_page(request, account, plan, error=str(exc))
    if job is not None:
        return redirect(job)
    messages.success(request, f"{plan.action.label}: recorded; it is on its way to MTurk.")
    return redirect("hit-detail", slug=account.slug, hit_id=changes[0].hit_id)


@require_GET
@login_required
def study_disagreements(request: DashboardRequest, slug: str, hit_type_id: str) -> HttpResponse:
    """The study's HITs whose workers disagree, with the cost of N more assignments each, and the
    confirmation of adding them."""
    account = account_for_user(request, slug, Action.PUBLISH)
    hit_type = get_object_or_404(HITType, account=account, hit_type_id=hit_type_id)
    query = DisagreementForm(request.GET if request.GET else None)
    if not query.is_bound:
        query = DisagreementForm({"threshold": 70, "count": 1})
    context: dict[str, Any] = {"account": account, "hit_type": hit_type, "query": query}
    if not query.is_valid():
        return render(request, TEMPLATE_CONFIRM, context, status=400)
    plan, rows = services.disagreements(
        hit_type=hit_type,
        threshold=query.cleaned_data["threshold"] / 100,
        count=query.cleaned_data["count"],
    )
    extra = {"hit_type": hit_type, "query": query, "disagreements": rows}
    return _confirm_page(request, account, plan, extra=extra)
