"""POST /notifications/sns/<account-slug>/: MTurk events pushed by SNS.

Verifies, records and answers fast; applying the event (which calls MTurk) is queued, one task
per account and NOTIFICATIONS_APPLY_DELAY_SECONDS however many posts arrive. This is the
only view without CSRF protection: SNS cannot send a token, and the signature check replaces it.
"""

from __future__ import annotations

import logging
import re

from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from dashboard.models import RequesterAccount
from mirror.events import MAX_DOCUMENT_BYTES
from mirror.sns_receiver import WebhookRejected, handle_sns_post, note_webhook_rejection
from mirror.tasks import request_apply, task_confirm_subscription

logger = logging.getLogger(__name__)

# ASCII digits only: "²".isdigit() is true, and int() of it fails.
_CONTENT_LENGTH = re.compile(r"[0-9]{1,15}")


def _declared_length(value: str | None) -> int:
    """The Content-Length header as a number (0 when absent); 400 for anything else. Checked before
    the body is read: Django's own reading of the body would fail on it with a 500."""
    if value is None or value == "":
        return 0
    if not _CONTENT_LENGTH.fullmatch(value.strip()):
        raise WebhookRejected(400, "Content-Length is not a non-negative whole number")
    return int(value)


@csrf_exempt
@require_POST
def sns_webhook(request: HttpRequest, slug: str) -> JsonResponse:
    # Unknown and inactive slugs go through the same checks as real ones (and are refused with the
    # same 403 once the body is well formed), so answers do not reveal which accounts exist.
    account = RequesterAccount.objects.filter(slug=slug, is_active=True).first()
    try:
        if (
            _declared_length(request.headers.get("Content-Length")) > MAX_DOCUMENT_BYTES
            or len(request.body) > MAX_DOCUMENT_BYTES
        ):
            raise WebhookRejected(413, "body too large")
        # Not one transaction: a refused post must still leave its rejection (and any invalid
        # document) recorded. The event row commits on its own before its task is queued.
        result = handle_sns_post(
            account=account,
            body=request.body,
            message_type_header=request.headers.get("x-amz-sns-message-type"),
        )
    except WebhookRejected as exc:
        note_webhook_rejection(account, exc.reason)  # counted for real accounts only
        logger.warning("SNS webhook for %s refused (%s): %s", slug, exc.status, exc.reason)
        return JsonResponse({"error": exc.public_reason}, status=exc.status)
    if result.event is not None and account is not None:
        account_pk = account.pk
        transaction.on_commit(lambda: request_apply(account_pk))
    if result.outcome == "confirmation" and account is not None:
        account_id, subscribe_url = account.pk, result.subscribe_url
        transaction.on_commit(
            lambda: task_confirm_subscription.delay(
                account_id=account_id, subscribe_url=subscribe_url
            )
        )
    return JsonResponse({"status": result.outcome})
