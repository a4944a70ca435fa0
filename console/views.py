"""The landing pages, which compose every app: the index (open an account) and an account's
overview (its studies, the mirror's health, recent jobs and activity)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from dashboard.enums import Action
from dashboard.http import DashboardRequest
from dashboard.models import RequesterAccount
from dashboard.permissions import account_for_user
from hits.queries import recent_studies
from mirror.emulator_clock import emulator_clock
from mirror.forms import SyncNowForm
from mirror.health import account_sync_health


@require_GET
@login_required
def index(request: DashboardRequest) -> HttpResponse:
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
def account_overview(request: DashboardRequest, slug: str) -> HttpResponse:
    account = account_for_user(request, slug)
    request.session["account_slug"] = account.slug
    context = {
        "account": account,
        "recent_jobs": account.jobs.select_related("created_by")[:5],
        "recent_audit": account.audit_events.all()[:8],
        "health": account_sync_health(account),
        # Emulator accounts only: how far the emulator's clock is from real time (a cached, bounded
        # read of its control API), since every time shown is off by that much.
        "emulator_clock": emulator_clock(account),
        "studies": recent_studies(account=account),
        "sync_form": SyncNowForm(),
    }
    return render(request, "dashboard/account_overview.html", context)
