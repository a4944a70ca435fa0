"""MTurk event notifications: recording event documents (deduplicated on EventDocId) and applying
them by re-reading the HITs they name. Both doors (SQS in mirror.sqs_consumer, the SNS webhook in
mirror.sns_receiver) end here.

Events say *what* changed, not the new state, so applying one means asking MTurk again (GetHIT and
ListAssignmentsForHIT). That makes duplicates and out-of-order delivery harmless: every application
writes MTurk's current truth.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from dashboard.enums import EventSource
from dashboard.models import NotificationEvent, RequesterAccount
from hits.sync import sync_one_hit
from mturk.errors import MTurkError
from mturk.gateway import MTurkGateway

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
    *, account: RequesterAccount, raw: str, source: EventSource | str, sns_message_id: str = ""
) -> tuple[NotificationEvent, bool]:
    """Store the document once per EventDocId (and once per SNS MessageId, when it came through
    SNS); returns (row, created). Raises EventDocumentError."""
    document = parse_event_document(raw)
    try:
        with transaction.atomic():
            event = NotificationEvent.objects.create(
                account=account,
                event_doc_id=document.event_doc_id,
                sns_message_id=sns_message_id,
                source=EventSource(source),
                document=raw,
                event_types=document.event_types,
            )
        return event, True
    except IntegrityError:
        seen = Q(event_doc_id=document.event_doc_id)
        if sns_message_id:
            seen |= Q(sns_message_id=sns_message_id)
        existing = NotificationEvent.objects.filter(seen, account=account).order_by("pk").first()
        if existing is None:  # not a duplicate after all: some other constraint failed
            raise
        return existing, False


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


def apply_event(*, event: NotificationEvent, gateway: MTurkGateway) -> bool:
    """Re-read every HIT the document names and write MTurk's truth. True when applied.

    A retryable MTurk error leaves the event unapplied (with the error) for a later attempt.
    """
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


def apply_pending_events(
    *, account: RequesterAccount, gateway: MTurkGateway, limit: int = 500
) -> int:
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
