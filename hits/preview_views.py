"""The question preview page: a HIT's question as workers saw it, and one worker's answers replayed.

These pages are unlike the rest of the dashboard: they embed untrusted HTML (in a sandboxed srcdoc
frame) or an external site, so each response carries its own Content-Security-Policy (the site
middleware leaves it alone) and may be framed by our own pages only (X-Frame-Options SAMEORIGIN,
frame-ancestors 'self'), so the HIT page can show the preview in a plain iframe.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET

from dashboard.enums import Action
from dashboard.http import DashboardRequest
from dashboard.permissions import account_for_user
from hits.enums import QuestionKind
from hits.models import HIT, Assignment
from hits.preview.build import build_preview


@require_GET
@login_required
@xframe_options_sameorigin
def hit_preview(request: DashboardRequest, slug: str, hit_id: str) -> HttpResponse:
    return _preview_page(request, slug, hit_id, None)


@require_GET
@login_required
@xframe_options_sameorigin
def assignment_replay(
    request: DashboardRequest, slug: str, hit_id: str, assignment_id: str
) -> HttpResponse:
    return _preview_page(request, slug, hit_id, assignment_id)


def _preview_page(
    request: DashboardRequest, slug: str, hit_id: str, assignment_id: str | None
) -> HttpResponse:
    account = account_for_user(request, slug, Action.PREVIEW)
    # Both lookups are scoped to the account (and the assignment to the HIT): an id from another
    # account answers 404 like an id that does not exist.
    hit = get_object_or_404(HIT, account=account, hit_id=hit_id)
    assignment = None
    if assignment_id is not None:
        assignment = get_object_or_404(
            Assignment.objects.select_related("worker"),
            account=account,
            hit=hit,
            assignment_id=assignment_id,
        )
    own_origin = f"{request.scheme}://{request.get_host()}"
    preview = build_preview(hit=hit, assignment=assignment, own_origin=own_origin)
    context = {
        "account": account,
        "hit": hit,
        "assignment": assignment,
        "preview": preview,
        "kind_label": _kind_label(preview.kind),
    }
    response = render(request, "hits/question_preview.html", context)
    response["Content-Security-Policy"] = preview.csp
    # Replays show one worker's answers: keep them out of shared caches.
    response["Cache-Control"] = "private, no-store"
    return response


def _kind_label(kind: str) -> str:
    try:
        return str(QuestionKind(kind).label)
    except ValueError:
        return kind
