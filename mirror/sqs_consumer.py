"""The SQS door: receive MTurk event documents from an account's queue, record each once, apply it,
and delete the message only after that is committed (a message whose event could not be applied
stays, and SQS delivers it again after its visibility timeout)."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

from dashboard.enums import EventSource
from dashboard.models import RequesterAccount
from dashboard.mturk_access import account_gateway
from mirror.events import (
    EventDocumentError,
    apply_event,
    apply_pending_events,
    record_event_document,
    record_invalid_message,
)
from mturk.gateway import MTurkGateway
from mturk.sqs import SqsMessage, SqsQueue

logger = logging.getLogger(__name__)


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
    queue: SqsQueue,
    gateway: MTurkGateway,
    max_batches: int = 100,
    wait_seconds: int = 1,
) -> ConsumeCounts:
    """Receive, record, apply and then delete messages until the queue is empty or `max_batches`.

    A message is deleted only after its event is committed and applied (a batch's messages
    together, once the batch is done); if applying fails with a retryable error, the message stays
    and SQS delivers it again after its visibility timeout. Messages that are not event documents are kept as invalid events and deleted.
    """
    counts = ConsumeCounts()
    for _ in range(max_batches):
        messages = queue.receive(max_messages=10, wait_seconds=wait_seconds)
        if not messages:
            break
        done: list[SqsMessage] = []
        try:
            for message in messages:
                if _consume_message(
                    account=account, message=message, gateway=gateway, counts=counts
                ):
                    done.append(message)
        finally:
            # One DeleteMessageBatch per received batch instead of a call per message (the
            # consumer's biggest cost after MTurk's): every message in it is already recorded
            # and applied, so if the process dies before this, SQS delivers them again and they
            # are recognised as duplicates, never applied twice.
            failed = queue.delete_batch(done)
            if failed:
                logger.warning(
                    "SQS could not delete %d messages of %s; they will come back as duplicates",
                    len(failed),
                    account.slug,
                )
            counts.deleted += len(done) - len(failed)
    return counts


def _consume_message(
    *,
    account: RequesterAccount,
    message: SqsMessage,
    gateway: MTurkGateway,
    counts: ConsumeCounts,
) -> bool:
    """Record and apply one message; True when it may be deleted."""
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
        return True
    counts.recorded += created
    counts.duplicates += not created
    if event.applied_at is None:
        if not apply_event(event=event, gateway=gateway):
            counts.left_for_retry += 1
            return False
        counts.applied += 1
    return True


def sqs_queue_for(account: RequesterAccount) -> SqsQueue:
    return SqsQueue(
        queue_url=account.sqs_queue_url,
        access_key_id=account.aws_access_key_id,
        secret_access_key=account.get_secret_access_key(),
    )


def consume_account(
    *,
    account: RequesterAccount,
    max_batches: int = 50,
    wait_seconds: int = 1,
    retry_limit: int = 100,
) -> dict[str, int]:
    """Drain the account's queue (if it has one), then retry recorded events not applied yet (from
    either door). What the beat task and `consume_notifications` both run."""
    with account_gateway(account) as gateway:
        result: dict[str, int] = {}
        if account.sqs_queue_url:
            counts = consume_queue(
                account=account,
                queue=sqs_queue_for(account),
                gateway=gateway,
                max_batches=max_batches,
                wait_seconds=wait_seconds,
            )
            result = asdict(counts)
        result["retried"] = apply_pending_events(
            account=account, gateway=gateway, limit=retry_limit
        )
    return result
