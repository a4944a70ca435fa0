"""MTurk event documents and their asynchronous delivery (SQS, SNS over HTTP, Email).

:class:`Notifier` builds the event document MTurk sends (``EventDocVersion``, ``EventDocId``,
``CustomerId``, ``Events``; see the API Reference "Notification Handling Using Amazon SQS"), queues
it and delivers it from background threads, so the API call that caused the event never waits on a
subscriber:

- SQS: ``SendMessage`` with the document as the body, through boto3 against the queue URL's own
  endpoint (moto's server in tests and demos).
- SNS: the emulator plays Amazon SNS itself (moto's SNS-to-HTTP delivery is synchronous, unsigned
  when a Subject is present and never sends SubscriptionConfirmation). Every CONFIRMED HTTP(S)
  subscription of the topic receives a signed ``Notification`` envelope whose ``Message`` is the
  event document as a string, POSTed with the ``x-amz-sns-*`` headers; new subscriptions first
  receive a signed ``SubscriptionConfirmation`` whose SubscribeURL points at the emulator.
- Email: recorded (see :meth:`Notifier.emails`), never sent.

Delivery is at-least-once: failures (connection errors, non-2xx answers) are retried after
``retry_delays``; the fault knobs ``faults.drop_rate``, ``faults.duplicate_rate`` and
``faults.reorder`` (read at every publish, so they can change at run time) drop a delivery, send it
twice, or hold it back a little so that a later document overtakes it.

Messages are signed as Amazon SNS signs them by :mod:`emulator.sns_signing` (the key and its
self-signed certificate, which the core publishes at ``cert_url``).
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import json
import logging
import random
import secrets
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from emulator.sns_signing import (
    Signer,
    check_signature_version,
)

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient  # stub-only package (dev extras)

log = logging.getLogger(__name__)

USER_AGENT = "Amazon Simple Notification Service Agent"
CONTENT_TYPE = "text/plain; charset=UTF-8"
TRANSPORTS = ("SQS", "SNS", "Email")


def _iso_millis(moment: dt.datetime) -> str:
    return (
        moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{moment.microsecond // 1000:03d}Z"
    )


def _event_timestamp(value: Any) -> str:
    """MTurk's EventTimestamp: UTC, whole seconds, e.g. ``2005-01-31T23:59:59Z``."""
    if value is None:
        value = dt.datetime.now(dt.UTC)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = dt.datetime.fromtimestamp(value, dt.UTC)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


def build_event_document(
    *,
    event_doc_version: str,
    customer_id: str,
    events: Iterable[Mapping[str, Any]],
    event_doc_id: str | None = None,
    source_account: str | None = None,
) -> dict[str, Any]:
    """The MTurk event document as a dict (``json.dumps`` it for the wire).

    Each event keeps EventType, EventTimestamp (datetime / epoch seconds / string; now when
    missing), HITId, AssignmentId (only when given and not None), HITTypeId, in that order as in
    real payloads; other keys are passed through. ``EventDocId`` is 40 hex characters like MTurk's.
    """
    normalised: list[dict[str, Any]] = []
    for event in events:
        if not event.get("EventType"):
            raise ValueError("Every event needs an EventType.")
        item: dict[str, Any] = {
            "EventType": str(event["EventType"]),
            "EventTimestamp": _event_timestamp(event.get("EventTimestamp")),
        }
        for key in ("HITId", "AssignmentId", "HITTypeId"):
            if event.get(key) is not None:
                item[key] = event[key]
        for key, value in event.items():
            if key not in item and key != "EventTimestamp" and value is not None:
                item[key] = value
        normalised.append(item)
    document: dict[str, Any] = {
        "Events": normalised,
        "EventDocId": event_doc_id or secrets.token_hex(20),
    }
    if source_account:
        document["SourceAccount"] = source_account
    document["CustomerId"] = customer_id
    document["EventDocVersion"] = event_doc_version
    return document


@dataclass(order=True)
class _Job:
    due: float
    seq: int
    kind: str = field(compare=False)  # "sqs" | "http"
    payload: dict[str, Any] = field(compare=False)
    attempt: int = field(default=0, compare=False)
    counts: bool = field(default=True, compare=False)  # notifications count in delivered/failed
    generation: int = field(default=0, compare=False)  # the Notifier.reset era it belongs to


