"""MTurk's limits on review decisions, in one place for every part of the hits app that checks them.

The model fields, the decision services and forms, and the planning of an uploaded decisions file
all enforce these; they must agree, or a decision one of them accepts fails at another (or at
MTurk). This module sits at the bottom of the app: it imports nothing from it.
"""

from __future__ import annotations

from datetime import timedelta

from mturk.batches import batch_of

__all__ = [
    "FROM_REQUESTER_WEBSITE",
    "HIT_DELETED",
    "MAX_FEEDBACK",
    "OVERRIDE_WINDOW",
    "from_requester_website",
]

# ApproveAssignment: overriding a rejection (OverrideRejection) "works only on rejected assignments
# that were submitted within the previous 30 days and only if the assignment's related HIT has not
# been deleted".
OVERRIDE_WINDOW = timedelta(days=30)
# RequesterFeedback "Can be up to 1024 characters (including multi-byte characters)" (API
# Reference, ApproveAssignment and RejectAssignment); MTurk answers InvalidParameterValue otherwise.
MAX_FEEDBACK = 1024

# No decision at all is possible on the assignments of these HITs; the reasons, as the decision
# services, the decision cell and the upload plan give them:
# - DeleteHIT needs every assignment decided first, and OverrideRejection works "only if the
#   assignment's related HIT has not been deleted": on a deleted HIT nothing is left to decide.
HIT_DELETED = "its HIT has been deleted at MTurk, so its assignments can no longer be decided"
# - ApproveAssignment and RejectAssignment: "if a HIT is created through the Amazon Mechanical Turk
#   Requester website, you must use the Requester website UI to approve or reject the work".
FROM_REQUESTER_WEBSITE = (
    "its HIT was published from the Requester website, and MTurk asks that its assignments be "
    "approved or rejected there"
)


def from_requester_website(annotation: str | None) -> bool:
    """Whether a HIT with this RequesterAnnotation belongs to a batch published from the Requester
    website (`BatchId:<n>`, see mturk/batches.py)."""
    label = batch_of(annotation)
    return label is not None and label.source == "requester-website"
