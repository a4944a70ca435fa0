from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import HttpResponseStopPolling

from dashboard import services
from dashboard.enums import Action
from dashboard.forms import AddMemberForm, RemoveMemberForm, RequesterAccountForm
from dashboard.htmx import page_or_fragment, vary_on_htmx
from dashboard.http import DashboardRequest
from dashboard.models import AuditEvent, Job
from dashboard.permissions import account_for_user

# --- Accounts ------------------------------------------------------------------------------------


# The secret is a POST field, then a local of the form and of the services these views call:
# error pages and reports show none of them.
@sensitive_post_parameters("aws_secret_access_key")
@sensitive_variables()
@require_http_methods(["GET", "POST"])
@login_required
def account_create(request: DashboardRequest) -> HttpResponse:
    if not request.user.has_perm(f"dashboard.{Action.MANAGE_ACCOUNTS}"):
        raise PermissionDenied("You may not add requester accounts.")
    form = RequesterAccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        account = services.save_account(
            account=form.save(commit=False),
            secret_access_key=form.cleaned_data["aws_secret_access_key"],
            saved_by=request.user,
        )
        messages.success(request, f"Account “{account.name}” added.")
        return redirect(account)
    return render(request, "dashboard/account_form.html", {"form": form, "creating": True})


@sensitive_post_parameters("aws_secret_access_key")
@sensitive_variables()
@require_http_methods(["GET", "POST"])
@login_required
def account_edit(request: DashboardRequest, slug: str) -> HttpResponse:
    account = account_for_user(request, slug, Action.MANAGE_ACCOUNTS)
    form = RequesterAccountForm(request.POST or None, instance=account)
    if request.method == "POST" and form.is_valid():
        services.save_account(
            account=form.save(commit=False),
            secret_access_key=form.cleaned_data["aws_secret_access_key"],
            saved_by=request.user,
        )
        messages.success(request, "Account settings saved.")
        return redirect("account-edit", slug=account.slug)
    return render(
        request,
        "dashboard/account_form.html",
        {"form": form, "account": account, "creating": False},
    )


@require_http_methods(["GET", "POST"])
@login_required
def account_members(request: DashboardRequest, slug: str) -> HttpResponse:
    account = account_for_user(request, slug, Action.MANAGE_USERS)
    add_form = AddMemberForm(request.POST if "username" in request.POST else None)
    if request.method == "POST":
        if add_form.is_bound:
            if add_form.is_valid():
                user = add_form.cleaned_data["username"]
                services.set_membership(
                    account=account, user=user, member=True, changed_by=request.user
                )
                messages.success(request, f"{user.get_username()} can now see this account.")
                return redirect("account-members", slug=account.slug)
        else:
            remove_form = RemoveMemberForm(request.POST)
            if remove_form.is_valid():
                user = get_object_or_404(account.members, pk=remove_form.cleaned_data["user_id"])
                services.set_membership(
                    account=account, user=user, member=False, changed_by=request.user
                )
                messages.success(request, f"{user.get_username()} no longer sees this account.")
            return redirect("account-members", slug=account.slug)
    members = account.members.order_by("username").prefetch_related("groups")
    return render(
        request,
        "dashboard/account_members.html",
        {"account": account, "members": members, "add_form": add_form},
    )


@vary_on_htmx
@require_GET
@login_required
def audit_log(request: DashboardRequest, slug: str) -> HttpResponse:
    account = account_for_user(request, slug)
    events = AuditEvent.objects.filter(account=account).order_by("-created_at", "-id")
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    template = page_or_fragment(request, "dashboard/audit_log.html", "audit-table")
    return render(request, template, {"account": account, "page": page})


# --- Jobs ----------------------------------------------------------------------------------------


@vary_on_htmx
@require_GET
@login_required
def job_list(request: DashboardRequest, slug: str) -> HttpResponse:
    account = account_for_user(request, slug)
    page = Paginator(account.jobs.select_related("created_by"), 25).get_page(
        request.GET.get("page")
    )
    template = page_or_fragment(request, "dashboard/job_list.html", "job-table")
    return render(request, template, {"account": account, "page": page})


@never_cache
@require_GET
@login_required
def job_detail(request: DashboardRequest, slug: str, pk: int) -> HttpResponse:
    """The job page; its progress fragment polls this view until the job finishes (then htmx stops)."""
    account = account_for_user(request, slug)
    job = get_object_or_404(Job.objects.select_related("created_by"), account=account, pk=pk)
    if request.htmx:
        response = render(
            request, "dashboard/job_detail.html#job-progress", {"account": account, "job": job}
        )
        if job.is_finished:
            # 286 tells htmx to stop polling; the fragment it carries is still swapped in.
            response.status_code = HttpResponseStopPolling.status_code
        return response
    return render(request, "dashboard/job_detail.html", {"account": account, "job": job})


# --- Logins --------------------------------------------------------------------------------------


def login_locked_out(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """The page django-axes answers with when a login is refused because of too many failures
    (AXES_LOCKOUT_CALLABLE): how many, for how long, and who can lift the lock sooner."""
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    context = {
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "lockout_minutes": round(settings.AXES_COOLOFF_TIME.total_seconds() / 60),
        "username": str(username)[:150],
    }
    return render(request, "registration/locked_out.html", context, status=429)


# --- The site icon -------------------------------------------------------------------------------


@require_GET
@cache_control(public=True, max_age=86400)
def favicon(request: HttpRequest) -> FileResponse:
    """/favicon.ico: browsers ask for it on every page that names no icon of its own (the
    admin's), and a 404 there fills the logs. Our pages link the SVG; this is the same picture."""
    path = finders.find("img/favicon.ico")
    if not isinstance(path, str):
        raise Http404("No icon.")
    return FileResponse(open(path, "rb"), content_type="image/x-icon")  # noqa: SIM115 - FileResponse closes it
