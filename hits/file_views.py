"""Downloading a worker's uploaded file: a POST (the URL is asked for at click time) that sends the
browser to the address MTurk returned, and only there (hits.file_uploads)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseRedirect
from django.views.decorators.http import require_POST

from dashboard.enums import Action
from dashboard.http import DashboardRequest
from dashboard.permissions import account_for_user
from hits import file_uploads
from mturk.errors import MTurkError


@require_POST
@login_required
def assignment_file_download(
    request: DashboardRequest, slug: str, assignment_id: str
) -> HttpResponse:
    account = account_for_user(request, slug, Action.EXPORT)
    question = request.POST.get("question", "")[:200]
    try:
        url = file_uploads.download_url(
            account=account, assignment_id=assignment_id, question=question
        )
    except file_uploads.DownloadRefused as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain; charset=utf-8")
    except MTurkError as exc:
        return HttpResponse(
            f"MTurk did not give the file: {exc.message}",
            status=502 if exc.retryable else 400,
            content_type="text/plain; charset=utf-8",
        )
    # The URL was checked against the allowed hosts (file_uploads.allowed_download_url).
    return HttpResponseRedirect(url)
