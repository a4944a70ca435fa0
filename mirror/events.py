"""MTurk event notifications: recording event documents (deduplicated on EventDocId) and applying
them by re-reading the HITs they name. Both doors (SQS in mirror.sqs_consumer, the SNS webhook in
mirror.sns_receiver) end here.

Events say *what* changed, not the new state, so applying one means asking MTurk again (GetHIT and
ListAssignmentsForHIT). That makes duplicates and out-of-order delivery harmless: every application
writes MTurk's current truth.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import uuid
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
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
    SNS); returns (row, created). Raises EventDocumentError.

    The unique constraints decide what is a duplicate (no look-up first: two deliveries at once
    must not both pass it). Outside a transaction the INSERT commits on its own, one round trip
    fewer than BEGIN/INSERT/COMMIT on the webhook's hot path; inside one, a savepoint keeps a
    duplicate from breaking the caller's transaction."""
    document = parse_event_document(raw)
    fields = {
        "account": account,
        "event_doc_id": document.event_doc_id,
        "sns_message_id": sns_message_id,
        "source": EventSource(source),
        "document": raw,
        "event_types": document.event_types,
    }
    try:
        if transaction.get_connection().in_atomic_block:
            with transaction.atomic():
                return NotificationEvent.objects.create(**fields), True
        return NotificationEvent.objects.create(**fields), True
    except IntegrityError:
        seen = Q(event_doc_id=document.event_doc_id)
        if sns_message_id:
            seen |= Q(sns_message_id=sns_message_id)
        existing = NotificationEvent.objects.filter(seen, account=account).order_by("pk").first()
        if existing is None:  # not a duplicate after all: some other constraint failed
            raise
        return existing, False


@dataclass(frozen=True)
class RecordedBatch:
    recorded: int  # new rows
    duplicates: int  # documents already held (or twice in the batch)
    invalid: list[tuple[int, str]]  # (index in the batch, why it is not an event document)


def record_event_batch(
    *, account: RequesterAccount, raws: list[str], source: EventSource | str
) -> RecordedBatch:
    """Store a batch of documents (one SQS receive) in two queries: the EventDocIds already held,
    then one INSERT that skips any a concurrent consumer stored meanwhile. Documents that do not
    parse are returned, not stored: the caller keeps them with record_invalid_message."""
    parsed: dict[str, tuple[str, EventDocument]] = {}
    invalid: list[tuple[int, str]] = []
    duplicates = 0
    for index, raw in enumerate(raws):
        try:
            document = parse_event_document(raw)
        except EventDocumentError as exc:
            invalid.append((index, str(exc)))
            continue
        if document.event_doc_id in parsed:
            duplicates += 1
        else:
            parsed[document.event_doc_id] = (raw, document)
    held = set(
        NotificationEvent.objects.filter(
            account=account, event_doc_id__in=list(parsed)
        ).values_list("event_doc_id", flat=True)
    )
    new = [
        NotificationEvent(
            account=account,
            event_doc_id=doc_id,
            source=EventSource(source),
            document=raw,
            event_types=document.event_types,
        )
        for doc_id, (raw, document) in parsed.items()
        if doc_id not in held
    ]
    NotificationEvent.objects.bulk_create(new, ignore_conflicts=True)
    return RecordedBatch(recorded=len(new), duplicates=duplicates + len(held), invalid=invalid)


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


# An event whose HITs could not be re-read this many times is left for the scheduled sync.
MAX_EVENT_ATTEMPTS = 10
# How long one applier may hold the events it took. A batch of APPLY_BATCH events names at most
# as many HITs, about three MTurk calls each: ten minutes covers that at 5 calls/s.
CLAIM_SECONDS = 600
APPLY_BATCH = 500


@dataclass
class ApplyCounts:
    events_applied: int = 0
    hits_synced: int = 0
    left_for_retry: int = 0  # events whose HIT MTurk could not give us this time

    def add(self, other: ApplyCounts) -> None:
        self.events_applied += other.events_applied
        self.hits_synced += other.hits_synced
        self.left_for_retry += other.left_for_retry


