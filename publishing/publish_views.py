"""The publish pages: the account's batches, a new batch (its form and dry run), a batch (its
estimate, the confirmation, then its HITs' progress) and the confirmation's POST. Lab admins
publish; research staff see batches."""

from __future__ import annotations

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
from publishing import publish
from publishing.enums import BatchState
from publishing.models import HITRequest, PublishBatch
from publishing.publish_forms import PublishConfirmForm, PublishForm

PAGE_SIZE = 50


@require_GET
@login_required
def publish_list(request: DashboardRequest, slug: str) -> HttpResponse:
    """The account's publish batches, newest first."""
    account = account_for_user(request, slug)
    page = Paginator(
        PublishBatch.objects.filter(account=account).select_related("job", "created_by"), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "publishing/publish_list.html",
        {
            "account": account,
            "page": page,
            "can_publish": Action.PUBLISH.value in request.account_actions,
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
def publish_new(request: DashboardRequest, slug: str) -> HttpResponse:
    """A new batch: the form; a POST checks every row and keeps the batch only when it can be
    published (then on to its estimate and confirmation), else reports why, keeping nothing."""
    account = account_for_user(request, slug, Action.PUBLISH)
    form = PublishForm(request.POST or None, request.FILES or None, account=account)
    context: dict[str, object] = {"account": account, "form": form}
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        batch, plan = publish.create_draft(
            account=account,
            label=data["label"],
            template=data["template"],
            hit_settings=form.hit_settings(),
            requirements=publish.requirements_for(
                account=account,
                preset=data["preset"],
                exclude_soft_blocked=data["exclude_soft_blocked"],
                study_groups=list(data["study_groups"]),
            ),
            micro_batching=data["micro_batching"],
            inputs_filename=data["inputs"].name or "",
            inputs=form.read_inputs(),
            requested_by=request.user,
        )
        if plan.ok:
            return redirect("publish-batch", slug=account.slug, pk=batch.pk)
        context["plan"] = plan
    status = 400 if "plan" in context or (request.method == "POST" and form.errors) else 200
    return render(request, "publishing/publish_new.html", context, status=status)


def _render_batch(
    request: DashboardRequest, account: RequesterAccount, batch: PublishBatch, *, problem: str = ""
) -> HttpResponse:
    context: dict[str, object] = {
        "account": account,
        "batch": batch,
        "problem": problem,
        "running": batch.job is not None and not batch.job.is_finished,
    }
    if batch.job_id is None:
        plan = publish.plan_batch(batch)
        context["plan"] = plan
        if plan.ok and Action.PUBLISH.value in request.account_actions:
            context["form"] = PublishConfirmForm(
                initial={
                    "confirmation": confirmations.issue(
                        request,
                        account=account,
                        purpose=publish.PUBLISH_CONFIRMATION,
                        binding=publish.batch_binding(batch),
                    )
                }
            )
    else:
        requests = HITRequest.objects.filter(batch=batch)
        counts = dict.fromkeys(IntentState.values, 0)
        for row in requests.values("state").annotate(n=Count("pk")).order_by():
            counts[row["state"]] = row["n"]
        context["counts"] = counts
        context["page"] = Paginator(requests.order_by("row_number", "part"), PAGE_SIZE).get_page(
            request.GET.get("page")
        )
        # Once HITs exist: on to their answers in the review grid (the study, this batch only).
        target = publish.review_grid_query(batch)
        if target is not None:
            hit_type_id, hits_batch = target
            url = reverse("study-detail", kwargs={"slug": account.slug, "hit_type_id": hit_type_id})
            context["review_url"] = f"{url}?batch={hits_batch}" if hits_batch else url
    return render(
        request,
        page_or_fragment(request, "publishing/publish_batch.html", "batch-rows"),
        context,
        status=400 if problem else 200,
    )


@vary_on_htmx
@require_GET
@login_required
def publish_batch(request: DashboardRequest, slug: str, pk: int) -> HttpResponse:
    """A batch: before publishing its dry run, estimate and confirmation (its own token); after,
    its HITs' states (polled while the job runs)."""
    account = account_for_user(request, slug)
    batch = get_object_or_404(PublishBatch.objects.select_related("job"), account=account, pk=pk)
    return _render_batch(request, account, batch)


@require_POST
@login_required
def publish_batch_confirm(request: DashboardRequest, slug: str, pk: int) -> HttpResponse:
    """Publish the batch: once, whatever the number of posts (a double submit shows the first job)."""
    account = account_for_user(request, slug, Action.PUBLISH)
    batch = get_object_or_404(PublishBatch.objects.select_related("job"), account=account, pk=pk)
    if batch.job is not None:
        return redirect(batch.job)
    if batch.state != BatchState.DRAFT:
        return _render_batch(request, account, batch, problem="This batch is not a draft.")
    form = PublishConfirmForm(request.POST)
    live = LiveAccountConfirmForm(request.POST, account=account)
    if not live.is_valid():
        return _render_batch(request, account, batch, problem=live.problem())
    started = confirmations.start_once(
        request,
        token=form.cleaned_data["confirmation"] if form.is_valid() else "",
        account=account,
        purpose=publish.PUBLISH_CONFIRMATION,
        binding=publish.batch_binding(batch),
        start=lambda: publish.start_publish(batch=batch, requested_by=request.user),
        first_job=lambda: PublishBatch.objects.get(pk=batch.pk).job,
        refused=(publish.PublishRefused,),
        not_done="Nothing was published",
    )
    if started.job is not None:
        return redirect(started.job)
    return _render_batch(request, account, batch, problem=started.problem)
