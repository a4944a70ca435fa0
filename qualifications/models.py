"""Qualification types, the scores workers hold, and their requests, per requester account."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from dashboard.models import Intent, RequesterAccount
from qualifications.enums import GrantAction, LabPurpose, RequestAction


class QualificationType(models.Model):
    account = models.ForeignKey(
        RequesterAccount, on_delete=models.CASCADE, related_name="qualification_types"
    )
    qualification_type_id = models.CharField(max_length=64)
    name = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    keywords = models.CharField(max_length=1000, blank=True)
    status = models.CharField(max_length=10, default="Active")
    is_requestable = models.BooleanField(default=False)
    auto_granted = models.BooleanField(default=False)
    auto_granted_value = models.IntegerField(null=True, blank=True)
    retry_delay_seconds = models.PositiveIntegerField(null=True, blank=True)
    test = models.TextField(blank=True)
    answer_key = models.TextField(blank=True)
    test_duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    # Ours, not MTurk's (the sync leaves it alone): an answer key the lab keeps in the dashboard
    # instead of sending it. MTurk grants a request at once when the test has a key; without one the
    # request waits, and the queue scores it with this key while the lab decides.
    review_answer_key = models.TextField(blank=True)
    # Ours, not MTurk's (the sync leaves it alone): set when the dashboard made the type for a job
    # of its own, e.g. the lab's soft-block list.
    lab_purpose = models.CharField(
        max_length=20, choices=LabPurpose.choices, blank=True, default=LabPurpose.NONE
    )
    created_at_mturk = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "qualification_type_id"], name="uniq_qualtype_per_account"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Qualification(models.Model):
    """A worker's score (or locale) for one of our qualification types."""

    account = models.ForeignKey(
        RequesterAccount, on_delete=models.CASCADE, related_name="qualifications"
    )
    qualification_type = models.ForeignKey(
        QualificationType, on_delete=models.CASCADE, related_name="scores"
    )
    worker_id = models.CharField(max_length=64)
    integer_value = models.IntegerField(null=True, blank=True)
    locale = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, default="Granted")
    grant_time = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["qualification_type", "worker_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["qualification_type", "worker_id"], name="uniq_score_per_worker_and_type"
            )
        ]
        indexes = [models.Index(fields=["account", "worker_id"])]

    def __str__(self) -> str:
        return f"{self.worker_id}: {self.integer_value}"


class QualificationRequest(models.Model):
    account = models.ForeignKey(
        RequesterAccount, on_delete=models.CASCADE, related_name="qualification_requests"
    )
    qualification_request_id = models.CharField(max_length=64)
    qualification_type = models.ForeignKey(
        QualificationType, on_delete=models.CASCADE, related_name="requests"
    )
    worker_id = models.CharField(max_length=64)
    test = models.TextField(blank=True)
    answer = models.TextField(blank=True)
    submit_time = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-submit_time"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "qualification_request_id"], name="uniq_qualrequest_per_account"
            )
        ]

    def __str__(self) -> str:
        return self.qualification_request_id


