"""Wiring an account's notifications: MTurk's UpdateNotificationSettings per HIT type, the
emulator's SNS subscription, a test event, and the access policies AWS needs (which we can only
print: creating queues and topics at AWS is the lab's own IAM business)."""

from __future__ import annotations

import json
import urllib.request
from typing import Any, Literal
from urllib.parse import urlsplit

from dashboard.enums import AuditOutcome, Environment
from dashboard.models import RequesterAccount
from dashboard.services import record_audit_event
from hits.models import HITType
from mturk.errors import MTurkError
from mturk.gateway import MTurkGateway

DEFAULT_EVENT_TYPES = [
    "AssignmentAccepted",
    "AssignmentSubmitted",
    "AssignmentReturned",
    "AssignmentAbandoned",
    "AssignmentApproved",
    "AssignmentRejected",
    "HITReviewable",
    "HITExpired",
]
ALL_EVENT_TYPES = DEFAULT_EVENT_TYPES + ["HITCreated", "HITExtended", "HITDisposed"]
# The service principal MTurk sends notifications as.
MTURK_PRINCIPAL = "mturk-requester.amazonaws.com"


Transport = Literal["SQS", "SNS"]


def transport_named(name: str) -> Transport:
    """The transport a form chose, as the gateway's type (forms offer only these two)."""
    if name == "SQS":
        return "SQS"
    if name == "SNS":
        return "SNS"
    raise ValueError(f"Unknown notification transport {name!r}.")


def destination_for(account: RequesterAccount, transport: str) -> str:
    destination = account.sqs_queue_url if transport == "SQS" else account.sns_topic_arn
    if not destination:
        raise ValueError(
            f"The account has no {'SQS queue URL' if transport == 'SQS' else 'SNS topic ARN'} yet."
        )
    return destination


def configure_hit_type(
    *,
    account: RequesterAccount,
    gateway: MTurkGateway,
    hit_type: HITType,
    transport: str,
    event_types: list[str],
    active: bool,
    actor: Any,
) -> None:
    """UpdateNotificationSettings for one HIT type, remembered on our row, with an audit event."""
    destination = destination_for(account, transport)
    parameters = {
        "transport": transport,
        "destination": destination,
        "event_types": event_types,
        "active": active,
    }
    try:
        gateway.update_notification_settings(
            hit_type_id=hit_type.hit_type_id,
            destination=destination,
            transport=transport_named(transport),
            event_types=event_types,
            active=active,
        )
    except MTurkError as exc:
        record_audit_event(
            action="notifications.configure",
            outcome=AuditOutcome.FAILED,
            actor=actor,
            account=account,
            target_ids={"hit_type": hit_type.hit_type_id},
            parameters=parameters,
            error=str(exc),
            mturk_request_id=exc.request_id or "",
        )
        raise
    hit_type.notification_transport = transport
    hit_type.notification_destination = destination
    hit_type.notification_event_types = event_types
    hit_type.notification_active = active
    hit_type.save(
        update_fields=[
            "notification_transport",
            "notification_destination",
            "notification_event_types",
            "notification_active",
            "updated_at",
        ]
    )
    record_audit_event(
        action="notifications.configure",
        outcome=AuditOutcome.SUCCEEDED,
        actor=actor,
        account=account,
        target_ids={"hit_type": hit_type.hit_type_id},
        parameters=parameters,
    )


def send_test_event(
    *, account: RequesterAccount, gateway: MTurkGateway, transport: str, event_type: str, actor: Any
) -> None:
    destination = destination_for(account, transport)
    parameters = {"transport": transport, "destination": destination, "event_type": event_type}
    try:
        gateway.send_test_event_notification(
            destination=destination,
            transport=transport_named(transport),
            test_event_type=event_type,
        )
    except MTurkError as exc:
        record_audit_event(
            action="notifications.test",
            outcome=AuditOutcome.FAILED,
            actor=actor,
            account=account,
            parameters=parameters,
            error=str(exc),
        )
        raise
    record_audit_event(
        action="notifications.test",
        outcome=AuditOutcome.SUCCEEDED,
        actor=actor,
        account=account,
        parameters=parameters,
    )


def _emulator_control(account: RequesterAccount, path: str, body: dict | None = None) -> Any:
    url = account.effective_endpoint_url.rstrip("/") + "/_emulator/" + path
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url,
        data=data,
        method="POST" if body is not None else "GET",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - the account's own emulator
        raw = response.read().decode()
        return json.loads(raw) if "json" in response.headers.get("Content-Type", "") else raw


def wire_emulator_sns(*, account: RequesterAccount, webhook_url: str, actor: Any) -> dict[str, Any]:
    """For an emulator account: pin the emulator's signing certificate, choose a topic ARN if the
    account has none, and subscribe our webhook to it (the emulator then sends the
    SubscriptionConfirmation that the webhook confirms)."""
    if account.environment != Environment.EMULATOR:
        raise ValueError(
            "Only emulator accounts can be wired automatically; for AWS, use the policies shown."
        )
    account.sns_trusted_certificate = _emulator_control(account, "sns/cert.pem")
    if not account.sns_topic_arn:
        account.sns_topic_arn = f"arn:aws:sns:us-east-1:000000000000:mturk-{account.slug}"
    account.save(update_fields=["sns_trusted_certificate", "sns_topic_arn", "updated_at"])
    subscription = _emulator_control(
        account, "sns/subscriptions", {"TopicArn": account.sns_topic_arn, "Endpoint": webhook_url}
    )
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
