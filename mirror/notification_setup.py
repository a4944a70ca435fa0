"""Wiring an account's notifications: the emulator's SNS subscription, a test event, and the access policies AWS needs (which we can only
print: creating queues and topics at AWS is the lab's own IAM business). A HIT type's own settings
(UpdateNotificationSettings) are hits.notifications', which publishing uses too."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from dashboard.enums import AuditOutcome, Environment
from dashboard.models import RequesterAccount
from dashboard.services import audited_mturk_call, record_audit_event
from hits.notifications import destination_for, transport_named
from mturk.fetch import fetch, url_problem
from mturk.gateway import MTurkGateway
from mturk.sns import canonical_certificate_pem

# The service principal MTurk sends notifications as.
MTURK_PRINCIPAL = "mturk-requester.amazonaws.com"


def send_test_event(
    *, account: RequesterAccount, gateway: MTurkGateway, transport: str, event_type: str, actor: Any
) -> None:
    destination = destination_for(account, transport)
    parameters = {"transport": transport, "destination": destination, "event_type": event_type}
    with audited_mturk_call(
        action="notifications.test", account=account, actor=actor, parameters=parameters
    ):
        gateway.send_test_event_notification(
            destination=destination,
            transport=transport_named(transport),
            test_event_type=event_type,
        )


# The emulator's answers are small; anything bigger or slower is not the emulator.
EMULATOR_MAX_BYTES = 64 * 1024
EMULATOR_TIMEOUT = 10.0


def _emulator_url(account: RequesterAccount, path: str) -> str:
    """``<endpoint>/_emulator/<path>``, only for an endpoint that stays a plain base URL once a
    path is appended (a query, fragment or userinfo would let the endpoint choose what we fetch)."""
    base = account.effective_endpoint_url
    problem = url_problem(base, allow_query=False)
    if problem:
        raise ValueError(f"The account's endpoint URL cannot be used: {problem}.")
    return base.rstrip("/") + "/_emulator/" + path


def _emulator_certificate(account: RequesterAccount) -> str:
    """The emulator's SNS signing certificate, re-encoded; ValueError unless the endpoint answered
    exactly one PEM certificate (so no other page of any server can be read through this)."""
    url = _emulator_url(account, "sns/cert.pem")
    response = fetch(url, max_bytes=EMULATOR_MAX_BYTES, timeout=EMULATOR_TIMEOUT)
    try:
        return canonical_certificate_pem(response.body)
    except ValueError as exc:
        raise ValueError(
            f"{url} did not answer with one PEM certificate ({exc}); nothing was stored."
        ) from None


def _emulator_subscribe(account: RequesterAccount, webhook_url: str) -> dict[str, Any]:
    url = _emulator_url(account, "sns/subscriptions")
    response = fetch(
        url,
        method="POST",
        data=json.dumps({"TopicArn": account.sns_topic_arn, "Endpoint": webhook_url}).encode(),
        headers={"Content-Type": "application/json"},
        max_bytes=EMULATOR_MAX_BYTES,
        timeout=EMULATOR_TIMEOUT,
    )
    try:
        subscription = json.loads(response.body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        subscription = None
    if not isinstance(subscription, dict):
        raise ValueError(f"{url} did not answer with a JSON object; is it an emulator?")
    return subscription


def wire_emulator_sns(*, account: RequesterAccount, webhook_url: str, actor: Any) -> dict[str, Any]:
    """For an emulator account: pin the emulator's signing certificate, choose a topic ARN if the
    account has none, and subscribe our webhook to it (the emulator then sends the
    SubscriptionConfirmation that the webhook confirms).

    Raises ValueError (the endpoint or its answer is unusable) or OSError (FetchError: refused,
    unreachable, redirected, too large or too slow); nothing is stored then."""
    if account.environment != Environment.EMULATOR:
        raise ValueError(
            "Only emulator accounts can be wired automatically; for AWS, use the policies shown."
        )
    account.sns_trusted_certificate = _emulator_certificate(account)
    if not account.sns_topic_arn:
        account.sns_topic_arn = f"arn:aws:sns:us-east-1:000000000000:mturk-{account.slug}"
    account.save(update_fields=["sns_trusted_certificate", "sns_topic_arn", "updated_at"])
    subscription = _emulator_subscribe(account, webhook_url)
    record_audit_event(
        action="notifications.wire_emulator_sns",
        outcome=AuditOutcome.SUCCEEDED,
        actor=actor,
        account=account,
        target_ids={"topic": account.sns_topic_arn},
        parameters={"endpoint": webhook_url},
    )
    return subscription


def sqs_queue_policy(queue_url: str) -> str:
    """The access policy an SQS queue needs so MTurk may send to it."""
    parts = urlsplit(queue_url)
    region = (
        (parts.hostname or "sqs.us-east-1.amazonaws.com").split(".")[1]
        if parts.hostname and parts.hostname.startswith("sqs.")
        else "us-east-1"
    )
    path = [p for p in parts.path.split("/") if p]
    account_id, name = (
        (path + ["<account-id>", "<queue-name>"])[:2]
        if len(path) >= 2
        else ("<account-id>", "<queue-name>")
    )
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AllowMTurkToSendNotifications",
                "Effect": "Allow",
                "Principal": {"Service": MTURK_PRINCIPAL},
                "Action": "sqs:SendMessage",
                "Resource": f"arn:aws:sqs:{region}:{account_id}:{name}",
            }
        ],
    }
    return json.dumps(policy, indent=2)


def sns_topic_policy(topic_arn: str) -> str:
    """The access policy an SNS topic needs so MTurk may publish to it."""
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AllowMTurkToPublishNotifications",
                "Effect": "Allow",
                "Principal": {"Service": MTURK_PRINCIPAL},
                "Action": "sns:Publish",
                "Resource": topic_arn or "arn:aws:sns:us-east-1:<account-id>:<topic-name>",
            }
        ],
    }
    return json.dumps(policy, indent=2)
