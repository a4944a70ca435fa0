"""Message pages: the history, saved templates, composing a message (to one worker, pasted ids, a
CSV, or the review grid's ticked rows), its preview and confirmation."""

from __future__ import annotations

from typing import Any

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dashboard import confirmations
from dashboard.enums import Action
from dashboard.forms import LiveAccountConfirmForm
from dashboard.htmx import page_or_fragment, vary_on_htmx
from dashboard.http import DashboardRequest
from dashboard.models import RequesterAccount
from dashboard.permissions import account_for_user
from hits.models import HITType
from mturk.gateway import NOTIFY_MAX_WORKERS
from people.forms.messages import ComposeForm, MessageTemplateForm, SendMessageForm
from people.models import MessageTemplate
from people.services import messaging

HISTORY_PAGE_SIZE = 20

# --- History -------------------------------------------------------------------------------------


@vary_on_htmx
@require_GET
@login_required
def message_list(request: DashboardRequest, slug: str) -> HttpResponse:
    """Every message sent from the account, newest first, with each recipient's outcome."""
    account = account_for_user(request, slug)
    page = Paginator(messaging.message_history(account), HISTORY_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    # Recipients only for the messages on this page: one query, whatever the page size.
    page.object_list = list(
        messaging.with_recipients(
            messaging.message_history(account).filter(pk__in=[m.pk for m in page.object_list])
        )
    )
    return render(
        request,
        page_or_fragment(request, "people/message_list.html", "message-table"),
        {
            "account": account,
            "page": page,
            "can_send": Action.MANAGE_WORKERS in request.account_actions,
        },
    )


# --- Templates -----------------------------------------------------------------------------------


@require_GET
@login_required
def template_list(request: DashboardRequest, slug: str) -> HttpResponse:
    account = account_for_user(request, slug)
    return render(
        request,
        "people/message_template_list.html",
        {
            "account": account,
            "templates": messaging.templates_for(account),
            "can_edit": Action.MANAGE_WORKERS in request.account_actions,
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
def template_edit(request: DashboardRequest, slug: str, pk: int | None = None) -> HttpResponse:
    """Create (no pk) or edit a saved template."""
    account = account_for_user(request, slug, Action.MANAGE_WORKERS)
    template = get_object_or_404(MessageTemplate, account=account, pk=pk) if pk else None
    form = MessageTemplateForm(request.POST or None, instance=template, account=account)
    if request.method == "POST" and form.is_valid():
        try:
            messaging.save_template(
                account=account,
                template=template,
                user=request.user,
                **{name: form.cleaned_data[name] for name in ("name", "subject", "body")},
            )
        except messaging.MessageProblem as exc:
            form.add_error(None, str(exc))
        else:
            flash.success(request, "Template saved.")
            return redirect("message-template-list", slug=account.slug)
    return render(
        request,
        "people/message_template_form.html",
        {"account": account, "form": form, "template": template},
    )


@require_POST
@login_required
def template_delete(request: DashboardRequest, slug: str, pk: int) -> HttpResponse:
    account = account_for_user(request, slug, Action.MANAGE_WORKERS)
    template = get_object_or_404(MessageTemplate, account=account, pk=pk)
    messaging.delete_template(account=account, template=template)
    flash.success(request, f"Template “{template.name}” deleted.")
    return redirect("message-template-list", slug=account.slug)


# --- Composing and sending -----------------------------------------------------------------------


def _compose_page(
    request: DashboardRequest, account: RequesterAccount, form: ComposeForm
) -> HttpResponse:
    return render(request, "people/message_compose.html", {"account": account, "form": form})


@require_http_methods(["GET", "POST"])
@login_required
def compose(request: DashboardRequest, slug: str) -> HttpResponse:
    """GET: the form. POST: the preview (rendered messages, counts, calls, problems) with a
    one-time token for its own confirmation form; nothing is sent from here."""
    account = account_for_user(request, slug, Action.MANAGE_WORKERS)
    if request.method == "GET":
        return _compose_page(request, account, ComposeForm(account=account))
    if "edit" in request.POST:
        # Back from the preview to change the message: the form again, filled in, nothing checked.
        initial = {
            name: request.POST.get(name, "")
            for name in ("worker_ids", "subject", "body", "template", "study")
        }
        return _compose_page(request, account, ComposeForm(account=account, initial=initial))
    form = ComposeForm(request.POST, request.FILES, account=account)
    if not form.is_valid():
        return _compose_page(request, account, form)
    data = form.cleaned_data
    return _preview(
        request,
        account,
        workers=form.workers,
        subject=data["subject"],
        body=data["body"],
        template=data["template"],
        study=data["study"],
    )


@require_GET
@login_required
def worker_message(request: DashboardRequest, slug: str, worker_id: str) -> HttpResponse:
    """The compose form for one worker (from the worker's page)."""
    account = account_for_user(request, slug, Action.MANAGE_WORKERS)
    if not messaging.WORKER_ID_RE.match(worker_id):
        raise Http404("No such worker.")
    return _compose_page(
        request, account, ComposeForm(account=account, initial={"worker_ids": worker_id})
    )


@require_POST
@login_required
def compose_from_study(request: DashboardRequest, slug: str, hit_type_id: str) -> HttpResponse:
    """The compose form for the workers of the review grid's ticked rows (posted as `selected`
    assignment ids by the grid's bulk form), with the study chosen. Only the ids are read."""
    account = account_for_user(request, slug, Action.MANAGE_WORKERS)
    hit_type = get_object_or_404(HITType, account=account, hit_type_id=hit_type_id)
    workers = messaging.worker_ids_for_assignments(
        account=account, hit_type=hit_type, assignment_ids=request.POST.getlist("selected")[:10_000]
    )
    form = ComposeForm(
        account=account, initial={"worker_ids": "\n".join(workers), "study": hit_type.pk}
    )
    if not workers:
        flash.warning(request, "Tick the rows of the workers to message first.")
    return _compose_page(request, account, form)


def _preview(
    request: DashboardRequest,
    account: RequesterAccount,
    *,
    workers: list[str],
    subject: str,
    body: str,
    template: MessageTemplate | None,
    study: HITType | None,
    confirm_error: str = "",
) -> HttpResponse:
    plan = messaging.plan_messages(
        account=account, worker_ids=workers, subject=subject, body=body, study=study
    )
    context: dict[str, Any] = {
        "account": account,
        "plan": plan,
        "workers": workers,
        "calls": len(plan.calls),
        "batch_size": NOTIFY_MAX_WORKERS,
        "confirm_error": confirm_error,
        # For the preview's "Change" form, which posts them back to the compose form.
        "edit_fields": [
            ("worker_ids", "\n".join(workers)),
            ("subject", subject),
            ("body", body),
            ("template", str(template.pk) if template else ""),
            ("study", str(study.pk) if study else ""),
        ],
    }
    if plan.ok:
        binding = messaging.confirmation_binding(
            worker_ids=workers, subject=subject, body=body, template=template, study=study
        )
        context["send_form"] = SendMessageForm(
            account=account,
            initial={
                "workers": " ".join(workers),
                "subject": subject,
                "body": body,
                "template": template.pk if template else None,
                "study": study.pk if study else None,
                "confirmation": confirmations.issue(
                    request,
                    account=account,
                    purpose=messaging.CONFIRMATION_PURPOSE,
                    binding=binding,
                ),
            },
        )
    return render(request, "people/message_preview.html", context)


@require_POST
@login_required
def send(request: DashboardRequest, slug: str) -> HttpResponse:
    """The preview's confirmation: records the message (a job, or one intent for one worker) only
    with the page's unspent token for exactly what it showed, then shows the job or the history."""
    account = account_for_user(request, slug, Action.MANAGE_WORKERS)
    form = SendMessageForm(request.POST, account=account)
    if not form.is_valid():
        return render(
            request,
            "people/message_preview.html",
            {"account": account, "invalid": True, "form": form},
            status=400,
        )
    data = form.cleaned_data
    fields = {
        "workers": data["workers"],
        "subject": data["subject"],
        "body": data["body"],
        "template": data["template"],
        "study": data["study"],
    }
    confirm = LiveAccountConfirmForm(request.POST, account=account)
    if not confirm.is_valid():
        return _preview(request, account, **fields, confirm_error=confirm.problem())
    binding = messaging.confirmation_binding(
        worker_ids=data["workers"],
        subject=data["subject"],
        body=data["body"],
        template=data["template"],
        study=data["study"],
    )
    try:
        with transaction.atomic():
            # Spent in the transaction that records the messages: two posts of one page send once.
            confirmed = confirmations.consume(
                request,
                token=data["confirmation"],
                account=account,
                purpose=messaging.CONFIRMATION_PURPOSE,
                binding=binding,
            )
            started = (
                messaging.start_messages(
                    account=account,
                    worker_ids=data["workers"],
                    subject=data["subject"],
                    body=data["body"],
                    template=data["template"],
                    study=data["study"],
                    requested_by=request.user,
                )
                if confirmed
                else None
            )
    except messaging.MessageProblem as exc:
        return _preview(request, account, **fields, confirm_error=str(exc))
    if started is None:
        return _preview(
            request,
            account,
            **fields,
            confirm_error=(
                "Nothing was sent: this confirmation is no longer valid (it was used already, "
                "expired, or was shown for another message). Check what is below and confirm again."
            ),
        )
    if started.job is not None:
        return redirect(started.job)
    flash.success(request, f"Message to {data['workers'][0]} queued.")
    return redirect("message-list", slug=account.slug)