class Notifier:
    """Builds MTurk event documents and delivers them in the background (see module docstring).

    ``faults`` is any object with float attributes ``drop_rate``, ``duplicate_rate`` and
    ``reorder`` (0..1); missing attributes count as 0. ``rng`` drives only the fault decisions
    (tokens, ids and keys come from ``secrets``/``uuid``). Thread-safe.
    """

    def __init__(
        self,
        *,
        rng: random.Random,
        cert_url: str,
        confirm_base_url: str,
        faults: object,
        key_pem: str | None = None,
        cert_pem: str | None = None,
        signature_version: str = "2",
        retry_delays: Iterable[float] = (0.5, 2, 5),
        reorder_delay: tuple[float, float] = (0.05, 0.5),
        http_timeout: float = 5.0,
        workers: int = 4,
        source_account: str | None = None,
        sqs_credentials: tuple[str, str] = ("testing", "testing"),
        log_size: int = 1000,
    ) -> None:
        check_signature_version(signature_version)
        self._rng = rng
        self.cert_url = cert_url
        self.confirm_base_url = confirm_base_url.rstrip("/")
        self.faults = faults
        self.signature_version = str(signature_version)
        self.retry_delays = tuple(float(delay) for delay in retry_delays)
        self.reorder_delay = reorder_delay
        self.http_timeout = http_timeout
        self.source_account = source_account
        self._sqs_credentials = sqs_credentials
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._heap: list[_Job] = []
        self._seq = itertools.count()
        self._in_flight = 0
        self._stopping = False
        self._generation = 0
        self._subscriptions: dict[str, dict[str, Any]] = {}
        self._restore_tokens: dict[str, dict[str, Any]] = {}
        self._emails: list[dict[str, Any]] = []
        self._log: deque[dict[str, Any]] = deque(maxlen=log_size)
        self._sqs_clients: dict[str, SQSClient] = {}
        self._stats = dict.fromkeys(
            (
                "published",
                "delivered",
                "dropped",
                "duplicated",
                "delayed",
                "failed",
                "retries",
                "recorded",
                "confirmations_sent",
            ),
            0,
        )
        self._signer = Signer(key_pem, cert_pem)
        self._started_signature_version = self.signature_version
        # One opener without proxies: subscriber URLs are local, and an environment proxy must not
        # intercept or log signed deliveries.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self._threads = [
            threading.Thread(target=self._run, name=f"notifier-{index}", daemon=True)
            for index in range(max(1, workers))
        ]
        for thread in self._threads:
            thread.start()

    # -- keys (held and used by emulator.sns_signing.Signer) ---------------------------------

    def key_pem(self) -> str:
        """The PEM (PKCS#8, unencrypted) of the signing key, for the core to persist."""
        return self._signer.key_pem

    def cert_pem(self) -> str:
        """The PEM of the self-signed certificate the core serves at ``cert_url``."""
        return self._signer.cert_pem

    def sign(self, message: dict[str, Any], signature_version: str | None = None) -> dict[str, Any]:
        """Set SignatureVersion, Signature and SigningCertURL on ``message`` (returned too)."""
        return self._signer.sign(
            message, signature_version or self.signature_version, self.cert_url
        )

    # -- publishing -------------------------------------------------------------------------

    def _fault(self, name: str) -> float:
        try:
            value = float(getattr(self.faults, name, 0.0) or 0.0)
        except (TypeError, ValueError):
            return 0.0
        return min(1.0, max(0.0, value))

    def publish(
        self,
        *,
        transport: str,
        destination: str,
        event_doc_version: str,
        customer_id: str,
        events: list[dict[str, Any]],
    ) -> str:
        """Build an event document, queue its delivery and return its EventDocId.

        ``transport`` is "SQS" (``destination`` a queue URL), "SNS" (a topic ARN; delivered to the
        topic's confirmed HTTP(S) subscriptions) or "Email" (recorded only). Raises ``ValueError``
        for an unknown transport, a malformed destination or an event without EventType. The
        fault knobs are read here, per delivery, so changing them affects the next publish. After
        :meth:`close` nothing is queued (the outcome is logged as "closed").
        """
        transport = _normalise_transport(transport)
        _check_destination(transport, destination)
        document = build_event_document(
            event_doc_version=event_doc_version,
            customer_id=customer_id,
            events=events,
            source_account=self.source_account,
        )
        body = json.dumps(document, separators=(",", ":"), ensure_ascii=False)
        doc_id = document["EventDocId"]
        with self._cond:
            if self._stopping:
                # Shutting down: say so in the log rather than fail the API call that caused it.
                self._record(doc_id, transport, destination, "closed")
                return doc_id
            self._stats["published"] += 1
            if transport == "Email":
                self._stats["recorded"] += 1
                self._emails.append(
                    {"destination": destination, "document": document, "at": time.time()}
                )
                self._record(doc_id, transport, destination, "recorded")
                return doc_id
            if transport == "SQS":
                self._deliver_with_faults(
                    "sqs", {"queue_url": destination, "body": body, "doc_id": doc_id}
                )
            else:
                subscriptions = [
                    sub
                    for sub in self._subscriptions.values()
                    if sub["TopicArn"] == destination and sub["Confirmed"]
                ]
                if not subscriptions:
                    self._record(doc_id, transport, destination, "no-subscribers")
                for sub in subscriptions:
                    self._deliver_with_faults("http", self._notification(sub, body, doc_id))
        return doc_id

    def _deliver_with_faults(self, kind: str, payload: dict[str, Any]) -> None:
        """Apply drop / duplicate / reorder to one delivery (caller holds the lock)."""
        rng = self._rng
        if rng.random() < self._fault("drop_rate"):
            self._stats["dropped"] += 1
            self._record(payload["doc_id"], kind, _destination(payload), "dropped")
            return
        copies = 1
        if rng.random() < self._fault("duplicate_rate"):
            copies = 2
            self._stats["duplicated"] += 1
        now = time.monotonic()
        for _ in range(copies):
            due = now
            if rng.random() < self._fault("reorder"):
                low, high = self.reorder_delay
                due += rng.uniform(low, high)
                self._stats["delayed"] += 1
            self._push(_Job(due, next(self._seq), kind, dict(payload), generation=self._generation))

    def _notification(self, sub: dict[str, Any], body: str, doc_id: str) -> dict[str, Any]:
        now = dt.datetime.now(dt.UTC)
        message = {
            "Type": "Notification",
            "MessageId": str(uuid.uuid4()),
            "TopicArn": sub["TopicArn"],
            # MTurk's SNS messages carry a Subject; the one observed in the wild is the publish time
            # in epoch milliseconds.
            "Subject": str(int(now.timestamp() * 1000)),
            "Message": body,
            "Timestamp": _iso_millis(now),
        }
        self.sign(message, sub["SignatureVersion"])
        message["UnsubscribeURL"] = self._unsubscribe_url(sub["SubscriptionArn"])
        return {
            "url": sub["Endpoint"],
            "message": message,
            "subscription_arn": sub["SubscriptionArn"],
            "doc_id": doc_id,
        }

    def _unsubscribe_url(self, subscription_arn: str) -> str:
        return (
            f"{self.confirm_base_url}/_emulator/sns/unsubscribe?Action=Unsubscribe"
            f"&SubscriptionArn={quote(subscription_arn, safe=':')}"
        )

    def _subscribe_url(self, topic_arn: str, token: str) -> str:
        return (
            f"{self.confirm_base_url}/_emulator/sns/confirm?Action=ConfirmSubscription"
            f"&TopicArn={quote(topic_arn, safe=':')}&Token={token}"
        )

    # -- subscriptions ----------------------------------------------------------------------

    def subscribe(
        self, *, topic_arn: str, endpoint_url: str, signature_version: str | None = None
    ) -> dict[str, Any]:
        """Register an HTTP(S) subscription (pending) and send it a SubscriptionConfirmation.

        Returns ``{"SubscriptionArn", "Token", "PendingConfirmation", "SubscribeURL"}``. Subscribing
        the same endpoint to the same topic again returns the existing subscription (and re-sends
        the confirmation while it is still pending), as SNS does. Raises ``ValueError`` for a
        malformed topic ARN, a non-HTTP(S) endpoint or a bad signature version.
        """
        _check_destination("SNS", topic_arn)
        parts = urlsplit(endpoint_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"Endpoint must be an http(s) URL, not {endpoint_url!r}.")
        version = check_signature_version(signature_version) if signature_version else None
        with self._cond:
            sub = next(
                (
                    item
                    for item in self._subscriptions.values()
                    if item["TopicArn"] == topic_arn and item["Endpoint"] == endpoint_url
                ),
                None,
            )
            if sub is None:
                sub = {
                    "SubscriptionArn": f"{topic_arn}:{uuid.uuid4()}",
                    "TopicArn": topic_arn,
                    "Protocol": parts.scheme,
                    "Endpoint": endpoint_url,
                    "Confirmed": False,
                    "Token": secrets.token_hex(64),
                    "SignatureVersion": version or self.signature_version,
                }
                self._subscriptions[sub["SubscriptionArn"]] = sub
            elif version is not None:
                sub["SignatureVersion"] = version
            if not sub["Confirmed"]:
                self._send_confirmation(sub, "SubscriptionConfirmation", sub["Token"])
            return {
                "SubscriptionArn": sub["SubscriptionArn"],
                "Token": sub["Token"],
                "PendingConfirmation": not sub["Confirmed"],
                "SubscribeURL": self._subscribe_url(topic_arn, sub["Token"]),
            }

    def _send_confirmation(self, sub: dict[str, Any], kind: str, token: str) -> None:
        topic_arn = sub["TopicArn"]
        if kind == "SubscriptionConfirmation":
            text = (
                f"You have chosen to subscribe to the topic {topic_arn}.\n"
                "To confirm the subscription, visit the SubscribeURL included in this message."
            )
        else:
            text = (
                f"You have chosen to deactivate subscription {sub['SubscriptionArn']}.\n"
                "To cancel this operation and restore the subscription, visit the SubscribeURL "
                "included in this message."
            )
        message = {
            "Type": kind,
            "MessageId": str(uuid.uuid4()),
            "Token": token,
            "TopicArn": topic_arn,
            "Message": text,
            "SubscribeURL": self._subscribe_url(topic_arn, token),
            "Timestamp": _iso_millis(dt.datetime.now(dt.UTC)),
        }
        self.sign(message, sub["SignatureVersion"])
        self._stats["confirmations_sent"] += 1
        payload = {
            "url": sub["Endpoint"],
            "message": message,
            "subscription_arn": sub["SubscriptionArn"]
            if kind != "SubscriptionConfirmation"
            else None,
            "doc_id": None,
        }
        self._push(
            _Job(
                time.monotonic(),
                next(self._seq),
                "http",
                payload,
                counts=False,
                generation=self._generation,
            )
        )

    def confirm(self, token: str) -> bool:
        """Confirm the subscription that was sent ``token`` (the subscriber GOT its SubscribeURL).

        Idempotent; a token from an UnsubscribeConfirmation restores that subscription. Returns
        False for an unknown token.
        """
        with self._cond:
            for sub in self._subscriptions.values():
                if sub["Token"] == token and token:
                    sub["Confirmed"] = True
                    return True
            restored = self._restore_tokens.pop(token, None) if token else None
            if restored is not None:
                restored["Confirmed"] = True
                self._subscriptions[restored["SubscriptionArn"]] = restored
                return True
            return False

    def subscriptions(self, topic_arn: str | None = None) -> list[dict[str, Any]]:
        """Copies of the subscriptions (optionally of one topic), oldest first."""
        with self._cond:
            return [
                dict(sub)
                for sub in self._subscriptions.values()
                if topic_arn is None or sub["TopicArn"] == topic_arn
            ]

    def unsubscribe(self, subscription_arn: str) -> bool:
        """Remove a subscription and send it a signed UnsubscribeConfirmation (whose SubscribeURL
        restores it). Returns False when there is no such subscription."""
        with self._cond:
            sub = self._subscriptions.pop(subscription_arn, None)
            if sub is None:
                return False
            if sub["Confirmed"]:
                token = secrets.token_hex(64)
                self._restore_tokens[token] = dict(sub)
                self._send_confirmation(sub, "UnsubscribeConfirmation", token)
            return True

    # -- delivery ---------------------------------------------------------------------------

    def _push(self, job: _Job) -> None:
        with self._cond:
            heapq.heappush(self._heap, job)
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while True:
                    if self._stopping:
                        return
                    if self._heap and self._heap[0].due <= time.monotonic():
                        job = heapq.heappop(self._heap)
                        self._in_flight += 1
                        break
                    timeout = self._heap[0].due - time.monotonic() if self._heap else None
                    self._cond.wait(timeout)
            try:
                error = self._attempt(job)
            except Exception as exc:  # a delivery bug must not kill the worker thread
                log.exception("notification delivery crashed")
                error = f"{type(exc).__name__}: {exc}"
            with self._cond:
                self._in_flight -= 1
                self._finish(job, error)
                self._cond.notify_all()

    def _finish(self, job: _Job, error: str | None) -> None:
        """Count the outcome of one attempt and schedule a retry (caller holds the lock)."""
        if job.generation != self._generation:
            return  # sent before a reset: a fresh emulator neither counts nor retries it
        destination = _destination(job.payload)
        if error is None:
            if job.counts:
                self._stats["delivered"] += 1
            self._record(job.payload["doc_id"], job.kind, destination, "delivered", job.attempt + 1)
            return
        if job.attempt < len(self.retry_delays) and not self._stopping:
            self._stats["retries"] += 1
            delay = self.retry_delays[job.attempt]
            job.attempt += 1
            job.due = time.monotonic() + delay
            job.seq = next(self._seq)
            heapq.heappush(self._heap, job)
            return
        if job.counts:
            self._stats["failed"] += 1
        self._record(job.payload["doc_id"], job.kind, destination, "failed", job.attempt + 1, error)
        log.warning(
            "notification to %s failed after %d attempts: %s", destination, job.attempt + 1, error
        )

    def _attempt(self, job: _Job) -> str | None:
        """One delivery attempt; None on success, else the reason."""
        if job.kind == "sqs":
            return self._send_sqs(job.payload["queue_url"], job.payload["body"])
        return self._post(job.payload)

    def _sqs_client(self, queue_url: str) -> SQSClient:
        parts = urlsplit(queue_url)
        endpoint = f"{parts.scheme}://{parts.netloc}"
        with self._lock:
            client = self._sqs_clients.get(endpoint)
            if client is None:
                import boto3  # why: only needed once SQS is used; keeps import of this module light
                from botocore.config import Config

                # Our own retry loop owns retries; botocore's would multiply them.
                config = Config(
                    retries={"max_attempts": 1, "mode": "standard"},
                    connect_timeout=self.http_timeout,
                    read_timeout=self.http_timeout,
                )
                client = boto3.session.Session().client(
                    "sqs",
                    endpoint_url=endpoint,
                    region_name=_sqs_region(parts.hostname or ""),
                    aws_access_key_id=self._sqs_credentials[0],
                    aws_secret_access_key=self._sqs_credentials[1],
                    config=config,
                )
                self._sqs_clients[endpoint] = client
            return client

    def _send_sqs(self, queue_url: str, body: str) -> str | None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._sqs_client(queue_url).send_message(QueueUrl=queue_url, MessageBody=body)
        except (BotoCoreError, ClientError) as exc:
            return f"{type(exc).__name__}: {exc}"
        return None

    def _post(self, payload: dict[str, Any]) -> str | None:
        message = payload["message"]
        headers = {
            "Content-Type": CONTENT_TYPE,
            "User-Agent": USER_AGENT,
            "x-amz-sns-message-type": message["Type"],
            "x-amz-sns-message-id": message["MessageId"],
            "x-amz-sns-topic-arn": message["TopicArn"],
        }
        if payload.get("subscription_arn"):
            headers["x-amz-sns-subscription-arn"] = payload["subscription_arn"]
        data = json.dumps(message, ensure_ascii=False, indent=2).encode("utf-8")
        request = urllib.request.Request(payload["url"], data=data, headers=headers, method="POST")
        try:
            with self._opener.open(request, timeout=self.http_timeout) as response:
                response.read()
                status = response.status
        except urllib.error.HTTPError as exc:
            exc.close()
            return f"HTTP {exc.code}"
        except (OSError, ValueError) as exc:
            return f"{type(exc).__name__}: {exc}"
        return None if 200 <= status < 300 else f"HTTP {status}"

    def _record(
        self,
        doc_id: str | None,
        kind: str,
        destination: str,
        status: str,
        attempts: int = 0,
        error: str | None = None,
    ) -> None:
        self._log.append(
            {
                "EventDocId": doc_id,
                "transport": {"sqs": "SQS", "http": "SNS"}.get(kind, kind),
                "destination": destination,
                "status": status,
                "attempts": attempts,
                "error": error,
                "at": time.time(),
            }
        )

    # -- inspection and lifecycle -----------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        """Counters: published, delivered, dropped, duplicated, delayed, failed, retries, recorded
        (Email), confirmations_sent, and pending (queued, waiting for a retry, or in flight)."""
        with self._cond:
            result = dict(self._stats)
            result["pending"] = len(self._heap) + self._in_flight
            return result

    def deliveries(self, limit: int = 100) -> list[dict[str, Any]]:
        """The most recent delivery outcomes, newest last (delivered, failed, dropped, ...)."""
        with self._cond:
            return list(self._log)[-limit:]

    def emails(self) -> list[dict[str, Any]]:
        """Documents published with the Email transport (recorded, never sent)."""
        with self._cond:
            return [dict(item) for item in self._emails]

    def drain(self, timeout: float) -> bool:
        """Wait until nothing is pending; True if that happened within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._heap or self._in_flight:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, 0.05))
            return True

    def close(self, timeout: float = 5.0) -> None:
        """Stop the delivery threads; undelivered jobs are abandoned. Idempotent."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(timeout)
        with self._lock:
            for client in self._sqs_clients.values():
                try:
                    client.close()
                except Exception:  # closing is best effort
                    pass
            self._sqs_clients.clear()

    def reset(self, *, rng_seed: int) -> None:
        """Forget everything but the signing key and certificate (subscribers pin the certificate,
        and the emulator was started with it): subscriptions, pending and queued deliveries (a
        delivery already in flight finishes), the delivery log, recorded emails and the counters.
        The signature version goes back to the one it was started with."""
        with self._cond:
            self._generation += 1
            self._rng.seed(rng_seed)
            self._heap.clear()
            self._subscriptions.clear()
            self._restore_tokens.clear()
            self._emails.clear()
            self._log.clear()
            self._stats = dict.fromkeys(self._stats, 0)
            self.signature_version = self._started_signature_version
            self._cond.notify_all()

    def snapshot(self) -> dict[str, Any]:
        """JSON-able state worth keeping across restarts: key, certificate, subscriptions."""
        with self._cond:
            return {
                "version": 1,
                "key_pem": self._signer.key_pem,
                "cert_pem": self._signer.cert_pem,
                "signature_version": self.signature_version,
                "subscriptions": [dict(sub) for sub in self._subscriptions.values()],
            }

    def restore(self, data: Mapping[str, Any]) -> None:
        """Load a :meth:`snapshot` (replaces key, certificate and subscriptions)."""
        with self._cond:
            if data.get("key_pem") and data.get("cert_pem"):
                self._signer = Signer(data["key_pem"], data["cert_pem"])
            if data.get("signature_version"):
                self.signature_version = str(data["signature_version"])
            self._subscriptions = {
                sub["SubscriptionArn"]: dict(sub) for sub in data.get("subscriptions", [])
            }


def _normalise_transport(transport: str) -> str:
    for known in TRANSPORTS:
        if str(transport).lower() == known.lower():
            return known
    raise ValueError(f"Unknown notification transport {transport!r}; expected SQS, SNS or Email.")


def _check_destination(transport: str, destination: str) -> None:
    if not isinstance(destination, str) or not destination:
        raise ValueError("A notification destination is required.")
    if transport == "SQS":
        parts = urlsplit(destination)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path in ("", "/"):
            raise ValueError(f"SQS destination must be a queue URL, not {destination!r}.")
    elif transport == "SNS":
        pieces = destination.split(":")
        if len(pieces) < 6 or pieces[0] != "arn" or pieces[2] != "sns" or not pieces[5]:
            raise ValueError(f"SNS destination must be a topic ARN, not {destination!r}.")


def _sqs_region(host: str) -> str:
    # Real queue URLs name their region (sqs.eu-west-1.amazonaws.com); moto's do not.
    pieces = host.split(".")
    if len(pieces) >= 3 and pieces[0] == "sqs" and pieces[1] != "amazonaws":
        return pieces[1]
    return "us-east-1"


def _destination(payload: Mapping[str, Any]) -> str:
    return str(payload.get("queue_url") or payload.get("url") or "")


__all__ = [
    "Notifier",
    "build_event_document",
]
