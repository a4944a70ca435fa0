"""The publish pages: the account's batches, a new batch (its form and dry run), a batch (its
estimate, the confirmation, then its HITs' progress) and the confirmation's POST. Lab admins
publish; research staff see batches."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpResponse
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
from hits.models import HITType
from mturk import review_policies
from publishing import copying, publish
from publishing.enums import BatchState
from publishing.models import HITRequest, PublishBatch
from publishing.publish_forms import (
    CopySourceForm,
    PublishConfirmForm,
    PublishForm,
    PublishNotificationForm,
    ReviewPoliciesForm,
)
from publishing.questions import QuestionProblem

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
    # A copy prefills the form's initial values only (a GET); what is posted is the form's own.
    copy = _copy_from_query(request, account) if request.method == "GET" else None
    form = PublishForm(
        request.POST or None,
        request.FILES or None,
        account=account,
        initial=copy.initial if copy else None,
    )
    notify_form = PublishNotificationForm(
        request.POST or None, account=account, initial=copy.notification_initial if copy else None
    )
    policy_form = ReviewPoliciesForm(
        request.POST or None,
        initial=ReviewPoliciesForm.initial_from(copy.review_policies) if copy else None,
    )
    context: dict[str, object] = {
        "account": account,
        "form": form,
        "notify_form": notify_form,
        "policy_form": policy_form,
        "copy": copy,
    }
    # All validated, so every error is shown at once.
    valid = request.method == "POST" and all(
        [form.is_valid(), notify_form.is_valid(), policy_form.is_valid()]
    )
    if valid and policy_form.check_assignments(
        max_assignments=form.cleaned_data["max_assignments"],
        micro_batching=form.cleaned_data["micro_batching"],
    ):
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
            policies=policy_form.policies(),
            notification=notify_form.notification(),
        )
        if plan.ok:
            return redirect("publish-batch", slug=account.slug, pk=batch.pk)
        context["plan"] = plan
    invalid = request.method == "POST" and (form.errors or notify_form.errors or policy_form.errors)
    status = 400 if "plan" in context or invalid else 200
    return render(request, "publishing/publish_new.html", context, status=status)


def _copy_from_query(
    request: DashboardRequest, account: RequesterAccount
) -> copying.CopiedStudy | None:
    """The study `?copy_batch=<pk>` or `?copy_hit_type=<id>` names, looked up in this account's
    records (another account's is a 404); None when the URL names none."""
    query = CopySourceForm(request.GET)
    if not query.is_valid():
        raise Http404("No such batch or study to copy.")
    if query.cleaned_data["copy_batch"] is not None:
        batch = get_object_or_404(
            PublishBatch.objects.select_related("account", "template"),
            account=account,
            pk=query.cleaned_data["copy_batch"],
        )
        return copying.copy_of_batch(batch)
    if query.cleaned_data["copy_hit_type"]:
        hit_type = get_object_or_404(
            HITType.objects.select_related("account"),
            account=account,
            hit_type_id=query.cleaned_data["copy_hit_type"],
        )
        return copying.copy_of_hit_type(hit_type)
    return None


def _copy_ready(
    request: DashboardRequest,
    account: RequesterAccount,
    copy: copying.CopiedStudy,
    query: dict[str, object],
) -> HttpResponse:
    """Make what the copy lacks (its template, its requirements' preset), then show the form
    prefilled. A template MTurk would refuse is reported; the form is still prefilled."""
    try:
        copying.make_copy_ready(copy=copy, account=account, user=request.user)
    except QuestionProblem as exc:
        messages.error(request, f"The copy's template could not be made: {exc}")
    return redirect(reverse("publish-new", kwargs={"slug": account.slug}) + "?" + urlencode(query))


@require_POST
@login_required
def publish_batch_copy(request: DashboardRequest, slug: str, pk: int) -> HttpResponse:
    """Copy a batch into a new one: its template (made again from the batch's snapshot when it
    was deleted) and its requirements, then the publish form prefilled."""
    account = account_for_user(request, slug, Action.PUBLISH)
    batch = get_object_or_404(
        PublishBatch.objects.select_related("account", "template"), account=account, pk=pk
    )
    return _copy_ready(request, account, copying.copy_of_batch(batch), {"copy_batch": batch.pk})


@require_POST
@login_required
def study_copy(request: DashboardRequest, slug: str, hit_type_id: str) -> HttpResponse:
    """Copy a study (a HIT type) into a new batch: a template from its HITs' question when the
    dashboard did not publish it, its requirements, then the publish form prefilled."""
    account = account_for_user(request, slug, Action.PUBLISH)
    hit_type = get_object_or_404(
        HITType.objects.select_related("account"), account=account, hit_type_id=hit_type_id
    )
    return _copy_ready(
        request,
        account,
        copying.copy_of_hit_type(hit_type),
        {"copy_hit_type": hit_type.hit_type_id},
    )


def _render_batch(
    request: DashboardRequest, account: RequesterAccount, batch: PublishBatch, *, problem: str = ""
) -> HttpResponse:
    context: dict[str, object] = {
        "account": account,
        "batch": batch,
        "problem": problem,
        "running": batch.job is not None and not batch.job.is_finished,
        "policy_lines": review_policies.describe(batch.review_policies or {}),
        "can_publish": Action.PUBLISH.value in request.account_actions,
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
