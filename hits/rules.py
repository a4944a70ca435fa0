"""MTurk's limits on review decisions, in one place for every part of the hits app that checks them.

The model fields, the decision services and forms, and the planning of an uploaded decisions file
all enforce these; they must agree, or a decision one of them accepts fails at another (or at
MTurk). This module sits at the bottom of the app: it imports nothing from it.
"""

from __future__ import annotations

from datetime import timedelta

__all__ = ["MAX_FEEDBACK", "OVERRIDE_WINDOW"]

# ApproveAssignment: overriding a rejection (OverrideRejection) "works only on rejected assignments
# that were submitted within the previous 30 days and only if the assignment's related HIT has not
# been deleted".
OVERRIDE_WINDOW = timedelta(days=30)
# RequesterFeedback "Can be up to 1024 characters (including multi-byte characters)" (API
# Reference, ApproveAssignment and RejectAssignment); MTurk answers InvalidParameterValue otherwise.
MAX_FEEDBACK = 1024
