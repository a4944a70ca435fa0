"""The bonus pages: the ledger, one bonus for an assignment, a bonus file (upload, preview,
confirm) and what a run paid. Lab admins pay; research staff see the ledger and runs."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dashboard import confirmations
from dashboard.enums import Action, IntentState
from dashboard.forms import LiveAccountConfirmForm
from dashboard.htmx import page_or_fragment, vary_on_htmx
from dashboard.http import DashboardRequest
from dashboard.models import RequesterAccount
from dashboard.permissions import account_for_user
from hits.models import Assignment
from people.forms.bonuses import BonusForm, BonusUploadForm, LedgerFilterForm, RunConfirmForm
from people.models import Bonus, BonusRun
from people.services import bonus_upload
from people.services.bonuses import BonusRefused, ledger_totals, request_bonus

PAGE_SIZE = 50


@vary_on_htmx
@require_GET
@login_required
def bonus_ledger(request: DashboardRequest, slug: str) -> HttpResponse:
    """Every bonus of the account, newest first, with what was sent, is pending and failed."""
    account = account_for_user(request, slug)
    form = LedgerFilterForm(request.GET or None)
    bonuses = Bonus.objects.filter(account=account)
    if form.is_valid():
        if form.cleaned_data["state"]:
            bonuses = bonuses.filter(state=form.cleaned_data["state"])
        if form.cleaned_data["worker"]:
            bonuses = bonuses.filter(worker_id=form.cleaned_data["worker"].strip())
    page = Paginator(
        bonuses.select_related("requested_by").order_by("-created_at", "-pk"), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        page_or_fragment(request, "people/bonus_ledger.html", "ledger-table"),
        {
            "account": account,
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "totals": ledger_totals(bonuses),
            "can_pay": Action.PAY_BONUSES.value in request.account_actions,
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
def bonus_pay(request: DashboardRequest, slug: str, assignment_id: str) -> HttpResponse:
    """Pay one bonus for an assignment's worker (recorded, then sent once committed)."""
    account = account_for_user(request, slug, Action.PAY_BONUSES)
    assignment = get_object_or_404(
        Assignment.objects.select_related("worker", "hit", "hit_type"),
        account=account,
        assignment_id=assignment_id,
    )
    form = BonusForm(request.POST or None)
    refusal = ""
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            request_bonus(
                account=account,
                assignment=assignment,
                amount=data["amount"],
                reason=data["reason"],
                pay_again=data["pay_again"],
                pay_again_reason=data["pay_again_reason"],
                requested_by=request.user,
            )
        except BonusRefused as exc:
            refusal = str(exc)
        else:
            messages.success(
                request,
                f"Bonus of ${data['amount']} to {assignment.worker.worker_id} requested; "
                "it is on its way to MTurk.",
            )
            return redirect(
                reverse("bonus-ledger", kwargs={"slug": account.slug})
                + f"?worker={assignment.worker.worker_id}"
            )
    earlier = Bonus.objects.filter(account=account, assignment_id=assignment.assignment_id)
    return render(
        request,
        "people/bonus_pay.html",
        {
            "account": account,
            "assignment": assignment,
            "form": form,
            "refusal": refusal,
            "earlier": earlier.order_by("-created_at"),
        },
        status=409 if refusal else 200,
    )


@require_http_methods(["GET", "POST"])
@login_required
def bonus_upload_view(request: DashboardRequest, slug: str) -> HttpResponse:
    """Upload a bonus file: checked row by row; a good file goes on to its preview page."""
    account = account_for_user(request, slug, Action.PAY_BONUSES)
    form = BonusUploadForm(request.POST or None, request.FILES or None)
    context: dict[str, object] = {"account": account, "form": form}
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        # One byte over the cap is enough to know the file is too big, without reading it all.
        data = upload.read(bonus_upload.MAX_BYTES + 1)
        plan = bonus_upload.plan_bonus_file(account=account, data=data)
        if plan.ok:
            run = bonus_upload.save_run(
                account=account, filename=upload.name or "", data=data, requested_by=request.user
            )
            return redirect("bonus-run-preview", slug=account.slug, pk=run.pk)
        context["plan"] = plan
    return render(
        request, "people/bonus_upload.html", context, status=400 if "plan" in context else 200
    )


def _own_run(request: DashboardRequest, slug: str, pk: int) -> tuple[RequesterAccount, BonusRun]:
    account = account_for_user(request, slug, Action.PAY_BONUSES)
    run = get_object_or_404(
        BonusRun.objects.select_related("job"), account=account, pk=pk, created_by=request.user
    )
    return account, run


@require_GET
@login_required
def bonus_run_preview(request: DashboardRequest, slug: str, pk: int) -> HttpResponse:
    """What the file would pay, and the confirmation (its own page, with its own token)."""
    account, run = _own_run(request, slug, pk)
    if run.job is not None:
        return redirect("bonus-run", slug=slug, pk=run.pk)
    return _render_preview(request, account, run)


def _render_preview(
    request: DashboardRequest, account: RequesterAccount, run: BonusRun, *, problem: str = ""
) -> HttpResponse:
    plan = bonus_upload.plan_bonus_file(account=account, data=bytes(run.content))
    context: dict[str, object] = {"account": account, "run": run, "plan": plan, "problem": problem}
    if plan.ok:
        context["form"] = RunConfirmForm(
            initial={
                "confirmation": confirmations.issue(
                    request,
                    account=account,
                    purpose=bonus_upload.RUN_CONFIRMATION,
                    binding=bonus_upload.run_binding(run),
                )
            }
        )
    return render(request, "people/bonus_run_preview.html", context, status=400 if problem else 200)


@require_POST
@login_required
def bonus_run_confirm(request: DashboardRequest, slug: str, pk: int) -> HttpResponse:
    """Pay the run: once, whatever the number of posts (a double submit shows the first job)."""
    account, run = _own_run(request, slug, pk)
    if run.job is not None:
        return redirect(run.job)
    form = RunConfirmForm(request.POST)
    live = LiveAccountConfirmForm(request.POST, account=account)
    if not live.is_valid():
        return _render_preview(request, account, run, problem=live.problem())
    started = confirmations.start_once(
        request,
        token=form.cleaned_data["confirmation"] if form.is_valid() else "",
        account=account,
        purpose=bonus_upload.RUN_CONFIRMATION,
        binding=bonus_upload.run_binding(run),
        start=lambda: bonus_upload.start_run(account=account, run=run, requested_by=request.user),
        first_job=lambda: BonusRun.objects.get(pk=run.pk).job,
        refused=(BonusRefused,),
        not_done="Nothing was paid",
    )
    if started.job is not None:
        return redirect(started.job)
    return _render_preview(request, account, run, problem=started.problem)


@vary_on_htmx
@require_GET
@login_required
def bonus_run(request: DashboardRequest, slug: str, pk: int) -> HttpResponse:
    """What a run paid: its ledger rows and their states (polled while its job runs)."""
    account = account_for_user(request, slug)
    run = get_object_or_404(BonusRun.objects.select_related("job"), account=account, pk=pk)
    rows = Bonus.objects.filter(run=run)
    page = Paginator(rows.order_by("pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    counts = dict.fromkeys(IntentState.values, 0)
    for row in rows.values("state").annotate(n=Count("pk")).order_by():
        counts[row["state"]] = row["n"]
    running = run.job is not None and not run.job.is_finished
    return render(
        request,
        page_or_fragment(request, "people/bonus_run.html", "run-rows"),
        {
            "account": account,
            "run": run,
            "page": page,
            "counts": counts,
            "totals": ledger_totals(rows),
            "running": running,
        },
    )
