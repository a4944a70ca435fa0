"""Study group pages: the list, create and edit, and a group's page showing whom it excludes and
why, with an "exclude now" button."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dashboard.enums import Action
from dashboard.http import DashboardRequest
from dashboard.models import RequesterAccount
from dashboard.permissions import account_for_user
from people.forms.study_groups import StudyGroupForm
from people.models import StudyGroup
from people.services import study_groups as services


def _group(account: RequesterAccount, pk: int) -> StudyGroup:
    return get_object_or_404(
        StudyGroup.objects.select_related("account", "qualification_type"), account=account, pk=pk
    )


@require_GET
@login_required
def group_list(request: DashboardRequest, slug: str) -> HttpResponse:
    account = account_for_user(request, slug)
    groups = (
        StudyGroup.objects.filter(account=account)
        .select_related("qualification_type")
        .annotate(studies=Count("hit_types", distinct=True))
    )
    return render(
        request,
        "people/group_list.html",
        {
            "account": account,
            "groups": groups,
            "can_manage": Action.MANAGE_WORKERS in request.account_actions,
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
def group_edit(request: DashboardRequest, slug: str, pk: int | None = None) -> HttpResponse:
    """Create a group (no pk) or edit one."""
    account = account_for_user(request, slug, Action.MANAGE_WORKERS)
    group = _group(account, pk) if pk is not None else StudyGroup(account=account)
    form = StudyGroupForm(request.POST or None, instance=group, account=account)
    if request.method == "POST" and form.is_valid():
        saved = services.save_study_group(
            group=form.save(commit=False),
            hit_types=form.cleaned_data["hit_types"],
            created_by=request.user,
        )
        messages.success(request, f"Study group “{saved.name}” saved.")
        return redirect("study-group-detail", slug=account.slug, pk=saved.pk)
    return render(
        request, "people/group_form.html", {"account": account, "form": form, "group": group}
    )


@require_GET
@login_required
def group_detail(request: DashboardRequest, slug: str, pk: int) -> HttpResponse:
    account = account_for_user(request, slug)
    group = _group(account, pk)
    excluded, pending = services.excluded_workers(group)
    return render(
        request,
        "people/group_detail.html",
        {
            "account": account,
            "group": group,
            "hit_types": group.hit_types.order_by("title"),
            "excluded": excluded,
            "pending": pending,
            "running": services.running_job(group),
            "can_manage": Action.MANAGE_WORKERS in request.account_actions,
        },
    )


@require_POST
@login_required
def group_exclude(request: DashboardRequest, slug: str, pk: int) -> HttpResponse:
    """Start the group's exclusion job now (or show the one already running)."""
    account = account_for_user(request, slug, Action.MANAGE_WORKERS)
    group = _group(account, pk)
    job = services.exclude_group_workers(group=group, requested_by=request.user)
    if job is None:
        messages.info(request, "Nothing to do: every worker of the group's studies is excluded.")
        return redirect("study-group-detail", slug=account.slug, pk=group.pk)
    return redirect(job)
