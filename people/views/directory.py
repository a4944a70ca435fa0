"""The worker directory: every worker the account has met, and a page per worker.

Who may do what: every member who may view the account sees the directory and the worker pages.
Notes and tags are the lab's own memory of a worker: they never reach MTurk and cost nothing, so
any member who may review assignments (research staff and lab admins, Action.REVIEW) writes them;
a member without it gets 403. Money, blocks and messages stay lab-admin actions on their own pages.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from dashboard.enums import Action
from dashboard.htmx import page_or_fragment, vary_on_htmx, wants_fragment
from dashboard.http import DashboardRequest
from dashboard.models import RequesterAccount
from dashboard.permissions import account_for_user
from people.forms.directory import NoteForm, TagForm, WorkerFilterForm
from people.services import directory
from qualifications.models import QualificationType
from workers.models import Worker


def _query(request: DashboardRequest) -> str:
    """The query string without the page number, for pagination links that keep the filter."""
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@vary_on_htmx
@require_GET
@login_required
def worker_list(request: DashboardRequest, slug: str) -> HttpResponse:
    account = account_for_user(request, slug)
    form = WorkerFilterForm(
        request.GET or None, account=account, tags=directory.account_tags(account)
    )
    filters = form.cleaned_data if form.is_valid() else {}
    queryset = directory.filter_workers(directory.workers(account), **filters)
    page = Paginator(queryset, directory.PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "account": account,
        "form": form,
        "page": page,
        "rows": directory.directory_rows(account, list(page.object_list)),
        "query": _query(request),
    }
    template = page_or_fragment(request, "people/worker_list.html", "worker-table")
    return render(request, template, context)


@vary_on_htmx
@require_GET
@login_required
def worker_detail(request: DashboardRequest, slug: str, worker_id: str) -> HttpResponse:
    """A worker's page; for htmx, a page of its assignments table."""
    account = account_for_user(request, slug)
    worker = directory.get_worker(account, worker_id)
    if wants_fragment(request):
        context = {"account": account, "worker": worker, **_assignments(request, worker)}
        return render(request, "people/worker_detail.html#assignments", context)
    return _detail(request, account, worker)


def _assignments(request: DashboardRequest, worker: Worker) -> dict[str, Any]:
    paginator = Paginator(directory.worker_assignments(worker), directory.PAGE_SIZE)
    return {
        "assignments_page": paginator.get_page(request.GET.get("page")),
        "query": _query(request),
    }


def _detail(
    request: DashboardRequest,
    account: RequesterAccount,
    worker: Worker,
    *,
    note_form: NoteForm | None = None,
    tag_form: TagForm | None = None,
    status: int = 200,
) -> HttpResponse:
    context: dict[str, Any] = {
        "account": account,
        "worker": worker,
        "profile": directory.worker_profile(account, worker),
        "can_write": Action.REVIEW in request.account_actions,
        "note_form": note_form or NoteForm(),
        "tag_form": tag_form or TagForm(),
        **_assignments(request, worker),
    }
    if Action.MANAGE_QUALIFICATIONS in request.account_actions:
        # The types a lab admin may grant this worker from here (each links to its grant page).
        context["grantable_types"] = QualificationType.objects.filter(account=account).exclude(
            status="Disposing"
        )
    return render(request, "people/worker_detail.html", context, status=status)


def _write(request: DashboardRequest, slug: str, worker_id: str) -> tuple[RequesterAccount, Worker]:
    account = account_for_user(request, slug, Action.REVIEW)
    return account, directory.get_worker(account, worker_id)


def _after_write(
    request: DashboardRequest,
    account: RequesterAccount,
    worker: Worker,
    partial: str,
    **forms: Any,
) -> HttpResponse:
    """htmx swaps the section in (with the form's errors, if any, status 200 as htmx swaps only
    2xx); a plain post goes back to the page, or shows it with the errors (400)."""
    invalid = any(form.errors for form in forms.values())
    if wants_fragment(request):
        profile = directory.worker_profile(account, worker)
        context = {
            "account": account,
            "worker": worker,
            "profile": profile,
            "can_write": True,
            "note_form": NoteForm(),
            "tag_form": TagForm(),
            **forms,
        }
        return render(request, f"people/worker_detail.html#{partial}", context)
    if invalid:
        return _detail(request, account, worker, status=400, **forms)
    return redirect("worker-detail", slug=account.slug, worker_id=worker.worker_id)


@require_POST
@login_required
def worker_note_add(request: DashboardRequest, slug: str, worker_id: str) -> HttpResponse:
    account, worker = _write(request, slug, worker_id)
    form = NoteForm(request.POST)
    if form.is_valid():
        directory.add_note(
            account=account, worker=worker, text=form.cleaned_data["text"], author=request.user
        )
        form = NoteForm()
    return _after_write(request, account, worker, "notes", note_form=form)


@require_POST
@login_required
def worker_tag_add(request: DashboardRequest, slug: str, worker_id: str) -> HttpResponse:
    account, worker = _write(request, slug, worker_id)
    form = TagForm(request.POST)
    if form.is_valid():
        directory.add_tag(
            account=account, worker=worker, tag=form.cleaned_data["tag"], author=request.user
        )
        form = TagForm()
    return _after_write(request, account, worker, "tags", tag_form=form)


@require_POST
@login_required
def worker_tag_remove(request: DashboardRequest, slug: str, worker_id: str) -> HttpResponse:
    account, worker = _write(request, slug, worker_id)
    form = TagForm(request.POST)
    if form.is_valid():
        directory.remove_tag(account=account, worker=worker, tag=form.cleaned_data["tag"])
    # A tag that does not validate cannot be on the worker: nothing to remove, nothing to report.
    return _after_write(request, account, worker, "tags")
