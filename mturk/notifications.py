"""The event types MTurk's UpdateNotificationSettings takes, as the dashboard offers them (pure
lists: the notifications page and the publish form choose from the same ones)."""

from __future__ import annotations

from typing import Literal

__all__ = ["ALL_EVENT_TYPES", "DEFAULT_EVENT_TYPES", "TRANSPORTS", "Transport"]

# What the dashboard needs to keep its mirror current within seconds: the assignment's life and
# the HIT's end. Checked by default wherever events are chosen.
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

Transport = Literal["SQS", "SNS"]
# The transports the dashboard reads events from (MTurk's third, Email, reaches no program).
TRANSPORTS: tuple[Transport, ...] = ("SQS", "SNS")