class QualificationGrant(Intent):
    """Giving a worker a qualification (or a new value), or taking it away: an intent (see
    dashboard.intents), sent once with AssociateQualificationWithWorker or
    DisassociateQualificationFromWorker. Both calls are idempotent at MTurk (associating again sets
    the same value; revoking what a worker no longer holds is confirmed with GetQualificationScore),
    so a row resent after a crash changes nothing twice."""

    qualification_type = models.ForeignKey(
        QualificationType, on_delete=models.CASCADE, related_name="grants"
    )
    worker_id = models.CharField(max_length=64)
    action = models.CharField(max_length=10, choices=GrantAction.choices)
    integer_value = models.IntegerField(null=True, blank=True)
    send_notification = models.BooleanField(default=False)
    # Shown to the worker when revoking; for a grant, why the lab gave it (kept for the audit log).
    reason = models.TextField(blank=True)

    execute_task = "qualifications.execute_grant"

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            # One change in flight per worker and type: two clicks or two jobs cannot race.
            models.UniqueConstraint(
                fields=["qualification_type", "worker_id"],
                condition=Q(state__in=["pending", "sending"]),
                name="one_open_grant_per_worker_and_type",
            )
        ]
        indexes = [
            models.Index(fields=["job", "state"]),
            models.Index(fields=["account", "worker_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.qualification_type_id} to {self.worker_id} [{self.state}]"

    def audit_action(self) -> str:
        return f"qualification.{self.action}"

    def audit_targets(self) -> dict[str, str]:
        return {
            "qualification_type": self.qualification_type.qualification_type_id,
            "worker": self.worker_id,
        }

    def audit_parameters(self) -> dict[str, Any]:
        return {
            "value": self.integer_value,
            "send_notification": self.send_notification,
            "reason": self.reason,
        }


class RequiringHIT(models.Model):
    """A HIT that requires one of our qualification types, as ListHITsForQualificationType lists it
    (kept by the qualifications sync, so the type's page reads the database, not MTurk)."""

    account = models.ForeignKey(RequesterAccount, on_delete=models.CASCADE, related_name="+")
    qualification_type = models.ForeignKey(
        QualificationType, on_delete=models.CASCADE, related_name="requiring_hits"
    )
    hit_id = models.CharField(max_length=64)
    hit_type_id = models.CharField(max_length=64, blank=True)
    title = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=20, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["hit_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["qualification_type", "hit_id"], name="uniq_requiring_hit_per_type"
            )
        ]

    def __str__(self) -> str:
        return f"{self.hit_id} requires {self.qualification_type_id}"


class RequestDecision(Intent):
    """Accepting (with a value) or rejecting (with a reason) a worker's qualification request: an
    intent (see dashboard.intents), sent once. The request row itself goes when the sync no longer
    finds it pending, so the decision keeps the request's ids."""

    request = models.ForeignKey(
        QualificationRequest,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="decisions",
    )
    qualification_request_id = models.CharField(max_length=64)
    qualification_type = models.ForeignKey(
        QualificationType, on_delete=models.CASCADE, related_name="request_decisions"
    )
    worker_id = models.CharField(max_length=64)
    action = models.CharField(max_length=10, choices=RequestAction.choices)
    integer_value = models.IntegerField(null=True, blank=True)
    reason = models.TextField(blank=True)

    execute_task = "qualifications.execute_request_decision"

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            # One decision per request unless an earlier one failed: a request is decided once.
            models.UniqueConstraint(
                fields=["account", "qualification_request_id"],
                condition=~Q(state__in=["failed", "gave_up"]),
                name="one_decision_per_qualification_request",
            )
        ]
        indexes = [models.Index(fields=["job", "state"])]

    def __str__(self) -> str:
        return f"{self.action} {self.qualification_request_id} [{self.state}]"

    def audit_action(self) -> str:
        return f"qualification_request.{self.action}"

    def audit_targets(self) -> dict[str, str]:
        return {
            "qualification_request": self.qualification_request_id,
            "qualification_type": self.qualification_type.qualification_type_id,
            "worker": self.worker_id,
        }

    def audit_parameters(self) -> dict[str, Any]:
        return {"value": self.integer_value, "reason": self.reason}


class GrantUpload(models.Model):
    """A file of grants (worker id and value) or revocations as uploaded, kept so the
    confirmation sends exactly what its preview showed, and claimed by the one job that sends it
    (a second confirmation of the same file finds the job)."""

    account = models.ForeignKey(RequesterAccount, on_delete=models.CASCADE, related_name="+")
    qualification_type = models.ForeignKey(
        QualificationType, on_delete=models.CASCADE, related_name="uploads"
    )
    action = models.CharField(max_length=10, choices=GrantAction.choices)
    reason = models.TextField(blank=True)
    send_notification = models.BooleanField(default=False)
    filename = models.CharField(max_length=255, blank=True)
    content = models.BinaryField()
    content_sha256 = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    job = models.ForeignKey(
        "dashboard.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.qualification_type_id} from {self.filename}"
