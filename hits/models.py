"""The mirror of MTurk's HIT types, HITs and assignments, per requester account.

Rows are written only by the sync services (hits.services), keyed by MTurk ids; reads come from
here, never from MTurk during a page view.
"""

from __future__ import annotations

from django.db import models

from dashboard.models import RequesterAccount
from hits.enums import AssignmentStatus, HITReviewStatus, HITStatus, QuestionKind


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


class HIT(models.Model):
    account = models.ForeignKey(RequesterAccount, on_delete=models.CASCADE, related_name="hits")
    hit_type = models.ForeignKey(HITType, on_delete=models.PROTECT, related_name="hits")
    hit_id = models.CharField("HIT id", max_length=64)
    hit_group_id = models.CharField(max_length=64, blank=True)
    hit_layout_id = models.CharField(max_length=64, blank=True)
    layout_parameters = models.JSONField(default=dict, blank=True)
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
    qualification_requirements = models.JSONField(default=list, blank=True)
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
