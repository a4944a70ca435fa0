"""Pages of the mirror: sync now, the notifications page and its forms, and /healthz."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import DatabaseError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from dashboard.enums import Action, JobKind, SyncKind
from dashboard.http import DashboardRequest
from dashboard.jobs import start_job
from dashboard.models import RequesterAccount
from dashboard.permissions import account_for_user
from mirror import notification_setup
from mirror.forms import NotificationSettingsForm, SyncNowForm, TestEventForm
from mirror.health import bearer_token_is_valid, health_report


def _may_see_health_details(request: HttpRequest) -> bool:
    """Staff users (logged in) and callers holding HEALTHZ_TOKEN; everyone else sees the status."""
    if bearer_token_is_valid(request.headers.get("Authorization")):
        return True
    try:
        user = request.user
        return bool(user.is_authenticated and user.is_active and getattr(user, "is_staff", False))
    except DatabaseError:
        # Reading the session needs the database; when it is down the caller is anonymous, and
        # the answer is still a 503 rather than a 500.
        return False


@never_cache
@require_GET
@transaction.non_atomic_requests
def healthz(request: HttpRequest) -> JsonResponse:
    healthy, report = health_report(details=_may_see_health_details(request))
    return JsonResponse(report, status=200 if healthy else 503)


@require_POST
@login_required
def sync_now(request: DashboardRequest, slug: str) -> HttpResponse:
    """Start a sync of the account as a job and show its progress."""
    account = account_for_user(request, slug)
    form = SyncNowForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Unknown kind of sync.")
        return redirect(account)
    kind = form.cleaned_data["kind"]
    job = start_job(
        account=account,
        kind=JobKind.SYNC,
        title=f"Sync now: {SyncKind(kind).label.lower()}",
        parameters={"kind": kind},
        created_by=request.user,
    )
    return redirect(job)


@require_GET
@login_required
def notifications(request: DashboardRequest, slug: str) -> HttpResponse:
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
    request: DashboardRequest,
    slug: str,
    *,
    form_class: type,
    form_name: str,
    kind: JobKind,
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
def notifications_configure(request: DashboardRequest, slug: str) -> HttpResponse:
    return _notifications_job(
        request,
        slug,
        form_class=NotificationSettingsForm,
        form_name="settings_form",
        kind=JobKind.NOTIFICATIONS_CONFIGURE,
        title=lambda data: f"Notification settings for {len(data['hit_type_ids'])} HIT type(s)",
    )


@require_POST
@login_required
def notifications_test(request: DashboardRequest, slug: str) -> HttpResponse:
    return _notifications_job(
        request,
        slug,
        form_class=TestEventForm,
        form_name="test_form",
        kind=JobKind.NOTIFICATIONS_TEST,
        title=lambda data: f"Test {data['event_type']} event through {data['transport']}",
    )


@require_POST
@login_required
def notifications_wire_emulator(request: DashboardRequest, slug: str) -> HttpResponse:
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
