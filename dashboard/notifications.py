"""MTurk event notifications: recording event documents (deduplicated on EventDocId), applying
them by re-reading the HITs they name, consuming an SQS queue, and handling SNS webhook posts.

Events say *what* changed, not the new state, so applying one means asking MTurk again (GetHIT and
ListAssignmentsForHIT). That makes duplicates and out-of-order delivery harmless: every application
writes MTurk's current truth.
"""

from __future__ import annotations

import hashlib
import json
import logging
import urllib.request
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from dashboard.enums import Environment, EventSource
from dashboard.models import NotificationEvent, RequesterAccount, SyncState
from mturk.errors import MTurkError
from mturk.sns import SnsVerificationError, SnsVerifier, is_trusted_subscribe_url

logger = logging.getLogger(__name__)

MAX_DOCUMENT_BYTES = 256 * 1024
KNOWN_EVENT_TYPES = {
    "AssignmentAccepted",
    "AssignmentAbandoned",
    "AssignmentReturned",
    "AssignmentSubmitted",
    "AssignmentRejected",
    "AssignmentApproved",
    "HITCreated",
    "HITExpired",
    "HITReviewable",
    "HITExtended",
    "HITDisposed",
    "Ping",
}


class EventDocumentError(ValueError):
    """The message is not an MTurk event document."""


@dataclass(frozen=True)
class EventDocument:
    event_doc_id: str
    events: list[dict[str, Any]]

    @property
    def hit_ids(self) -> list[str]:
        seen: dict[str, None] = {}
        for event in self.events:
            if event.get("HITId"):
                seen[event["HITId"]] = None
        return list(seen)

    @property
    def event_types(self) -> list[str]:
        return [event["EventType"] for event in self.events]


