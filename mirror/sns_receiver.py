"""The SNS door: verify one HTTP POST from SNS (signature, certificate, topic), confirm
subscriptions on trusted hosts only, and record the event document it carries (applied later by a
task, so the webhook answers fast)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from dashboard.enums import Environment, EventSource
from dashboard.models import NotificationEvent, RequesterAccount, SyncState
from mirror.events import EventDocumentError, record_event_document, record_invalid_message
from mturk.fetch import FetchError, fetch
from mturk.sns import SnsVerificationError, SnsVerifier, is_trusted_subscribe_url

logger = logging.getLogger(__name__)

# What a refused sender is told when the refusal could depend on the account (no such account,
# no trusted certificate, a bad signature, a foreign topic or SubscribeURL): the same words for
# every slug, so the webhook does not tell strangers which accounts exist. The precise reason is
# kept on the account's sync panel and in the log.
REFUSED = "refused: the message could not be verified for this endpoint"
# The SubscribeURL answer is a small XML document; nothing legitimate is bigger or slower.
SUBSCRIBE_MAX_BYTES = 64 * 1024
SUBSCRIBE_TIMEOUT = 10.0
MAX_MESSAGE_ID_LENGTH = 100


class WebhookRejected(Exception):
    """The post is refused; `status` is the HTTP status to answer, `reason` what is recorded."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason

    @property
    def public_reason(self) -> str:
        """What the sender is told: the reason for malformed posts (they say nothing about any
        account), the same words for every 403."""
        return REFUSED if self.status == 403 else self.reason


@dataclass(frozen=True)
class SnsPostResult:
    outcome: str  # "recorded", "duplicate", "confirmation" or "unsubscribed"
    event: NotificationEvent | None = None  # a new event that needs applying
    subscribe_url: str = ""  # for a confirmation: the (trusted) URL to GET


_verifiers: dict[tuple[str, str, int], SnsVerifier] = {}


def _trusted_pem(account: RequesterAccount) -> str:
    return (
        account.sns_trusted_certificate.strip()
        if account.environment == Environment.EMULATOR
        else ""
    )


def verifier_key(account: RequesterAccount) -> tuple[str, str, int]:
    pem = _trusted_pem(account)
    trust = ("pinned", hashlib.sha256(pem.encode()).hexdigest()) if pem else ("aws", "")
    return (*trust, settings.SNS_MAX_MESSAGE_AGE_SECONDS)


def build_verifier(
    *,
    trusted_certificate_pem: str | None = None,
    fetch_certificate: Callable[[str], bytes] | None = None,
    now: Callable[[], dt.datetime] | None = None,
) -> SnsVerifier:
    """A verifier with the webhook's rules: messages older than SNS_MAX_MESSAGE_AGE_SECONDS are
    refused (SNS gives up retrying within an hour, so an older message is a replay)."""
    return SnsVerifier(
        trusted_certificate_pem=trusted_certificate_pem,
        fetch_certificate=fetch_certificate,
        max_age=dt.timedelta(seconds=settings.SNS_MAX_MESSAGE_AGE_SECONDS),
        now=now,
    )


def verifier_for(account: RequesterAccount) -> SnsVerifier:
    """One verifier per trust setting, so fetched certificates stay cached between posts."""
    key = verifier_key(account)
    if key not in _verifiers:
        _verifiers[key] = build_verifier(trusted_certificate_pem=_trusted_pem(account) or None)
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


def subscribe_url_is_trusted(account: RequesterAccount, subscribe_url: str) -> bool:
    """SNS's own hosts for AWS accounts; the account's endpoint for emulator accounts."""
    trusted_base = (
        account.effective_endpoint_url if account.environment == Environment.EMULATOR else None
    )
    return is_trusted_subscribe_url(subscribe_url, trusted_base_url=trusted_base)


def handle_sns_post(
    *, account: RequesterAccount | None, body: bytes, message_type_header: str | None
) -> SnsPostResult:
    """Verify and record one SNS post for `account` (None: the slug names no active account).
    Raises WebhookRejected for anything that must be refused; nothing is applied then.

    The checks that do not depend on the account come first, so a post answers the same status
    whichever slug it names until its signature has been checked against a real account."""
    try:
        message = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise WebhookRejected(400, "body is not JSON") from None
    if not isinstance(message, dict):
        raise WebhookRejected(400, "body is not a JSON object")
    if message_type_header and message_type_header != message.get("Type"):
        raise WebhookRejected(400, "x-amz-sns-message-type does not match the message Type")
    if account is None:
        raise WebhookRejected(403, "no such active account")
    if account.environment == Environment.EMULATOR and not account.sns_trusted_certificate.strip():
        raise WebhookRejected(
            403, "no trusted SNS certificate is configured for this emulator account"
        )
    try:
        verifier_for(account).verify(message)
    except SnsVerificationError as exc:
        raise WebhookRejected(403, f"signature check failed: {exc.reason}") from None
    if not account.sns_topic_arn or message.get("TopicArn") != account.sns_topic_arn:
        raise WebhookRejected(403, f"topic {message.get('TopicArn')!r} is not this account's")
    kind = message["Type"]
    message_id = message["MessageId"]
    if kind == "SubscriptionConfirmation":
        subscribe_url = message["SubscribeURL"]
        if not subscribe_url_is_trusted(account, subscribe_url):
            # Refused here rather than by the task, so the sender learns at once and the panel
            # counts it: a signed confirmation pointing elsewhere is a misconfigured or hostile
            # emulator.
            raise WebhookRejected(
                403, f"SubscribeURL {subscribe_url[:120]!r} is not on a trusted host"
            )
        return SnsPostResult("confirmation", subscribe_url=subscribe_url)
    if kind == "UnsubscribeConfirmation":
        logger.warning("SNS unsubscribed %s from %s", account.slug, message.get("TopicArn"))
        return SnsPostResult("unsubscribed")
    if len(message_id) > MAX_MESSAGE_ID_LENGTH:
        raise WebhookRejected(400, f"MessageId is longer than {MAX_MESSAGE_ID_LENGTH} characters")
    # SNS retries reuse the MessageId: the unique constraint on it (not a look-up first, which
    # two deliveries at once could both pass) makes a message seen once a duplicate, even when
    # its document would be new.
    try:
        event, created = record_event_document(
            account=account,
            raw=message.get("Message") or "",
            source=EventSource.SNS,
            sns_message_id=message_id,
        )
    except EventDocumentError as exc:
        record_invalid_message(
            account=account,
            raw=str(message.get("Message")),
            source=EventSource.SNS,
            error=str(exc),
            message_id=str(message_id),
        )
        raise WebhookRejected(400, f"the message is not an MTurk event document: {exc}") from None
    return SnsPostResult("recorded", event=event) if created else SnsPostResult("duplicate")


def confirm_subscription(*, account: RequesterAccount, subscribe_url: str) -> bool:
    """GET the SubscribeURL, only on a trusted host (SNS's own, or the emulator account's endpoint),
    without following redirects, bounded in size and time."""
    if not subscribe_url_is_trusted(account, subscribe_url):
        logger.warning(
            "refused to confirm SNS subscription of %s at untrusted URL %s",
            account.slug,
            subscribe_url,
        )
        return False
    try:
        fetch(subscribe_url, max_bytes=SUBSCRIBE_MAX_BYTES, timeout=SUBSCRIBE_TIMEOUT)
    except FetchError as exc:
        logger.warning("SNS subscription of %s not confirmed: %s", account.slug, exc)
        return False
    logger.info("SNS subscription of %s confirmed", account.slug)
    return True
