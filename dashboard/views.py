from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseStopPolling
from django_htmx.middleware import HtmxDetails

from dashboard import notification_setup, services
from dashboard.enums import Action
from dashboard.forms import (
    AddMemberForm,
    NotificationSettingsForm,
    RemoveMemberForm,
    RequesterAccountForm,
    SyncNowForm,
    TestEventForm,
)
from dashboard.health import account_sync_health, health_report
from dashboard.htmx import page_or_fragment, vary_on_htmx
from dashboard.jobs import start_job
from dashboard.models import AuditEvent, Job, RequesterAccount
from dashboard.permissions import account_for_user


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails
    user: AbstractBaseUser


# --- Overview ------------------------------------------------------------------------------------


@require_GET
@login_required
def index(request: HtmxHttpRequest) -> HttpResponse:
    """Open the last account used in this session, else the first one; or say what to do next."""
    visible = RequesterAccount.objects.visible_to(request.user)
    last_slug = request.session.get("account_slug")
    account = visible.filter(slug=last_slug).first() if last_slug else None
    account = account or visible.filter(is_active=True).first() or visible.first()
    if account is not None:
        return redirect(account)
    can_add = request.user.has_perm(f"dashboard.{Action.MANAGE_ACCOUNTS}")
    return render(request, "dashboard/index.html", {"can_add_account": can_add})


