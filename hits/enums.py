from __future__ import annotations

from django.db import models

from dashboard.enums import IntentState


class HITStatus(models.TextChoices):
    ASSIGNABLE = "Assignable"
    UNASSIGNABLE = "Unassignable"
    REVIEWABLE = "Reviewable"
    REVIEWING = "Reviewing"
    DISPOSED = "Disposed"

    @classmethod
    def open(cls) -> tuple[str, ...]:
        """Statuses in which assignments can still change without our action."""
        return (cls.ASSIGNABLE, cls.UNASSIGNABLE)

    @classmethod
    def unfinished(cls) -> tuple[str, ...]:
        """Not disposed: MTurk may still change the HIT or its assignments."""
        return (cls.ASSIGNABLE, cls.UNASSIGNABLE, cls.REVIEWABLE, cls.REVIEWING)


class HITReviewStatus(models.TextChoices):
    NOT_REVIEWED = "NotReviewed"
    MARKED_FOR_REVIEW = "MarkedForReview"
    REVIEWED_APPROPRIATE = "ReviewedAppropriate"
    REVIEWED_INAPPROPRIATE = "ReviewedInappropriate"


class AssignmentStatus(models.TextChoices):
    SUBMITTED = "Submitted"
    APPROVED = "Approved"
    REJECTED = "Rejected"


class BatchSource(models.TextChoices):
    """Where a batch's membership comes from (see mturk/batches.py)."""

    REQUESTER_WEBSITE = "requester-website", "Requester website"
    ANNOTATION = "annotation", "Annotation"


class QuestionKind(models.TextChoices):
    HTML = "HTMLQuestion", "HTML question"
    EXTERNAL = "ExternalQuestion", "External question"
    QUESTION_FORM = "QuestionForm", "Question form"
    LAYOUT = "HITLayout", "HIT layout"
    UNKNOWN = "Unknown", "Unknown"


class DecisionAction(models.TextChoices):
    APPROVE = "approve", "Approve"
    REJECT = "reject", "Reject"
    # Approve an assignment we rejected (OverrideRejection), within 30 days of its submission.
    OVERRIDE = "override", "Approve (undo rejection)"


# Decisions are intents (dashboard.intents): their states are the shared ones.
DecisionState = IntentState