def parse_event_document(raw: str) -> EventDocument:
    """Check the shape MTurk documents (EventDocId, Events with EventType and ids); raise
    EventDocumentError with a clear message otherwise."""
    if len(raw.encode("utf-8", "replace")) > MAX_DOCUMENT_BYTES:
        raise EventDocumentError(f"event document larger than {MAX_DOCUMENT_BYTES} bytes")
    try:
        document = json.loads(raw)
    except (json.JSONDecodeError, TypeError) as exc:
        raise EventDocumentError(f"not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise EventDocumentError("not a JSON object")
    doc_id = document.get("EventDocId")
    if not isinstance(doc_id, str) or not doc_id.strip() or len(doc_id) > 128:
        raise EventDocumentError("EventDocId is missing or not a string of 1-128 characters")
    events = document.get("Events")
    if not isinstance(events, list) or not events:
        raise EventDocumentError("Events is missing or empty")
    for index, event in enumerate(events):
        if not isinstance(event, dict):
            raise EventDocumentError(f"Events[{index}] is not an object")
        if event.get("EventType") not in KNOWN_EVENT_TYPES:
            raise EventDocumentError(
                f"Events[{index}].EventType {event.get('EventType')!r} is not an MTurk event type"
            )
        for key in ("HITId", "HITTypeId", "AssignmentId"):
            if key in event and not (isinstance(event[key], str) and 0 < len(event[key]) <= 64):
                raise EventDocumentError(f"Events[{index}].{key} is not an id")
        if event["EventType"] != "Ping" and not event.get("HITId"):
            raise EventDocumentError(f"Events[{index}] ({event['EventType']}) names no HITId")
    return EventDocument(event_doc_id=doc_id, events=events)


def record_event_document(
    *, account: RequesterAccount, raw: str, source: EventSource | str
) -> tuple[NotificationEvent, bool]:
    """Store the document once per EventDocId; returns (row, created). Raises EventDocumentError."""
    document = parse_event_document(raw)
    try:
        with transaction.atomic():
            event = NotificationEvent.objects.create(
                account=account,
                event_doc_id=document.event_doc_id,
                source=EventSource(source),
                document=raw,
                event_types=document.event_types,
            )
        return event, True
    except IntegrityError:
        return NotificationEvent.objects.get(
            account=account, event_doc_id=document.event_doc_id
        ), False


def record_invalid_message(
    *, account: RequesterAccount, raw: str, source: EventSource | str, error: str, message_id: str
) -> NotificationEvent:
    """Keep a message that is not an event document (so nothing is lost) without applying it."""
    doc_id = (
        "invalid-"
        + hashlib.sha256(f"{message_id}|{raw}".encode("utf-8", "replace")).hexdigest()[:40]
    )
    event, _ = NotificationEvent.objects.get_or_create(
        account=account,
        event_doc_id=doc_id,
        defaults={
            "source": EventSource(source),
            "document": raw[:MAX_DOCUMENT_BYTES],
            "error": error[:2000],
        },
    )
    return event


def apply_event(*, event: NotificationEvent, gateway: Any) -> bool:
    """Re-read every HIT the document names and write MTurk's truth. True when applied.

    A retryable MTurk error leaves the event unapplied (with the error) for a later attempt.
    """
    from hits.sync import sync_one_hit

    document = parse_event_document(event.document)
    NotificationEvent.objects.filter(pk=event.pk).update(attempts=F("attempts") + 1)
    try:
        for hit_id in document.hit_ids:
            sync_one_hit(account=event.account, gateway=gateway, hit_id=hit_id)
    except MTurkError as exc:
        NotificationEvent.objects.filter(pk=event.pk).update(error=str(exc)[:2000])
        if exc.retryable:
            return False
        raise
    NotificationEvent.objects.filter(pk=event.pk).update(applied_at=timezone.now(), error="")
    return True


# An event whose HITs could not be re-read this many times is left for the scheduled sync.
MAX_EVENT_ATTEMPTS = 10


def apply_pending_events(*, account: RequesterAccount, gateway: Any, limit: int = 500) -> int:
    """Apply recorded events not applied yet (oldest first): new ones, and those whose earlier
    attempts met a retryable MTurk error. Invalid documents are kept but never applied."""
    applied = 0
    pending = (
        NotificationEvent.objects.filter(
            account=account, applied_at__isnull=True, attempts__lt=MAX_EVENT_ATTEMPTS
        )
        .exclude(event_doc_id__startswith="invalid-")
        .order_by("received_at")[:limit]
    )
    for event in pending:
        if apply_event(event=event, gateway=gateway):
            applied += 1
    return applied


# --- SQS -----------------------------------------------------------------------------------------


@dataclass
class ConsumeCounts:
    received: int = 0
    recorded: int = 0
    duplicates: int = 0
    applied: int = 0
    invalid: int = 0
    deleted: int = 0
    left_for_retry: int = 0


def consume_queue(
    *,
    account: RequesterAccount,
    queue: Any,
    gateway: Any,
    max_batches: int = 100,
    wait_seconds: int = 1,
) -> ConsumeCounts:
    """Receive, record, apply and then delete messages until the queue is empty or `max_batches`.

    A message is deleted only after its event is committed and applied; if applying fails with a
    retryable error, the message stays and SQS delivers it again after its visibility timeout.
    Messages that are not event documents are kept as invalid events and deleted.
    """
    counts = ConsumeCounts()
    for _ in range(max_batches):
        messages = queue.receive(max_messages=10, wait_seconds=wait_seconds)
        if not messages:
            break
        for message in messages:
            counts.received += 1
            try:
                event, created = record_event_document(
                    account=account, raw=message.body, source=EventSource.SQS
                )
            except EventDocumentError as exc:
                record_invalid_message(
                    account=account,
                    raw=message.body,
                    source=EventSource.SQS,
                    error=str(exc),
                    message_id=message.message_id,
                )
                logger.warning(
                    "SQS message %s of %s is not an event document: %s",
                    message.message_id,
                    account.slug,
                    exc,
                )
                counts.invalid += 1
                queue.delete(message)
                counts.deleted += 1
                continue
            counts.recorded += created
            counts.duplicates += not created
            if event.applied_at is None:
                if not apply_event(event=event, gateway=gateway):
                    counts.left_for_retry += 1
                    continue
                counts.applied += 1
            queue.delete(message)
            counts.deleted += 1
    return counts


def sqs_queue_for(account: RequesterAccount) -> Any:
    from mturk.sqs import SqsQueue

    return SqsQueue(
        queue_url=account.sqs_queue_url,
        access_key_id=account.aws_access_key_id,
        secret_access_key=account.get_secret_access_key(),
    )


# --- SNS webhook ---------------------------------------------------------------------------------


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