@require_GET
@login_required
def account_overview(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    account = account_for_user(request, slug)
    request.session["account_slug"] = account.slug
    context = {
        "account": account,
        "recent_jobs": account.jobs.select_related("created_by")[:5],
        "recent_audit": account.audit_events.all()[:8],
        "health": account_sync_health(account),
        "studies": _studies(account),
        "sync_form": SyncNowForm(),
    }
    return render(request, "dashboard/account_overview.html", context)


def _studies(account: RequesterAccount) -> list[object]:
    """HIT types with their progress, newest first. Counted with subqueries: joining HITs and
    assignments at once would multiply rows."""
    from django.db.models import Count, IntegerField, OuterRef, Subquery
    from django.db.models.functions import Coalesce

    from hits.models import HIT, Assignment

    def count(queryset: object) -> Coalesce:
        counted = (
            queryset.filter(hit_type=OuterRef("pk"))
            .values("hit_type")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return Coalesce(Subquery(counted, output_field=IntegerField()), 0)

    return list(
        account.hit_types.annotate(
            n_hits=count(HIT.objects.all()),
            n_submitted=count(Assignment.objects.filter(status="Submitted")),
            n_approved=count(Assignment.objects.filter(status="Approved")),
            n_rejected=count(Assignment.objects.filter(status="Rejected")),
        ).order_by("-first_seen_at")[:8]
    )


# --- Accounts ------------------------------------------------------------------------------------


@sensitive_post_parameters("aws_secret_access_key")
@sensitive_variables("form")
@require_http_methods(["GET", "POST"])
@login_required
def account_create(request: HtmxHttpRequest) -> HttpResponse:
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
@sensitive_variables("form")
@require_http_methods(["GET", "POST"])
@login_required
def account_edit(request: HtmxHttpRequest, slug: str) -> HttpResponse:
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
def account_members(request: HtmxHttpRequest, slug: str) -> HttpResponse:
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
def audit_log(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    account = account_for_user(request, slug)
    events = AuditEvent.objects.filter(account=account).order_by("-created_at", "-id")
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    template = page_or_fragment(request, "dashboard/audit_log.html", "audit-table")
    return render(request, template, {"account": account, "page": page})


# --- Jobs ----------------------------------------------------------------------------------------


@vary_on_htmx
@require_GET
@login_required
def job_list(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    account = account_for_user(request, slug)
    page = Paginator(account.jobs.select_related("created_by"), 25).get_page(
        request.GET.get("page")
    )
    template = page_or_fragment(request, "dashboard/job_list.html", "job-table")
    return render(request, template, {"account": account, "page": page})


@never_cache
@require_GET
@login_required
def job_detail(request: HtmxHttpRequest, slug: str, pk: int) -> HttpResponse:
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


# --- Health --------------------------------------------------------------------------------------


@never_cache
@require_GET
@transaction.non_atomic_requests
def healthz(request: HttpRequest) -> JsonResponse:
    healthy, report = health_report()
    return JsonResponse(report, status=200 if healthy else 503)


# --- Sync and notifications ----------------------------------------------------------------------


@require_POST
@login_required
def sync_now(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """Start a sync of the account as a job and show its progress."""
    account = account_for_user(request, slug)
    form = SyncNowForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Unknown kind of sync.")
        return redirect(account)
    kind = form.cleaned_data["kind"]
    job = start_job(
        account=account,
        kind="sync",
        title=f"Sync now: {dict(form.fields['kind'].choices)[kind].lower()}",
        parameters={"kind": kind},
        created_by=request.user,
    )
    return redirect(job)


@require_GET
@login_required
def notifications(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    account = account_for_user(request, slug, Action.MANAGE_ACCOUNTS)
    return render(request, "dashboard/notifications.html", _notifications_context(request, account))


def _notifications_context(
    request: HttpRequest, account: RequesterAccount, **forms: object
) -> dict[str, object]:
    webhook_url = request.build_absolute_uri(reverse("sns-webhook", kwargs={"slug": account.slug}))
    return {
        "account": account,
        "webhook_url": webhook_url,
        "settings_form": forms.get("settings_form") or NotificationSettingsForm(account=account),
        "test_form": forms.get("test_form") or TestEventForm(account=account),
        "hit_types": account.hit_types.order_by("title"),
        "sqs_policy": notification_setup.sqs_queue_policy(account.sqs_queue_url)
        if account.sqs_queue_url
        else "",
        "sns_policy": notification_setup.sns_topic_policy(account.sns_topic_arn),
        "recent_events": account.notification_events.all()[:10],
    }


def _notifications_job(
    request: HtmxHttpRequest,
    slug: str,
    *,
    form_class: type,
    form_name: str,
    kind: str,
    title: Callable[[dict[str, Any]], str],
) -> HttpResponse:
    """Validate a form of the notifications page, then start its job and show it (or show the
    page again with the form's errors)."""
    account = account_for_user(request, slug, Action.MANAGE_ACCOUNTS)
    form = form_class(request.POST, account=account)
    if not form.is_valid():
        context = _notifications_context(request, account, **{form_name: form})
        return render(request, "dashboard/notifications.html", context)
    job = start_job(
        account=account,
        kind=kind,
        title=title(form.cleaned_data),
        parameters=form.cleaned_data,
        created_by=request.user,
    )
    return redirect(job)


@require_POST
@login_required
def notifications_configure(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    return _notifications_job(
        request,
        slug,
        form_class=NotificationSettingsForm,
        form_name="settings_form",
        kind="notifications.configure",
        title=lambda data: f"Notification settings for {len(data['hit_type_ids'])} HIT type(s)",
    )


@require_POST
@login_required
def notifications_test(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    return _notifications_job(
        request,
        slug,
        form_class=TestEventForm,
        form_name="test_form",
        kind="notifications.test",
        title=lambda data: f"Test {data['event_type']} event through {data['transport']}",
    )


@require_POST
@login_required
def notifications_wire_emulator(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """Emulator accounts: pin the emulator's certificate and subscribe our webhook (a quick local call)."""
    account = account_for_user(request, slug, Action.MANAGE_ACCOUNTS)
    webhook_url = request.build_absolute_uri(reverse("sns-webhook", kwargs={"slug": account.slug}))
    try:
        notification_setup.wire_emulator_sns(
            account=account, webhook_url=webhook_url, actor=request.user
        )
    except (ValueError, OSError) as exc:
        messages.error(request, f"Could not wire the emulator: {exc}")
    else:
        messages.success(
            request,
            "The emulator now posts this account's SNS events to the webhook (the subscription confirms itself).",
        )
    return redirect("account-notifications", slug=account.slug)
