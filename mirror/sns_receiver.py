"""The SNS door: verify one HTTP POST from SNS (signature, certificate, topic), confirm
subscriptions on trusted hosts only, and record the event document it carries (applied later by a
task, so the webhook answers fast)."""

from __future__ import annotations

import hashlib
import json
import logging
import urllib.request

from django.db.models import F
from django.utils import timezone

from dashboard.enums import Environment, EventSource
from dashboard.models import NotificationEvent, RequesterAccount, SyncState
from mirror.events import EventDocumentError, record_event_document, record_invalid_message
from mturk.sns import SnsVerificationError, SnsVerifier, is_trusted_subscribe_url

logger = logging.getLogger(__name__)


class WebhookRejected(Exception):
    """The post is refused; `status` is the HTTP status to answer."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


_verifiers: dict[tuple[str, str], SnsVerifier] = {}


def verifier_for(account: RequesterAccount) -> SnsVerifier:
    """One verifier per trust setting, so fetched certificates stay cached between posts."""
    pem = (
        account.sns_trusted_certificate.strip()
        if account.environment == Environment.EMULATOR
        else ""
    )
    key = ("pinned", hashlib.sha256(pem.encode()).hexdigest()) if pem else ("aws", "")
    if key not in _verifiers:
        _verifiers[key] = SnsVerifier(trusted_certificate_pem=pem or None)
    return _verifiers[key]


def note_webhook_rejection(account: RequesterAccount | None, reason: str) -> None:
    if account is None:
        return
    SyncState.objects.get_or_create(account=account)
    SyncState.objects.filter(account=account).update(
        webhook_rejections=F("webhook_rejections") + 1,
        last_webhook_rejection=reason[:300],
        last_webhook_rejection_at=timezone.now(),
    )


def handle_sns_post(
    *, account: RequesterAccount, body: bytes, message_type_header: str | None
) -> tuple[str, NotificationEvent | None]:
    """Verify and record one SNS post. Returns (what happened, the event row if a new one needs
    applying). Raises WebhookRejected for anything that must be refused; nothing is applied then."""
    if account.environment == Environment.EMULATOR and not account.sns_trusted_certificate.strip():
        raise WebhookRejected(
            403, "no trusted SNS certificate is configured for this emulator account"
        )
    try:
        message = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise WebhookRejected(400, "body is not JSON") from None
    if not isinstance(message, dict):
        raise WebhookRejected(400, "body is not a JSON object")
    if message_type_header and message_type_header != message.get("Type"):
        raise WebhookRejected(400, "x-amz-sns-message-type does not match the message Type")
    try:
        verifier_for(account).verify(message)
    except SnsVerificationError as exc:
        raise WebhookRejected(403, f"signature check failed: {exc.reason}") from None
    if not account.sns_topic_arn or message.get("TopicArn") != account.sns_topic_arn:
        raise WebhookRejected(403, f"topic {message.get('TopicArn')!r} is not this account's")
    kind = message["Type"]
    if kind == "SubscriptionConfirmation":
        return "confirmation", None
    if kind == "UnsubscribeConfirmation":
        logger.warning("SNS unsubscribed %s from %s", account.slug, message.get("TopicArn"))
        return "unsubscribed", None
    try:
        event, created = record_event_document(
            account=account, raw=message.get("Message") or "", source=EventSource.SNS
        )
    except EventDocumentError as exc:
        record_invalid_message(
            account=account,
            raw=str(message.get("Message")),
            source=EventSource.SNS,
            error=str(exc),
            message_id=str(message.get("MessageId")),
        )
        raise WebhookRejected(400, f"the message is not an MTurk event document: {exc}") from None
    return ("recorded" if created else "duplicate"), (event if event.applied_at is None else None)


def confirm_subscription(*, account: RequesterAccount, subscribe_url: str) -> bool:
    """GET the SubscribeURL, only on a trusted host (SNS's own, or the emulator account's endpoint)."""
    trusted_base = (
        account.effective_endpoint_url if account.environment == Environment.EMULATOR else None
    )
    if not is_trusted_subscribe_url(subscribe_url, trusted_base_url=trusted_base):
        logger.warning(
            "refused to confirm SNS subscription of %s at untrusted URL %s",
            account.slug,
            subscribe_url,
        )
        return False
    request = urllib.request.Request(subscribe_url, headers={"User-Agent": "mturk-dashboard"})
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - host checked above
        ok = 200 <= response.status < 300
    logger.info("SNS subscription of %s confirmed: %s", account.slug, ok)
    return ok
