"""The Requester website's batch results file: its columns and how it writes dates.

MTurk's Requester website downloads a batch's results as a CSV with a fixed header and takes the
same file back, with its Approve and Reject columns filled in, to decide assignments offline
(reference/mturk-protocol.md §6). The export (:mod:`hits.results_export`) writes this format and the
upload (:mod:`hits.upload_plan`) reads it; both take the columns and the date style from here.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.utils import timezone

__all__ = ["BASE_COLUMNS", "DECISION_COLUMNS", "java_date"]

# The Requester website's header, in its order (reference/mturk-protocol.md §6).
BASE_COLUMNS: tuple[str, ...] = (
    "HITId",
    "HITTypeId",
    "Title",
    "Description",
    "Keywords",
    "Reward",
    "CreationTime",
    "MaxAssignments",
    "RequesterAnnotation",
    "AssignmentDurationInSeconds",
    "AutoApprovalDelayInSeconds",
    "Expiration",
    "NumberOfSimilarHITs",
    "LifetimeInSeconds",
    "AssignmentId",
    "WorkerId",
    "AssignmentStatus",
    "AcceptTime",
    "SubmitTime",
    "AutoApprovalTime",
    "ApprovalTime",
    "RejectionTime",
    "RequesterFeedback",
    "WorkTimeInSeconds",
    "LifetimeApprovalRate",
    "Last30DaysApprovalRate",
    "Last7DaysApprovalRate",
)
DECISION_COLUMNS: tuple[str, ...] = ("Approve", "Reject")

# Fixed English names: strftime's %a / %b follow the process locale, Java's toString does not.
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def java_date(value: datetime | None) -> str:
    """``value`` in UTC as Java's ``Date.toString`` writes it (``Fri Jun 08 16:21:50 UTC 2012``);
    ``""`` for None."""
    if value is None:
        return ""
    if timezone.is_naive(value):
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    return (
        f"{_DAYS[value.weekday()]} {_MONTHS[value.month - 1]} {value.day:02d} "
        f"{value:%H:%M:%S} UTC {value.year}"
    )
