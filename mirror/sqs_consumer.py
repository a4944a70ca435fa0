"""The SQS door: receive MTurk event documents from an account's queue, record each once, and
delete the messages only after their rows are committed. Applying them (re-reading the HITs they
name at MTurk, at the account's rate) is a separate step, mirror.events.apply_pending_events, run
by its own task: the queue drains at the database's pace, not MTurk's, and an event that cannot be
applied yet waits in the database rather than in the queue."""

from __future__ import annotations

import logging
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass

from dashboard.enums import EventSource
from dashboard.models import RequesterAccount
from mirror.events import pending_events, record_event_batch, record_invalid_message
from mturk.sqs import SqsMessage, SqsQueue

logger = logging.getLogger(__name__)


@dataclass
class ConsumeCounts:
    received: int = 0
    recorded: int = 0
    duplicates: int = 0
    invalid: int = 0
    deleted: int = 0


# Receives kept in flight at once: each waits on SQS (tens of milliseconds a call, more on a busy
# queue) while the consumer records the batch before, so the queue drains several times faster
# than call after call. Boto3 clients may be shared between threads; only this thread touches the
# database.
RECEIVES_IN_FLIGHT = 3


def consume_queue(
    *,
    account: RequesterAccount,
    queue: SqsQueue,
    max_batches: int = 100,
    wait_seconds: int = 1,
    in_flight: int = RECEIVES_IN_FLIGHT,
) -> ConsumeCounts:
    """Receive, record and then delete messages until the queue is empty or `max_batches`.

    Each received batch is recorded (its rows committed) before its messages are deleted in one
    call; if the process dies in between, SQS delivers them again and they are recognised as
    duplicates. Messages that are not event documents are kept as invalid events and deleted.
    Up to `in_flight` receives wait on SQS at once; a receive that comes back empty is not
    repeated, so the consumer stops once every one of them found the queue empty."""
    counts = ConsumeCounts()
    with ThreadPoolExecutor(max_workers=max(1, in_flight), thread_name_prefix="sqs") as pool:

        def receive() -> Future[list[SqsMessage]]:
            return pool.submit(queue.receive, max_messages=10, wait_seconds=wait_seconds)

        receiving = deque(receive() for _ in range(min(max(1, in_flight), max_batches)))
        started = len(receiving)
        deleting: list[tuple[int, Future[list[SqsMessage]]]] = []
        while receiving:
            messages = receiving.popleft().result()
            if not messages:
                continue
            _record(account, messages, counts)
            deleting.append((len(messages), pool.submit(queue.delete_batch, messages)))
            if started < max_batches:
                receiving.append(receive())
                started += 1
        for sent, future in deleting:
            failed = future.result()
            if failed:
                logger.warning(
                    "SQS could not delete %d messages of %s; they will come back as duplicates",
                    len(failed),
                    account.slug,
                )
            counts.deleted += sent - len(failed)
    return counts


def _record(account: RequesterAccount, messages: list[SqsMessage], counts: ConsumeCounts) -> None:
    """Record one received batch (committed when this returns)."""
    counts.received += len(messages)
    batch = record_event_batch(
        account=account, raws=[message.body for message in messages], source=EventSource.SQS
    )
    counts.recorded += batch.recorded
    counts.duplicates += batch.duplicates
    for index, error in batch.invalid:
        message = messages[index]
        record_invalid_message(
            account=account,
            raw=message.body,
            source=EventSource.SQS,
            error=error,
            message_id=message.message_id,
        )
        logger.warning(
            "SQS message %s of %s is not an event document: %s",
            message.message_id,
            account.slug,
            error,
        )
    counts.invalid += len(batch.invalid)


def sqs_queue_for(account: RequesterAccount) -> SqsQueue:
    return SqsQueue(
        queue_url=account.sqs_queue_url,
        access_key_id=account.aws_access_key_id,
        secret_access_key=account.get_secret_access_key(),
    )


def consume_account(
    *, account: RequesterAccount, max_batches: int = 50, wait_seconds: int = 1
) -> dict[str, int]:
    """Drain the account's queue (if it has one) and say how many recorded events (from either
    door) wait to be applied. What the beat task and `consume_notifications` both run."""
    result: dict[str, int] = {}
    if account.sqs_queue_url:
        counts = consume_queue(
            account=account,
            queue=sqs_queue_for(account),
            max_batches=max_batches,
            wait_seconds=wait_seconds,
        )
        result = asdict(counts)
    result["pending"] = pending_events(account).count()
    return result
