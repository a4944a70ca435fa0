"""A HIT type's notification settings: UpdateNotificationSettings, remembered on the mirror's
HITType row (MTurk cannot be asked for them) with an audit event. One path for the notifications
page (mirror) and for publishing a batch (publishing), which both sit above this app."""

from __future__ import annotations

from typing import Any

from dashboard.models import RequesterAccount
from dashboard.services import audited_mturk_call
from hits.models import HITType
from mturk.gateway import MTurkGateway
from mturk.notifications import Transport

__all__ = ["configure_hit_type", "destination_for", "transport_named"]


def transport_named(name: str) -> Transport:
    """The transport a form chose, as the gateway's type (forms offer only these two)."""
    if name == "SQS":
        return "SQS"
    if name == "SNS":
        return "SNS"
    raise ValueError(f"Unknown notification transport {name!r}.")


def destination_for(account: RequesterAccount, transport: str) -> str:
    """The account's queue URL or topic ARN: a destination always comes from the account, never
    from a form. ValueError when the account has none."""
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
    actor_name: str = "",
) -> None:
    """UpdateNotificationSettings for one HIT type, remembered on our row, with an audit event."""
    destination = destination_for(account, transport)
    parameters = {
        "transport": transport,
        "destination": destination,
        "event_types": event_types,
        "active": active,
    }
    with audited_mturk_call(
        action="notifications.configure",
        account=account,
        actor=actor,
        actor_name=actor_name,
        target_ids={"hit_type": hit_type.hit_type_id},
        parameters=parameters,
    ):
        gateway.update_notification_settings(
            hit_type_id=hit_type.hit_type_id,
            destination=destination,
            transport=transport_named(transport),
            event_types=event_types,
            active=active,
        )
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
