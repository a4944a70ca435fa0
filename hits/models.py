"""The mirror of MTurk's HIT types, HITs and assignments, per requester account.

Rows are written only by the sync services (hits.services), keyed by MTurk ids; reads come from
here, never from MTurk during a page view.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from dashboard.models import Intent, RequesterAccount
from hits.enums import (
    AssignmentStatus,
    BatchSource,
    DecisionAction,
    DecisionState,
    HITReviewStatus,
    HITStatus,
    QuestionKind,
)
from hits.rules import MAX_FEEDBACK


class HITType(models.Model):
    account = models.ForeignKey(
        RequesterAccount, on_delete=models.CASCADE, related_name="hit_types"
    )
    hit_type_id = models.CharField("HIT type id", max_length=64)
    title = models.CharField(max_length=300, blank=True)
    description = models.TextField(blank=True)
    keywords = models.CharField(max_length=1000, blank=True)
    reward = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    assignment_duration_seconds = models.PositiveIntegerField(default=0)
    auto_approval_delay_seconds = models.PositiveIntegerField(default=0)
    qualification_requirements = models.JSONField(default=list, blank=True)
    # MTurk cannot be asked for these; they are what we last set with UpdateNotificationSettings.
    notification_transport = models.CharField(max_length=10, blank=True)
    notification_destination = models.CharField(max_length=500, blank=True)
    notification_event_types = models.JSONField(default=list, blank=True)
    notification_active = models.BooleanField(default=False)
    first_seen_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "HIT type"
        ordering = ["-first_seen_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "hit_type_id"], name="uniq_hittype_per_account"
            )
        ]

    def __str__(self) -> str:
        return self.title or self.hit_type_id


class Batch(models.Model):
    """HITs of one HIT type published together, recognised by their RequesterAnnotation
    (mturk/batches.py): a Requester-website batch (`BatchId:123`) or a labelled one (`batch:pilot`).
    Rows are made by sync when it first sees a HIT of the batch."""

    account = models.ForeignKey(RequesterAccount, on_delete=models.CASCADE, related_name="batches")
    hit_type = models.ForeignKey(HITType, on_delete=models.CASCADE, related_name="batches")
    key = models.CharField(max_length=120)
    name = models.CharField(max_length=120)
    source = models.CharField(max_length=20, choices=BatchSource.choices)
    first_seen_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "batches"
        ordering = ["-first_seen_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "hit_type", "key"], name="uniq_batch_per_hit_type"
            )
        ]

    def __str__(self) -> str:
        return self.name


class HIT(models.Model):
    account = models.ForeignKey(RequesterAccount, on_delete=models.CASCADE, related_name="hits")
    hit_type = models.ForeignKey(HITType, on_delete=models.PROTECT, related_name="hits")
    hit_id = models.CharField("HIT id", max_length=64)
    hit_group_id = models.CharField(max_length=64, blank=True)
    hit_layout_id = models.CharField(max_length=64, blank=True)
    layout_parameters = models.JSONField(default=dict, blank=True)
    # The row of inputs the HIT was published from (publishing), kept to show beside its answers:
    # MTurk does not keep them, so the sync never writes this field.
    inputs = models.JSONField(default=dict, blank=True)
    question = models.TextField(blank=True)
    question_kind = models.CharField(
        max_length=20, choices=QuestionKind.choices, default=QuestionKind.UNKNOWN
    )
    title = models.CharField(max_length=300, blank=True)
    description = models.TextField(blank=True)
    keywords = models.CharField(max_length=1000, blank=True)
    reward = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    status = models.CharField(max_length=14, choices=HITStatus.choices)
    review_status = models.CharField(
        max_length=24, choices=HITReviewStatus.choices, default=HITReviewStatus.NOT_REVIEWED
    )
    max_assignments = models.PositiveIntegerField(default=1)
    assignments_pending = models.PositiveIntegerField(default=0)
    assignments_available = models.PositiveIntegerField(default=0)
    assignments_completed = models.PositiveIntegerField(default=0)
    created_at_mturk = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    assignment_duration_seconds = models.PositiveIntegerField(default=0)
    auto_approval_delay_seconds = models.PositiveIntegerField(default=0)
    annotation = models.CharField(max_length=255, blank=True)
    batch = models.ForeignKey(
        Batch, null=True, blank=True, on_delete=models.SET_NULL, related_name="hits"
    )
    qualification_requirements = models.JSONField(default=list, blank=True)
    # ListReviewPolicyResultsForHIT as last read ({"policies": [...], "results": [...],
    # "actions": [...]}); None for a HIT published without review policies (nothing to read).
    # A publisher marks a HIT it creates with policies by setting {} (hits.sync reads those).
    review_policy_results = models.JSONField(null=True, blank=True, default=None)
    # Set when a full reconciliation no longer finds the HIT at MTurk (deleted or auto-disposed).
    disposed_at = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "HIT"
        ordering = ["-created_at_mturk", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["account", "hit_id"], name="uniq_hit_per_account")
        ]
        indexes = [
            models.Index(fields=["account", "status"]),
            models.Index(fields=["hit_type", "status"]),
        ]

    def __str__(self) -> str:
        return self.hit_id


class Assignment(models.Model):
    account = models.ForeignKey(
        RequesterAccount, on_delete=models.CASCADE, related_name="assignments"
    )
    hit = models.ForeignKey(HIT, on_delete=models.CASCADE, related_name="assignments")
    # Denormalised from the HIT so the review grid filters one table.
    hit_type = models.ForeignKey(HITType, on_delete=models.PROTECT, related_name="assignments")
    worker = models.ForeignKey(
        "workers.Worker", on_delete=models.PROTECT, related_name="assignments"
    )
    assignment_id = models.CharField(max_length=64)
    status = models.CharField(max_length=10, choices=AssignmentStatus.choices)
    accept_time = models.DateTimeField(null=True, blank=True)
    submit_time = models.DateTimeField(null=True, blank=True)
    auto_approval_time = models.DateTimeField(null=True, blank=True)
    approval_time = models.DateTimeField(null=True, blank=True)
    rejection_time = models.DateTimeField(null=True, blank=True)
    deadline = models.DateTimeField(null=True, blank=True)
    requester_feedback = models.TextField(blank=True)
    answer_xml = models.TextField(blank=True)
    answers = models.JSONField(
        default=dict, blank=True, help_text="Field -> value, parsed from answer_xml."
    )
    answers_ok = models.BooleanField(
        default=True, help_text="False when the answer XML could not be parsed (kept raw)."
    )
    answers_error = models.CharField(max_length=300, blank=True)
    work_time_seconds = models.PositiveIntegerField(null=True, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-submit_time", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "assignment_id"], name="uniq_assignment_per_account"
            )
        ]
        indexes = [
            models.Index(fields=["hit_type", "status", "submit_time"]),
            models.Index(fields=["hit_type", "submit_time"]),
            models.Index(fields=["worker", "submit_time"]),
            models.Index(fields=["account", "status"]),
        ]

    def __str__(self) -> str:
        return self.assignment_id


class DecisionQuerySet(models.QuerySet["Decision"]):
    def open(self) -> DecisionQuerySet:
        return self.filter(state__in=DecisionState.open())


class Decision(Intent):
    """An approval or rejection we intend to make at MTurk (an intent: see dashboard.intents), so
    each is sent once even across crashes and retries. MTurk itself refuses to approve an
    assignment twice; the gateway turns that refusal into an "already" outcome after confirming
    with GetAssignment."""

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="decisions")
    action = models.CharField(max_length=10, choices=DecisionAction.choices)
    feedback = models.CharField(max_length=MAX_FEEDBACK, blank=True)

    objects = DecisionQuerySet.as_manager()

    execute_task = "hits.execute_decision"

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            # At most one decision in flight per assignment: two clicks cannot race.
            models.UniqueConstraint(
                fields=["assignment"],
                condition=Q(state__in=["pending", "sending"]),
                name="one_open_decision_per_assignment",
            )
        ]
        indexes = [models.Index(fields=["job", "state"])]

    def __str__(self) -> str:
        return f"{self.action} {self.assignment_id} [{self.state}]"

    def audit_action(self) -> str:
        return f"assignment.{self.action}"

    def audit_targets(self) -> dict[str, str]:
        assignment = self.assignment
        return {
            "assignment": assignment.assignment_id,
            "hit": assignment.hit.hit_id,
            "worker": assignment.worker.worker_id,
        }

    def audit_parameters(self) -> dict[str, Any]:
        return {"feedback": self.feedback}


class RejectionReason(models.Model):
    """A saved reason to reject, per account (MTurk shows the feedback to the worker)."""

    account = models.ForeignKey(
        RequesterAccount, on_delete=models.CASCADE, related_name="rejection_reasons"
    )
    text = models.CharField(max_length=MAX_FEEDBACK)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["text"]
        constraints = [
            models.UniqueConstraint(fields=["account", "text"], name="uniq_reason_per_account")
        ]

    def __str__(self) -> str:
        return self.text


class GridPreference(models.Model):
    """Which answer columns a user shows, in which order, for one HIT type."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    hit_type = models.ForeignKey(HITType, on_delete=models.CASCADE, related_name="+")
    columns = models.JSONField(default=list)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "hit_type"], name="uniq_grid_pref")]

    def __str__(self) -> str:
        return f"columns of {self.user_id} for {self.hit_type_id}"


class ResultsUpload(models.Model):
    """A decisions CSV as uploaded: kept between the preview and the confirmation, so the file is
    planned again (against the state then) when it is carried out, and carried out once."""

    account = models.ForeignKey(
        RequesterAccount, on_delete=models.CASCADE, related_name="results_uploads"
    )
    hit_type = models.ForeignKey(HITType, on_delete=models.CASCADE, related_name="+")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    filename = models.CharField(max_length=255, blank=True)
    content = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)
    job = models.OneToOneField(
        "dashboard.Job",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="results_upload",
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.filename or f"upload {self.pk}"
