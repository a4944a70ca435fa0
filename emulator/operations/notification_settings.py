"""Notification settings per HIT type, and test events."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from emulator.operations.registry import Context, operation
from emulator.protocol import RequestError, invalid_param, iso

if TYPE_CHECKING:
    from emulator.engine import Emulator

VERSIONS = ("2006-05-05", "2014-08-15")
_SQS_URL = re.compile(r"^https?://[^/\s]+/[0-9A-Za-z_-]+/[0-9A-Za-z_.-]+/?$")
_SNS_ARN = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_.-]+$")


def validate_spec(spec: dict[str, Any], *, allow_ping: bool) -> None:
    transport, destination = spec["Transport"], spec["Destination"]
    if transport == "SQS" and not _SQS_URL.match(destination):
        raise invalid_param(f"Destination {destination!r} is not an SQS queue URL.")
    if transport == "SNS" and not _SNS_ARN.match(destination):
        raise invalid_param(f"Destination {destination!r} is not an SNS topic ARN.")
    if transport == "Email" and "@" not in destination:
        raise invalid_param(f"Destination {destination!r} is not an email address.")
    # Both versions are in use: the botocore docs name 2006-05-05, the API Reference 2014-08-15.
    if spec["Version"] not in VERSIONS:
        raise invalid_param(f"Version must be one of {', '.join(VERSIONS)}.")
    events = spec["EventTypes"]
    if not events:
        raise invalid_param("EventTypes must name at least one event type.")
    if not allow_ping and "Ping" in events:
        raise invalid_param("The Ping event type is only valid for SendTestEventNotification.")


@operation("UpdateNotificationSettings")
def update_notification_settings(
    emu: Emulator, params: dict[str, Any], ctx: Context
) -> dict[str, Any]:
    hit_type = emu.get_hit_type(params["HITTypeId"])
    spec = params.get("Notification")
    active = params.get("Active")
    if spec is None and active is None:
        raise invalid_param("Specify Notification or Active.")
    if spec is not None:
        validate_spec(spec, allow_ping=False)
        hit_type.notification = spec
        hit_type.notification_active = True if active is None else active
    else:
        if active and not hit_type.notification:
            raise RequestError(
                f"HIT type {hit_type.hit_type_id} has no notification specification to activate.",
                "AWS.MechanicalTurk.InvalidParameterValue",
            )
        hit_type.notification_active = bool(active)
    return {}


@operation("SendTestEventNotification")
def send_test_event_notification(
    emu: Emulator, params: dict[str, Any], ctx: Context
) -> dict[str, Any]:
    spec = params["Notification"]
    validate_spec(spec, allow_ping=True)
    event = {
        "EventType": params["TestEventType"],
        "EventTimestamp": iso(emu.now),
        "HITTypeId": "TESTHITTYPE" + "0" * 19,
        "HITId": "TESTHIT" + "0" * 23,
    }
    if params["TestEventType"].startswith("Assignment"):
        event["AssignmentId"] = "TESTASSIGNMENT" + "0" * 16
    emu.queue_event(spec, event)
    return {}
