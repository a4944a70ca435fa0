"""A small SQS queue client for MTurk notifications (the only other AWS service the app reads)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import urlsplit

from mturk.errors import map_error

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient  # stub-only package (dev extras)

R = TypeVar("R")

_AWS_SQS_HOST = re.compile(r"^sqs\.([a-z0-9-]+)\.amazonaws\.com$")


@dataclass(frozen=True)
class SqsMessage:
    message_id: str
    receipt_handle: str = field(repr=False)
    body: str = field(repr=False)


def endpoint_and_region(queue_url: str) -> tuple[str, str]:
    """AWS queue URLs name their region in the host; any other host (moto, the emulator's SQS) is
    used as the endpoint itself, in us-east-1."""
    parts = urlsplit(queue_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an SQS queue URL: {queue_url!r}")
    match = _AWS_SQS_HOST.match(parts.hostname)
    if match:
        return f"https://{parts.hostname}", match.group(1)
    return f"{parts.scheme}://{parts.netloc}", "us-east-1"


class SqsQueue:
    """Receive and delete messages of one queue with the account's credentials."""

    def __init__(
        self,
        *,
        queue_url: str,
        access_key_id: str,
        secret_access_key: str,
        read_timeout: float = 30.0,
    ) -> None:
        import boto3
        from botocore.config import Config

        endpoint, region = endpoint_and_region(queue_url)
        self.queue_url = queue_url
        self._client: SQSClient = boto3.session.Session().client(
            "sqs",
            region_name=region,
            endpoint_url=endpoint,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            config=Config(
                retries={"mode": "standard", "total_max_attempts": 3}, read_timeout=read_timeout
            ),
        )

    def receive(self, *, max_messages: int = 10, wait_seconds: int = 10) -> list[SqsMessage]:
        """Long-poll for up to `max_messages` (1-10)."""
        response = self._request(
            "receive_message",
            lambda: self._client.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=max(1, min(10, max_messages)),
                WaitTimeSeconds=max(0, min(20, wait_seconds)),
            ),
        )
        return [
            SqsMessage(
                message_id=m["MessageId"], receipt_handle=m["ReceiptHandle"], body=m.get("Body", "")
            )
            for m in response.get("Messages", [])
        ]

    def delete(self, message: SqsMessage) -> None:
        self._request(
            "delete_message",
            lambda: self._client.delete_message(
                QueueUrl=self.queue_url, ReceiptHandle=message.receipt_handle
            ),
        )

    def delete_batch(self, messages: list[SqsMessage]) -> list[SqsMessage]:
        """Delete up to 10 messages in one call; returns those SQS could not delete (they are
        delivered again after their visibility timeout)."""
        if not messages:
            return []
        if len(messages) > 10:
            raise ValueError("SQS deletes at most 10 messages per call")
        response = self._request(
            "delete_message_batch",
            lambda: self._client.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": message.receipt_handle}
                    for index, message in enumerate(messages)
                ],
            ),
        )
        return [messages[int(failed["Id"])] for failed in response.get("Failed", [])]

    def _request(self, method: str, call: Callable[[], R]) -> R:
        """``call`` (the client's ``method``), with botocore's errors mapped to MTurkError."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return call()
        except (ClientError, BotoCoreError) as exc:
            raise map_error(exc, operation=f"SQS.{method}") from exc
