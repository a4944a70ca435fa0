from __future__ import annotations

from django.db import models

from dashboard.enums import IntentState


class LabPurpose(models.TextChoices):
    """Why the lab made a qualification type, when the dashboard made it for its own use."""

    NONE = "", "Made by hand"
    SOFT_BLOCK = "soft_block", "The lab's exclusion list (soft blocks)"
    STUDY_GROUP = "study_group", "A study group's exclusion"


class GrantAction(models.TextChoices):
    # AssociateQualificationWithWorker: gives the type, or changes the value a worker holds.
    GRANT = "grant", "Grant"
    # DisassociateQualificationFromWorker.
    REVOKE = "revoke", "Revoke"


# Grants are intents (dashboard.intents): their states are the shared ones.
GrantState = IntentState


class RequestAction(models.TextChoices):
    # AcceptQualificationRequest: the worker gets the type (with a value).
    ACCEPT = "accept", "Accept"
    # RejectQualificationRequest: with a reason MTurk shows the worker.
    REJECT = "reject", "Reject"