def pending_events(account: RequesterAccount) -> QuerySet[NotificationEvent]:
    """Recorded events not applied yet and not given up on (invalid documents are never applied)."""
    return NotificationEvent.objects.filter(
        account=account, applied_at__isnull=True, attempts__lt=MAX_EVENT_ATTEMPTS
    ).exclude(event_doc_id__startswith="invalid-")


def _claim(account: RequesterAccount, limit: int) -> list[NotificationEvent]:
    """Take up to `limit` pending events (oldest first) for this applier alone: a conditional
    UPDATE, so appliers running at once (a webhook's task, the beat's, the SQS consumer's) never
    hold the same event."""
    now = timezone.now()
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    candidates = list(
        pending_events(account)
        .filter(free)
        .order_by("received_at", "pk")[:limit]
        .values_list("pk", flat=True)
    )
    if not candidates:
        return []
    token = uuid.uuid4().hex
    pending_events(account).filter(free, pk__in=candidates).update(
        claim_token=token, claimed_until=now + dt.timedelta(seconds=CLAIM_SECONDS)
    )
    return list(
        NotificationEvent.objects.filter(claim_token=token)
        .order_by("received_at", "pk")
        .only("pk", "document", "account_id")
    )


def apply_pending_events(
    *, account: RequesterAccount, gateway: MTurkGateway, limit: int = APPLY_BATCH
) -> ApplyCounts:
    """Apply up to `limit` recorded events not applied yet (oldest first): new ones, and those
    whose earlier attempts met an MTurk error. Each HIT they name is re-read once, however many
    of the events name it (ten events about one HIT cost one GetHIT, not ten): a re-read made
    after an event was recorded holds everything that event reports.

    An MTurk error stops the batch (throttling or an outage would meet every other HIT too): the
    events of the HIT that failed keep the error and count an attempt; those not reached are
    released untouched for the next applier."""
    counts = ApplyCounts()
    events = _claim(account, limit)
    if not events:
        return counts
    applied: list[int] = []
    synced: set[str] = set()
    failure: tuple[list[int], str] | None = None
    try:
        for event in events:
            hit_ids = parse_event_document(event.document).hit_ids
            for hit_id in hit_ids:
                if hit_id not in synced:
                    sync_one_hit(account=account, gateway=gateway, hit_id=hit_id)
                    synced.add(hit_id)
            applied.append(event.pk)
    except MTurkError as exc:
        failure = ([event.pk], str(exc)[:2000])
        logger.warning("applying events of %s stopped: %s", account.slug, exc)
        if not exc.retryable:
            logger.error("event %s of %s met a non-retryable error", event.pk, account.slug)
    finally:
        _finish(events, applied, failure)
    counts.events_applied = len(applied)
    counts.hits_synced = len(synced)
    counts.left_for_retry = len(failure[0]) if failure else 0
    return counts


def _finish(
    events: list[NotificationEvent], applied: list[int], failure: tuple[list[int], str] | None
) -> None:
    """Record the outcome of one claim and release it (also when the applier was interrupted)."""
    release = {"claim_token": "", "claimed_until": None}
    if applied:
        NotificationEvent.objects.filter(pk__in=applied).update(
            applied_at=timezone.now(), error="", attempts=F("attempts") + 1, **release
        )
    if failure:
        failed, error = failure
        NotificationEvent.objects.filter(pk__in=failed).update(
            error=error, attempts=F("attempts") + 1, **release
        )
    done = set(applied) | set(failure[0] if failure else [])
    rest = [event.pk for event in events if event.pk not in done]
    if rest:
        NotificationEvent.objects.filter(pk__in=rest).update(**release)


def apply_account_events(
    *, account: RequesterAccount, gateway: MTurkGateway, max_events: int = 5 * APPLY_BATCH
) -> ApplyCounts:
    """Apply the account's pending events batch after batch until none is left, an MTurk error
    stops a batch, or `max_events` were taken (the rest waits for the next run)."""
    totals = ApplyCounts()
    taken = 0
    while taken < max_events:
        counts = apply_pending_events(
            account=account, gateway=gateway, limit=min(APPLY_BATCH, max_events - taken)
        )
        totals.add(counts)
        batch = counts.events_applied + counts.left_for_retry
        taken += batch
        if batch == 0 or counts.left_for_retry:
            break
    return totals
