"""POST /notifications/sns/<account-slug>/: MTurk events pushed by SNS.

Verifies, records and answers fast; applying the event (which calls MTurk) is queued. This is the
only view without CSRF protection: SNS cannot send a token, and the signature check replaces it.
"""

from __future__ import annotations

import json
import logging

from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from dashboard.models import RequesterAccount
from mirror.events import MAX_DOCUMENT_BYTES
from mirror.sns_receiver import WebhookRejected, handle_sns_post, note_webhook_rejection
from mirror.tasks import task_apply_event, task_confirm_subscription

logger = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def sns_webhook(request: HttpRequest, slug: str) -> JsonResponse:
    account = RequesterAccount.objects.filter(slug=slug, is_active=True).first()
    try:
        if account is None:
            raise WebhookRejected(404, "no such active account")
        if (
            int(request.headers.get("Content-Length") or 0) > MAX_DOCUMENT_BYTES
            or len(request.body) > MAX_DOCUMENT_BYTES
        ):
            raise WebhookRejected(413, "body too large")
        # Not one transaction: a refused post must still leave its rejection (and any invalid
        # document) recorded. The event row commits on its own before its task is queued.
        outcome, event = handle_sns_post(
            account=account,
            body=request.body,
            message_type_header=request.headers.get("x-amz-sns-message-type"),
        )
        if event is not None:
            transaction.on_commit(lambda: task_apply_event.delay(event_id=event.pk))
        if outcome == "confirmation":
            subscribe_url = json.loads(request.body)["SubscribeURL"]
            transaction.on_commit(
                lambda: task_confirm_subscription.delay(
                    account_id=account.pk, subscribe_url=subscribe_url
                )
            )
    except WebhookRejected as exc:
        note_webhook_rejection(account, exc.reason)
        logger.warning("SNS webhook for %s refused (%s): %s", slug, exc.status, exc.reason)
        return JsonResponse({"error": exc.reason}, status=exc.status)
    return JsonResponse({"status": outcome})
